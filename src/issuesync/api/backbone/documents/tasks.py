"""Asynchronous tasks in the seeds' shape (seeds 000 and 001)."""

from __future__ import annotations

from typing import Any

from issuesync.api.backbone.documents.dates import task_timestamp
from issuesync.domain.task import Task


def task_json(task: Task) -> dict[str, Any]:
    """A task as the seeds show it."""
    return {
        "id": task.id,
        "startTimestamp": task_timestamp(task.start_ms),
        "finished": task.finished,
        "cancelled": task.cancelled,
        "hasFailed": task.failed,
        "failureMessage": task.failure_message,
        "progress": task.progress,
        "message": task.message,
        "resourceLocation": task.resource_location,
    }
