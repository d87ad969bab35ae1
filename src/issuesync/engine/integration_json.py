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
from issuesync.store.base import now_ms
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


def status_json(session: Session, row: IntegrationRow, *, now: int | None = None) -> JsonDict:
    """``GET /integrations/{key}/status`` (seed 002): the wanted state and each route's health.

    ``status`` is the wanted state; each connector's block is what the engine that
    runs it wrote in ``connector_states`` (see ``engine/runner.py``), read as of
    ``now`` (default: the clock):

    - ``startTime``: when the engine holding the connector took it up; only while
      the routes run.
    - ``incomingRouteStatus``/``outgoingRouteStatus``: ``STARTED`` while an engine
      runs the connector's routes.
    - ``externalRouteStatus``: the route that exchanges messages with the partner
      (the file transport's pump; the in-process queue of the vm transport). It runs
      inside the connector's routes, so it is ``STARTED`` exactly when both are.
    - ``incomingProcessingStatus``: ``PROCESSING`` from the moment a run of the
      incoming route finds messages to apply until a run leaves none due;
      ``outgoingProcessingStatus``: ``PROCESSING`` while the outgoing route builds
      and sends messages for changed issues (a poll that found some, or a resync).
      ``IDLE`` otherwise.
    - ``online``: whether the tracker answered the engine's last call;
      ``reconnecting``: it did not, and the running routes keep trying it.
    - ``issuesInError``: issues with a received message in ``error``.

    A status never vouches for a dead engine. A reading counts only while the
    lease it was written under is live (``lease_owner`` set, ``lease_until_ms`` not
    passed); the processing readings and ``reconnecting`` need one. Once
    ``lease_until_ms`` has passed (an engine killed before it gave the lease up, or
    handed over and taken up by no engine), nothing runs the routes: they read
    ``STOPPED``, without ``startTime``, until an engine takes the lease again.
    Without any lease the route statuses are as the last engine left them
    (``STOPPED`` when it stopped them).
    """
    first, second = connector_rows(session, row.id)
    errors = _issues_in_error(session, (first.id, second.id))
    at = now_ms() if now is None else now
    return {
        "status": "RUNNING" if row.running else "STOPPED",
        "firstConnector": _connector_status(session, first, errors.get(first.id, 0), at),
        "secondConnector": _connector_status(session, second, errors.get(second.id, 0), at),
    }


def _connector_status(
    session: Session, row: ConnectorRow, issues_in_error: int, now: int
) -> JsonDict:
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
    lapsed = state.lease_until_ms is not None and state.lease_until_ms < now
    leased = state.lease_owner is not None and not lapsed
    incoming_route = "STOPPED" if lapsed else state.incoming_status
    outgoing_route = "STOPPED" if lapsed else state.outgoing_status
    running = incoming_route == outgoing_route == "STARTED"
    body: JsonDict = {"connectorKey": row.key}
    if state.start_ms is not None and not lapsed:
        body["startTime"] = state.start_ms
    body |= {
        "online": state.online,
        "reconnecting": leased and running and not state.online,
        "incomingRouteStatus": incoming_route,
        "incomingProcessingStatus": state.incoming_processing if leased else "IDLE",
        "incomingDetails": state.incoming_details,
        "outgoingRouteStatus": outgoing_route,
        "outgoingProcessingStatus": state.outgoing_processing if leased else "IDLE",
        "outgoingDetails": state.outgoing_details,
        "externalRouteStatus": "STARTED" if running else "STOPPED",
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
