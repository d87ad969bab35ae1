"""Attachment content behind the links that stand in for attachments on trackers without any.

``GET /attachments/shared/{sha256}/{filename}?sig=...`` answers the content
the engine keeps in its blob area, when ``sig`` is the signature the engine
made for that content (see ``engine/pipeline/attachment_links.py``): the link works for
whoever holds it, without an issuesync account, and cannot be made up. The
content is served as a download (never rendered on issuesync's origin).
"""

from __future__ import annotations

import mimetypes
import re
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from issuesync.api.deps import ServicesDep
from issuesync.engine.pipeline.attachment_links import PATH, PURPOSE
from issuesync.errors import NotFoundError
from issuesync.store.blobs import BlobStore

router = APIRouter(tags=["attachments"])

SHA256: Final = re.compile(r"[0-9a-f]{64}")


@router.get(
    f"{PATH}/{{checksum}}/{{filename}}",
    response_class=FileResponse,
    responses={404: {"description": "No such content, or the signature does not match."}},
)
def shared_attachment(
    services: ServicesDep,
    checksum: Annotated[str, Path(description="The content's sha256, hex")],
    filename: Annotated[str, Path(description="The name to save it under")],
    sig: Annotated[str, Query(description="The link's signature")] = "",
) -> FileResponse:
    """The content of a linked attachment, as a download."""
    missing = NotFoundError("There is no attachment at this link (or the link is not valid).")
    if not SHA256.fullmatch(checksum) or not services.secrets.signed(PURPOSE, checksum, sig):
        raise missing
    blobs = BlobStore(services.settings.transit_dir, 0)
    if not blobs.exists(checksum):
        raise missing
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return FileResponse(
        blobs.path(checksum),
        media_type=mimetype,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=86400, immutable",
        },
    )
