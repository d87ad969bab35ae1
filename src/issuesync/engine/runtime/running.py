"""Running one connector's routes once: incoming, outgoing, its tasks and retention.

A :class:`Slot` is a connector an engine runs (its route, when each side is due,
what fails); :class:`SlotRuns` runs a slot's due work and turns every failure
into the connector's readings (``leases.Leases.report``), never into an
exception: one connector's trouble never stops the others.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from issuesync.engine.pipeline import incoming, outgoing
from issuesync.engine.pipeline.resync import run_resync
from issuesync.engine.pipeline.route import Route
from issuesync.engine.runtime.leases import IDLE, PROCESSING, Leases
from issuesync.engine.runtime.ports import Clock
from issuesync.engine.tasks import RESYNC, pending_tasks
from issuesync.engine.transports import queues
from issuesync.errors import IssueSyncError, RetryableError, TrackerOfflineError
from issuesync.metrics import CHANGES_SENT, ROUTE_DURATION, ROUTE_RUNS

log = logging.getLogger(__name__)

SWEEP_MS = 60_000
SENT_KEPT_MS = 24 * 3_600_000


@dataclass
class Slot:
    """A connector this engine runs."""

    route: Route
    version: int
    next_out: int = 0
    next_in: int = 0
    busy: bool = False
    offline: bool = False
    nudged: bool = False
    newest_arrival: int = 0  # the highest receive-queue row id the engine noticed
    partner_nudged_ms: int = 0  # the partner node's last nudge the engine noticed (http)
    next_sweep: int = 0
    failing: set[str] = field(default_factory=set)  # "<route>_details:<chore>", "" for the route
    retry_after_ms: int | None = None  # a busy store's Retry-After: a shorter back-off
    # The processing readings ("incoming"/"outgoing") last written to the connector's
    # state; the lease wrote IDLE. Kept here so that only a change costs a write.
    processing: dict[str, str] = field(default_factory=lambda: {"incoming": IDLE, "outgoing": IDLE})
    lock: threading.Lock = field(default_factory=threading.Lock)


class SlotRuns:
    """Runs slots' routes for one engine; ``nudge`` tells it a partner has new messages."""

    def __init__(
        self, leases: Leases, nudge: Callable[[int], None], *, backoff_ms: int, clock: Clock
    ) -> None:
        self.leases = leases
        self.nudge = nudge
        self.backoff_ms = backoff_ms
        self.clock = clock

    def run(self, slot: Slot, *, force: bool = False) -> int:
        """Run a connector's due routes (all of them with ``force``); returns messages moved.

        The processing readings: the incoming route's turns ``PROCESSING`` when a run
        finds messages to apply and ``IDLE`` after a run that leaves none due (not a
        full batch, no nudge), so a batch loop writes it twice in all; the outgoing
        route's is ``PROCESSING`` from a poll that found changed issues, or a resync,
        to the end of this run.

        Every line logged meanwhile names the connector and its integration.
        """
        connector = slot.route.connector
        with structlog.contextvars.bound_contextvars(
            integration=connector.integration_key, connector=connector.key
        ):
            return self._run(slot, force=force)

    def _run(self, slot: Slot, *, force: bool) -> int:
        moved = 0
        # The routes say when they found work (``on_work``), before they do it: only they
        # know, and a reading written after the run could not show a run under way. The
        # engine decides when the work is over, since only it knows whether the route
        # runs again at once.
        incoming_work = functools.partial(self.processing, slot, "incoming", PROCESSING)
        outgoing_work = functools.partial(self.processing, slot, "outgoing", PROCESSING)
        with slot.lock:
            now = self.clock()
            interval = slot.route.connector.configuration.sync
            transport = slot.route.transport
            pump = getattr(transport, "pump", None)
            # A transport that pulls from a partner node pulls when its incoming route is
            # due (or nudged), not on each run of the outgoing one: a pull costs requests.
            pulls = getattr(transport, "pulls", False)
            if pump is not None and (not pulls or force or now >= slot.next_in):
                moved += max(self._guard(slot, "incoming", pump, chore="pump"), 0)
            # Incoming first: a message a crash interrupted is finished (and its new issue
            # linked) before the outgoing route could take that issue for a local one.
            # For the same reason the outgoing route waits while the incoming one fails:
            # a batch that failed after the tracker's write has twins not linked yet.
            incoming_failed = False
            if force or now >= slot.next_in:
                slot.nudged = False
                applied = self._timed(
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
                    self.processing(slot, "incoming", IDLE)
                moved += max(applied, 0)
                incoming_failed = applied < 0
            if (force or now >= slot.next_out) and not incoming_failed:
                sent = self._timed(
                    slot,
                    "outgoing",
                    lambda: outgoing.poll(slot.route, on_work=outgoing_work).messages_sent,
                )
                slot.next_out = now + (
                    interval.outgoing_interval_ms if sent >= 0 else self._backoff(slot)
                )
                if sent > 0:
                    connector = slot.route.connector
                    CHANGES_SENT.labels(connector.integration_key, connector.key).inc(sent)
                    moved += sent
                    self.nudge(slot.route.connector.partner_id)
            if pump is not None and moved:
                after = getattr(transport, "after_sending", None) if pulls else pump
                moved += max(self._guard(slot, "outgoing", after or pump, chore="pump"), 0)
            moved += self._run_tasks(slot)
            self.processing(slot, "outgoing", IDLE)  # a poll sends all it found at once
            if now >= slot.next_sweep:
                slot.next_sweep = now + SWEEP_MS
                self._guard(
                    slot, "incoming", lambda: _sweep(slot.route, self.clock()), chore="sweep"
                )
        return moved

    def processing(self, slot: Slot, route_name: str, reading: str) -> None:
        """Show whether a route works through messages (``PROCESSING``) or waits (``IDLE``).

        Written only when the reading changes, and only under this engine's lease
        (a stalled engine that lost it must not overwrite its successor's reading).
        The slot remembers the reading once it is stored, so a failed write is tried
        again at the next change.
        """
        if slot.processing[route_name] == reading:
            return
        self.leases.processing(slot.route.id, route_name, reading)
        slot.processing[route_name] = reading

    def _run_tasks(self, slot: Slot) -> int:
        """Run the connector's queued resyncs (the caller holds the slot's lock)."""
        with slot.route.uow_factory(readonly=True) as uow:
            waiting = [t.id for t in pending_tasks(uow.session, slot.route.id, RESYNC)]
        if waiting:
            self.processing(slot, "outgoing", PROCESSING)
        for task_id in waiting:
            run_resync(slot.route, task_id)
            self.nudge(slot.route.connector.partner_id)
        return len(waiting)

    def _timed(self, slot: Slot, route_name: str, work: Callable[[], int]) -> int:
        """:meth:`_guard` a route's run, counted and timed in the metrics."""
        started = time.perf_counter()
        result = self._guard(slot, route_name, work)
        connector = slot.route.connector
        labels = (connector.integration_key, connector.key, route_name)
        ROUTE_DURATION.labels(*labels).observe(time.perf_counter() - started)
        ROUTE_RUNS.labels(*labels, "ok" if result >= 0 else "failed").inc()
        return result

    def _guard(self, slot: Slot, route_name: str, work: object, *, chore: str = "") -> int:
        """Run a route; failures are reported in the connector's state, never raised.

        ``chore`` names work of the route that never calls the tracker (the file
        transport's pump, the sweep). Its success clears only its own failure: it
        says nothing of the tracker, so an offline reading (and with it
        ``reconnecting``) stays until the route itself reaches the tracker again.
        """
        details = f"{route_name}_details"
        failure = f"{details}:{chore}"
        report = self.leases.report
        try:
            result = work()  # type: ignore[operator]
        except TrackerOfflineError as exc:
            slot.offline = True
            slot.failing.add(failure)
            report(slot.route.id, online=False, **{details: exc.message})
            return -1
        except RetryableError as exc:  # a busy or full store, say: try again, when it says
            slot.failing.add(failure)
            if exc.retry_after_s is not None:
                slot.retry_after_ms = exc.retry_after_s * 1000
            report(slot.route.id, **{details: exc.message})
            return -1
        except IssueSyncError as exc:  # fatal (or refused): the run ends and says why
            slot.failing.add(failure)
            report(slot.route.id, **{details: exc.message})
            return -1
        except Exception as exc:
            slot.failing.add(failure)
            log.exception("the %s route of %s failed", route_name, slot.route.connector.key)
            report(slot.route.id, **{details: f"internal error: {exc.__class__.__name__}"})
            return -1
        back_online = slot.offline and not chore
        if back_online or failure in slot.failing:
            others = slot.failing - {failure}
            values: dict[str, object] = {"online": True} if back_online else {}
            if not any(f.startswith(f"{details}:") for f in others):
                values[details] = ""  # another failure of this route keeps its details
            # Forgotten only once the store took the good news: else the next run tries again.
            if not values or report(slot.route.id, **values):
                slot.offline = slot.offline and not back_online
                slot.failing.discard(failure)
        return int(result)

    def _backoff(self, slot: Slot) -> int:
        """How long a failed route waits: the store's Retry-After when it was busy or full
        (it says when to try again), else :attr:`backoff_ms`."""
        wait, slot.retry_after_ms = slot.retry_after_ms, None
        return self.backoff_ms if wait is None else min(wait, self.backoff_ms)


def _incoming(route: Route, on_work: Callable[[], None]) -> int:
    result = incoming.process(route, on_work=on_work)
    if result.offline:
        raise TrackerOfflineError("The tracker is offline; messages wait in 'offline'.")
    return result.applied + result.counts.get("discard", 0) + result.counts.get("invalid", 0)


def _sweep(route: Route, now: int) -> int:
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
        queues.prune_sent(uow.session, route.id, now - SENT_KEPT_MS)
        uow.commit()
    return removed
