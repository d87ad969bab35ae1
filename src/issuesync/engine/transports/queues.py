"""Send and receive queues in the store: the index of every message and its state.

Whatever the transport, the database says which state (folder) a message is
in; the file transport moves files to follow it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from issuesync.domain.message import (
    PENDING_STATES,
    Message,
    MessageKind,
    ReceiveState,
    SendState,
)
from issuesync.domain.redaction import redact
from issuesync.domain.replica import Replica
from issuesync.errors import InvalidInputError, InvalidMessageError, NotFoundError
from issuesync.store.base import insert_many, insert_rows, table_of
from issuesync.store.sync import MessageBody, MessageRow

RECEIVE = "receive"
SEND = "send"


def add_received(
    session: Session,
    connector_id: int,
    message: Message,
    now: int,
    *,
    state: str = ReceiveState.NEW,
    reason: str | None = None,
    fresh: bool = False,
) -> bool:
    """Put a message into a connector's receive queue; False when it is there already.

    ``fresh``: the message was made in this transaction, so it cannot be there
    (the unique ``uuid`` would refuse it anyway); the look-up is skipped.
    """
    if not fresh:
        exists = session.scalar(
            select(MessageRow.id).where(
                MessageRow.connector_id == connector_id,
                MessageRow.queue == RECEIVE,
                MessageRow.uuid == message.id,
            )
        )
        if exists is not None:
            return False
    session.add(_row(connector_id, RECEIVE, message, now, state, reason))
    return True


def add_sent(session: Session, connector_id: int, message: Message, now: int) -> MessageRow:
    """Put a message into a connector's send queue, to be delivered by its transport."""
    row = _row(connector_id, SEND, message, now, SendState.NEW, None)
    session.add(row)
    return row


@dataclass(frozen=True)
class Sealed:
    """A message with its wire text, written once before the transaction that queues it.

    Serializing is the costly part of queueing a message; done outside the
    write transaction, it does not hold SQLite's write turn.
    """

    message: Message
    body: str

    @classmethod
    def of(cls, message: Message) -> Sealed:
        """Seal a message; it must not change afterwards."""
        return cls(message, message.dumps())


def _row(
    connector_id: int, queue: str, message: Message, now: int, state: str, reason: str | None
) -> MessageRow:
    sealed = Sealed.of(message)
    values = _values(connector_id, queue, sealed, now, state, reason)
    return MessageRow(**values, content=MessageBody(body=sealed.body))


def _values(
    connector_id: int, queue: str, sealed: Sealed, now: int, state: str, reason: str | None
) -> dict[str, object]:
    message = sealed.message
    return {
        "uuid": message.id,
        "connector_id": connector_id,
        "queue": queue,
        "state": str(state),
        "kind": str(message.kind),
        "issue_key": message.source_issue_key,
        "sequence_id": message.sequence_id,
        "reason": _reason(reason),
        "attempts": 0,
        "created_ms": now,
        "updated_ms": now,
    }


def add_many(
    session: Session, connector_id: int, queue: str, messages: Sequence[Sealed], now: int
) -> None:
    """Put messages made in this transaction into a queue (state new): two multi-row inserts,
    the rows and their bodies."""
    if messages:
        state = ReceiveState.NEW if queue == RECEIVE else SendState.NEW
        connection = session.connection()
        ids = insert_rows(
            connection,
            _MESSAGES,
            [_values(connector_id, queue, m, now, state, None) for m in messages],
        )
        insert_many(
            connection,
            _BODIES,
            [{"message_id": i, "body": m.body} for i, m in zip(ids, messages, strict=True)],
        )


@dataclass(frozen=True)
class Arrival:
    """A message that arrived from elsewhere, sealed, with the state it is recorded in."""

    sealed: Sealed
    state: str = ReceiveState.NEW
    reason: str | None = None


_UUID_CHUNK = 500


def add_arrivals(session: Session, connector_id: int, arrivals: Sequence[Arrival], now: int) -> int:
    """Record messages that arrived in a connector's receive queue, each once by its uuid
    (a message that is there already, or twice in ``arrivals``, is left out): one query
    for the uuids, two multi-row inserts. Returns how many were recorded."""
    uuids = [a.sealed.message.id for a in arrivals]
    there: set[str] = set()
    for start in range(0, len(uuids), _UUID_CHUNK):
        there.update(
            session.scalars(
                select(MessageRow.uuid).where(
                    MessageRow.connector_id == connector_id,
                    MessageRow.queue == RECEIVE,
                    MessageRow.uuid.in_(uuids[start : start + _UUID_CHUNK]),
                )
            )
        )
    fresh: list[Arrival] = []
    for arrival in arrivals:
        if arrival.sealed.message.id not in there:
            there.add(arrival.sealed.message.id)
            fresh.append(arrival)
    if fresh:
        connection = session.connection()
        ids = insert_rows(
            connection,
            _MESSAGES,
            [_values(connector_id, RECEIVE, a.sealed, now, a.state, a.reason) for a in fresh],
        )
        insert_many(
            connection,
            _BODIES,
            [{"message_id": i, "body": a.sealed.body} for i, a in zip(ids, fresh, strict=True)],
        )
    return len(fresh)


@dataclass(frozen=True)
class Pending:
    """One pending message, read out of its row."""

    row_id: int
    state: str
    attempts: int
    issue_key: str
    sequence_id: int
    body: str


def rows(connector_id: int, queue: str) -> Select[MessageRow]:
    """A query of a connector's messages in one queue, oldest first."""
    return (
        select(MessageRow)
        .where(MessageRow.connector_id == connector_id, MessageRow.queue == queue)
        .order_by(MessageRow.id)
    )


def pending(session: Session, connector_id: int, limit: int) -> list[Pending]:
    """Messages waiting to be applied, oldest first (plain rows: no ORM objects to track)."""
    rows = session.execute(
        select(
            MessageRow.id,
            MessageRow.state,
            MessageRow.attempts,
            MessageRow.issue_key,
            MessageRow.sequence_id,
            MessageBody.body,
        )
        .join(MessageBody, MessageBody.message_id == MessageRow.id)
        .where(
            MessageRow.connector_id == connector_id,
            MessageRow.queue == RECEIVE,
            MessageRow.state.in_([str(s) for s in PENDING_STATES]),
        )
        .order_by(MessageRow.id)
        .limit(limit)
    )
    return [Pending(*row) for row in rows]


def held_issues(session: Session, connector_id: int, keys: Sequence[str]) -> set[str]:
    """Which of these issues have a message in ``error``: their later messages wait."""
    if not keys:
        return set()
    return set(
        session.scalars(
            select(MessageRow.issue_key)
            .where(
                MessageRow.connector_id == connector_id,
                MessageRow.queue == RECEIVE,
                MessageRow.state == ReceiveState.ERROR,
                MessageRow.issue_key.in_(list(keys)),
            )
            .distinct()
        )
    )


def issues_in_error(session: Session, connector_id: int) -> int:
    """How many issues have a message in ``error`` (the status's ``issuesInError``)."""
    return (
        session.scalar(
            select(func.count(func.distinct(MessageRow.issue_key))).where(
                MessageRow.connector_id == connector_id,
                MessageRow.queue == RECEIVE,
                MessageRow.state == ReceiveState.ERROR,
            )
        )
        or 0
    )


def set_state(row: MessageRow, state: str, now: int, reason: str | None = None) -> None:
    """Move a message to another state (folder)."""
    row.state = str(state)
    row.reason = _reason(reason)
    row.updated_ms = now


def set_states(session: Session, moves: Sequence[tuple[int, str, str | None]], now: int) -> None:
    """Move many messages, given as ``(row id, state, reason)``: one statement per outcome."""
    if not moves:
        return
    session.flush()  # the plain updates below must not race ORM changes of the same rows
    by_outcome: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for row_id, state, reason in moves:
        by_outcome[(str(state), _reason(reason))].append(row_id)
    connection = session.connection()
    for (state, reason), ids in by_outcome.items():
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            connection.execute(
                update(_MESSAGES)
                .where(_MESSAGES.c.id.in_(ids[start : start + IDS_PER_STATEMENT]))
                .values(state=state, reason=reason, updated_ms=now)
            )


def _reason(text: str | None) -> str | None:
    """A message's reason as it is stored: without credentials, capped (``redact``)."""
    return None if text is None else redact(text)


IDS_PER_STATEMENT = 500
_MESSAGES = table_of(MessageRow)
_BODIES = table_of(MessageBody)


@dataclass(frozen=True)
class MessageView:
    """A message as the CLI and the API list it."""

    id: int
    uuid: str
    queue: str
    state: str
    kind: str
    issue_key: str
    sequence_id: int
    reason: str | None
    attempts: int
    created_ms: int
    updated_ms: int

    def to_json(self) -> dict[str, object]:
        """JSON for listings."""
        return {
            "id": self.id,
            "messageId": self.uuid,
            "queue": self.queue,
            "state": self.state,
            "kind": self.kind,
            "issueKey": self.issue_key,
            "sequenceId": self.sequence_id,
            "reason": self.reason,
            "attempts": self.attempts,
            "created": self.created_ms,
            "updated": self.updated_ms,
        }


def message_document(row: MessageRow) -> dict[str, Any]:
    """One stored message for people: its state, its body, and its replica decoded."""
    document: dict[str, Any] = {"state": row.state, "reason": row.reason}
    try:
        message = Message.loads(row.body)
    except InvalidMessageError as exc:
        document["invalid"] = str(exc)
    else:
        document["message"] = message.to_json()
        try:
            replica = message.full_replica()
        except InvalidMessageError as exc:  # what parked it: shown, with the message
            document["invalid"] = str(exc)
        else:
            if replica is not None:
                document["replica"] = replica.to_json()
    return document


_ADDRESS_KEYS = frozenset({"email", "emailAddress"})


def without_addresses(document: dict[str, Any]) -> dict[str, Any]:
    """:func:`message_document` with every e-mail address blanked, for people who may
    not see other users' addresses: in the decoded replica, in the message's fields,
    and inside the replica's ``encodedPayload`` (made again from the blanked replica)."""
    hidden = _blank_addresses(document)
    assert isinstance(hidden, dict)
    replica = hidden.get("replica")
    wire = hidden.get("message", {}).get("replica")
    if isinstance(replica, dict) and isinstance(wire, dict) and "encodedPayload" in wire:
        wire["encodedPayload"] = Replica.model_validate(replica).encode()
    return hidden


def _blank_addresses(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: None if key in _ADDRESS_KEYS else _blank_addresses(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_blank_addresses(item) for item in value]
    return value


def _view(row: MessageRow) -> MessageView:
    return MessageView(
        row.id,
        row.uuid,
        row.queue,
        row.state,
        row.kind,
        row.issue_key,
        row.sequence_id,
        row.reason,
        row.attempts,
        row.created_ms,
        row.updated_ms,
    )


def list_messages(
    session: Session,
    connector_id: int,
    *,
    queue: str = RECEIVE,
    state: str | None = None,
    issue_key: str | None = None,
    limit: int = 1000,
) -> list[MessageView]:
    """A connector's messages, filtered by state and issue."""
    query = select(MessageRow).where(
        MessageRow.connector_id == connector_id, MessageRow.queue == queue
    )
    if state is not None:
        query = query.where(MessageRow.state == state)
    if issue_key is not None:
        query = query.where(MessageRow.issue_key == issue_key.upper())
    rows = session.scalars(query.order_by(MessageRow.id).limit(limit))
    return [_view(row) for row in rows]


def get_message(session: Session, connector_id: int, message_id: int) -> MessageRow:
    """One message of a connector; 404 when it has no such message."""
    row = session.get(MessageRow, message_id)
    if row is None or row.connector_id != connector_id:
        raise NotFoundError(f"The connector has no message with id {message_id}.")
    return row


_RETRYABLE = (
    ReceiveState.ERROR,
    ReceiveState.OFFLINE,
    ReceiveState.SEQUENCE_ERROR,
    ReceiveState.ISSUE_MISSING,
    ReceiveState.DISCARD,
)


def retry(rows: Sequence[MessageRow], now: int) -> int:
    """Send messages back to ``new`` to be applied again; returns how many."""
    count = 0
    for row in rows:
        if row.queue == SEND:
            if row.state == SendState.ERROR:
                set_state(row, SendState.NEW, now)
                count += 1
            continue
        if row.state not in _RETRYABLE:
            raise InvalidInputError(
                f"Message {row.id} is in state '{row.state}' and cannot be retried."
            )
        set_state(row, ReceiveState.NEW, now)
        row.attempts = 0
        count += 1
    return count


def discard(rows: Sequence[MessageRow], now: int) -> int:
    """Give messages up: they move to ``discard`` and stop holding their issue."""
    count = 0
    for row in rows:
        if row.queue != RECEIVE or row.state in (ReceiveState.ARCHIVE, ReceiveState.DISCARD):
            continue
        set_state(row, ReceiveState.DISCARD, now, "discarded by a user")
        count += 1
    return count


def sweep(session: Session, connector_id: int, *, archived: int, discarded: int) -> int:
    """Keep each issue's newest ``archived``/``discarded`` messages (``advanced`` settings).

    One windowed delete per state for the whole connector, run now and then by the
    engine, instead of two queries after every applied message.
    """
    removed = 0
    for state, keep in ((ReceiveState.ARCHIVE, archived), (ReceiveState.DISCARD, discarded)):
        ranked = (
            select(
                MessageRow.id,
                func.row_number()
                .over(partition_by=MessageRow.issue_key, order_by=MessageRow.id.desc())
                .label("newest"),
            )
            .where(
                MessageRow.connector_id == connector_id,
                MessageRow.queue == RECEIVE,
                MessageRow.state == state,
            )
            .subquery()
        )
        doomed = select(ranked.c.id).where(ranked.c.newest > keep)
        result = session.execute(delete(MessageRow).where(MessageRow.id.in_(doomed)))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def prune_sent(session: Session, connector_id: int, before_ms: int) -> None:
    """Forget delivered messages of a send queue older than ``before_ms``."""
    session.execute(
        delete(MessageRow).where(
            MessageRow.connector_id == connector_id,
            MessageRow.queue == SEND,
            MessageRow.state == SendState.SENT,
            MessageRow.updated_ms < before_ms,
        )
    )


def discarded_between(
    session: Session, connector_id: int, issue_key: str, first: int, before: int
) -> int:
    """How many of an issue's sequence ids from ``first`` on were discarded, contiguously."""
    discarded = set(
        session.scalars(
            select(MessageRow.sequence_id).where(
                MessageRow.connector_id == connector_id,
                MessageRow.queue == RECEIVE,
                MessageRow.issue_key == issue_key,
                MessageRow.state == ReceiveState.DISCARD,
                MessageRow.sequence_id >= first,
                MessageRow.sequence_id < before,
            )
        )
    )
    count = 0
    while first + count in discarded:
        count += 1
    return count


def discard_older(
    session: Session, connector_id: int, issue_key: str, below_sequence: int, now: int
) -> None:
    """A resync supersedes what was pending for the issue: older messages go to ``discard``."""
    session.execute(
        update(MessageRow)
        .where(
            MessageRow.connector_id == connector_id,
            MessageRow.queue == RECEIVE,
            MessageRow.issue_key == issue_key,
            MessageRow.sequence_id < below_sequence,
            MessageRow.kind != MessageKind.RESPONSE,
            MessageRow.state.in_([str(s) for s in (*PENDING_STATES, ReceiveState.ERROR)]),
        )
        .values(state=ReceiveState.DISCARD, reason="superseded by a resync", updated_ms=now)
    )
