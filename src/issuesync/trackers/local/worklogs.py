"""Work logs of the built-in tracker: Jira's ``issue/{key}/worklog[/{id}]``.

Every user may log work on an issue (Work On Issues); a log is edited or deleted by
its author or by an administrator of its project (Jira's default Edit/Delete Own
Worklogs and Edit/Delete All Worklogs). Each change moves the issue's remaining
estimate as its ``adjustEstimate`` says (``timetracking.py``) and the issue's
``updated``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.jiratime import (
    MAX_DURATION_SECONDS,
    parse_datetime_ms,
    parse_duration,
)
from issuesync.trackers.local.models import Issue, Worklog, row_id
from issuesync.trackers.local.subresources import own_or_admin
from issuesync.trackers.local.textlimits import check_length
from issuesync.trackers.local.timetracking import Adjustment, WorklogChange, adjust_remaining


def list_worklogs(op: Operation, key: str) -> JsonDict:
    """All work logs of an issue."""
    issue = op.issue(key)
    rows = list(
        op.session.scalars(select(Worklog).where(Worklog.issue_id == issue.id).order_by(Worklog.id))
    )
    renderer = op.renderer()
    return {
        "startAt": 0,
        "maxResults": len(rows),
        "total": len(rows),
        "worklogs": [renderer.worklog(w, issue.id) for w in rows],
    }


def get_worklog(op: Operation, key: str, worklog_id: str) -> JsonDict:
    """One work log of the issue."""
    issue = op.issue(key)
    return op.renderer().worklog(_worklog(op, issue, worklog_id), issue.id)


def add_worklog(
    op: Operation, key: str, body: Mapping[str, object], adjustment: Adjustment
) -> JsonDict:
    """Log work: ``timeSpentSeconds`` or ``timeSpent`` ("1h 30m"); ``started``, ``comment``."""
    issue = op.issue(key)
    seconds = _seconds(body)
    if seconds is None:
        raise _no_time()
    comment = _comment(op, body.get("comment", ""))
    started = parse_datetime_ms(body["started"], "started") if body.get("started") else None
    row = Worklog(
        issue_id=issue.id,
        author_id=op.actor.id,
        update_author_id=op.actor.id,
        comment=comment,
        started_ms=started or op.now,
        time_spent_seconds=seconds,
        created_ms=op.now,
        updated_ms=op.now,
    )
    op.session.add(row)
    adjust_remaining(op, issue.id, adjustment, WorklogChange.ADD, seconds)
    op.touch(issue)
    op.session.flush()
    return op.renderer().worklog(row, issue.id)


def update_worklog(
    op: Operation,
    key: str,
    worklog_id: str,
    body: Mapping[str, object],
    adjustment: Adjustment,
) -> JsonDict:
    """Edit a work log (its author or a project admin); what the body leaves out is kept."""
    issue = op.issue(key)
    row = _worklog(op, issue, worklog_id)
    own_or_admin(op, issue, row.author_id, "work log")
    seconds = _seconds(body)
    if "comment" in body:
        row.comment = _comment(op, body["comment"])
    if body.get("started"):
        row.started_ms = parse_datetime_ms(body["started"], "started") or row.started_ms
    if seconds is not None:
        adjust_remaining(
            op, issue.id, adjustment, WorklogChange.UPDATE, seconds - row.time_spent_seconds
        )
        row.time_spent_seconds = seconds
    elif adjustment.mode == "new":
        adjust_remaining(op, issue.id, adjustment, WorklogChange.UPDATE, 0)
    row.update_author_id = op.actor.id
    row.updated_ms = op.now
    op.touch(issue)
    return op.renderer().worklog(row, issue.id)


def delete_worklog(op: Operation, key: str, worklog_id: str, adjustment: Adjustment) -> None:
    """Delete a work log (its author or a project admin)."""
    issue = op.issue(key)
    row = _worklog(op, issue, worklog_id)
    own_or_admin(op, issue, row.author_id, "work log")
    adjust_remaining(op, issue.id, adjustment, WorklogChange.DELETE, row.time_spent_seconds)
    op.session.delete(row)
    op.touch(issue)


def _worklog(op: Operation, issue: Issue, worklog_id: str) -> Worklog:
    number = row_id(worklog_id)
    row = op.session.get(Worklog, number) if number is not None else None
    if row is None or row.issue_id != issue.id:
        raise NotFoundError(f"Cannot find worklog with id: '{worklog_id}'.")
    return row


def _seconds(body: Mapping[str, object]) -> int | None:
    """The time a body logs, checked; None when it gives none."""
    seconds = body.get("timeSpentSeconds")
    if seconds is None and isinstance(body.get("timeSpent"), str):
        seconds = parse_duration(str(body["timeSpent"]))
    if seconds is None and body.get("timeSpent") is None:
        return None
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not 0 < seconds <= MAX_DURATION_SECONDS
    ):
        raise _no_time()
    return seconds


def _no_time() -> InvalidInputError:
    return InvalidInputError(
        "The work log needs a positive time.",
        field_errors={"timeLogged": "You must indicate the time spent working."},
    )


def _comment(op: Operation, comment: object) -> str:
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise InvalidInputError(
            "The work log comment must be text.", field_errors={"comment": "must be a string"}
        )
    return check_length(comment, "comment", op.text_limit)
