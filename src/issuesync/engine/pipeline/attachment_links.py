"""Attachments for a tracker that takes none: a comment with a link to the content.

When the receiving adapter's capabilities say ``attachments=False`` (GitHub's
REST API has no uploads), an attachment the partner added becomes one comment
on the issue, naming the file, its size and checksum, with a signed link to the
content that issuesync keeps (the transport's blob area, served by
``GET /attachments/shared/{sha256}/{filename}?sig=...``). Deleting the
attachment on the partner's side deletes that comment; deleting the comment
deletes the partner's attachment.

The comment is traced as the attachment, under the id ``comment:<comment id>``,
so the outgoing route never sends it back as a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import quote

from issuesync.security import SecretBox

PURPOSE: Final = "attachment-link"
PATH: Final = "/attachments/shared"


@dataclass(frozen=True)
class AttachmentLinks:
    """Signed links to the content in the blob area, and the comments that carry them."""

    base_url: str
    secrets: SecretBox
    root: Path  # the blob area's directory

    def url(self, checksum: str, filename: str) -> str:
        """The signed link to the content with this checksum, served under ``filename``."""
        signature = self.secrets.signature(PURPOSE, checksum)
        name = quote(filename or "attachment", safe="")
        return f"{self.base_url.rstrip('/')}{PATH}/{checksum}/{name}?sig={signature}"

    def comment(self, filename: str, filesize: int | None, checksum: str) -> str:
        """The comment that stands for the attachment."""
        size = f"{filesize:,} bytes, " if filesize is not None else ""
        return (
            f"Attachment {filename or 'attachment'} ({size}sha256 {checksum[:12]}): "
            f"{self.url(checksum, filename)}"
        )

    def allows(self, checksum: str, signature: str) -> bool:
        """Whether a link's signature was made here for this content."""
        return self.secrets.signed(PURPOSE, checksum, signature)
