"""The engine: runs the routes of every started integration's connectors, on their intervals.

One scheduler thread looks at the store every second for integrations that were
started, stopped or changed (so the CLI, another process or the API can steer a
running server), and hands due routes to a small thread pool. A connector's two
routes never run at once; a connector runs in one process at a time, the one
holding its lease (``connector_states.lease_owner``), so ``serve --workers N``,
``issuesync worker`` and several hosts on PostgreSQL share the work safely.

The connectors are shared fairly: every engine says it is alive in
``engine_workers`` each time it reads the integrations, and holds at most its
share (the connectors to run divided by the live engines, rounded up). An
engine over its share gives the surplus back, so a worker started later gets
work within a second or two; the two halves of an integration then usually run
in two processes, on two cores.

What the engine is doing shows in ``connector_states`` (seed 002's status block;
the API may run in another process): the routes are ``STARTED`` from the lease on,
``online`` is false while the tracker cannot be reached, and each route's
processing reading is ``PROCESSING`` while it works through messages. Those readings
are written only when they change, so an idle poll and each batch of a long run
cost no write; a reader trusts them only while the lease is live
(``application/integration_json.py``).
"""

from __future__ import annotations

import functools
import gc
import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from issuesync.app import Services
from issuesync.domain.message import ReceiveState
from issuesync.domain.redaction import redact
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    ConnectorConfig,
    connector_configs,
    tracker_access,
)
from issuesync.engine.pipeline import incoming, outgoing
from issuesync.engine.pipeline.attachment_links import AttachmentLinks
from issuesync.engine.pipeline.resync import run_resync
from issuesync.engine.pipeline.route import Route
from issuesync.engine.runtime import presence
from issuesync.engine.tasks import RESYNC, pending_tasks
from issuesync.engine.transports import queues
from issuesync.engine.transports.base import BlobArea, Transport, VmTransport
from issuesync.errors import IssueSyncError, RetryableError, StoreError, TrackerOfflineError
from issuesync.health import ENGINE
from issuesync.store.base import now_ms
from issuesync.store.sync import (
    ConnectorRow,
    ConnectorState,
    EngineWorker,
    IntegrationRow,
    MessageRow,
)
from issuesync.trackers.registry import open_tracker

log = logging.getLogger(__name__)

STARTED = "STARTED"
STOPPED = "STOPPED"
IDLE = "IDLE"
PROCESSING = "PROCESSING"
BACKOFF_MS = 30_000
ARRIVALS_MS = 100  # how often the scheduler looks for messages another process sent
SWEEP_MS = 60_000
SENT_KEPT_MS = 24 * 3_600_000


@dataclass
class _Slot:
    """A connector this engine runs."""

    route: Route
    version: int
    next_out: int = 0
    next_in: int = 0
    busy: bool = False
    offline: bool = False
    nudged: bool = False
    newest_arrival: int = 0  # the highest receive-queue row id noticed by _notice_arrivals
    next_sweep: int = 0
    failing: set[str] = field(default_factory=set)  # "<route>_details:<chore>", "" for the route
    retry_after_ms: int | None = None  # a busy store's Retry-After: a shorter back-off
    # The processing readings ("incoming"/"outgoing") last written to the connector's
    # state; the lease wrote IDLE. Kept here so that only a change costs a write.
    processing: dict[str, str] = field(default_factory=lambda: {"incoming": IDLE, "outgoing": IDLE})
    lock: threading.Lock = field(default_factory=threading.Lock)


# Collect young objects every 200,000 allocations instead of 700: a route makes and drops
# thousands of rows and models per batch, and the default spends a tenth of an initial
# sync walking the same long-lived objects again and again. Most of a batch's objects
# are freed by their reference counts before a collection ever looks at them; with
# 50,000, collections still took 4% of a receiving route's CPU.
GC_THRESHOLDS = (200_000, 10, 20)


# What refresh() follows: any start, stop, edit, creation or deletion of an integration
# or a connector changes one of these (a sum, not a maximum, of the modification times:
# a change made on a host whose clock is behind still moves it).
_FINGERPRINT = select(
    select(func.count(IntegrationRow.id)).scalar_subquery(),
    select(func.sum(IntegrationRow.modified_ms)).scalar_subquery(),
    select(func.count(ConnectorRow.id)).scalar_subquery(),
    select(func.sum(ConnectorRow.modified_ms)).scalar_subquery(),
)


def tune_garbage_collector() -> None:
    """For a process that runs the engine (``serve``, ``worker``), once it has started up:
    what it loaded so far is kept out of every collection (``gc.freeze``), and young
    objects are collected less often. The process's entry point calls it, not the
    engine: it changes the whole process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class SyncRunner:
    """Runs connectors' routes; ``start``/``stop`` in a server, ``step``/``settle`` in tests."""

    def __init__(
        self,
        services: Services,
        *,
        owner: str | None = None,
        lease_ms: int | None = None,
        lookback_ms: int = 5_000,
        workers: int = 4,
        reload_ms: int = 1_000,
        backoff_ms: int = BACKOFF_MS,
        deletion_check_ms: int = 30_000,
        shares: bool = True,
        adapters: Mapping[str, EntryPoint] | None = None,
    ) -> None:
        """``shares=False``: a one-off engine (the CLI's resync) that does not count as a
        worker, so the running ones keep their shares. ``adapters`` replaces the installed
        tracker adapters (tests)."""
        self.services = services
        self.shares = shares
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_ms = lease_ms or services.settings.engine_lease_ms
        self.lookback_ms = lookback_ms
        self.workers = workers
        self.reload_ms = reload_ms
        self.backoff_ms = backoff_ms
        self.deletion_check_ms = deletion_check_ms
        self.adapters = adapters
        self.blobs = BlobArea(services.settings.transit_dir)
        self.links = AttachmentLinks(
            services.settings.resolved_base_url, services.secrets, self.blobs.store.root
        )
        self._slots: dict[int, _Slot] = {}
        self._slots_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._last_reload = 0
        self._last_arrivals = 0
        self._fingerprint: tuple[object, ...] | None = None
        self._wanted: dict[int, tuple[ConnectorConfig, int]] = {}
        self._secrets: dict[int, frozenset[str]] = {}  # per connector, for ``_report``
        self._presence: presence.Presence | None = None
        self._published = -1  # the health version last written to the lock file
        self._dead: set[str] = set()  # owners proven dead (their lock file is free)
        self._arrivals_failing = False

    # -- what runs -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Follow the store: take up started integrations, drop stopped or changed ones.

        It runs every second in every engine, so the connectors' configurations are
        read again only when the integrations or connectors changed (their counts or
        the sums of their ``modified_ms``: starting, stopping and editing all move it).
        """
        now = now_ms()
        self._dead = presence.dead_owners(self.services.settings.home, self.owner)
        with self.services.uow_factory(readonly=True) as uow:
            session = uow.session
            fingerprint = tuple(session.execute(_FINGERPRINT).one())
            if fingerprint != self._fingerprint:
                self._wanted = self._wanted_connectors(session)
                self._fingerprint = fingerprint
        wanted = self._wanted
        share = math.ceil(len(wanted) / self._heartbeat(now)) if self.shares else len(wanted)
        with self._slots_lock:
            for connector_id in list(self._slots):
                slot = self._slots[connector_id]
                if connector_id not in wanted or wanted[connector_id][1] != slot.version:
                    self._drop(connector_id, stopped=connector_id not in wanted)
            surplus = max(len(self._slots) - share, 0)
            for connector_id in sorted(self._slots, reverse=True)[:surplus]:
                self._drop(connector_id, stopped=False)  # another worker's share now
            for connector_id, (config, version) in wanted.items():
                if connector_id in self._slots:
                    continue
                if len(self._slots) >= share:
                    break
                if not self._lease(connector_id, now):
                    continue
                route = self._route(config)
                if route is None:  # reported; the routes are not running
                    self._release(connector_id, stopped=True)
                    continue
                delay = config.initial_delay_ms
                self._slots[connector_id] = _Slot(route, version, now + delay, now + delay)
            self._renew(now)

    @staticmethod
    def _wanted_connectors(session: Session) -> dict[int, tuple[ConnectorConfig, int]]:
        """The connectors of started integrations that this node runs, with their versions."""
        running = list(session.scalars(select(IntegrationRow.id).where(IntegrationRow.running)))
        wanted: dict[int, tuple[ConnectorConfig, int]] = {}
        for integration_id in running:
            versions = {
                row.id: row.modified_ms
                for row in session.scalars(
                    select(ConnectorRow).where(ConnectorRow.integration_id == integration_id)
                )
            }
            for config in connector_configs(session, integration_id):
                if config.system == PARTNER_SYSTEM:
                    continue  # the other node of a distributed integration runs it
                wanted[config.id] = (config, versions.get(config.id, 0))
        return wanted

    def _drop(self, connector_id: int, *, stopped: bool) -> None:
        """Stop running a connector here (after its running route, if any); caller holds
        ``_slots_lock``."""
        slot = self._slots.pop(connector_id)
        with slot.lock:
            try:
                outgoing.save_cursor(slot.route)  # an idle poll's cursor may be in memory only
                self._release(connector_id, stopped=stopped)
            finally:
                slot.route.tracker.close()

    def _heartbeat(self, now: int) -> int:
        """Say this engine is alive; returns how many engines are (this one included)."""
        with self.services.uow_factory() as uow:
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
            if self._dead:  # proven dead: no longer counted, at once
                dead = list(self._dead)
                session.execute(delete(EngineWorker).where(EngineWorker.owner.in_(dead)))
                leased = set(
                    session.scalars(
                        select(ConnectorState.lease_owner)
                        .where(ConnectorState.lease_owner.in_(dead))
                        .distinct()
                    )
                )
            live = session.scalar(
                select(func.count()).where(EngineWorker.seen_ms >= now - self.lease_ms)
            )
            uow.commit()
        if self._dead - leased:  # nothing names them any more: their files can go
            presence.forget(self.services.settings.home, sorted(self._dead - leased))
        return max(int(live or 0), 1)

    def _route(self, config: ConnectorConfig) -> Route | None:
        with self.services.uow_factory(readonly=True) as uow:
            access = tracker_access(uow.session, self.services.secrets, config)
        self._secrets[config.id] = access.known_secrets()
        try:
            tracker = open_tracker(
                access,
                self.services.tracker,
                self.services.settings.admin_user,
                adapters=self.adapters,
            )
        except IssueSyncError as exc:
            self._report(config.id, outgoing_details=exc.message, incoming_details=exc.message)
            return None
        return Route(
            connector=config,
            tracker=tracker,
            transport=self._transport(config),
            uow_factory=self.services.uow_factory,
            lookback_ms=self.lookback_ms,
            deletion_check_ms=self.deletion_check_ms,
            sync_user=config.user or self.services.settings.admin_user,
            attachment_links=self.links,
        )

    def _transport(self, config: ConnectorConfig) -> Transport:
        if "file" in (config.send_queue.type, config.receive_queue.type):
            from issuesync.engine.transports.file import FileTransport  # noqa: PLC0415

            return FileTransport(
                self.services.settings.home,
                config,
                self.blobs,
                self.services.uow_factory,
                roots=self.services.settings.queue_root_paths,
            )
        return VmTransport(self.blobs)

    def _lease(self, connector_id: int, now: int) -> bool:
        """Take a connector's lease: free, ours, lapsed, or its holder proven dead (its
        lock file in this home is free: ``presence``), so a restarted process takes its
        predecessor's connectors at once."""
        free = [
            ConnectorState.lease_owner.is_(None),
            ConnectorState.lease_owner == self.owner,
            ConnectorState.lease_until_ms < now,
        ]
        if self._dead:
            free.append(ConnectorState.lease_owner.in_(list(self._dead)))
        with self.services.uow_factory() as uow:
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

    def _renew(self, now: int) -> None:
        ids = list(self._slots)
        if not ids:
            return
        with self.services.uow_factory() as uow:
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

    def _release(self, connector_id: int, *, stopped: bool) -> None:
        """Give the lease up: the routes stop (``stopped``) or go to another engine.

        Handed over, the routes stay ``STARTED`` and ``lease_until_ms`` stays set, as
        the time by which another engine should have taken them up (one does within
        a refresh): a status read after it shows them stopped, in case none did.
        """
        values: dict[str, object] = {
            "lease_owner": None,
            "lease_until_ms": now_ms() + self.lease_ms,
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
        with self.services.uow_factory() as uow:
            uow.session.execute(
                update(ConnectorState)
                .where(
                    ConnectorState.connector_id == connector_id,
                    ConnectorState.lease_owner == self.owner,
                )
                .values(**values)
            )
            uow.commit()

    def _processing(self, slot: _Slot, route_name: str, reading: str) -> None:
        """Show whether a route works through messages (``PROCESSING``) or waits (``IDLE``).

        Written only when the reading changes, and only under this engine's lease
        (a stalled engine that lost it must not overwrite its successor's reading).
        The slot remembers the reading once it is stored, so a failed write is tried
        again at the next change.
        """
        if slot.processing[route_name] == reading:
            return
        with self.services.uow_factory() as uow:
            uow.session.execute(
                update(ConnectorState)
                .where(
                    ConnectorState.connector_id == slot.route.id,
                    ConnectorState.lease_owner == self.owner,
                )
                .values(**{f"{route_name}_processing": reading})
            )
            uow.commit()
        slot.processing[route_name] = reading

    def _report(self, connector_id: int, **values: object) -> bool:
        """Write a connector's readings; False when the store cannot take them now (busy,
        full: the process's health shows that, and the route reports again next run).

        Texts are written without credentials, capped (``redact``: the adapters' edge
        already took the tracker's words apart).
        """
        known = self._secrets.get(connector_id, frozenset())
        values = {k: redact(v, known) if isinstance(v, str) else v for k, v in values.items()}
        try:
            with self.services.uow_factory() as uow:
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

    # -- running routes --------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """The routes this engine runs now."""
        with self._slots_lock:
            return [slot.route for slot in self._slots.values()]

    def route(self, connector_id: int) -> Route | None:
        """The route of a connector this engine runs, if it runs it."""
        slot = self._slots.get(connector_id)
        return slot.route if slot else None

    def run_connector(self, connector_id: int, *, force: bool = False) -> int:
        """Run a connector's due routes (all of them with ``force``); returns messages moved.

        The processing readings: the incoming route's turns ``PROCESSING`` when a run
        finds messages to apply and ``IDLE`` after a run that leaves none due (not a
        full batch, no nudge), so a batch loop writes it twice in all; the outgoing
        route's is ``PROCESSING`` from a poll that found changed issues, or a resync,
        to the end of this run.
        """
        slot = self._slots.get(connector_id)
        if slot is None:
            return 0
        moved = 0
        # The routes say when they found work (``on_work``), before they do it: only they
        # know, and a reading written after the run could not show a run under way. The
        # engine decides when the work is over, since only it knows whether the route
        # runs again at once.
        incoming_work = functools.partial(self._processing, slot, "incoming", PROCESSING)
        outgoing_work = functools.partial(self._processing, slot, "outgoing", PROCESSING)
        with slot.lock:
            now = now_ms()
            interval = slot.route.connector.configuration.sync
            pump = getattr(slot.route.transport, "pump", None)
            if pump is not None:
                moved += max(self._guard(slot, "incoming", pump, chore="pump"), 0)
            # Incoming first: a message a crash interrupted is finished (and its new issue
            # linked) before the outgoing route could take that issue for a local one.
            # For the same reason the outgoing route waits while the incoming one fails:
            # a batch that failed after the tracker's write has twins not linked yet.
            incoming_failed = False
            if force or now >= slot.next_in:
                slot.nudged = False
                applied = self._guard(
                    slot, "incoming", lambda: _incoming(slot.route, incoming_work)
                )
                again = applied >= slot.route.batch_size or slot.nudged
                slot.next_in = (
                    now
                    if again
                    else now
                    + (interval.incoming_interval_ms if applied >= 0 else self._backoff(slot))
                )
                if not again:
                    self._processing(slot, "incoming", IDLE)
                moved += max(applied, 0)
                incoming_failed = applied < 0
            if (force or now >= slot.next_out) and not incoming_failed:
                sent = self._guard(
                    slot,
                    "outgoing",
                    lambda: outgoing.poll(slot.route, on_work=outgoing_work).messages_sent,
                )
                slot.next_out = now + (
                    interval.outgoing_interval_ms if sent >= 0 else self._backoff(slot)
                )
                if sent > 0:
                    moved += sent
                    self._nudge(slot.route.connector.partner_id)
            if pump is not None and moved:
                moved += max(self._guard(slot, "outgoing", pump, chore="pump"), 0)
            moved += self._run_tasks(slot)
            self._processing(slot, "outgoing", IDLE)  # a poll sends all it found at once
            if now >= slot.next_sweep:
                slot.next_sweep = now + SWEEP_MS
                self._guard(slot, "incoming", lambda: _sweep(slot.route), chore="sweep")
        return moved

    def _run_tasks(self, slot: _Slot) -> int:
        """Run the connector's queued resyncs (the caller holds the slot's lock)."""
        with self.services.uow_factory(readonly=True) as uow:
            waiting = [t.id for t in pending_tasks(uow.session, slot.route.id, RESYNC)]
        if waiting:
            self._processing(slot, "outgoing", PROCESSING)
        for task_id in waiting:
            run_resync(slot.route, task_id)
            self._nudge(slot.route.connector.partner_id)
        return len(waiting)

    def _nudge(self, connector_id: int) -> None:
        """The partner has new messages: let its incoming route run now."""
        partner = self._slots.get(connector_id)
        if partner is not None:
            partner.next_in = 0
            partner.nudged = True  # survives a run of the partner that is under way
            self._wake.set()

    def _guard(self, slot: _Slot, route_name: str, work: object, *, chore: str = "") -> int:
        """Run a route; failures are reported in the connector's state, never raised.

        ``chore`` names work of the route that never calls the tracker (the file
        transport's pump, the sweep). Its success clears only its own failure: it
        says nothing of the tracker, so an offline reading (and with it
        ``reconnecting``) stays until the route itself reaches the tracker again.
        """
        details = f"{route_name}_details"
        failure = f"{details}:{chore}"
        try:
            result = work()  # type: ignore[operator]
        except TrackerOfflineError as exc:
            slot.offline = True
            slot.failing.add(failure)
            self._report(slot.route.id, online=False, **{details: exc.message})
            return -1
        except RetryableError as exc:  # a busy or full store, say: try again, when it says
            slot.failing.add(failure)
            if exc.retry_after_s is not None:
                slot.retry_after_ms = exc.retry_after_s * 1000
            self._report(slot.route.id, **{details: exc.message})
            return -1
        except IssueSyncError as exc:  # fatal (or refused): the run ends and says why
            slot.failing.add(failure)
            self._report(slot.route.id, **{details: exc.message})
            return -1
        except Exception as exc:
            slot.failing.add(failure)
            log.exception("the %s route of %s failed", route_name, slot.route.connector.key)
            self._report(slot.route.id, **{details: f"internal error: {exc.__class__.__name__}"})
            return -1
        back_online = slot.offline and not chore
        if back_online or failure in slot.failing:
            others = slot.failing - {failure}
            values: dict[str, object] = {"online": True} if back_online else {}
            if not any(f.startswith(f"{details}:") for f in others):
                values[details] = ""  # another failure of this route keeps its details
            # Forgotten only once the store took the good news: else the next run tries again.
            if not values or self._report(slot.route.id, **values):
                slot.offline = slot.offline and not back_online
                slot.failing.discard(failure)
        return int(result)

    def _backoff(self, slot: _Slot) -> int:
        """How long a failed route waits: the store's Retry-After when it was busy or full
        (it says when to try again), else :attr:`backoff_ms`."""
        wait, slot.retry_after_ms = slot.retry_after_ms, None
        return self.backoff_ms if wait is None else min(wait, self.backoff_ms)

    def step(self) -> int:
        """Refresh, then run every connector's routes once; returns messages moved."""
        self.refresh()
        return sum(self.run_connector(cid, force=True) for cid in list(self._slots))

    def settle(self, max_rounds: int = 50) -> int:
        """Step until a round moves nothing (or ``max_rounds``); returns the rounds it took."""
        for rounds in range(1, max_rounds + 1):
            if self.step() == 0:
                return rounds
        return max_rounds

    # -- in a server -----------------------------------------------------------------------

    def start(self) -> None:
        """Run in background threads until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        try:
            self._presence = presence.Presence.claim(self.services.settings.home, self.owner)
        except OSError as exc:  # a full disk, say: the engine runs; its leases lapse as before
            log.warning("the engine could not create its lock file: %s", exc)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="issuesync-route")
        self._thread = threading.Thread(target=self._loop, name="issuesync-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop scheduling, let running routes finish, and give up the leases."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        # What cannot be written now (a full disk, a busy store) is not lost: a cursor not
        # saved means a look back of the next engine, a lease not given up lapses.
        with self._slots_lock:
            for connector_id in list(self._slots):
                try:
                    self._drop(connector_id, stopped=True)
                except StoreError as exc:
                    log.warning(
                        "connector %s stops without giving up its lease: %s", connector_id, exc
                    )
        if self.shares:
            try:
                with self.services.uow_factory() as uow:
                    uow.session.execute(
                        delete(EngineWorker).where(EngineWorker.owner == self.owner)
                    )
                    uow.commit()
            except StoreError as exc:
                log.warning("the engine stops without saying so in the store: %s", exc)
        if self._presence is not None:
            self._presence.close()
            self._presence = None

    def _loop(self) -> None:
        health = self.services.health
        while not self._stop.is_set():
            now = now_ms()
            if now - self._last_reload >= self.reload_ms:
                self._last_reload = now
                try:
                    self.refresh()
                except Exception as exc:  # noqa: BLE001 - shown in the health, logged once
                    self._failing("cannot refresh its connectors", exc)
                else:
                    if health.recover(ENGINE) is not None:
                        log.info("the engine refreshes its connectors again")
            if now - self._last_arrivals >= ARRIVALS_MS:
                self._last_arrivals = now
                try:
                    self._notice_arrivals()
                except Exception:
                    if not self._arrivals_failing:  # every 100 ms: logged when it starts
                        log.exception("the engine could not look for arrived messages")
                    self._arrivals_failing = True
                else:
                    self._arrivals_failing = False
            if self._presence is not None and health.version != self._published:
                self._published = health.version
                self._presence.publish(health.problems())
            with self._slots_lock:
                due = [
                    (cid, slot)
                    for cid, slot in self._slots.items()
                    if not slot.busy and now >= min(slot.next_in, slot.next_out)
                ]
            for connector_id, slot in due:
                slot.busy = True
                assert self._pool is not None
                self._pool.submit(self._run_in_pool, connector_id, slot)
            self._wake.wait(0.05)
            self._wake.clear()

    def _notice_arrivals(self) -> None:
        """Run the incoming route of a connector at once when new messages arrived for it.

        The in-process nudge (``_nudge``) cannot reach a partner that another
        process runs; this one indexed look, every ``ARRIVALS_MS``, does. Only
        messages newer than the last ones noticed count, so a message that stays
        ``new`` (held behind an issue in error, say) does not keep the route busy.
        """
        with self._slots_lock:
            slots = dict(self._slots)
        if not slots:
            return
        with self.services.uow_factory(readonly=True) as uow:
            newest = uow.session.execute(
                select(MessageRow.connector_id, func.max(MessageRow.id))
                .where(
                    MessageRow.connector_id.in_(list(slots)),
                    MessageRow.queue == queues.RECEIVE,
                    MessageRow.state == ReceiveState.NEW,
                )
                .group_by(MessageRow.connector_id)
            ).all()
        for connector_id, row_id in newest:
            slot = slots[connector_id]
            if row_id is not None and row_id > slot.newest_arrival:
                slot.newest_arrival = row_id
                self._nudge(connector_id)

    def _failing(self, doing: str, exc: Exception) -> None:
        """Record in the process's health that the engine's loop fails (logged once per
        reason, not every second); the store's own failures name the cause."""
        said = exc.message.split("; ")[0] if isinstance(exc, IssueSyncError) else ""
        reason = said.removesuffix(": nothing was changed")
        reason = reason or f"internal error: {exc.__class__.__name__}"
        if self.services.health.fail(ENGINE, f"the engine {doing}: {reason}"):
            log.error("the engine %s", doing, exc_info=exc)

    def _run_in_pool(self, connector_id: int, slot: _Slot) -> None:
        try:
            self.run_connector(connector_id)
        except Exception as exc:  # noqa: BLE001 - a reading it could not write: the store fails
            log.warning("connector %s could not run: %s", slot.route.connector.key, exc)
            later = now_ms() + self.backoff_ms  # not again at once: that would spin
            slot.next_in, slot.next_out = max(slot.next_in, later), max(slot.next_out, later)
        finally:
            slot.busy = False
            if now_ms() >= min(slot.next_in, slot.next_out):
                self._wake.set()  # due again (a full batch, say): no wait for the loop's tick


def _incoming(route: Route, on_work: Callable[[], None]) -> int:
    result = incoming.process(route, on_work=on_work)
    if result.offline:
        raise TrackerOfflineError("The tracker is offline; messages wait in 'offline'.")
    return result.applied + result.counts.get("discard", 0) + result.counts.get("invalid", 0)


def _sweep(route: Route) -> int:
    """Retention: drop archived and discarded messages beyond the ``advanced`` settings."""
    advanced = route.connector.configuration.advanced
    with route.uow_factory() as uow:
        removed = queues.sweep(
            uow.session,
            route.id,
            archived=advanced.archived_messages_per_issue,
            discarded=advanced.discarded_messages_per_issue,
        )
        # Delivered messages of a file send queue: their files are the partner's now.
        queues.prune_sent(uow.session, route.id, now_ms() - SENT_KEPT_MS)
        uow.commit()
    return removed
