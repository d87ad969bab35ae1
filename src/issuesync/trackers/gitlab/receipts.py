"""What the ``gitlab`` adapter made per idempotency key: remembered, and read back from GitLab.

The adapter remembers the newest :data:`MAX_REMEMBERED` keys it used. After a
restart the memory is empty, so it reads the keys back from the markers (see
``markers``) of what it made: the first question about an issue key reads the
project's issues the sync user created in the last :data:`RECOVERY_DAYS` days
(newest :data:`RECOVERY_LIMIT`), the first about a note's key on an issue reads that
issue's newest :data:`RECENT_NOTES` notes. Older creates are not found again.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from typing import Any, Final

from issuesync.errors import NotFoundError
from issuesync.trackers.bounded import Bounded
from issuesync.trackers.gitlab.client import PER_PAGE_MAX, GitLabClient
from issuesync.trackers.gitlab.markers import unmark

MAX_REMEMBERED: Final = 10_000
RECOVERY_DAYS: Final = 7
RECOVERY_LIMIT: Final = PER_PAGE_MAX
RECENT_NOTES: Final = PER_PAGE_MAX


class Receipts:
    """Idempotency keys to what was made with them: issue iids and note ids."""

    def __init__(self, client: GitLabClient, project_path: str) -> None:
        self._client = client
        self._issues = f"{project_path}/issues"
        self._made: Bounded[str, str] = Bounded(MAX_REMEMBERED)  # "<kind>:<key>" -> iid or note id
        self._issues_read = False
        self._notes_read: Bounded[str, None] = Bounded(MAX_REMEMBERED)  # iids

    def issue(self, key: str) -> str | None:
        """The iid of the issue made with ``key``, if known."""
        if not self._issues_read:
            self._issues_read = True
            since = dt.datetime.fromtimestamp(time.time() - RECOVERY_DAYS * 86_400, tz=dt.UTC)
            me = self._client.get("user")
            recent = self._client.get(
                self._issues,
                {
                    "author_username": me.get("username"),
                    "created_after": since.isoformat().replace("+00:00", "Z"),
                    "order_by": "created_at",
                    "sort": "desc",
                    "per_page": RECOVERY_LIMIT,
                },
            )
            for issue in recent or []:
                _, marker = unmark(issue.get("description"))
                if marker is not None and marker.kind == "issue":
                    self.note("issue", marker.key, str(issue["iid"]), keep=True)
        return self._made.get(f"issue:{key}")

    def made_note(self, iid: str, kind: str, key: str) -> str | None:
        """The id of the note (``kind`` comment or attachment) made on ``iid`` with ``key``."""
        record = f"{kind}:{key}"
        if record not in self._made and iid not in self._notes_read:
            try:
                notes = self._client.get(
                    f"{self._issues}/{iid}/notes",
                    {"sort": "desc", "order_by": "created_at", "per_page": RECENT_NOTES},
                )
            except NotFoundError:
                return None  # the write that follows says so
            self.learn(iid, notes or [])
        return self._made.get(record)

    def doubt_issues(self) -> None:
        """A create's answer was lost: read the recent issues again at the next question."""
        self._issues_read = False

    def doubt_notes(self, iid: str) -> None:
        """A note's answer was lost: read the issue's notes again at the next question."""
        self._notes_read.pop(iid, None)

    def learn(self, iid: str, notes: Iterable[Mapping[str, Any]]) -> None:
        """Take the keys of an issue's notes (all of its newest ones) from their markers."""
        self._notes_read[iid] = None
        for note in notes:
            _, marker = unmark(str(note.get("body") or ""))
            if marker is not None and not note.get("system"):
                self.note(marker.kind, marker.key, str(note["id"]), keep=True)

    def note(self, kind: str, key: str, made: str, *, keep: bool = False) -> None:
        """Remember what ``key`` made (``keep``: unless something is noted already)."""
        record = f"{kind}:{key}"
        if keep and record in self._made:
            return
        self._made[record] = made
