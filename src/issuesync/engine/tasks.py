"""Asynchronous tasks in the seeds' shape: an id of 32 hex digits, progress, finished, failed.

A task is a row: whoever runs the work updates it, and anyone (the CLI, the
API, another process) reads it. The engine that holds a connector's lease runs
that connector's tasks between its routes, so a task never races a route.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def task_timestamp(ms: int) -> str:
    """The seeds' ``startTimestamp``: ``Apr 25, 2019 -- 07:17 AM`` (server's local time)."""
    return dt.datetime.fromtimestamp(ms / 1000).astimezone().strftime("%b %d, %Y -- %I:%M %p")


def task_json(row: TaskRow) -> dict[str, Any]:
    """A task as the seeds show it."""
    return {
        "id": row.id,
        "startTimestamp": task_timestamp(row.start_ms),
        "finished": row.finished,
        "cancelled": row.cancelled,
        "hasFailed": row.failed,
        "failureMessage": row.failure_message,
        "progress": row.progress,
        "message": row.message,
        "resourceLocation": row.resource_location,
    }
