"""Integrations as the Backbone API shows them: seed 001's body, seed 002's status block.

Secrets never appear here: the application block carries the base URL, the
sync user, the tracker and the proxy's address and user, nothing else; a URL
stored before they were refused with credentials in it is shown without them,
and a route's details without anything that looks like a credential (``redact``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from issuesync.domain.integration import configuration_json
from issuesync.domain.message import ReceiveState
from issuesync.domain.redaction import redact
from issuesync.domain.urls import without_credentials
from issuesync.engine.connectors import load_configuration
from issuesync.errors import NotFoundError
from issuesync.health import Problem
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
    base_url = without_credentials(row.base_url) if row.base_url else row.base_url
    application: JsonDict = {"baseUrl": base_url, "user": row.user, "system": row.system}
    if row.proxy_uri is not None:
        proxy_uri = without_credentials(row.proxy_uri)
        application["proxy"] = {"proxyUri": proxy_uri, "username": row.proxy_user}
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
    session: Session, row: IntegrationRow, *, with_status: bool = False, trouble: str = ""
) -> JsonDict:
    """The integration as ``GET /integrations/{key}`` returns it (seed 001).

    With ``with_status``, the ``status`` block of seed 002's list is added, with
    ``trouble`` (see :func:`trouble_text`) in the routes' details.
    """
    return integrations_json(session, [row], with_status=with_status, trouble=trouble)[0]


def integrations_json(
    session: Session,
    rows: Sequence[IntegrationRow],
    *,
    with_status: bool = False,
    now: int | None = None,
    trouble: str = "",
) -> list[JsonDict]:
    """Several integrations, read in a fixed number of queries however many there are.

    Monitoring lists every integration with its status every few seconds: the
    connectors, their states and the counts of issues in error are each read once
    for the whole list.
    """
    parts = _Parts.load(session, [row.id for row in rows])
    statuses = _Statuses.load(session, [row.id for row in rows] if with_status else [], errors=True)
    at = now_ms() if now is None else now
    shown: list[JsonDict] = []
    for row in rows:
        first, second = parts.connectors[row.id]
        body: JsonDict = {
            **_audit(row),
            "integrationKey": row.key,
            "summary": row.summary,
            "description": row.description,
        }
        if row.distributed:
            body["distributed"] = True
        if with_status:
            body["status"] = statuses.status(row, first.id, second.id, at, trouble)
        body["firstConnector"] = connector_json(first)
        body["secondConnector"] = connector_json(second)
        shown.append(body)
    return shown


@dataclass(frozen=True)
class IntegrationText:
    """One integration rendered for the list and for its status route, as JSON text."""

    id: int
    key: str
    document: bytes  # as in ``GET /integrations``: with its status block
    status: bytes  # ``GET /integrations/{key}/status``
    projects: tuple[tuple[str, str], ...]  # (system, project key) of each connector


def integration_texts(
    session: Session,
    rows: Sequence[IntegrationRow],
    *,
    now: int | None = None,
    trouble: str = "",
) -> list[IntegrationText]:
    """Integrations with their status as JSON text, in three queries however many there are.

    Monitoring asks for every integration every few seconds, and all but the
    status blocks change only when someone edits an integration. So each
    integration is rendered once per version, the ``modified_ms`` of the
    integration and of its two connectors (the version the engine itself follows
    to restart a changed connector), and kept in a bounded, process-local cache;
    only the status blocks are rendered each time.
    """
    statuses = _Statuses.load(session, [row.id for row in rows], errors=True)
    at = now_ms() if now is None else now
    texts: list[IntegrationText] = []
    for row in rows:
        key = ("integration", row.id, row.modified_ms, *statuses.versions.get(row.id, []))
        head, connectors = _rendered(key, functools.partial(_render_static, session, row))
        first_id, second_id = statuses.pair(row.id)
        status = _dumps(statuses.status(row, first_id, second_id, at, trouble))
        texts.append(
            IntegrationText(
                id=row.id,
                key=row.key,
                document=b"".join((b"{", head, b',"status":', status, connectors, b"}")),
                status=status,
                projects=(statuses.projects[first_id], statuses.projects[second_id]),
            )
        )
    return texts


def _dumps(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


Static = tuple[bytes, bytes]  # the head's fields, and ',"firstConnector":…,"secondConnector":…'
_RENDERED: dict[tuple[object, ...], Static] = {}
_RENDERED_MAX = 4096


def _rendered(key: tuple[object, ...], render: Callable[[], Static]) -> Static:
    """A rendering remembered by the versions of what it shows (bounded, per process)."""
    found = _RENDERED.get(key)
    if found is None:
        found = render()
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[key] = found
    return found


def _render_static(session: Session, row: IntegrationRow) -> Static:
    body = integration_json(session, row)
    head = {k: v for k, v in body.items() if k not in ("firstConnector", "secondConnector")}
    connectors = (
        b',"firstConnector":'
        + _dumps(body["firstConnector"])
        + b',"secondConnector":'
        + _dumps(body["secondConnector"])
    )
    return _dumps(head)[1:-1], connectors


@dataclass
class _Statuses:
    """The connector_states rows and issues in error of some connectors, as plain rows."""

    states: dict[int, Any]
    errors: dict[int, int]
    keys: dict[int, str]

    versions: dict[int, list[tuple[int, int]]]  # per integration: (connector id, modified_ms)
    projects: dict[int, tuple[str, str]] = field(default_factory=dict)  # (system, project key)

    @classmethod
    def load(cls, session: Session, integration_ids: list[int], *, errors: bool) -> _Statuses:
        """The states of these integrations' connectors, in one query per 500 integrations
        (and one more for the issues in error, when ``errors``)."""
        loaded = cls({}, {}, {}, {})
        for chunk in _chunks(integration_ids):
            for found in session.execute(_CONNECTORS_WITH_STATES, {"ids": chunk}):
                loaded.versions.setdefault(found.integration_id, []).append(
                    (found.id, found.modified_ms)
                )
                loaded.keys[found.id] = found.key
                loaded.projects[found.id] = (found.system, found.project_key)
                loaded.states[found.id] = found if found.connector_id is not None else None
            if errors:
                loaded.errors |= dict(session.execute(_ERRORS_BY_INTEGRATION, {"ids": chunk}).all())
        return loaded

    def pair(self, integration_id: int) -> tuple[int, int]:
        """The ids of an integration's first and second connector."""
        found = self.versions.get(integration_id, [])
        if len(found) != 2:  # noqa: PLR2004 - an integration has two connectors
            raise NotFoundError(f"The integration {integration_id} does not have two connectors.")
        return found[0][0], found[1][0]

    def status(
        self, row: IntegrationRow, first_id: int, second_id: int, now: int, trouble: str = ""
    ) -> JsonDict:
        """The integration's status block (seed 002), with ``trouble`` in every route's details."""
        return {
            "status": "RUNNING" if row.running else "STOPPED",
            "firstConnector": self.block(first_id, now, trouble),
            "secondConnector": self.block(second_id, now, trouble),
        }

    def block(self, connector_id: int, now: int, trouble: str = "") -> JsonDict:
        return _connector_status(
            self.keys[connector_id],
            self.states.get(connector_id),
            self.errors.get(connector_id, 0),
            now,
            trouble,
        )


_STATE_COLUMNS = [
    ConnectorState.__table__.c[name]
    for name in (
        "connector_id",
        "start_ms",
        "online",
        "incoming_status",
        "outgoing_status",
        "incoming_processing",
        "outgoing_processing",
        "incoming_details",
        "outgoing_details",
        "lease_owner",
        "lease_until_ms",
    )
]

_connectors = ConnectorRow.__table__
_states = ConnectorState.__table__
_messages = MessageRow.__table__
# Built once: the lists of ids are bound as one expanding parameter.
_CONNECTORS_WITH_STATES = (
    select(
        _connectors.c.integration_id,
        _connectors.c.id,
        _connectors.c.key,
        _connectors.c.modified_ms,
        _connectors.c.system,
        _connectors.c.project_key,
        *_STATE_COLUMNS,
    )
    .outerjoin(_states, _states.c.connector_id == _connectors.c.id)
    .where(_connectors.c.integration_id.in_(bindparam("ids", expanding=True)))
    .order_by(_connectors.c.integration_id, _connectors.c.position)
)
_ERRORS_BY_INTEGRATION = (
    select(_messages.c.connector_id, func.count(func.distinct(_messages.c.issue_key)))
    .join(_connectors, _connectors.c.id == _messages.c.connector_id)
    .where(
        _connectors.c.integration_id.in_(bindparam("ids", expanding=True)),
        _messages.c.queue == "receive",
        _messages.c.state == ReceiveState.ERROR.value,
    )
    .group_by(_messages.c.connector_id)
)


@dataclass
class _Parts:
    """The connectors of some integrations, read in one query per 500."""

    connectors: dict[int, tuple[ConnectorRow, ConnectorRow]]

    @classmethod
    def load(cls, session: Session, integration_ids: list[int]) -> _Parts:
        found: dict[int, list[ConnectorRow]] = {}
        for chunk in _chunks(integration_ids):
            for row in session.scalars(
                select(ConnectorRow)
                .where(ConnectorRow.integration_id.in_(chunk))
                .order_by(ConnectorRow.integration_id, ConnectorRow.position)
            ):
                found.setdefault(row.integration_id, []).append(row)
        connectors: dict[int, tuple[ConnectorRow, ConnectorRow]] = {}
        for integration_id in integration_ids:
            pair = found.get(integration_id, [])
            if len(pair) != 2:  # noqa: PLR2004 - an integration has two connectors
                raise NotFoundError(
                    f"The integration {integration_id} does not have two connectors."
                )
            connectors[integration_id] = (pair[0], pair[1])
        return cls(connectors)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def status_json(session: Session, row: IntegrationRow, *, now: int | None = None) -> JsonDict:
    """``GET /integrations/{key}/status`` (seed 002): the wanted state and each route's health.

    ``status`` is the wanted state; each connector's block is what the engine that
    runs it wrote in ``connector_states`` (see ``engine/runtime/runner.py``), read as of
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
    statuses = _Statuses.load(session, [row.id], errors=True)
    first_id, second_id = statuses.pair(row.id)
    return statuses.status(row, first_id, second_id, now_ms() if now is None else now)


def _connector_status(
    connector_key: str,
    state: Any,  # noqa: ANN401 - a plain row of connector_states, or None
    issues_in_error: int,
    now: int,
    trouble: str = "",
) -> JsonDict:
    state = state or ConnectorState(
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
    body: JsonDict = {"connectorKey": connector_key}
    if state.start_ms is not None and not lapsed:
        body["startTime"] = state.start_ms
    body |= {
        "online": state.online,
        "reconnecting": leased and running and not state.online,
        "incomingRouteStatus": incoming_route,
        "incomingProcessingStatus": state.incoming_processing if leased else "IDLE",
        "incomingDetails": _with_trouble(trouble, redact(state.incoming_details or "")),
        "outgoingRouteStatus": outgoing_route,
        "outgoingProcessingStatus": state.outgoing_processing if leased else "IDLE",
        "outgoingDetails": _with_trouble(trouble, redact(state.outgoing_details or "")),
        "externalRouteStatus": "STARTED" if running else "STOPPED",
        "issuesInError": issues_in_error,
    }
    return body


def trouble_text(problems: Sequence[tuple[str, Problem]], *, detail: bool = False) -> str:
    """What fails in issuesync's processes, as one line for the routes' details.

    Seed 002's status has no place for the health of the process, and monitoring
    written for Backbone alerts on ``incomingDetails``/``outgoingDetails`` that are
    not empty: so that is where a full disk or an engine that cannot refresh its
    connectors shows, in every route (any of them may be held up by it). ``problems``
    pairs each with the process it was seen in ("" for the reading one). The
    driver's messages (``detail``) may name the database's host: only where the
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
