"""Asynchronous tasks: an id of 32 hex digits, progress, finished, failed (``domain/task.py``).

A task is a row: whoever runs the work updates it, and anyone (the CLI, the
API, another process) reads it. The engine that holds a connector's lease runs
that connector's tasks between its routes, so a task never races a route.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.domain.task import Task
from issuesync.errors import NotFoundError
from issuesync.store.base import now_ms
from issuesync.store.sync import TaskRow

RESYNC = "resync"


def create_task(
    session: Session,
    kind: str,
    message: str,
    *,
    connector_id: int | None = None,
    integration_id: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> TaskRow:
    """A new, unfinished task."""
    now = now_ms()
    row = TaskRow(
        id=uuid.uuid4().hex.upper(),
        kind=kind,
        connector_id=connector_id,
        integration_id=integration_id,
        parameters=json.dumps(parameters or {}),
        start_ms=now,
        finished=False,
        cancelled=False,
        failed=False,
        progress=0,
        message=message,
        updated_ms=now,
    )
    session.add(row)
    return row


def get_task(session: Session, task_id: str) -> TaskRow:
    """A task by id; 404 when there is none."""
    row = session.get(TaskRow, task_id.upper())
    if row is None:
        raise NotFoundError(f"No task with id {task_id}.")
    return row


def pending_tasks(session: Session, connector_id: int, kind: str) -> list[TaskRow]:
    """A connector's unfinished tasks of one kind, oldest first."""
    return list(
        session.scalars(
            select(TaskRow)
            .where(
                TaskRow.connector_id == connector_id,
                TaskRow.kind == kind,
                TaskRow.finished.is_(False),
            )
            .order_by(TaskRow.start_ms)
        )
    )


def task_view(row: TaskRow) -> Task:
    """A stored task as the neutral :class:`~issuesync.domain.task.Task`."""
    return Task(
        id=row.id,
        kind=row.kind,
        start_ms=row.start_ms,
        finished=row.finished,
        cancelled=row.cancelled,
        failed=row.failed,
        failure_message=row.failure_message,
        progress=row.progress,
        message=row.message,
        resource_location=row.resource_location,
        integration_id=row.integration_id,
        connector_id=row.connector_id,
    )
