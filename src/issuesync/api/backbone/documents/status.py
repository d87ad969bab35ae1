"""An integration's status as Backbone's monitoring reads it (seed 002).

Seed 002's status has no place for the health of issuesync's processes, and monitoring
written for Backbone alerts on ``incomingDetails``/``outgoingDetails`` that are not empty:
so that is where a full disk or an engine that cannot refresh its connectors shows, in
every route (:func:`trouble_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from issuesync.api.backbone.documents.dates import backbone_date
from issuesync.application.monitoring import integration_status
from issuesync.domain.status import ConnectorStatus, IntegrationStatus
from issuesync.health import Problem
from issuesync.store.sync import IntegrationRow

JsonDict = dict[str, Any]


def connector_status_json(status: ConnectorStatus, trouble: str = "") -> JsonDict:
    """One connector's block: its routes, with ``trouble`` in both routes' details."""
    body: JsonDict = {"connectorKey": status.connector_key}
    if status.start_ms is not None:
        body["startTime"] = status.start_ms
    body |= {
        "online": status.online,
        "reconnecting": status.reconnecting,
        "incomingRouteStatus": status.incoming,
        "incomingProcessingStatus": status.incoming_processing,
        "incomingDetails": _with_trouble(trouble, status.incoming_details),
        "outgoingRouteStatus": status.outgoing,
        "outgoingProcessingStatus": status.outgoing_processing,
        "outgoingDetails": _with_trouble(trouble, status.outgoing_details),
        "externalRouteStatus": status.external,
        "issuesInError": status.issues_in_error,
    }
    return body


def status_body(status: IntegrationStatus, trouble: str = "") -> JsonDict:
    """The integration's status block (seed 002), with ``trouble`` in every route's details."""
    return {
        "status": "RUNNING" if status.running else "STOPPED",
        "firstConnector": connector_status_json(status.first, trouble),
        "secondConnector": connector_status_json(status.second, trouble),
    }


def status_json(session: Session, row: IntegrationRow, *, now: int | None = None) -> JsonDict:
    """``GET /integrations/{key}/status`` (seed 002): see
    :func:`~issuesync.application.monitoring.integration_status` for what each reading means."""
    return status_body(integration_status(session, row, now=now))


def trouble_text(problems: Sequence[tuple[str, Problem]], *, detail: bool = False) -> str:
    """What fails in issuesync's processes, as one line for the routes' details.

    ``problems`` pairs each with the process it was seen in ("" for the reading one).
    The driver's messages (``detail``) may name the database's host: only where the
    reader is the operator (the CLI).
    """
    parts = []
    for process, problem in problems:
        where = f"{process}, " if process else ""
        parts.append(
            f"{problem.describe(detail=detail)} ({where}since {backbone_date(problem.since_ms)})"
        )
    return f"issuesync is failing: {'; '.join(parts)}" if parts else ""


def _with_trouble(trouble: str, details: str) -> str:
    if not trouble:
        return details
    return f"{trouble} | {details}" if details else trouble
