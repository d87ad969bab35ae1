"""What an engine writes of the connectors it runs: their leases, its heartbeat, their readings.

A connector runs in one process at a time, the one holding its lease
(``connector_states.lease_owner``, until ``lease_until_ms``); every engine says it
is alive in ``engine_workers``, so the running ones can share the connectors. The
readings (seed 002's status block: ``STARTED``/``STOPPED``, ``online``,
``PROCESSING``/``IDLE``, the details of a failure) are written beside the lease,
and only under it: a stalled engine that lost a lease must not overwrite its
successor's readings.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from issuesync.domain.redaction import redact
from issuesync.engine.connectors import PARTNER_SYSTEM
from issuesync.engine.runtime.ports import Clock
from issuesync.errors import StoreError
from issuesync.store.sync import ConnectorRow, ConnectorState, EngineWorker, IntegrationRow
from issuesync.store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

STARTED = "STARTED"
STOPPED = "STOPPED"
IDLE = "IDLE"
PROCESSING = "PROCESSING"


class Leases:
    """One engine's leases of connectors and its rows in the store, as ``owner``."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, owner: str, lease_ms: int, clock: Clock
    ) -> None:
        self.uow_factory = uow_factory
        self.owner = owner
        self.lease_ms = lease_ms
        self.clock = clock
        self.secrets: dict[int, frozenset[str]] = {}  # per connector, kept out of readings

    def heartbeat(self, now: int, dead: Collection[str]) -> tuple[int, set[str]]:
        """Say this engine is alive; returns how many engines are (this one included), and
        which of the ``dead`` owners (proven dead: no longer counted) still hold a lease."""
        with self.uow_factory() as uow:
            session = uow.session
            seen = session.execute(
                update(EngineWorker).where(EngineWorker.owner == self.owner).values(seen_ms=now)
            )
            if not getattr(seen, "rowcount", 0):
                session.add(EngineWorker(owner=self.owner, started_ms=now, seen_ms=now))
            # Long gone (killed, not stopped): a row that no one will remove otherwise.
            session.execute(
                delete(EngineWorker).where(EngineWorker.seen_ms < now - 10 * self.lease_ms)
            )
            leased: set[str] = set()
            if dead:
                session.execute(delete(EngineWorker).where(EngineWorker.owner.in_(list(dead))))
                leased = set(
                    session.scalars(
                        select(ConnectorState.lease_owner)
                        .where(ConnectorState.lease_owner.in_(list(dead)))
                        .distinct()
                    )
                )
            live = session.scalar(
                select(func.count()).where(EngineWorker.seen_ms >= now - self.lease_ms)
            )
            uow.commit()
        return max(int(live or 0), 1), leased

    def leave(self) -> None:
        """This engine stops: its heartbeat row goes at once (the others' shares grow)."""
        with self.uow_factory() as uow:
            uow.session.execute(delete(EngineWorker).where(EngineWorker.owner == self.owner))
            uow.commit()

    def take(self, connector_id: int, now: int, dead: Collection[str]) -> bool:
        """Take a connector's lease: free, ours, lapsed, or its holder proven dead (its
        lock file in this home is free: ``presence``), so a restarted process takes its
        predecessor's connectors at once."""
        free = [
            ConnectorState.lease_owner.is_(None),
            ConnectorState.lease_owner == self.owner,
            ConnectorState.lease_until_ms < now,
        ]
        if dead:
            free.append(ConnectorState.lease_owner.in_(list(dead)))
        with self.uow_factory() as uow:
            taken = uow.session.execute(
                update(ConnectorState)
                .where(ConnectorState.connector_id == connector_id, or_(*free))
                .values(
                    lease_owner=self.owner,
                    lease_until_ms=now + self.lease_ms,
                    start_ms=now,
                    incoming_status=STARTED,
                    outgoing_status=STARTED,
                    # A new lease starts afresh: a dead engine's PROCESSING or offline
                    # reading is not this engine's (it writes online=False itself
                    # when its first call fails, and only a change of it after that).
                    incoming_processing=IDLE,
                    outgoing_processing=IDLE,
                    online=True,
                    incoming_details="",
                    outgoing_details="",
                )
            )
            uow.commit()
        return bool(getattr(taken, "rowcount", 0))

    def renew(self, connector_ids: Iterable[int], now: int) -> None:
        """Extend the leases of these connectors that are half gone."""
        ids = list(connector_ids)
        if not ids:
            return
        with self.uow_factory() as uow:
            uow.session.execute(
                update(ConnectorState)
                .where(
                    ConnectorState.connector_id.in_(ids),
                    ConnectorState.lease_owner == self.owner,
                    ConnectorState.lease_until_ms < now + self.lease_ms // 2,
                )
                .values(lease_until_ms=now + self.lease_ms)
            )
            uow.commit()

    def release(self, connector_id: int, *, stopped: bool) -> None:
        """Give the lease up: the routes stop (``stopped``) or go to another engine.

        Handed over, the routes stay ``STARTED`` and ``lease_until_ms`` stays set, as
        the time by which another engine should have taken them up (one does within
        a refresh): a status read after it shows them stopped, in case none did.
        """
        values: dict[str, object] = {
            "lease_owner": None,
            "lease_until_ms": self.clock() + self.lease_ms,
            "incoming_processing": IDLE,
            "outgoing_processing": IDLE,
        }
        if stopped:
            values |= {
                "lease_until_ms": None,
                "incoming_status": STOPPED,
                "outgoing_status": STOPPED,
                "start_ms": None,
            }
        with self.uow_factory() as uow:
            uow.session.execute(
                update(ConnectorState)
                .where(
                    ConnectorState.connector_id == connector_id,
                    ConnectorState.lease_owner == self.owner,
                )
                .values(**values)
            )
            uow.commit()

    def processing(self, connector_id: int, route_name: str, reading: str) -> None:
        """Write whether a route works through messages (``PROCESSING``) or waits
        (``IDLE``), under this engine's lease only."""
        with self.uow_factory() as uow:
            uow.session.execute(
                update(ConnectorState)
                .where(
                    ConnectorState.connector_id == connector_id,
                    ConnectorState.lease_owner == self.owner,
                )
                .values(**{f"{route_name}_processing": reading})
            )
            uow.commit()

    def report(self, connector_id: int, **values: object) -> bool:
        """Write a connector's readings; False when the store cannot take them now (busy,
        full: the process's health shows that, and the route reports again next run).

        Texts are written without credentials (the connector's :attr:`secrets`),
        capped (``redact``: the adapters' edge already took the tracker's words apart).
        """
        known = self.secrets.get(connector_id, frozenset())
        values = {k: redact(v, known) if isinstance(v, str) else v for k, v in values.items()}
        try:
            with self.uow_factory() as uow:
                uow.session.execute(
                    update(ConnectorState)
                    .where(ConnectorState.connector_id == connector_id)
                    .values(**values)
                )
                uow.commit()
        except StoreError as exc:
            log.debug("could not report the state of connector %s: %s", connector_id, exc)
            return False
        return True


def unleased_connectors(session: Session, now: int) -> list[str]:
    """The keys of the started integrations' connectors that no engine holds a live lease
    of (a partner node's connectors are that node's business): what ``/readyz`` names."""
    live = and_(
        ConnectorState.lease_owner.isnot(None),
        ConnectorState.lease_until_ms >= now,
    )
    return list(
        session.scalars(
            select(ConnectorRow.key)
            .join(IntegrationRow, IntegrationRow.id == ConnectorRow.integration_id)
            .outerjoin(ConnectorState, ConnectorState.connector_id == ConnectorRow.id)
            .where(
                IntegrationRow.running,
                ConnectorRow.system != PARTNER_SYSTEM,
                or_(ConnectorState.connector_id.is_(None), ~live),
            )
            .order_by(ConnectorRow.key)
        )
    )
