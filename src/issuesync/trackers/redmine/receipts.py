"""What the ``redmine`` adapter made per idempotency key: remembered, and found by markers.

The adapter remembers the newest :data:`MAX_REMEMBERED` markers (see
``markers``) with what they made. After a restart the memory is empty: the first
question about an issue reads the descriptions of the newest issues the sync user
created in the project lately; the first about a note or an attachment of an
issue reads that issue's journals and attachments (one request, once per issue).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from issuesync.errors import NotFoundError
from issuesync.trackers.bounded import Bounded
from issuesync.trackers.redmine import markers
from issuesync.trackers.redmine.client import RedmineClient
from issuesync.trackers.redmine.search import timestamp

MAX_REMEMBERED: Final = 10_000
RECOVERY_DAYS: Final = 7
RECOVERY_LIMIT: Final = 100


class Receipts:
    """Markers to what was made with them: issue ids, journal ids, attachment ids."""

    def __init__(self, client: RedmineClient, project: str) -> None:
        self._client = client
        self._project = project
        self._made: Bounded[str, str] = Bounded(MAX_REMEMBERED)  # "<kind>:<marker>" -> id
        self._issues_read = False
        self._read: Bounded[str, None] = Bounded(MAX_REMEMBERED)  # issue ids whose parts were read

    def issue(self, key: str, author_id: str | None) -> str | None:
        """The id of the issue made with ``key``, if known."""
        if not self._issues_read:
            self._issues_read = True
            self._read_issues(author_id)
        return self._made.get(f"issue:{markers.marker(key)}")

    def part(self, kind: str, issue_id: str, key: str) -> str | None:
        """The id of the note (``journal``) or ``attachment`` made on the issue with ``key``."""
        record = f"{kind}:{markers.marker(key)}"
        if record not in self._made and issue_id not in self._read:
            try:
                issue = self._client.get(
                    f"issues/{issue_id}.json", {"include": "journals,attachments"}
                )["issue"]
            except NotFoundError:
                return None  # the write that follows says so
            self.learn(issue)
        return self._made.get(record)

    def learn(self, issue: Mapping[str, Any]) -> None:
        """Note the markers of an issue read whole (with journals and attachments)."""
        issue_id = str(issue["id"])
        self._read[issue_id] = None
        for journal in issue.get("journals") or []:
            for found in markers.markers_in(journal.get("notes")):
                self._note(f"journal:{found}", str(journal["id"]))
        for attachment in issue.get("attachments") or []:
            for found in markers.markers_in(attachment.get("description")):
                self._note(f"attachment:{found}", str(attachment["id"]))

    def made_issue(self, key: str, issue_id: str) -> None:
        """Remember the issue made with ``key``; it has no notes or attachments yet."""
        self._note(f"issue:{markers.marker(key)}", issue_id)
        self._read[issue_id] = None

    def _note(self, record: str, made: str) -> None:
        self._made[record] = made

    def _read_issues(self, author_id: str | None) -> None:
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=RECOVERY_DAYS)
        params: dict[str, Any] = {
            "project_id": self._project,
            "status_id": "*",
            "created_on": f">={timestamp(int(since.timestamp() * 1000))}",
            "sort": "created_on:desc,id:desc",
            "limit": RECOVERY_LIMIT,
        }
        if author_id:
            params["author_id"] = author_id
        for issue in self._client.get("issues.json", params).get("issues") or []:
            for found in markers.markers_in(issue.get("description")):
                record = f"issue:{found}"
                if record not in self._made:
                    self._note(record, str(issue["id"]))
