"""The ``local`` adapter's work logs: the tracker's own ``worklogs`` service, in the engine's terms.

The engine logs work as the sync user (the author is named in the comment), through
the same service functions as ``issue/{key}/worklog``, so a synced work log moves the
issue's remaining estimate as one a person logs does (``adjustEstimate=auto``).
"""

from __future__ import annotations

from typing import Final

from issuesync.domain.replica import HubWorklog
from issuesync.errors import NotFoundError
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import WorklogDraft
from issuesync.trackers.local import worklogs
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.jiratime import format_ms
from issuesync.trackers.local.models import Issue, Worklog, row_id
from issuesync.trackers.local.timetracking import Adjustment

AUTO: Final = Adjustment("auto")


def body(draft: WorklogDraft) -> JsonDict:
    """The draft as the body of ``issue/{key}/worklog``."""
    values: JsonDict = {"timeSpentSeconds": draft.time_spent, "comment": draft.comment}
    if draft.started is not None:
        values["started"] = format_ms(draft.started)
    return values


def add(op: Operation, key: str, draft: WorklogDraft) -> HubWorklog:
    """Log the draft's time on the issue, as ``op``'s user."""
    return fieldcodec.worklog_from_jira(worklogs.add_worklog(op, key, body(draft), AUTO))


def edit(op: Operation, key: str, worklog_id: str, draft: WorklogDraft) -> HubWorklog:
    """Replace a work log's time, start and comment (its author or a project admin)."""
    edited = worklogs.update_worklog(op, key, worklog_id, body(draft), AUTO)
    return fieldcodec.worklog_from_jira(edited)


def delete(op: Operation, issue: Issue, worklog_id: str) -> bool:
    """Delete the issue's work log (its author or a project admin); False when it is gone."""
    row = _row(op, worklog_id)
    if row is None or row.issue_id != issue.id:
        return False
    worklogs.delete_worklog(op, issue.key, worklog_id, AUTO)
    return True


def worklog_of(op: Operation, worklog_id: str) -> HubWorklog:
    """A work log by id as the replica has it; 404 when it is gone."""
    row = _row(op, worklog_id)
    if row is None:
        raise NotFoundError(f"The work log {worklog_id} does not exist (any more).")
    return fieldcodec.worklog_from_jira(op.renderer().worklog(row, row.issue_id))


def _row(op: Operation, worklog_id: str) -> Worklog | None:
    number = row_id(worklog_id)
    return op.session.get(Worklog, number) if number is not None else None
