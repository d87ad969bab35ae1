"""Conflicts of an integration: of its configuration against the trackers (``validation``),
and fields both sides changed that wait for a person (``data``). Dialect-neutral: found by
``application/conflicts.py``, shown by each dialect (``api/backbone/documents/conflicts.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import JsonValue

ERROR: Final = "error"  # blocks an issue, or the integration
WARNING: Final = "warning"  # a value that will not cross as it is; nothing waits for it


@dataclass(frozen=True)
class ConflictField:
    """One field of a data conflict: this side's value and the partner's (as JSON values)."""

    field: str
    local_value: JsonValue
    remote_value: JsonValue


@dataclass(frozen=True)
class Conflict:
    """A validation conflict (``category`` ``validation``) or a data conflict (``data``)."""

    id: str
    category: str
    type: str
    connector_key: str
    project_key: str
    message: str
    resolution: str
    message_id: int | None = None  # data: the waiting message, to settle it by
    issue_key: str | None = None  # data: this side's issue
    remote_issue_key: str | None = None  # data: the partner's issue
    fields: tuple[ConflictField, ...] = ()
    created_ms: int | None = None
    severity: str = ERROR
