"""Connectors as the engine runs them: typed configuration, queues and secrets.

:class:`ConnectorConfig` is the engine's view of a stored connector; the
sync user's secret and the proxy password are read only through
:func:`connector_secret` and :func:`connector_proxy`, which :func:`tracker_access`
puts together to open the connector's tracker. :class:`QueuePlaces` says where a
file queue's folder may be on this server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.domain.configuration import Configuration
from issuesync.domain.connection import Queue
from issuesync.domain.ranges import STORED
from issuesync.errors import NotFoundError
from issuesync.security import SecretBox
from issuesync.store.sync import ConnectorRow, IntegrationRow
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.credentials import ProxySettings

PARTNER_SYSTEM = "partner"  # the system of a connector run by the partner node (distributed)


# --- queues ----------------------------------------------------------------------------------

QueuePair = tuple[Queue, Queue]  # (send, receive)


@dataclass(frozen=True)
class QueuePlaces:
    """Where this server keeps file queues.

    A queue's ``path`` is relative to :attr:`data` (``<home>/data/default``) or
    absolute, and its folder must resolve, symlinks followed, inside one of
    :attr:`roots` (``ISSUESYNC_QUEUE_ROOTS``; by default :attr:`data` alone).
    The check is made when an integration is saved and again by the engine
    before it creates or touches a folder: a symlink can change after saving.
    """

    home: Path
    roots: tuple[Path, ...]  # resolved

    @classmethod
    def of(cls, home: Path, roots: Iterable[Path] = ()) -> QueuePlaces:
        """The places for this home; no ``roots``: the home's data folder alone."""
        given = list(roots) or [home / "data" / "default"]
        return cls(home, tuple(dict.fromkeys(_root(root) for root in given)))

    @property
    def data(self) -> Path:
        """``<home>/data/default``: relative queue paths and the connectors' folders."""
        return self.home / "data" / "default"

    def folder(self, path: str) -> Path:
        """A file queue's folder as written: ``path`` if absolute, else under :attr:`data`."""
        given = Path(path.replace("\\", "/"))
        return given if given.is_absolute() else self.data / given

    def refusal(self, path: str) -> str | None:
        """Why a file queue may not use ``path``, or None."""
        return self.locate(path)[1]

    def locate(self, path: str) -> tuple[Path | None, str | None]:
        """A file queue's folder, symlinks resolved, or None and why it is not allowed."""
        if ".." in PurePosixPath(path.replace("\\", "/")).parts:
            return None, "a file queue's path must not contain '..'"
        try:
            real = _resolved(self.folder(path))
        except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
            return None, f"a file queue's folder must resolve to a folder: {exc}"
        if not any(real.is_relative_to(root) for root in self.roots):
            return None, (
                f"a file queue's folder must be inside one of the queue roots "
                f"({self.describe_roots()}; ISSUESYNC_QUEUE_ROOTS), symlinks followed: "
                f"'{path}' is {real}"
            )
        return real, None

    def inside(self, folder: Path, root: Path) -> bool:
        """Whether ``folder`` resolves, symlinks followed, inside ``root`` (resolved too)."""
        try:
            return _resolved(folder).is_relative_to(_resolved(root))
        except (OSError, RuntimeError):
            return False

    def describe_roots(self) -> str:
        """The roots for a person: ``/srv/a, /srv/b``."""
        return ", ".join(str(root) for root in self.roots)


def _resolved(path: Path) -> Path:
    """``path`` made absolute with every symlink of its longest existing prefix followed."""
    return path.resolve(strict=False)


def _root(path: Path) -> Path:
    """A configured root, resolved; as written when it cannot be (a symlink loop)."""
    try:
        return _resolved(path)
    except (OSError, RuntimeError):
        return path.absolute()


def queue_text(queue: Queue) -> str:
    """A queue as its column stores it (``{"type": "vm", "name": "PA-1_PB-2"}``)."""
    return queue.model_dump_json(exclude_none=True)


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


def configuration_text(configuration: Configuration) -> str:
    """A configuration as its column stores it: the neutral model's own JSON."""
    return configuration.model_dump_json()


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
    # The partner's tracker: when it is this one, a login name there is the same person here;
    # its texts name its issues its way (``domain/references.py``; None: the other node's).
    partner_system: str | None = None
    partner_base_url: str | None = None

    @property
    def same_tracker_as_partner(self) -> bool:
        """Whether both connectors work on one tracker (two projects of the built-in one)."""
        return (
            self.system != PARTNER_SYSTEM
            and self.partner_system == self.system
            and (self.partner_base_url or "").rstrip("/") == (self.base_url or "").rstrip("/")
        )


def _sync_user(row: ConnectorRow) -> str | None:
    """The connector's sync user; a built-in one stored without a user runs as its creator.

    Connectors created before every built-in one stored its user (the one who
    created it, unless it named another) ran as the administrator: never again.
    """
    return row.user or (row.created_user if row.system == "local" else None)


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
        user=_sync_user(row),
        send_queue=load_queue(row.send_queue),
        receive_queue=load_queue(row.receive_queue),
        configuration=load_configuration(row.configuration),
        partner_id=partner.id,
        partner_key=partner.key,
        initial_delay_ms=row.initial_delay_ms,
        polling_interval_ms=row.polling_interval_ms,
        partner_system=partner.system,
        partner_base_url=partner.base_url,
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
