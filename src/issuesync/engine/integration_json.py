"""Integrations as the Backbone API shows them: seed 001's body, seed 002's status block.

Secrets never appear here: the application block carries the base URL, the
sync user, the tracker and the proxy's address and user, nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuesync.domain.integration import configuration_json
from issuesync.domain.message import ReceiveState
from issuesync.engine.connectors import connector_rows, load_configuration
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, MessageRow

JsonDict = dict[str, Any]


def backbone_date(ms: int) -> str:
    """Epoch milliseconds as Backbone writes dates: ``2017-05-17T08:01:37+0200``, local time."""
    return (
        dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
    )


def _audit(row: IntegrationRow | ConnectorRow) -> JsonDict:
    return {
        "createdUser": row.created_user,
        "lastModifiedUser": row.modified_user,
        "createdDate": backbone_date(row.created_ms),
        "lastModifiedDate": backbone_date(row.modified_ms),
    }


def connector_json(row: ConnectorRow) -> JsonDict:
    """One connector: keys, connection (no secrets), queues and configuration."""
    application: JsonDict = {"baseUrl": row.base_url, "user": row.user, "system": row.system}
    if row.proxy_uri is not None:
        application["proxy"] = {"proxyUri": row.proxy_uri, "username": row.proxy_user}
    return {
        **_audit(row),
        "connectorKey": row.key,
        "projectKey": row.project_key,
        "projectConnectorKey": row.project_connector_key,
        "connection": {
            "application": application,
            "connector": {
                "sendQueue": json.loads(row.send_queue),
                "receiveQueue": json.loads(row.receive_queue),
                "initialInternalPollingDelay": row.initial_delay_ms,
                "internalPollingInterval": row.polling_interval_ms,
            },
        },
        "configuration": configuration_json(load_configuration(row.configuration)),
    }


def integration_json(
    session: Session, row: IntegrationRow, *, with_status: bool = False
) -> JsonDict:
    """The integration as ``GET /integrations/{key}`` returns it (seed 001).

    With ``with_status``, the ``status`` block of seed 002's list is added.
    """
    first, second = connector_rows(session, row.id)
    body: JsonDict = {
        **_audit(row),
        "integrationKey": row.key,
        "summary": row.summary,
        "description": row.description,
    }
    if row.distributed:
        body["distributed"] = True
    if with_status:
        body["status"] = status_json(session, row)
    body["firstConnector"] = connector_json(first)
    body["secondConnector"] = connector_json(second)
    return body


def status_json(session: Session, row: IntegrationRow) -> JsonDict:
    """``GET /integrations/{key}/status`` (seed 002): the wanted state and each route's health."""
    first, second = connector_rows(session, row.id)
    errors = _issues_in_error(session, (first.id, second.id))
    return {
        "status": "RUNNING" if row.running else "STOPPED",
        "firstConnector": _connector_status(session, first, errors.get(first.id, 0)),
        "secondConnector": _connector_status(session, second, errors.get(second.id, 0)),
    }


def _connector_status(session: Session, row: ConnectorRow, issues_in_error: int) -> JsonDict:
    state = session.get(ConnectorState, row.id) or ConnectorState(
        connector_id=row.id,
        online=True,
        incoming_status="STOPPED",
        outgoing_status="STOPPED",
        incoming_processing="IDLE",
        outgoing_processing="IDLE",
        incoming_details="",
        outgoing_details="",
    )
    body: JsonDict = {"connectorKey": row.key}
    if state.start_ms is not None:
        body["startTime"] = state.start_ms
    body |= {
        "online": state.online,
        "reconnecting": False,
        "incomingRouteStatus": state.incoming_status,
        "incomingProcessingStatus": state.incoming_processing,
        "incomingDetails": state.incoming_details,
        "outgoingRouteStatus": state.outgoing_status,
        "outgoingProcessingStatus": state.outgoing_processing,
        "outgoingDetails": state.outgoing_details,
        "externalRouteStatus": state.incoming_status,
        "issuesInError": issues_in_error,
    }
    return body


def _issues_in_error(session: Session, connector_ids: tuple[int, ...]) -> dict[int, int]:
    """Per connector, how many issues have a received message in ``error``."""
    rows = session.execute(
        select(MessageRow.connector_id, func.count(func.distinct(MessageRow.issue_key)))
        .where(
            MessageRow.connector_id.in_(connector_ids),
            MessageRow.queue == "receive",
            MessageRow.state == ReceiveState.ERROR.value,
        )
        .group_by(MessageRow.connector_id)
    )
    return {row[0]: row[1] for row in rows}
