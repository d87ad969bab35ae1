"""Integrations as they are stored and as they run, read for the surfaces.

:func:`integration_view` and :func:`integration_views` read integrations with their
connectors (secrets left out); :class:`Statuses` reads what the engines wrote about the
connectors' routes and makes each an :class:`~issuesync.domain.status.IntegrationStatus`.
Both read a fixed number of queries however many integrations they are given: monitoring
lists every integration with its status every few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from issuesync.domain.connection import QueueSettings
from issuesync.domain.integration import Audit, ConnectorView, IntegrationView, ProxyView
from issuesync.domain.message import ReceiveState
from issuesync.domain.redaction import redact
from issuesync.domain.relation import RelationState
from issuesync.domain.status import (
    IDLE,
    STARTED,
    STOPPED,
    ConnectorStatus,
    IntegrationStatus,
    RouteStatus,
)
from issuesync.domain.urls import without_credentials
from issuesync.engine.connectors import PARTNER_SYSTEM, load_configuration, load_queue
from issuesync.errors import NotFoundError
from issuesync.store.base import now_ms
from issuesync.store.relations import RelationRow
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, MessageRow


def _audit(row: IntegrationRow | ConnectorRow) -> Audit:
    return Audit(row.created_user, row.created_ms, row.modified_user, row.modified_ms)


def connector_view(row: ConnectorRow) -> ConnectorView:
    """One stored connector, without secrets; URLs without credentials."""
    proxy = None
    if row.proxy_uri is not None:
        proxy = ProxyView(without_credentials(row.proxy_uri), row.proxy_user)
    return ConnectorView(
        id=row.id,
        key=row.key,
        audit=_audit(row),
        project_key=row.project_key,
        project_connector_key=row.project_connector_key,
        system=row.system,
        base_url=without_credentials(row.base_url) if row.base_url else row.base_url,
        user=row.user,
        proxy=proxy,
        # As stored, not checked again: a delay saved before its range was is shown as it is.
        queues=QueueSettings.model_construct(
            send_queue=load_queue(row.send_queue),
            receive_queue=load_queue(row.receive_queue),
            initial_delay_ms=row.initial_delay_ms,
            polling_interval_ms=row.polling_interval_ms,
        ),
        configuration=load_configuration(row.configuration),
    )


def integration_view(session: Session, row: IntegrationRow) -> IntegrationView:
    """The integration with its two connectors."""
    return integration_views(session, [row])[0]


def integration_views(session: Session, rows: Sequence[IntegrationRow]) -> list[IntegrationView]:
    """Several integrations with their connectors, in one query per 500."""
    pairs = _connector_pairs(session, [row.id for row in rows])
    views: list[IntegrationView] = []
    for row in rows:
        first, second = pairs[row.id]
        views.append(
            IntegrationView(
                id=row.id,
                key=row.key,
                audit=_audit(row),
                summary=row.summary,
                description=row.description,
                running=row.running,
                distributed=row.distributed,
                first=connector_view(first),
                second=connector_view(second),
            )
        )
    return views


def _connector_pairs(
    session: Session, integration_ids: list[int]
) -> dict[int, tuple[ConnectorRow, ConnectorRow]]:
    found: dict[int, list[ConnectorRow]] = {}
    for chunk in _chunks(integration_ids):
        for row in session.scalars(
            select(ConnectorRow)
            .where(ConnectorRow.integration_id.in_(chunk))
            .order_by(ConnectorRow.integration_id, ConnectorRow.position)
        ):
            found.setdefault(row.integration_id, []).append(row)
    pairs: dict[int, tuple[ConnectorRow, ConnectorRow]] = {}
    for integration_id in integration_ids:
        pair = found.get(integration_id, [])
        if len(pair) != 2:  # noqa: PLR2004 - an integration has two connectors
            raise NotFoundError(f"The integration {integration_id} does not have two connectors.")
        pairs[integration_id] = (pair[0], pair[1])
    return pairs


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


@dataclass
class Statuses:
    """The connector_states rows and issues in error of some integrations' connectors."""

    states: dict[int, Any]  # per connector: a plain row of connector_states, or None
    errors: dict[int, int]
    keys: dict[int, str]

    versions: dict[int, list[tuple[int, int]]]  # per integration: (connector id, modified_ms)
    projects: dict[int, tuple[str, str]] = field(default_factory=dict)  # (system, project key)
    # Per integration split between two nodes: its relation (what the partner's half shows).
    relations: dict[int, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, integration_ids: list[int], *, errors: bool) -> Statuses:
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
            partners = [i for i, ids in loaded.versions.items() if i in chunk and len(ids) == 2]  # noqa: PLR2004
            if any(
                loaded.projects[loaded.versions[i][1][0]][0] == PARTNER_SYSTEM for i in partners
            ):
                for found in session.execute(_RELATIONS, {"ids": chunk}):
                    loaded.relations[found.integration_id] = found
        return loaded

    def pair(self, integration_id: int) -> tuple[int, int]:
        """The ids of an integration's first and second connector."""
        found = self.versions.get(integration_id, [])
        if len(found) != 2:  # noqa: PLR2004 - an integration has two connectors
            raise NotFoundError(f"The integration {integration_id} does not have two connectors.")
        return found[0][0], found[1][0]

    def status(self, row: IntegrationRow, now: int) -> IntegrationStatus:
        """The integration's wanted state and its connectors' routes as of ``now``."""
        first_id, second_id = self.pair(row.id)
        first = self.connector(first_id, now)
        relation = self.relations.get(row.id)
        second = (
            _partner_status(self.keys[second_id], relation, first)
            if relation is not None
            else self.connector(second_id, now)
        )
        return IntegrationStatus(running=row.running, first=first, second=second)

    def connector(self, connector_id: int, now: int) -> ConnectorStatus:
        """One connector's routes as of ``now``."""
        return _connector_status(
            self.keys[connector_id],
            self.states.get(connector_id),
            self.errors.get(connector_id, 0),
            now,
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
_RELATIONS = select(
    RelationRow.integration_id,
    RelationRow.name,
    RelationRow.state,
    RelationRow.reason,
    RelationRow.online,
    RelationRow.last_failure,
).where(RelationRow.integration_id.in_(bindparam("ids", expanding=True)))
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


def integration_status(
    session: Session, row: IntegrationRow, *, now: int | None = None
) -> IntegrationStatus:
    """The wanted state and each route's health.

    ``running`` is the wanted state; each connector's status is what the engine that
    runs it wrote in ``connector_states`` (see ``engine/runtime/runner.py``), read as of
    ``now`` (default: the clock):

    - ``start_ms``: when the engine holding the connector took it up; only while
      the routes run.
    - ``incoming``/``outgoing``: ``STARTED`` while an engine runs the connector's routes.
    - ``external``: the route that exchanges messages with the partner (the file
      transport's pump; the in-process queue of the vm transport). It runs inside the
      connector's routes, so it is ``STARTED`` exactly when both are.
    - ``incoming_processing``: ``PROCESSING`` from the moment a run of the incoming
      route finds messages to apply until a run leaves none due;
      ``outgoing_processing``: ``PROCESSING`` while the outgoing route builds and sends
      messages for changed issues (a poll that found some, or a resync). ``IDLE`` otherwise.
    - ``online``: whether the tracker answered the engine's last call;
      ``reconnecting``: it did not, and the running routes keep trying it.
    - ``issues_in_error``: issues with a received message in ``error``.

    A status never vouches for a dead engine. A reading counts only while the
    lease it was written under is live (``lease_owner`` set, ``lease_until_ms`` not
    passed); the processing readings and ``reconnecting`` need one. Once
    ``lease_until_ms`` has passed (an engine killed before it gave the lease up, or
    handed over and taken up by no engine), nothing runs the routes: they read
    ``STOPPED``, without ``start_ms``, until an engine takes the lease again.
    Without any lease the route statuses are as the last engine left them
    (``STOPPED`` when it stopped them).
    """
    statuses = Statuses.load(session, [row.id], errors=True)
    return statuses.status(row, now_ms() if now is None else now)


def _partner_status(connector_key: str, relation: Any, ours: ConnectorStatus) -> ConnectorStatus:  # noqa: ANN401 - a plain row of relations
    """The partner node's half of a relation, as this node sees it: running while the
    relation is active and our half runs (``online`` while the partner answers), stopped
    with the reason once it is revoked or broken."""
    active = relation.state == RelationState.ACTIVE and ours.incoming == STARTED
    route: RouteStatus = STARTED if active else STOPPED
    details = "" if active and relation.online else (relation.last_failure or relation.reason)
    if not active and not details:
        details = f"The relation {relation.name} is {relation.state}."
    return ConnectorStatus(
        connector_key=connector_key,
        start_ms=ours.start_ms if active else None,
        online=bool(relation.online) if active else True,
        reconnecting=active and not relation.online,
        incoming=route,
        incoming_processing=IDLE,
        incoming_details=redact(details),
        outgoing=route,
        outgoing_processing=IDLE,
        outgoing_details=redact(details),
        external=route,
        issues_in_error=0,
    )


def _connector_status(
    connector_key: str,
    state: Any,  # noqa: ANN401 - a plain row of connector_states, or None
    issues_in_error: int,
    now: int,
) -> ConnectorStatus:
    state = state or ConnectorState(
        online=True,
        incoming_status=STOPPED,
        outgoing_status=STOPPED,
        incoming_processing=IDLE,
        outgoing_processing=IDLE,
        incoming_details="",
        outgoing_details="",
    )
    lapsed = state.lease_until_ms is not None and state.lease_until_ms < now
    leased = state.lease_owner is not None and not lapsed
    incoming_route: RouteStatus = STOPPED if lapsed else state.incoming_status
    outgoing_route: RouteStatus = STOPPED if lapsed else state.outgoing_status
    running = incoming_route == outgoing_route == STARTED
    return ConnectorStatus(
        connector_key=connector_key,
        start_ms=state.start_ms if not lapsed else None,
        online=state.online,
        reconnecting=leased and running and not state.online,
        incoming=incoming_route,
        incoming_processing=state.incoming_processing if leased else IDLE,
        incoming_details=redact(state.incoming_details or ""),
        outgoing=outgoing_route,
        outgoing_processing=state.outgoing_processing if leased else IDLE,
        outgoing_details=redact(state.outgoing_details or ""),
        external=STARTED if running else STOPPED,
        issues_in_error=issues_in_error,
    )
