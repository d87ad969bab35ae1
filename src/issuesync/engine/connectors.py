"""Connectors as the engine runs them: typed configuration, queues and secrets.

:class:`ConnectorConfig` is the engine's view of a stored connector; the
sync user's secret and the proxy password are read only through
:func:`connector_secret` and :func:`connector_proxy`, which :func:`tracker_access`
puts together to open the connector's tracker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.domain.integration import Configuration, Queue, QueueSettings
from issuesync.domain.ranges import STORED
from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.security import SecretBox
from issuesync.store.sync import ConnectorRow, IntegrationRow
from issuesync.trackers.credentials import ProxySettings
from issuesync.trackers.registry import TrackerAccess

SIDES = ("firstConnector", "secondConnector")


# --- queues ----------------------------------------------------------------------------------

QueuePair = tuple[Queue, Queue]  # (send, receive)


def resolve_queues(
    integration_key: str,
    keys: tuple[str, str],
    given: tuple[QueueSettings | None, QueueSettings | None],
    *,
    distributed: bool = False,
) -> tuple[QueuePair, QueuePair]:
    """Both connectors' (send, receive) queues, defaults filled in.

    A queue left out is the mirror of the partner's (A's send queue is B's
    receive queue); when neither side names it, it is a ``vm`` queue named
    ``<from>_<to>``. A ``file`` queue without a path gets
    ``<INT-n>/<from>_to_<to>``. In a centralized integration both sides must
    agree: A's send queue is B's receive queue.
    """
    explicit = [(s.send_queue if s else None, s.receive_queue if s else None) for s in given]
    hint = next((q.type for pair in explicit for q in pair if q is not None), "vm")
    resolved: list[QueuePair] = []
    for index in (0, 1):
        me, partner = keys[index], keys[1 - index]
        send = explicit[index][0] or explicit[1 - index][1]
        receive = explicit[index][1] or explicit[1 - index][0]
        resolved.append(
            (
                _filled(send, hint, integration_key, me, partner),
                _filled(receive, hint, integration_key, partner, me),
            )
        )
    errors: dict[str, str] = {}
    for index, side in enumerate(SIDES):
        for label, queue in zip(("sendQueue", "receiveQueue"), resolved[index], strict=True):
            problem = _queue_problem(queue)
            if problem:
                errors[f"{side}.connection.connector.{label}"] = problem
    if not distributed and not errors:
        if resolved[0][0] != resolved[1][1]:
            errors["secondConnector.connection.connector.receiveQueue"] = (
                "must be the same queue as firstConnector's sendQueue"
            )
        if resolved[0][1] != resolved[1][0]:
            errors["secondConnector.connection.connector.sendQueue"] = (
                "must be the same queue as firstConnector's receiveQueue"
            )
    if errors:
        raise InvalidInputError("The integration's queues are not valid.", field_errors=errors)
    return resolved[0], resolved[1]


def _filled(
    queue: Queue | None, hint: str, integration_key: str, source: str, target: str
) -> Queue:
    kind = queue.type if queue is not None else hint
    if kind == "file":
        path = (queue.path if queue else None) or f"{integration_key}/{source}_to_{target}"
        return Queue.model_validate({"@type": "file", "path": path})
    name = (queue.name if queue else None) or f"{source}_{target}"
    return Queue.model_validate({"@type": "vm", "name": name})


def _queue_problem(queue: Queue) -> str | None:
    if queue.type == "file":
        assert queue.path is not None
        path = PurePosixPath(queue.path.replace("\\", "/"))
        # Absolute: a folder shared with a partner issuesync (distributed integrations).
        if ".." in path.parts:
            return "a file queue's path must not contain '..'"
    return None


def queue_text(queue: Queue) -> str:
    """A queue as its column stores it."""
    return queue.model_dump_json(by_alias=True, exclude_none=True)


def load_queue(text: str) -> Queue:
    """A stored queue column as a :class:`Queue`."""
    return Queue.model_validate_json(text)


# --- rows ------------------------------------------------------------------------------------


def connector_rows(session: Session, integration_id: int) -> tuple[ConnectorRow, ConnectorRow]:
    """The first and second connector of an integration."""
    rows = list(
        session.scalars(
            select(ConnectorRow)
            .where(ConnectorRow.integration_id == integration_id)
            .order_by(ConnectorRow.position)
        )
    )
    if len(rows) != 2:  # noqa: PLR2004 - an integration has two connectors
        raise NotFoundError(f"The integration {integration_id} does not have two connectors.")
    return rows[0], rows[1]


def load_configuration(text: str) -> Configuration:
    """A stored configuration column as a :class:`Configuration`; numbers stored before
    their ranges were checked are brought into them (``STORED``)."""
    return Configuration.model_validate_json(text, context=STORED)


# --- the engine's view -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectorConfig:
    """One connector as the engine runs it: typed, secrets left out."""

    id: int
    key: str
    position: int
    integration_id: int
    integration_key: str
    project_key: str
    project_connector_key: str
    system: str
    base_url: str | None
    user: str | None
    send_queue: Queue
    receive_queue: Queue
    configuration: Configuration
    partner_id: int
    partner_key: str
    initial_delay_ms: int
    polling_interval_ms: int


def _config(row: ConnectorRow, partner: ConnectorRow, integration_key: str) -> ConnectorConfig:
    return ConnectorConfig(
        id=row.id,
        key=row.key,
        position=row.position,
        integration_id=row.integration_id,
        integration_key=integration_key,
        project_key=row.project_key,
        project_connector_key=row.project_connector_key,
        system=row.system,
        base_url=row.base_url,
        user=row.user,
        send_queue=load_queue(row.send_queue),
        receive_queue=load_queue(row.receive_queue),
        configuration=load_configuration(row.configuration),
        partner_id=partner.id,
        partner_key=partner.key,
        initial_delay_ms=row.initial_delay_ms,
        polling_interval_ms=row.polling_interval_ms,
    )


def connector_configs(
    session: Session, integration_id: int
) -> tuple[ConnectorConfig, ConnectorConfig]:
    """The first and second connector of an integration, as the engine sees them."""
    first, second = connector_rows(session, integration_id)
    integration = session.get_one(IntegrationRow, integration_id)
    return _config(first, second, integration.key), _config(second, first, integration.key)


def connector_row_by_key(session: Session, key: str) -> ConnectorRow:
    """The connector row with this key (``PA-2``), or NotFoundError."""
    row = session.scalar(select(ConnectorRow).where(ConnectorRow.key == key.upper()))
    if row is None:
        raise NotFoundError(f"No connector with key {key}.")
    return row


def connector_by_key(session: Session, key: str) -> ConnectorConfig:
    """The connector with this key (``PA-2``), or NotFoundError."""
    row = connector_row_by_key(session, key)
    first, second = connector_configs(session, row.integration_id)
    return first if first.id == row.id else second


def connector_secret(
    session: Session, secrets: SecretBox, connector_id: int
) -> tuple[str, str] | None:
    """The sync user's secret as ``(kind, value)``, kind ``password`` or ``token``; or None."""
    row = session.get(ConnectorRow, connector_id)
    if row is None:
        raise NotFoundError(f"No connector with id {connector_id}.")
    if row.secret is None:
        return None
    sealed = json.loads(secrets.decrypt(row.secret))
    return str(sealed["kind"]), str(sealed["value"])


def connector_proxy(
    session: Session, secrets: SecretBox, connector_id: int
) -> ProxySettings | None:
    """The connector's proxy, or None when it connects directly."""
    row = session.get(ConnectorRow, connector_id)
    if row is None:
        raise NotFoundError(f"No connector with id {connector_id}.")
    if row.proxy_uri is None:
        return None
    password = secrets.decrypt(row.proxy_secret) if row.proxy_secret else None
    return ProxySettings(uri=row.proxy_uri, username=row.proxy_user, password=password)


def tracker_access(session: Session, secrets: SecretBox, config: ConnectorConfig) -> TrackerAccess:
    """What opening the connector's tracker takes: where, as whom, its secret and its proxy.

    The one way the engine (routes, connection checks) opens a tracker, so that none
    forgets the proxy.
    """
    return TrackerAccess(
        config.system,
        config.project_key,
        config.base_url,
        config.user,
        connector_secret(session, secrets, config.id),
        connector_proxy(session, secrets, config.id),
    )


def seal_secret(secrets: SecretBox, kind: str, value: str) -> str:
    """The stored form of the sync user's secret: its kind and value, encrypted."""
    return secrets.encrypt(json.dumps({"kind": kind, "value": value}))
