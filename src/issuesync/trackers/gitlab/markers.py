"""The hidden marker the ``gitlab`` adapter writes at the end of what it creates.

GitLab has no idempotency keys and no entity properties, so an issue's
description and a note's body made by the adapter end in an HTML comment that
GitLab's Markdown does not show: ``<!-- issuesync {"key": "...", ...} -->``. It
carries the idempotency key (and, for an attachment's note, the file's size and
checksum). The adapter strips it from everything it reads, so the replica's
text is what people see.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, NamedTuple

MARKER: Final = re.compile(r"\n{0,2}<!-- issuesync (\{[^\n]*?\}) -->\s*\Z")


class Marker(NamedTuple):
    """What a marker says: the idempotency key, the kind of thing, and more for attachments."""

    key: str
    kind: str  # "issue", "comment" or "attachment"
    meta: dict[str, Any]


def mark(text: str | None, key: str, kind: str, **meta: object) -> str:
    """``text`` with a marker for ``key`` at its end."""
    payload = json.dumps({"key": key, "kind": kind, **meta}, separators=(", ", ": "))
    # No "-->" may end the comment early; JSON's escape keeps the text the same.
    payload = payload.replace(">", "\\u003e")
    # Two newlines make the comment a block of its own; reading takes exactly them away.
    return f"{text}\n\n<!-- issuesync {payload} -->" if text else f"<!-- issuesync {payload} -->"


def unmark(text: str | None) -> tuple[str, Marker | None]:
    """The text without its marker, and the marker (None when there is none)."""
    if not text:
        return "", None
    found = MARKER.search(text)
    if found is None:
        return text, None
    try:
        data = json.loads(found.group(1))
    except ValueError:
        return text, None
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        return text, None
    marker = Marker(data.pop("key"), str(data.pop("kind", "")), data)
    return text[: found.start()], marker
