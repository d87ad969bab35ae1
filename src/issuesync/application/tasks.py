"""Asking for a resync, reading and cancelling asynchronous tasks, for every surface."""

from __future__ import annotations

from sqlalchemy.orm import Session

from issuesync.application import lifecycle
from issuesync.domain.task import Task
from issuesync.engine.connectors import connector_by_key
from issuesync.engine.pipeline import resync
from issuesync.engine.pipeline.resync import ResyncRequest
from issuesync.engine.tasks import get_task, task_view
from issuesync.errors import ConflictError
from issuesync.store.base import now_ms


def find_task(session: Session, task_id: str) -> Task:
    """A task as it is stored; 404 when there is none."""
    return task_view(get_task(session, task_id))


def refresh_task(session: Session, task_id: str) -> Task:
    """A task brought up to date: a lifecycle task follows the connectors' states."""
    row = get_task(session, task_id)
    if row.kind in lifecycle.KINDS and not row.finished:
        lifecycle.advance(session, row)
    return task_view(row)


def cancel_task(session: Session, task_id: str, actor: str) -> Task:
    """Cancel a task that has not finished (409 for one that has)."""
    row = get_task(session, task_id)
    if row.finished:
        raise ConflictError(f"Task {row.id} has finished; there is nothing to cancel.")
    row.cancelled = row.finished = True
    row.updated_ms = now_ms()
    row.message = f"Cancelled by {actor}." + (
        " The integration keeps the state that was asked for."
        if row.kind in lifecycle.KINDS
        else ""
    )
    return task_view(row)


def request_resync(session: Session, connector_key: str, request: ResyncRequest) -> Task:
    """Queue a resync of the connector as a task (the engine holding it runs it)."""
    connector = connector_by_key(session, connector_key)
    return task_view(resync.request_resync(session, connector, request))
