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

The rooms of the runtime: this module schedules (which connectors, when, in
which thread); ``leases`` writes what an engine holds and shows; ``running``
runs one connector's routes once; ``presence`` proves an engine dead or alive.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuesync.domain.message import ReceiveState
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    ConnectorConfig,
    connector_configs,
    tracker_access,
)
from issuesync.engine.pipeline import outgoing, people
from issuesync.engine.pipeline.attachment_links import AttachmentLinks
from issuesync.engine.pipeline.route import Route
from issuesync.engine.runtime import presence
from issuesync.engine.runtime.leases import Leases
from issuesync.engine.runtime.ports import RuntimeServices
from issuesync.engine.runtime.running import Slot, SlotRuns
from issuesync.engine.transports import queues
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.nodes.serving import nudges
from issuesync.errors import IssueSyncError, StoreError
from issuesync.health import ENGINE
from issuesync.store.sync import ConnectorRow, IntegrationRow, MessageRow
from issuesync.trackers.access import TrackerOpener

log = logging.getLogger(__name__)

BACKOFF_MS = 30_000
ARRIVALS_MS = 100  # how often the scheduler looks for messages another process sent

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
    """Runs connectors' routes; ``start``/``stop`` in a server, ``step``/``settle`` in tests.

    Its collaborators come from ``services``: the store, the tracker opener
    (``services.trackers``, replaced by ``trackers`` when given), the transport
    factory, the clock. It builds no tracker or transport itself.
    """

    def __init__(
        self,
        services: RuntimeServices,
        *,
        owner: str | None = None,
        lease_ms: int | None = None,
        lookback_ms: int = 5_000,
        workers: int = 4,
        reload_ms: int = 1_000,
        backoff_ms: int = BACKOFF_MS,
        deletion_check_ms: int = 30_000,
        shares: bool = True,
        trackers: TrackerOpener | None = None,
        integrations: Sequence[int] | None = None,
    ) -> None:
        """``shares=False``: a one-off engine (the CLI's resync, a connection's job) that
        does not count as a worker, so the running ones keep their shares. ``trackers``
        opens the trackers instead of ``services.trackers`` (tests). ``integrations``: run
        these integrations' connectors, started or not (a connection's job), instead of
        every started integration's."""
        self.services = services
        self.shares = shares
        self.integrations = list(integrations) if integrations is not None else None
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_ms = lease_ms or services.settings.engine_lease_ms
        self.lookback_ms = lookback_ms
        self.workers = workers
        self.reload_ms = reload_ms
        self.backoff_ms = backoff_ms
        self.deletion_check_ms = deletion_check_ms
        self.trackers = trackers or services.trackers
        self.clock = services.clock
        self.blobs = BlobArea(services.settings.transit_dir)
        self.links = AttachmentLinks(
            services.settings.resolved_base_url, services.secrets, self.blobs.store.root
        )
        self.leases = Leases(services.uow_factory, self.owner, self.lease_ms, self.clock)
        self._runs = SlotRuns(self.leases, self._nudge, backoff_ms=backoff_ms, clock=self.clock)
        self._slots: dict[int, Slot] = {}
        self._slots_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._last_reload = 0
        self._last_arrivals = 0
        self._fingerprint: tuple[object, ...] | None = None
        self._wanted: dict[int, tuple[ConnectorConfig, int]] = {}
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
        now = self.clock()
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
                if not self.leases.take(connector_id, now, self._dead):
                    continue
                route = self._route(config)
                if route is None:  # reported; the routes are not running
                    self.leases.release(connector_id, stopped=True)
                    continue
                delay = config.initial_delay_ms
                self._slots[connector_id] = Slot(route, version, now + delay, now + delay)
            self.leases.renew(self._slots, now)

    def _wanted_connectors(self, session: Session) -> dict[int, tuple[ConnectorConfig, int]]:
        """The connectors of started integrations that this node runs (or of the
        integrations it was given), with their versions."""
        running = self.integrations
        if running is None:
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
                # An idle poll's cursor may be in memory only; what it read goes with it.
                outgoing.save_cursor(slot.route, seen=True)
                self.leases.release(connector_id, stopped=stopped)
            finally:
                slot.route.tracker.close()
                close = getattr(slot.route.transport, "close", None)
                if close is not None:  # the http transport's connections to the partner
                    close()

    def _heartbeat(self, now: int) -> int:
        """Say this engine is alive; returns how many engines are (this one included)."""
        live, leased = self.leases.heartbeat(now, self._dead)
        if self._dead - leased:  # nothing names them any more: their files can go
            presence.forget(self.services.settings.home, sorted(self._dead - leased))
        return live

    def _route(self, config: ConnectorConfig) -> Route | None:
        """The route of a connector, with its tracker and transport; None when its tracker
        cannot be opened (reported in the connector's readings)."""
        with self.services.uow_factory(readonly=True) as uow:
            access = tracker_access(uow.session, self.services.secrets, config)
        self.leases.secrets[config.id] = access.known_secrets()
        try:
            tracker = self.trackers(access)
        except IssueSyncError as exc:
            self.leases.report(
                config.id, outgoing_details=exc.message, incoming_details=exc.message
            )
            return None
        route = Route(
            connector=config,
            tracker=tracker,
            transport=self.services.transports(config, self.blobs),
            uow_factory=self.services.uow_factory,
            lookback_ms=self.lookback_ms,
            deletion_check_ms=self.deletion_check_ms,
            sync_user=config.user or self.services.settings.admin_user,
            attachment_links=self.links,
        )
        # A mention in the partner's text names the user here that the people map says,
        # else it crosses as plain text (never a namesake).
        route.mentions = people.mentions(route)
        return route

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
        """Run a connector's due routes (all of them with ``force``); returns messages moved
        (``running.SlotRuns.run``)."""
        slot = self._slots.get(connector_id)
        if slot is None:
            return 0
        return self._runs.run(slot, force=force)

    def _nudge(self, connector_id: int) -> None:
        """The partner has new messages: let its incoming route run now."""
        partner = self._slots.get(connector_id)
        if partner is not None:
            partner.next_in = 0
            partner.nudged = True  # survives a run of the partner that is under way
            self._wake.set()

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
                self.leases.leave()
            except StoreError as exc:
                log.warning("the engine stops without saying so in the store: %s", exc)
        if self._presence is not None:
            self._presence.close()
            self._presence = None

    def _loop(self) -> None:
        health = self.services.health
        while not self._stop.is_set():
            now = self.clock()
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
            # A partner node's nudge (``POST nudges``, stored by the API that took it).
            remote = [cid for cid, slot in slots.items() if slot.route.transport.kind == "http"]
            nudged = nudges(uow.session, remote) if remote else []
        for connector_id, row_id in newest:
            slot = slots[connector_id]
            if row_id is not None and row_id > slot.newest_arrival:
                slot.newest_arrival = row_id
                self._nudge(connector_id)
        for connector_id, nudged_ms in nudged:
            slot = slots[connector_id]
            if nudged_ms > slot.partner_nudged_ms:
                slot.partner_nudged_ms = nudged_ms
                self._nudge(connector_id)

    def _failing(self, doing: str, exc: Exception) -> None:
        """Record in the process's health that the engine's loop fails (logged once per
        reason, not every second); the store's own failures name the cause."""
        said = exc.message.split("; ")[0] if isinstance(exc, IssueSyncError) else ""
        reason = said.removesuffix(": nothing was changed")
        reason = reason or f"internal error: {exc.__class__.__name__}"
        if self.services.health.fail(ENGINE, f"the engine {doing}: {reason}"):
            log.error("the engine %s", doing, exc_info=exc)

    def _run_in_pool(self, connector_id: int, slot: Slot) -> None:
        try:
            self.run_connector(connector_id)
        except Exception as exc:  # noqa: BLE001 - a reading it could not write: the store fails
            connector = slot.route.connector
            log.warning(
                "connector %s could not run: %s",
                connector.key,
                exc,
                extra={"integration": connector.integration_key, "connector": connector.key},
            )
            later = self.clock() + self.backoff_ms  # not again at once: that would spin
            slot.next_in, slot.next_out = max(slot.next_in, later), max(slot.next_out, later)
        finally:
            slot.busy = False
            if self.clock() >= min(slot.next_in, slot.next_out):
                self._wake.set()  # due again (a full batch, say): no wait for the loop's tick
