"""GitLab's time tracking as work logs: a total per issue, added to, never itemised.

GitLab's REST API keeps one total of time spent per issue (``time_stats.total_time_spent``,
in every issue's JSON) and has no entries to list, edit or delete: ``add_spent_time``
adds a duration (``<seconds>s``) with an optional ``summary``. So the adapter
(capability ``worklog_totals``):

- shows the total as the replica's one work log (id ``total``, see
  ``domain.worklogs.TOTAL_ID``); the engine sends what it gained beyond the time its
  traces account for as a new work log, logged by "GitLab time tracking";
- adds a partner's new work log to the total, its author and comment in the summary;
  the work log it answers is a receipt of that addition (id ``spent:<fingerprint of
  the key>``), which the engine traces and counts;
- takes no edit or deletion of a work log: the engine notes them on the message.

Idempotency: a retry within the adapter's life finds its receipt; after a restart, an
addition whose answer was lost is made again (at-least-once, as an upload is).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from issuesync.domain.replica import HubWorklog, UserRef
from issuesync.domain.worklogs import TOTAL_ID
from issuesync.errors import TrackerRejectedError
from issuesync.trackers.adapter import WorklogDraft
from issuesync.trackers.bounded import Bounded
from issuesync.trackers.fieldcodec import parse_datetime
from issuesync.trackers.gitlab.client import GitLabClient

TIME_TRACKING: Final = UserRef(display_name="GitLab time tracking")
MAX_REMEMBERED: Final = 10_000


def total_of(issue: Mapping[str, Any]) -> HubWorklog:
    """The issue's time spent as its one work log (0 where GitLab shows no ``time_stats``)."""
    stats = issue.get("time_stats")
    total = stats.get("total_time_spent") if isinstance(stats, Mapping) else 0
    updated = parse_datetime(issue.get("updated_at"))
    return HubWorklog(
        id=TOTAL_ID,
        author=TIME_TRACKING,
        time_spent=total if isinstance(total, int) and total > 0 else 0,
        created=parse_datetime(issue.get("created_at")),
        updated=updated,
    )


class TimeSpent:
    """Additions to the time spent of one project's issues, once per idempotency key."""

    def __init__(self, client: GitLabClient, project_path: str) -> None:
        self._client = client
        self._issues = f"{project_path}/issues"
        self._made: Bounded[str, HubWorklog] = Bounded(MAX_REMEMBERED)

    def add(self, iid: str, draft: WorklogDraft, key: str) -> HubWorklog:
        """Add the draft's time (its comment as the summary); a receipt as the work log."""
        earlier = self._made.get(key)
        if earlier is not None:
            return earlier
        self._client.post(
            f"{self._issues}/{iid}/add_spent_time",
            {"duration": f"{draft.time_spent}s", "summary": draft.comment},
        )
        receipt = HubWorklog(
            id=f"spent:{hashlib.sha256(key.encode()).hexdigest()[:16]}",
            time_spent=draft.time_spent,
            start_date=draft.started,
            comment=draft.comment,
        )
        self._made[key] = receipt
        return receipt


def refuse(what: str) -> TrackerRejectedError:
    """Why GitLab takes no edit or deletion of a work log."""
    return TrackerRejectedError(
        f"GitLab keeps only a total of time spent: a work log cannot be {what} there."
    )
