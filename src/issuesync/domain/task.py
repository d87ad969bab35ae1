"""An asynchronous job (start, stop, restart, resync) and how far it got. Dialect-neutral:
Backbone shows it in the seeds' task shape (``api/backbone/documents/tasks.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    """A task: ``id`` is 32 upper-case hex digits; ``progress`` from 0 to 100."""

    id: str
    kind: str
    start_ms: int
    finished: bool
    cancelled: bool
    failed: bool
    failure_message: str | None
    progress: int
    message: str
    resource_location: str | None
    integration_id: int | None  # whose task it is, for who may see it
    connector_id: int | None
