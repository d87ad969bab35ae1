"""Work logs of an incoming message: applied one by one, followed by traces, like comments.

A work log the partner added is logged here once (an idempotency key per message
and work log), as the sync user, with its author named in its comment (see
``domain/worklogs.py``); one edited or deleted there is edited or deleted here
through its trace. They are written only where the mapping syncs ``worklog``
incoming and this side's tracker has work logs (``Capabilities.worklogs``);
otherwise the message is applied without them, and says so in its note.
"""

from __future__ import annotations

from typing import Protocol

from issuesync.domain.mapping import WORKLOG
from issuesync.domain.message import ChangeAction, Message, TraceType, WorklogChange
from issuesync.domain.replica import HubWorklog, Replica
from issuesync.domain.worklogs import comment_for, mirror_digest, worklog_digest
from issuesync.engine.pipeline.route import Route
from issuesync.trackers.adapter import WorklogDraft, WorklogWriter


class Applied(Protocol):
    """What a message applied so far (``subobjects.Outcome``), as work logs add to it."""

    local_key: str
    after: Replica
    traces_added: list[tuple[TraceType, str, str | None, str | None]]
    traces_changed: list[tuple[TraceType, str, str | None]]
    traces_removed: list[tuple[TraceType, str]]
    notes: list[str]


def worklog_key(route: Route, message: Message, source_id: str) -> str:
    """The idempotency key of a work log a message adds."""
    return f"{route.connector.key}:{message.id}:worklog:{source_id}"


def _writer(route: Route, message: Message, outcome: Applied) -> WorklogWriter | None:
    """This side's tracker, when the message's work logs are written to it."""
    if not message.worklogs or not route.mapping.syncs(WORKLOG, outgoing=False):
        return None
    tracker = route.tracker
    if tracker.capabilities.worklogs and isinstance(tracker, WorklogWriter):
        return tracker
    note = f"Work logs not synced: {tracker.name} keeps none."
    if note not in outcome.notes:
        outcome.notes.append(note)
    return None


def _draft(change: WorklogChange, current: HubWorklog | None) -> WorklogDraft:
    return WorklogDraft(
        time_spent=change.time_spent or 0,
        started=change.started,
        comment=comment_for(change, current),
    )


def change_worklogs(
    route: Route, message: Message, outcome: Applied, traces: dict[tuple[str, str], str]
) -> None:
    """Edit and delete the work logs this side has traces of (what a tracker may refuse:
    another user's work log; run before anything else of the message is written). A
    tracker that keeps only a total (``worklog_totals``) takes neither: the note says so."""
    writer = _writer(route, message, outcome)
    if writer is None:
        return
    kind = str(TraceType.WORKLOG)
    current = {w.id: w for w in outcome.after.hub_issue.work_logs}
    for change in message.worklogs:
        local_id = traces.get((kind, change.source_id))
        if not local_id or change.action is ChangeAction.ADD:
            continue
        if route.tracker.capabilities.worklog_totals:
            # The time stays in the total, and so does its trace: what the total gains
            # later is measured against it.
            what = "deletion" if change.action is ChangeAction.DELETE else "edit"
            outcome.notes.append(
                f"Work log {change.source_id}: {route.tracker.name} keeps only a total of "
                f"time spent, so its {what} is not applied there."
            )
        elif change.action is ChangeAction.DELETE:
            writer.delete_worklog(outcome.local_key, local_id)
            outcome.traces_removed.append((TraceType.WORKLOG, local_id))
        elif change.action is ChangeAction.UPDATE and (change.time_spent or 0) > 0:
            draft = _draft(change, current.get(local_id))
            edited = writer.edit_worklog(outcome.local_key, local_id, draft)
            # An edit with an author is of the partner's original: the one here is a mirror.
            digest = mirror_digest(edited) if change.author else worklog_digest(edited)
            outcome.traces_changed.append((TraceType.WORKLOG, local_id, digest))


def add_worklogs(
    route: Route, message: Message, outcome: Applied, traces: dict[tuple[str, str], str]
) -> None:
    """Log the work logs this side has no trace of (once per key), naming their authors."""
    writer = _writer(route, message, outcome)
    if writer is None:
        return
    kind = str(TraceType.WORKLOG)
    for change in message.worklogs:
        if change.action is ChangeAction.DELETE or traces.get((kind, change.source_id)):
            continue
        if not change.time_spent:
            outcome.notes.append(f"Work log {change.source_id} not synced: it logs no time.")
            continue
        made = writer.add_worklog(
            outcome.local_key,
            _draft(change, None),
            idempotency_key=worklog_key(route, message, change.source_id),
        )
        outcome.traces_added.append(
            (TraceType.WORKLOG, made.id, change.source_id, mirror_digest(made))
        )
