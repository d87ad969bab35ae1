"""The incoming route: apply the partner's messages to the local project, in order, once.

Per issue, messages are applied in ``sequenceId`` order. Each one is read in
one short transaction, written to the tracker (creates carry an idempotency
key, so a crash before the bookkeeping commits cannot make a duplicate), and
then archived together with its sync information, shadow and traces in one
transaction. What cannot be applied moves to the state that says why:
``sequence-error`` (a gap), ``discard`` (older than what was applied),
``issue-missing`` (the parent is not linked yet), ``offline`` (the tracker is
down), ``error`` (the tracker refused, the sync user lacks a permission, or a
conflict waits for a person; the issue's later messages wait behind it) and
``invalid`` (not a message).

A message is applied whole or parked: what a tracker may refuse (edits and
deletions of existing comments and attachments) is written first, then the
fields, then what is added; the bookkeeping commits only after all of it, and
every write is idempotent, so a retry applies the rest.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import structlog
from sqlalchemy.orm import Session

from issuesync.domain.diff import FieldConflict, IncomingPlan, Winner, incoming_plan
from issuesync.domain.mapping import STATUS
from issuesync.domain.message import Message, MessageKind, ReceiveState
from issuesync.domain.replica import (
    FieldValue,
    Replica,
    canonical_fields,
)
from issuesync.domain.shadow import Shadow
from issuesync.engine.pipeline import batch, limits, richtext
from issuesync.engine.pipeline.creating import (
    agree_on_created,
    create_key,
    plan_create,
    response,
)
from issuesync.engine.pipeline.ledger import SyncLedger, open_conflicts
from issuesync.engine.pipeline.links import apply_links
from issuesync.engine.pipeline.people import resolve_users
from issuesync.engine.pipeline.references import rewrite_references
from issuesync.engine.pipeline.route import Route
from issuesync.engine.pipeline.subobjects import (
    Outcome,
    add_new,
    adopt_twins,
    change_existing,
    record_traces,
)
from issuesync.engine.pipeline.tracebook import partner_ids_of
from issuesync.engine.transports import queues
from issuesync.errors import (
    InvalidInputError,
    InvalidMessageError,
    IssueMissingError,
    NotFoundError,
    PerIssueError,
    PermissionDeniedError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.metrics import CHANGES_APPLIED, PROPAGATION
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageRow, SyncInfo
from issuesync.store.throughput import Minute, add_minutes, minute_of

log = logging.getLogger(__name__)


class ConflictPendingError(PerIssueError):
    """Both sides changed a field and nobody has picked a side: the message waits in
    ``error`` with its conflicts recorded, until a person decides them."""

    state = ReceiveState.ERROR

    def __init__(self, conflicts: list[FieldConflict]) -> None:
        names = ", ".join(
            f"{c.field} (here {json.dumps(c.local_value)}, there {json.dumps(c.remote_value)})"
            for c in conflicts
        )
        super().__init__(
            f"conflict: changed on both sides: {names}; pick a side with "
            "`issuesync messages resolve`"
        )
        self.conflicts = conflicts


@dataclass
class IncomingResult:
    """What one run of the incoming route did, by resulting state."""

    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    offline: bool = False

    @property
    def applied(self) -> int:
        """Messages archived."""
        return self.counts[ReceiveState.ARCHIVE]


# Messages whose run is real work: new ones, and those that waited for the tracker.
# A message waiting for its parent or for a gap is tried again on every run, but only
# a new message can end that wait, so retrying it alone is not "processing".
_FRESH_STATES = frozenset({ReceiveState.NEW, ReceiveState.OFFLINE})


def process(route: Route, *, on_work: Callable[[], None] | None = None) -> IncomingResult:
    """Apply what is pending in the connector's receive queue.

    The first message of each issue goes through the batch path when it can
    (a partner's new issue, an answer to ours); the rest, and whatever the batch
    path leaves, one by one in ``sequenceId`` order.

    ``on_work`` is called before anything is applied when the run has new (or
    ``offline``) messages to apply: the engine shows the route as processing from
    then on. A run with nothing to apply, or only messages still waiting for a
    parent or a gap, never calls it.
    """
    result = IncomingResult()
    with route.uow_factory(readonly=True) as uow:
        work = queues.pending(uow.session, route.id, route.batch_size)
        held = queues.held_issues(uow.session, route.id, sorted({w.issue_key for w in work}))
    by_issue: dict[str, list[queues.Pending]] = defaultdict(list)
    for item in sorted(work, key=lambda w: (w.sequence_id, w.row_id)):
        if item.issue_key not in held:
            by_issue[item.issue_key].append(item)
    if on_work is not None and any(
        item.state in _FRESH_STATES for items in by_issue.values() for item in items
    ):
        on_work()
    messages = {item.row_id: _read(item) for items in by_issue.values() for item in items}
    richtext.translate(route, (m for m in messages.values() if isinstance(m, Message)))
    ledger = SyncLedger(route.id, route.uow_factory)
    rewrite_references(route, ledger, (m for m in messages.values() if isinstance(m, Message)))
    ledger.load_messages(messages.values())  # their links: what the batch path needs
    leading = [(items[0], messages[items[0].row_id]) for items in by_issue.values()]
    done = batch.apply(route, ledger, [(i, m) for i, m in leading if isinstance(m, Message)])
    applied = AppliedChanges(route)
    applied.record(messages[row_id] for row_id in done)
    rest = {row_id: m for row_id, m in messages.items() if row_id not in done}
    if rest:
        ledger.load_messages(rest.values(), message_ids=rest)  # with traces and conflicts
    for items in by_issue.values():
        for item in items:
            if item.row_id in done:
                result.counts[ReceiveState.ARCHIVE] += 1
                continue
            # Every line logged while it is applied names the message and its issue.
            with structlog.contextvars.bound_contextvars(
                message_id=item.row_id, issue=item.issue_key
            ):
                state = _handle(route, ledger, item, messages[item.row_id])
            result.counts[state] += 1
            if state == ReceiveState.ARCHIVE:
                applied.record([messages[item.row_id]])
            if state == ReceiveState.OFFLINE:
                result.offline = True
                applied.save()
                return result
            if state not in (ReceiveState.ARCHIVE, ReceiveState.DISCARD, ReceiveState.INVALID):
                break  # the issue's later messages wait behind this one
    applied.save()
    return result


class AppliedChanges:
    """Counts what a run applied, and how long each change took from its source tracker
    (the message's ``issue_updated``) to the commit that just applied it: in the metrics
    as it goes, and per minute in the store (the dashboard's chart) with :meth:`save`."""

    def __init__(self, route: Route) -> None:
        connector = route.connector
        self._route = route
        self._applied = CHANGES_APPLIED.labels(connector.integration_key, connector.key)
        self._latency = PROPAGATION.labels(connector.integration_key, connector.key)
        self._minutes: dict[int, Minute] = {}

    def record(self, messages: Iterable[Message | InvalidMessageError]) -> None:
        """These messages were archived now (an answer is no change of an issue)."""
        now = now_ms()
        for message in messages:
            if not isinstance(message, Message) or message.kind is MessageKind.RESPONSE:
                continue
            self._applied.inc()
            latency = max(now - message.issue_updated, 0) if message.issue_updated > 0 else None
            if latency is not None:
                self._latency.observe(latency / 1000)
            minute = minute_of(now)
            self._minutes.setdefault(minute, Minute(minute)).add(latency)

    def save(self) -> None:
        """Add the run's minutes to the store's (nothing to write when it applied none)."""
        if not self._minutes:
            return
        with self._route.uow_factory() as uow:
            add_minutes(uow.session, self._route.id, self._minutes.values())
            uow.commit()
        self._minutes.clear()


def _read(item: queues.Pending) -> Message | InvalidMessageError:
    """The message of a queue row, or why it is not one."""
    try:
        return Message.loads(item.body)
    except InvalidMessageError as exc:
        return exc


def _handle(  # noqa: PLR0911 - one return per outcome
    route: Route,
    ledger: SyncLedger,
    item: queues.Pending,
    message: Message | InvalidMessageError,
) -> str:
    if isinstance(message, InvalidMessageError):
        return _finish(route, item, message.state, message.describe())
    if message.kind is MessageKind.RESPONSE:
        _link_response(route, ledger, item, message)
        return ReceiveState.ARCHIVE
    info = ledger.link_by_remote(message.source_issue_key)
    expected = (info.incoming_sequence_id if info else 0) + 1
    ignored = info is not None and info.incoming_changes_ignored
    if message.sequence_id > expected:
        with route.uow_factory(readonly=True) as uow:
            # Messages a person discarded are given up, not missing.
            expected += queues.discarded_between(
                uow.session, route.id, item.issue_key, expected, message.sequence_id
            )
    if ignored:
        return _finish(
            route, item, ReceiveState.DISCARD, "incoming changes are ignored for this issue"
        )
    if message.sequence_id < expected:
        return _finish(
            route,
            item,
            ReceiveState.DISCARD,
            f"sequenceId {message.sequence_id} is older than the next expected, {expected}",
        )
    if message.sequence_id > expected and message.kind is not MessageKind.RESYNC:
        return _gap(route, item, expected)
    try:
        with _refusals_of_this_issue():
            _apply(route, ledger, item, message)
    except TrackerOfflineError as exc:  # the run stops: the tracker is down for every issue
        return _finish(route, item, ReceiveState.OFFLINE, exc.message)
    except PerIssueError as exc:
        if isinstance(exc, ConflictPendingError):
            _record_conflicts(route, ledger, item, message, exc.conflicts)
        return _finish(route, item, exc.state, exc.describe())
    return ReceiveState.ARCHIVE


@contextmanager
def _refusals_of_this_issue() -> Iterator[None]:
    """The tracker's "not found", "not allowed", "not valid" for this issue's write: its
    refusal of this issue's change, not the route's (an ``AuthenticationError`` is)."""
    try:
        yield
    except (NotFoundError, PermissionDeniedError, InvalidInputError) as exc:
        raise TrackerRejectedError(exc.describe(), field_errors=exc.field_errors) from exc


def _gap(route: Route, item: queues.Pending, expected: int) -> str:
    retries = route.connector.configuration.advanced.sequence_error_retries
    with route.uow_factory() as uow:
        row = uow.session.get(MessageRow, item.row_id)
        if row is None:
            return ReceiveState.DISCARD
        row.attempts += 1
        missing = f"waiting for sequenceId {expected} (this is {item.sequence_id})"
        state = ReceiveState.SEQUENCE_ERROR if row.attempts <= retries else ReceiveState.ERROR
        if state is ReceiveState.ERROR:
            missing = f"sequenceId {expected} never arrived after {retries} retries"
            _parked(state, missing)
        queues.set_state(row, state, now_ms(), missing)
        uow.commit()
    return state


# The states in which a message waits for a person (retry or discard): each is a warning.
_WAITING_FOR_A_PERSON = frozenset({ReceiveState.ERROR, ReceiveState.INVALID})


def _finish(route: Route, item: queues.Pending, state: str, reason: str | None) -> str:
    if state in _WAITING_FOR_A_PERSON:
        _parked(state, reason)
    with route.uow_factory() as uow:
        row = uow.session.get(MessageRow, item.row_id)
        if row is not None:
            queues.set_state(row, state, now_ms(), reason)
        uow.commit()
    return state


def _parked(state: str, reason: str | None) -> None:
    """Say that the message (named by the context bound around it) waits in ``state``."""
    log.warning(
        "the message waits in %s: %s",
        state,
        reason or "no reason given",
        extra={"state": str(state)},
    )


def _link_response(
    route: Route, ledger: SyncLedger, item: queues.Pending, message: Message
) -> None:
    """The partner created or linked our issue's twin: remember its key and trace ids."""
    if (local_key := message.remote_issue_key) is not None:
        ledger.load(local_keys=[local_key], traces=bool(message.traces))
        ledger.take_answer(local_key, message.source_issue_key, message.traces)
    with route.uow_factory() as uow:
        ledger.save(uow.session)
        row = uow.session.get(MessageRow, item.row_id)
        if row is not None:
            queues.set_state(row, ReceiveState.ARCHIVE, now_ms())
        uow.commit()


def _apply(route: Route, ledger: SyncLedger, item: queues.Pending, message: Message) -> None:
    # Half-way through, a failure may leave the issue's rows changed in the ledger and not
    # in the store: the ledger forgets them, and reads them again when asked.
    with ledger.forgetting_on_failure(message.source_issue_key):
        info = ledger.link_by_remote(message.source_issue_key)
        shadow = ledger.shadow(info)
        local_key = info.local_issue_key if info else None
        decisions = {f: w for f, w in ledger.conflicts(item.row_id).items() if w is not None}
        parent_key: str | None = None
        if message.parent_key is not None:
            parent = ledger.link_by_remote(message.parent_key)
            if parent is None and local_key is None:
                raise IssueMissingError(f"waiting for the parent {message.parent_key} to be linked")
            parent_key = parent.local_issue_key if parent else None
        traces = ledger.traces.local_ids(partner_ids_of(message))
        known_traces = ledger.traces.partner_ids(local_key)
        outcome: Outcome | None = None
        if message.kind is MessageKind.DELETE:
            pass
        elif local_key is None:
            outcome = _create(route, ledger, message, parent_key)
            add_new(route, message, outcome, traces)
        else:
            update = _plan_update(route, message, local_key, shadow, decisions)
            outcome = update.outcome
            adopt_twins(message, outcome, traces, known_traces)
            change_existing(route, message, outcome, traces)  # what may be refused: first
            _write_update(route, message, update)
            add_new(route, message, outcome, traces)
        if outcome is not None:
            apply_links(route, ledger, message, outcome)
        _commit(route, ledger, item, message, outcome)


def _create(route: Route, ledger: SyncLedger, message: Message, parent_key: str | None) -> Outcome:
    plan = plan_create(route, message, parent_key)
    fields, full = limits.cut_texts(route, plan.draft.fields, message.source_issue_key)
    draft = dataclasses.replace(plan.draft, fields=fields)
    after = route.tracker.create(draft, idempotency_key=create_key(route, message))
    _link_created(route, ledger, message, after)
    if plan.status is not None and canonical_fields(after.hub_issue).get(STATUS) != plan.status:
        after = route.tracker.transition(after.key, plan.status)
    outcome = Outcome(after.key, after, created=True, written=plan.written, notes=plan.notes)
    outcome.traces_added += limits.attach_full_texts(
        route, after.key, full, create_key(route, message), outcome.notes
    )
    return outcome


def _link_created(route: Route, ledger: SyncLedger, message: Message, created: Replica) -> None:
    """Link a new issue to its source at once, before anything else can fail or crash.

    From here on the new issue is known as a twin: a later step that fails
    leaves the message in ``error`` with the link in place, and the outgoing
    route never takes the issue for a new local one and sends it back.
    """
    ledger.load(local_keys=[created.key])  # a new issue: linked and traced, if at all, by a retry
    with route.uow_factory() as uow:
        info = ledger.link(created.key) or ledger.new_link(created.key, now_ms())
        ledger.link_twin(info, message.source_issue_key)
        info.last_change_seen_ms = max(info.last_change_seen_ms or 0, created.updated)
        agree_on_created(route, ledger, info, created)
        ledger.save(uow.session)
        uow.commit()


@dataclass
class _Update:
    """What an update message writes to the local issue; ``outcome.after`` is the issue now."""

    outcome: Outcome
    writes: dict[str, FieldValue]
    status: str | None


def _plan_update(
    route: Route, message: Message, local_key: str, shadow: Shadow, decisions: dict[str, str]
) -> _Update:
    """The fields to write (nothing written yet); a conflict nobody decided stops it here."""
    current = route.tracker.get(local_key)
    if current is None:
        raise TrackerRejectedError(f"The local issue {local_key} no longer exists.")
    richtext.agree_on_meaning(route, message, current.hub_issue)
    plan: IncomingPlan = incoming_plan(
        route.mapping,
        message,
        current.hub_issue,
        shadow,
        automatic=route.automatic_conflict_resolution,
        local_wins_ties=route.connector.position == 1,
        force=_forced(message, decisions),
    )
    for name, winner in decisions.items():
        if winner == Winner.LOCAL and name in message.changes:
            plan.writes.pop(name, None)
            if name == STATUS:
                plan.status = None
            plan.agreed[name] = message.changes[name]
            plan.conflicts = [c for c in plan.conflicts if c.field != name]
    if plan.blocked:
        raise ConflictPendingError([c for c in plan.conflicts if c.winner is None])
    notes: list[str] = []
    writes = dict(plan.writes)
    resolve_users(route, writes, notes)
    outcome = Outcome(
        local_key,
        current,
        created=False,
        written=set(writes) | ({STATUS} if plan.status is not None else set()),
        agreed=plan.agreed,
        conflicts=plan.conflicts,
        notes=notes,
    )
    return _Update(outcome, writes, plan.status)


def _write_update(route: Route, message: Message, update: _Update) -> None:
    outcome = update.outcome
    if update.writes:
        writes, full = limits.cut_texts(route, update.writes, message.source_issue_key)
        outcome.after = route.tracker.update(outcome.local_key, writes)
        outcome.traces_added += limits.attach_full_texts(
            route, outcome.local_key, full, f"{route.connector.key}:{message.id}", outcome.notes
        )
    if update.status is not None:
        outcome.after = route.tracker.transition(outcome.local_key, update.status)


def _forced(message: Message, decisions: dict[str, str]) -> frozenset[str]:
    """Fields written whatever this side did: a resync's, and those a person gave the partner."""
    if message.kind is MessageKind.RESYNC:
        return frozenset(message.changes)
    return frozenset(name for name, winner in decisions.items() if winner == Winner.REMOTE)


def _commit(
    route: Route,
    ledger: SyncLedger,
    item: queues.Pending,
    message: Message,
    outcome: Outcome | None,
) -> None:
    """Archive the message with its sync information, shadow, traces and answer: one transaction."""
    with route.uow_factory() as uow:
        session = uow.session
        now = now_ms()
        info = ledger.link_by_remote(message.source_issue_key)
        if message.kind is MessageKind.RESYNC:
            queues.discard_older(
                session, route.id, message.source_issue_key, message.sequence_id, now
            )
        if outcome is None:  # a deletion on the other side: stop synchronizing this issue
            if info is not None:
                info.incoming_changes_ignored = True
                info.incoming_sequence_id = message.sequence_id
                info.last_incoming_change_ms = now
        else:
            _bookkeep(route, ledger, session, message, outcome, info, now)
        ledger.save(session)
        row = session.get(MessageRow, item.row_id)
        if row is not None:
            note = "; ".join(outcome.notes) if outcome and outcome.notes else None
            queues.set_state(row, ReceiveState.ARCHIVE, now, note)
        uow.commit()


def _bookkeep(
    route: Route,
    ledger: SyncLedger,
    session: Session,
    message: Message,
    outcome: Outcome,
    info: SyncInfo | None,
    now: int,
) -> None:
    if info is None:
        info = ledger.link(outcome.local_key) or ledger.new_link(outcome.local_key, now)
    ledger.link_twin(info, message.source_issue_key)
    info.incoming_sequence_id = message.sequence_id
    info.last_incoming_change_ms = now
    info.last_change_seen_ms = max(info.last_change_seen_ms or 0, outcome.after.updated)
    if outcome.created:
        agree_on_created(route, ledger, info, outcome.after, outcome.written)
    else:
        shadow = ledger.shadow(info)
        values = canonical_fields(outcome.after.hub_issue)
        for name in outcome.written:
            shadow.fields[name] = values.get(name)
        for name, value in outcome.agreed.items():
            shadow.fields[name] = value
        ledger.keep_shadow(info, shadow)
    for conflict in outcome.conflicts:
        ledger.add_conflict(None, outcome.local_key, conflict, now)
    traces = record_traces(ledger, outcome)
    if outcome.created or traces:
        answer = response(
            route,
            message,
            outcome.local_key,
            outcome.after.updated,
            traces,
            now,
            twin=outcome.after if outcome.created else None,
        )
        route.transport.deliver(session, route.id, route.connector.partner_id, answer, now)


def _record_conflicts(
    route: Route,
    ledger: SyncLedger,
    item: queues.Pending,
    message: Message,
    conflicts: list[FieldConflict],
) -> None:
    info = ledger.link_by_remote(message.source_issue_key)
    issue_key = info.local_issue_key if info else message.source_issue_key
    ledger.add_conflicts(item.row_id, issue_key, conflicts, now_ms())
    with route.uow_factory() as uow:
        ledger.save(uow.session)
        uow.commit()


def resolve(session: Session, connector_id: int, message_id: int, keep: Winner) -> int:
    """Decide a message's open conflicts for one side and queue it again; returns fields decided."""
    row = queues.get_message(session, connector_id, message_id)
    open_rows = open_conflicts(session, row.id)
    if not open_rows:
        raise InvalidInputError(f"Message {message_id} has no conflict waiting for a decision.")
    now = now_ms()
    for conflict in open_rows:
        conflict.winner = str(keep)
        conflict.resolved_ms = now
    queues.set_state(row, ReceiveState.NEW, now)
    row.attempts = 0
    return len(open_rows)
