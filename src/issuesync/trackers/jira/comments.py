"""Reading all of a Jira issue's comments, in pages of ``/issue/{key}/comment``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from issuesync.trackers import fieldcodec
from issuesync.trackers.jira.client import JiraClient

COMMENT_PAGE: Final = 100  # comments per /comment page (Jira's cap)
MAX_COMMENTS: Final = 5000  # comments read per issue, at most


def all_comments(client: JiraClient, key: str) -> list[Mapping[str, Any]]:
    """Every comment of the issue, oldest first (read in pages)."""
    found: dict[str, Mapping[str, Any]] = {}
    for start in range(0, MAX_COMMENTS, COMMENT_PAGE):
        answer = client.get(
            f"issue/{key}/comment",
            {"startAt": start, "maxResults": COMMENT_PAGE, "orderBy": "created"},
        )
        page = [c for c in answer.get("comments") or [] if isinstance(c, Mapping)]
        found.update((str(c["id"]), c) for c in page)
        if not page or start + len(page) >= int(answer.get("total") or 0):
            break
    return sorted(
        found.values(),
        key=lambda c: (fieldcodec.parse_datetime(c.get("created")) or 0, _number(c["id"])),
    )


def _number(text: object) -> int:
    return int(text) if isinstance(text, str) and text.isdigit() else 0
