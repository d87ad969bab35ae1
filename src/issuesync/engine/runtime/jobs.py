"""Connections' jobs: claimed by one process, run to the end, and reported.

A connection (``store/connections.py``) is an integration that runs in jobs instead of
continuously: a job runs both connectors' routes until nothing moves (an engine of its
own, ``SyncRunner(integrations=[…])``, as the CLI's resync does) and records what the
messages it moved did (``domain/schedule.JobReport``).

Never twice at once, in any number of processes on one store: a process first claims
the connection with one conditional ``UPDATE`` (``job_owner`` empty or its claim lapsed),
which PostgreSQL's row lock and SQLite's write lock both make atomic, renews the claim
while the job runs, and gives it up at the end. The connectors' own leases are a second
lock under it. A job whose process died is found ``running`` under a lapsed claim: the
next claimant records it as interrupted.

The schedule is in the store too (``connections.next_run_ms``, ``domain/schedule.py``):
a restarted server finds a run it missed due and runs it once. Why the store and not a
scheduling library (APScheduler, say): the claim must hold across processes and hosts,
and a job store of a library would be a second database with its own locking; the
schedule is one column beside the claim.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Final

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from issuesync.domain.message import MessageKind, ReceiveState
from issuesync.domain.schedule import Frequency, JobReport, next_run_ms
from issuesync.engine.runtime.ports import Clock, RuntimeServices
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.engine.transports import queues
from issuesync.store.base import now_ms
from issuesync.store.connections import ConnectionRow, JobRow
from issuesync.store.sync import ConnectorRow, ConnectorState, MessageBody, MessageRow
from issuesync.store.users import User
from issuesync.trackers.access import TrackerOpener

log = logging.getLogger(__name__)

QUEUED: Final = "queued"
RUNNING: Final = "running"
DONE: Final = "done"
TICK_MS: Final = 1_000  # how often a process looks for due jobs
CLAIM_MS: Final = 60_000  # a claim lapses this long after its last renewal
MAX_ROUNDS: Final = 10_000  # of the job's engine: each round but the last moves a message
FAILED_STATES: Final = (
    ReceiveState.ERROR,
    ReceiveState.ISSUE_MISSING,
    ReceiveState.SEQUENCE_ERROR,
    ReceiveState.INVALID,
)
INTERRUPTED: Final = "Failed: interrupted (the process running it stopped); the next job goes on."


@dataclass(frozen=True)
class Claimed:
    """A job this process claimed: the job, its connection, and the integration it runs."""

    job_id: int
    connection_id: int
    integration_id: int
    debug: bool = False  # the connection's debug mode: the job names every issue it moved


class ConnectionJobs:
    """Claims and runs connections' jobs in this process, as ``owner``."""

    def __init__(
        self,
        services: RuntimeServices,
        owner: str,
        *,
        clock: Clock | None = None,
        claim_ms: int = CLAIM_MS,
        trackers: TrackerOpener | None = None,
    ) -> None:
        self.services = services
        self.owner = owner
        self.clock = clock or services.clock
        self.claim_ms = claim_ms
        self.trackers = trackers

    # -- which jobs --------------------------------------------------------------------------

    def due(self) -> list[int]:
        """Connections with a job asked for, or whose schedule is due, and no live claim."""
        now = self.clock()
        with self.services.uow_factory(readonly=True) as uow:
            asked = select(JobRow.connection_id).where(JobRow.state == QUEUED)
            ids = uow.session.scalars(
                select(ConnectionRow.id)
                .where(
                    or_(
                        ConnectionRow.id.in_(asked),
                        (ConnectionRow.frequency != Frequency.MANUALLY.value)
                        & (ConnectionRow.next_run_ms <= now),
                    ),
                    or_(ConnectionRow.job_owner.is_(None), ConnectionRow.job_until_ms < now),
                )
                .order_by(ConnectionRow.next_run_ms, ConnectionRow.id)
            )
            return list(ids)

    def run_due(self) -> int:
        """Claim and run every due connection's job, one after another; returns jobs run."""
        ran = 0
        for connection_id in self.due():
            claimed = self.claim(connection_id)
            if claimed is not None:
                self.run(claimed)
                ran += 1
        return ran

    # -- claiming ----------------------------------------------------------------------------

    def claim(self, connection_id: int) -> Claimed | None:
        """Take the connection and its job (the one asked for first, else a scheduled one
        when due); None when another process holds it or there is nothing to run."""
        now = self.clock()
        with self.services.uow_factory() as uow:
            session = uow.session
            taken = session.execute(
                update(ConnectionRow)
                .where(
                    ConnectionRow.id == connection_id,
                    or_(ConnectionRow.job_owner.is_(None), ConnectionRow.job_until_ms < now),
                )
                .values(job_owner=self.owner, job_until_ms=now + self.claim_ms)
            )
            if getattr(taken, "rowcount", 0) != 1:
                return None  # not committed: the unit of work rolls back
            connection = session.get(ConnectionRow, connection_id)
            assert connection is not None
            _close_interrupted(session, connection_id, now)
            job = session.scalars(
                select(JobRow)
                .where(JobRow.connection_id == connection_id, JobRow.state == QUEUED)
                .order_by(JobRow.id)
                .limit(1)
            ).first()
            frequency = Frequency(connection.frequency)
            scheduled = frequency is not Frequency.MANUALLY and (connection.next_run_ms or 0) <= now
            if job is None and not scheduled:  # run meanwhile by another process
                connection.job_owner = None
                connection.job_until_ms = None
                uow.commit()
                return None
            if job is None:
                job = JobRow(
                    connection_id=connection_id,
                    state=QUEUED,
                    automatic=True,
                    queued_ms=now,
                    result_message="",
                )
                session.add(job)
            job.state = RUNNING
            job.owner = self.owner
            job.started_ms = now
            job.user_id = _sync_user_id(session, connection.integration_id)
            connection.next_run_ms = next_run_ms(frequency, now)
            session.flush()
            claimed = Claimed(
                job.id, connection_id, connection.integration_id, debug=connection.debug_mode
            )
            uow.commit()
        return claimed

    def _renew(self, connection_id: int) -> bool:
        now = self.clock()
        with self.services.uow_factory() as uow:
            renewed = uow.session.execute(
                update(ConnectionRow)
                .where(ConnectionRow.id == connection_id, ConnectionRow.job_owner == self.owner)
                .values(job_until_ms=now + self.claim_ms)
            )
            uow.commit()
        return getattr(renewed, "rowcount", 0) == 1

    # -- running -----------------------------------------------------------------------------

    def run(self, claimed: Claimed) -> JobReport:
        """Run a claimed job to its end and record it; the claim is given up after.

        Every line logged meanwhile (the job's engine's too) names the connection and the job.
        """
        with structlog.contextvars.bound_contextvars(
            connection_id=claimed.connection_id, job_id=claimed.job_id
        ):
            return self._run(claimed)

    def _run(self, claimed: Claimed) -> JobReport:
        stop_renewing = threading.Event()

        def renew() -> None:
            while not stop_renewing.wait(self.claim_ms / 3000):
                try:
                    self._renew(claimed.connection_id)
                except Exception:  # noqa: BLE001 - the store busy: the next renewal tries again
                    log.warning("could not renew the claim of connection %s", claimed.connection_id)

        renewer = threading.Thread(target=renew, name="issuesync-job-claim", daemon=True)
        renewer.start()
        try:
            report = self._execute(claimed)
        except Exception as exc:
            log.exception(
                "the job %s of connection %s failed", claimed.job_id, claimed.connection_id
            )
            report = JobReport("tracker", fatal=f"internal error: {exc.__class__.__name__}")
        finally:
            stop_renewing.set()
            renewer.join()
        self._record(claimed, report)
        return report

    def _execute(self, claimed: Claimed) -> JobReport:
        with self.services.uow_factory() as uow:
            connectors = list(
                uow.session.scalars(
                    select(ConnectorRow)
                    .where(ConnectorRow.integration_id == claimed.integration_id)
                    .order_by(ConnectorRow.position)
                )
            )
            ids = [c.id for c in connectors]
            # What the last job left in the readings is not this one's news.
            uow.session.execute(
                update(ConnectorState)
                .where(ConnectorState.connector_id.in_(ids))
                .values(online=True, incoming_details="", outgoing_details="")
            )
            before = uow.session.scalar(select(func.max(MessageRow.id))) or 0
            uow.commit()
        # Messages carry the store's own time (not this runner's clock, which tests move).
        started = now_ms()
        report = JobReport(
            tracker=_tracker_name(connectors[1].system), details=[] if claimed.debug else None
        )
        engine = SyncRunner(
            self.services,
            shares=False,
            owner=f"{self.owner}:job-{claimed.job_id}",
            integrations=[claimed.integration_id],
            trackers=self.trackers,
            workers=1,
        )
        try:
            engine.refresh()
            if len(engine.routes()) == len(ids):
                engine.settle(MAX_ROUNDS)
        finally:
            engine.stop()
        with self.services.uow_factory(readonly=True) as uow:
            report.fatal = _fatal(uow.session, ids)
            if report.fatal is None:
                _count(uow.session, report, ids, before, started)
        return report

    def _record(self, claimed: Claimed, report: JobReport) -> None:
        now = self.clock()
        with self.services.uow_factory() as uow:
            session = uow.session
            job = session.get(JobRow, claimed.job_id)
            connection = session.get(ConnectionRow, claimed.connection_id)
            if job is not None:
                job.state = DONE
                job.finished_ms = now
                job.succeeded = report.succeeded
                job.result_message = report.message()
                log.info(
                    "the job %s of connection %s ended: %s",
                    job.id,
                    claimed.connection_id,
                    job.result_message,
                )
            if connection is not None:
                connection.inaccessible = report.fatal is not None and _unreachable(report.fatal)
                if report.succeeded and job is not None:
                    connection.last_successful_ms = job.started_ms
                if connection.job_owner == self.owner:
                    connection.job_owner = None
                    connection.job_until_ms = None
            uow.commit()


class ConnectionScheduler:
    """Runs due connection jobs in a thread of their own, beside the engine (``serve``,
    ``worker``): one job at a time per process; several processes share the work through
    the claims. A run asked for through an API is started within ``tick_ms``."""

    def __init__(self, jobs: ConnectionJobs, *, tick_ms: int = TICK_MS) -> None:
        self.jobs = jobs
        self.tick_ms = tick_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self) -> None:
        """Look for due jobs every ``tick_ms`` until :meth:`stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="issuesync-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop looking; a job under way finishes first (its claim is given up after it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.tick_ms / 1000):
            try:
                self.jobs.run_due()
            except Exception:  # a store that fails now: logged once, tried at the next tick
                if not self._failing:
                    log.exception("the connections' jobs could not be looked for")
                self._failing = True
            else:
                self._failing = False


def _close_interrupted(session: Session, connection_id: int, now: int) -> None:
    """A job left ``running`` under a lapsed claim: its process died."""
    for job in session.scalars(
        select(JobRow).where(JobRow.connection_id == connection_id, JobRow.state == RUNNING)
    ):
        job.state = DONE
        job.succeeded = False
        job.finished_ms = now
        job.result_message = INTERRUPTED


def _sync_user_id(session: Session, integration_id: int) -> int | None:
    """The built-in side's sync user (who the job writes as there), by id."""
    name = session.scalar(
        select(ConnectorRow.user).where(
            ConnectorRow.integration_id == integration_id, ConnectorRow.position == 1
        )
    )
    return session.scalar(select(User.id).where(User.name == name)) if name else None


_TRACKER_NAMES: Final = {
    "jira": "Jira",
    "redmine": "Redmine",
    "github": "GitHub",
    "gitlab": "GitLab",
    "local": "the built-in tracker",
}


def _tracker_name(system: str) -> str:
    return _TRACKER_NAMES.get(system, system)


def _fatal(session: Session, connector_ids: list[int]) -> str | None:
    """Why a job could not do its work (a route failed as a whole), from its readings."""
    states = session.scalars(
        select(ConnectorState).where(ConnectorState.connector_id.in_(connector_ids))
    )
    for state in states:
        for details in (state.outgoing_details, state.incoming_details):
            if details:
                return details
        if not state.online:
            return "the tracker cannot be reached"
    return None


_UNREACHABLE_WORDS: Final = (
    "cannot be reached",
    "offline",
    "429",
    "too many",
    "unreachable",
    "timed out",
    "refused",
    "certificate",
    "tls",
    "ssl",
    "401",
    "403",
    "not authenticated",
    "password",
    "log in",
    "login",
    "authentic",
)


def _unreachable(reason: str) -> bool:
    """Whether a job's failure means the tracker could not be reached or logged in to
    (the connection's ``inaccessible``)."""
    said = reason.lower()
    return any(word in said for word in _UNREACHABLE_WORDS)


def _count(session: Session, report: JobReport, ids: list[int], before: int, started: int) -> None:
    """What the job's messages did: the tracker's (second connector) receive queue holds
    what reached the tracker, the project's (first) what came back. A message counts when
    the job made it or applied it (one an earlier job left waiting, retried now)."""
    project_id, tracker_id = ids
    rows = session.execute(
        select(MessageRow.connector_id, MessageRow.kind, MessageRow.issue_key, MessageBody.body)
        .join(MessageBody, MessageBody.message_id == MessageRow.id)
        .where(
            or_(MessageRow.id > before, MessageRow.updated_ms >= started),
            MessageRow.connector_id.in_(ids),
            MessageRow.queue == queues.RECEIVE,
            MessageRow.state == ReceiveState.ARCHIVE,
            MessageRow.kind != MessageKind.RESPONSE,
        )
    ).all()
    statuses: dict[int, Counter[str]] = {project_id: Counter(), tracker_id: Counter()}
    for connector_id, kind, issue_key, body in rows:
        if connector_id == tracker_id:
            done = "created" if kind == MessageKind.CREATE else "updated"
            if kind == MessageKind.CREATE:
                report.created += 1
            else:
                report.updated += 1
        else:
            done = "came back"
            report.returned += 1
        status = _status_of(body)
        if status is not None:
            statuses[connector_id][status] += 1
        if report.details is not None:
            report.details.append(f"{issue_key} {done}" + (f" ({status})" if status else ""))
    report.statuses = dict(statuses[tracker_id])
    report.returned_statuses = dict(statuses[project_id])
    failed = session.execute(
        select(MessageRow.issue_key, MessageRow.reason)
        .where(
            MessageRow.connector_id.in_(ids),
            MessageRow.queue == queues.RECEIVE,
            MessageRow.state.in_([s.value for s in FAILED_STATES]),
        )
        .order_by(MessageRow.id)
    ).all()
    report.failures = [(issue, reason or "no reason recorded") for issue, reason in failed]


def _status_of(body: str) -> str | None:
    """The status a message set (its ``changes``), in the receiving tracker's terms."""
    try:
        changes = json.loads(body).get("changes") or {}
    except (ValueError, AttributeError):
        return None
    status = changes.get("status") if isinstance(changes, dict) else None
    return status if isinstance(status, str) else None
