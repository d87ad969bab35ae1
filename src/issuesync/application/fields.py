"""The names the application gives the fields of what it was asked, in its errors.

An :class:`~issuesync.errors.IssueSyncError`'s ``field_errors`` are keyed by the dotted
path of the field in the neutral models (``domain/integration.py``): ``first.project_key``,
``second.connection.token``, ``first.queues.send_queue``,
``first.configuration.sync.outgoing_jqls``; in a list, ``[2].remote_issue_key``. Each API
dialect renames them into its own body's names (Backbone: ``api/backbone/documents/fields.py``).
"""

from __future__ import annotations

from typing import Final

FIRST: Final = "first"
SECOND: Final = "second"
SIDES: Final = (FIRST, SECOND)


def connection_field(side: str, name: str) -> str:
    """``first.connection.user``: a field of a side's connection to its tracker."""
    return f"{side}.connection.{name}"


def queue_field(side: str, name: str | None = None) -> str:
    """``first.queues.send_queue``, or ``first.queues`` for the queues as a whole."""
    return f"{side}.queues" + (f".{name}" if name else "")


def project_field(side: str) -> str:
    """``first.project_key``."""
    return f"{side}.project_key"


def queries_field(side: str) -> str:
    """``first.configuration.sync.outgoing_jqls``: the side's outgoing queries."""
    return f"{side}.configuration.sync.outgoing_jqls"
