"""The store's readings as metrics, taken at scrape time: right whichever process did the work.

A :class:`StoreReadings` collector reads, in a handful of ``GROUP BY`` queries
whatever the number of connectors (one per table, never one per connector):

    metric                                               labels
    issuesync_messages                                   integration connector queue state
    issuesync_issues_in_error                            integration connector
    issuesync_oldest_pending_message_age_seconds         integration connector
    issuesync_cursor_lag_seconds                         integration connector
    issuesync_connector_online                           integration connector
    issuesync_relation_pending_messages                  relation direction
    issuesync_relation_messages_in_error                 relation
    issuesync_relation_online                            relation
    issuesync_connection_last_job_succeeded              connection
    issuesync_connection_last_success_timestamp_seconds  connection
    issuesync_connection_job_in_progress                 connection
    issuesync_connection_inaccessible                    connection
    issuesync_connection_jobs                            connection outcome

Every message state of its queue is shown for every connector, 0 included, so an
alert on a state never sees a series vanish. The cursor lag is now minus the
outgoing cursor's signpost (:class:`~issuesync.engine.pipeline.cursor.Cursor`),
read from the head of the stored JSON only (its ``seen`` map may be large).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from issuesync.domain.message import PENDING_STATES, ReceiveState, SendState
from issuesync.engine.runtime.jobs import DONE, RUNNING
from issuesync.engine.runtime.ports import Clock
from issuesync.engine.transports import queues
from issuesync.engine.transports.nodes.serving import tally_queue
from issuesync.metrics import MetricInfo, declare
from issuesync.store.base import now_ms
from issuesync.store.connections import ConnectionRow, JobRow
from issuesync.store.relations import BlobFailureRow, RelationRow
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, MessageRow
from issuesync.store.uow import UnitOfWorkFactory

CONNECTOR = ("integration", "connector")
STATES = {
    queues.RECEIVE: tuple(state.value for state in ReceiveState),
    queues.SEND: tuple(state.value for state in SendState),
}
PENDING = {(queues.RECEIVE, s.value) for s in PENDING_STATES} | {(queues.SEND, SendState.NEW)}
IN_ERROR = (ReceiveState.ERROR.value, ReceiveState.INVALID.value)  # SendState.ERROR is "error"
CURSOR_HEAD = 200  # characters of a stored cursor read: its version and signpost come first
_SIGNPOST = re.compile(r'"updated_ms":\s*(-?\d+)')

MESSAGES = declare(
    "issuesync_messages",
    "gauge",
    "Messages in a connector's queue (send, receive), by state.",
    (*CONNECTOR, "queue", "state"),
)
ISSUES_IN_ERROR = declare(
    "issuesync_issues_in_error",
    "gauge",
    "Issues with a message in error (or invalid) in the connector's queues.",
    CONNECTOR,
)
OLDEST_PENDING = declare(
    "issuesync_oldest_pending_message_age_seconds",
    "gauge",
    "Age of the oldest message still waiting in the connector's queues (0: none waits).",
    CONNECTOR,
)
CURSOR_LAG = declare(
    "issuesync_cursor_lag_seconds",
    "gauge",
    "Now minus the signpost of the connector's outgoing cursor: how far behind its tracker "
    "the last completed poll is (absent before a first poll).",
    CONNECTOR,
)
ONLINE = declare(
    "issuesync_connector_online",
    "gauge",
    "Whether the connector's tracker was reachable at its route's last run (1) or not (0).",
    CONNECTOR,
)
RELATION_PENDING = declare(
    "issuesync_relation_pending_messages",
    "gauge",
    "Sync events of a node relation waiting, by direction (out, in).",
    ("relation", "direction"),
)
RELATION_IN_ERROR = declare(
    "issuesync_relation_messages_in_error",
    "gauge",
    "Sync events and blobs of a node relation in error.",
    ("relation",),
)
RELATION_ONLINE = declare(
    "issuesync_relation_online",
    "gauge",
    "Whether the partner node of a relation answered at the last contact.",
    ("relation",),
)
LAST_JOB = declare(
    "issuesync_connection_last_job_succeeded",
    "gauge",
    "Whether the connection's last finished job succeeded (absent before a first job).",
    ("connection",),
)
LAST_SUCCESS = declare(
    "issuesync_connection_last_success_timestamp_seconds",
    "gauge",
    "When the connection's last successful job finished (Unix time; absent before one).",
    ("connection",),
)
IN_PROGRESS = declare(
    "issuesync_connection_job_in_progress",
    "gauge",
    "Whether a job of the connection runs now.",
    ("connection",),
)
INACCESSIBLE = declare(
    "issuesync_connection_inaccessible",
    "gauge",
    "Whether the connection's tracker refused its credentials or project at the last job.",
    ("connection",),
)
JOBS = declare(
    "issuesync_connection_jobs",
    "gauge",
    "Finished jobs of the connection kept in the store, by outcome (succeeded, failed).",
    ("connection", "outcome"),
)


class StoreReadings(Collector):
    """Reads the store at each scrape (see the module's docstring)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = now_ms) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    def describe(self) -> list[Metric]:
        """Nothing: the registry must not scrape the store when the collector is added."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Every reading, from one read-only unit of work."""
        now = self._clock()
        with self._uow_factory(readonly=True) as uow:
            session = uow.session
            yield from _connectors(session, now)
            yield from _relations(session)
            yield from _connections(session, now)


def _family(info: MetricInfo) -> GaugeMetricFamily:
    return GaugeMetricFamily(info.name, info.help, labels=list(info.labels))


def _connectors(session: Session, now: int) -> Iterator[Metric]:
    connectors = session.execute(
        select(
            ConnectorRow.id,
            IntegrationRow.key,
            ConnectorRow.key,
            ConnectorState.online,
            func.substr(ConnectorState.cursor, 1, CURSOR_HEAD),
        )
        .join(IntegrationRow, IntegrationRow.id == ConnectorRow.integration_id)
        .outerjoin(ConnectorState, ConnectorState.connector_id == ConnectorRow.id)
    ).all()
    counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for connector_id, queue, state, number in session.execute(
        select(
            MessageRow.connector_id, MessageRow.queue, MessageRow.state, func.count(MessageRow.id)
        ).group_by(MessageRow.connector_id, MessageRow.queue, MessageRow.state)
    ):  # from the index on (connector, queue, state) alone
        counts[connector_id][(queue, state)] = int(number)
    # The few messages that wait or failed, found by seeks into that index for the
    # connectors that have any (not a scan of the archive's many).
    waiting = [cid for cid, mine in counts.items() if PENDING & mine.keys()]
    oldest = dict(
        session.execute(
            select(MessageRow.connector_id, func.min(MessageRow.created_ms))
            .where(
                MessageRow.connector_id.in_(waiting),
                MessageRow.queue.in_(list(STATES)),
                MessageRow.state.in_(sorted({state for _, state in PENDING})),
            )
            .group_by(MessageRow.connector_id)
        ).all()
        if waiting
        else ()
    )
    failing = [cid for cid, mine in counts.items() if any(s in IN_ERROR for _, s in mine)]
    in_error = dict(
        session.execute(
            select(MessageRow.connector_id, func.count(distinct(MessageRow.issue_key)))
            .where(
                MessageRow.connector_id.in_(failing),
                MessageRow.queue.in_(list(STATES)),
                MessageRow.state.in_(IN_ERROR),
            )
            .group_by(MessageRow.connector_id)
        ).all()
        if failing
        else ()
    )
    messages = _family(MESSAGES)
    errors = _family(ISSUES_IN_ERROR)
    ages = _family(OLDEST_PENDING)
    lags = _family(CURSOR_LAG)
    online = _family(ONLINE)
    for connector_id, integration, key, is_online, cursor_head in connectors:
        labels = [integration, key]
        mine = counts.get(connector_id, {})
        for queue, states in STATES.items():
            for state in states:
                messages.add_metric([*labels, queue, state], mine.get((queue, state), 0))
        errors.add_metric(labels, in_error.get(connector_id, 0))
        first = oldest.get(connector_id)
        ages.add_metric(labels, 0 if first is None else max(now - first, 0) / 1000)
        signpost = _signpost(cursor_head)
        if signpost is not None:
            lags.add_metric(labels, max(now - signpost, 0) / 1000)
        online.add_metric(labels, 1 if is_online in (None, True) else 0)
    yield from (messages, errors, ages, lags, online)


def _signpost(head: str | None) -> int | None:
    """The ``updated_ms`` of a stored cursor's head (``Cursor.dumps`` writes it after the
    version, before the ``seen`` map); None before a first completed poll."""
    match = _SIGNPOST.search(head or "")
    return int(match.group(1)) if match else None


def _relations(session: Session) -> Iterator[Metric]:
    relations = session.execute(
        select(RelationRow.id, RelationRow.name, RelationRow.connector_id, RelationRow.online)
    ).all()
    pending = _family(RELATION_PENDING)
    in_error = _family(RELATION_IN_ERROR)
    online = _family(RELATION_ONLINE)
    if relations:
        ids = [row.connector_id for row in relations if row.connector_id is not None]
        counts: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
        for connector_id, queue, state, number in session.execute(
            select(
                MessageRow.connector_id,
                MessageRow.queue,
                MessageRow.state,
                func.count(MessageRow.id),
            )
            .where(MessageRow.connector_id.in_(ids))
            .group_by(MessageRow.connector_id, MessageRow.queue, MessageRow.state)
        ):
            counts[connector_id][(queue, state)] = int(number)
        blobs: dict[int, dict[bool, int]] = defaultdict(dict)
        for blob_relation, parked, number in session.execute(
            select(
                BlobFailureRow.relation_id, BlobFailureRow.parked, func.count(BlobFailureRow.id)
            ).group_by(BlobFailureRow.relation_id, BlobFailureRow.parked)
        ):
            blobs[blob_relation][bool(parked)] = int(number)
        for relation_id, name, relation_connector, is_online in relations:
            tally = tally_queue(
                counts.get(relation_connector, {}) if relation_connector is not None else {},
                blobs.get(relation_id, {}),
            )
            pending.add_metric([name, "out"], tally.pending_out)
            pending.add_metric([name, "in"], tally.pending_in)
            in_error.add_metric([name], tally.in_error)
            online.add_metric([name], 1 if is_online else 0)
    yield from (pending, in_error, online)


def _connections(session: Session, now: int) -> Iterator[Metric]:
    connections = session.execute(
        select(
            ConnectionRow.id,
            ConnectionRow.inaccessible,
            ConnectionRow.last_successful_ms,
            ConnectionRow.job_owner,
            ConnectionRow.job_until_ms,
        )
    ).all()
    last_job = _family(LAST_JOB)
    last_success = _family(LAST_SUCCESS)
    in_progress = _family(IN_PROGRESS)
    inaccessible = _family(INACCESSIBLE)
    jobs = _family(JOBS)
    if connections:
        done = JobRow.state == DONE
        won = JobRow.succeeded.is_(True)
        tallies = {
            row.connection_id: row
            for row in session.execute(
                select(
                    JobRow.connection_id,
                    func.sum(case((and_(done, won), 1), else_=0)).label("succeeded"),
                    func.sum(case((and_(done, ~won), 1), else_=0)).label("failed"),
                    func.sum(case((JobRow.state == RUNNING, 1), else_=0)).label("running"),
                    func.max(case((done, JobRow.id), else_=None)).label("last_done"),
                ).group_by(JobRow.connection_id)
            )
        }
        last_ids = [t.last_done for t in tallies.values() if t.last_done is not None]
        last_outcome = dict(
            session.execute(
                select(JobRow.connection_id, JobRow.succeeded).where(JobRow.id.in_(last_ids))
            ).all()
        )
        for connection_id, is_inaccessible, success_ms, owner, until_ms in connections:
            label = [str(connection_id)]
            tally = tallies.get(connection_id)
            if connection_id in last_outcome:
                last_job.add_metric(label, 1 if last_outcome[connection_id] else 0)
            if success_ms is not None:
                last_success.add_metric(label, success_ms / 1000)
            claimed = owner is not None and (until_ms or 0) >= now
            running = tally is not None and int(tally.running or 0) > 0
            in_progress.add_metric(label, 1 if claimed or running else 0)
            inaccessible.add_metric(label, 1 if is_inaccessible else 0)
            jobs.add_metric([*label, "succeeded"], int(tally.succeeded or 0) if tally else 0)
            jobs.add_metric([*label, "failed"], int(tally.failed or 0) if tally else 0)
    yield from (last_job, last_success, in_progress, inaccessible, jobs)
