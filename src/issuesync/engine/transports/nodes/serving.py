"""What a node serves its partner: its send queue as sync events, acknowledgements, blobs,
and the results of the partner's sync requests (``docs/issuehub.md``).

The send queue is the outbox: a message waits there (``new``) from the transaction
that made it until the partner acknowledges it (``sent``), so a crash of either node
loses nothing; the partner drops a second copy by the message's uuid. The row id is
the ``syncEventId``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from issuesync.domain.message import Message, MessageKind, ReceiveState, SendState
from issuesync.domain.relation import error_reason, sync_event
from issuesync.engine.transports import queues
from issuesync.errors import InvalidMessageError
from issuesync.store.relations import BlobFailureRow, OutboundBlobRow, RelationRow
from issuesync.store.sync import MessageBody, MessageRow

MAX_PAGE: Final = 500  # sync events per answer
DEFAULT_PAGE: Final = 100
MAX_ACKNOWLEDGED: Final = 1000  # ids per acknowledgement
SHOWN_ERRORS: Final = 200  # error responses per answer


def relation_by_name(session: Session, name: str) -> RelationRow | None:
    """The relation of this name, whatever its state."""
    return session.scalar(select(RelationRow).where(RelationRow.name == name))


def relation_of_connector(session: Session, connector_id: int) -> RelationRow | None:
    """The relation whose side this connector is."""
    return session.scalar(select(RelationRow).where(RelationRow.connector_id == connector_id))


def nudges(session: Session, connector_ids: Sequence[int]) -> list[tuple[int, int]]:
    """When the partner node last nudged each of these connectors (``POST nudges``)."""
    found = session.execute(
        select(RelationRow.connector_id, RelationRow.nudged_ms).where(
            RelationRow.connector_id.in_(list(connector_ids))
        )
    ).all()
    return [(int(cid), int(ms)) for cid, ms in found if cid is not None]


def sync_events(
    session: Session, relation: RelationRow, *, responses: bool, limit: int
) -> list[dict[str, Any]]:
    """The sync requests (or, with ``responses``, the sync responses) the partner has not
    acknowledged yet, oldest first: per issue, in ``syncEventNumber`` order."""
    if relation.connector_id is None:
        return []
    kind = MessageRow.kind == MessageKind.RESPONSE.value
    found = session.execute(
        select(MessageRow.id, MessageBody.body)
        .join(MessageBody, MessageBody.message_id == MessageRow.id)
        .where(
            MessageRow.connector_id == relation.connector_id,
            MessageRow.queue == queues.SEND,
            MessageRow.state == SendState.NEW.value,
            kind if responses else ~kind,
        )
        .order_by(MessageRow.id)
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    return [sync_event(row_id, relation.name, Message.loads(body)) for row_id, body in found]


def acknowledge(session: Session, relation: RelationRow, event_ids: Sequence[int], now: int) -> int:
    """The partner has these sync events (requests or responses): they are ``sent``.

    Idempotent: an id acknowledged before, or not of this relation, changes nothing.
    """
    if relation.connector_id is None or not event_ids:
        return 0
    result = session.execute(
        update(MessageRow)
        .where(
            MessageRow.connector_id == relation.connector_id,
            MessageRow.queue == queues.SEND,
            MessageRow.state == SendState.NEW.value,
            MessageRow.id.in_(list(event_ids)),
        )
        .values(state=SendState.SENT.value, updated_ms=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def offers_blob(session: Session, relation: RelationRow, checksum: str) -> bool:
    """Whether this relation's send queue offered the partner this content."""
    if relation.connector_id is None:
        return False
    found = session.scalar(
        select(OutboundBlobRow.id).where(
            OutboundBlobRow.connector_id == relation.connector_id,
            OutboundBlobRow.checksum == checksum,
        )
    )
    return found is not None


def blob_requests(session: Session, relation: RelationRow, limit: int) -> list[dict[str, Any]]:
    """The blobs of the sync requests the partner has not acknowledged yet."""
    return [
        {
            "relationKey": relation.name,
            "syncEventId": event["syncEventId"],
            "blobMetadata": {"blobId": blob["blobId"], "checksum": blob["checksum"]},
        }
        for event in sync_events(session, relation, responses=False, limit=limit)
        for blob in event.get("blobMetadataList", [])
    ]


def _received(session: Session, relation: RelationRow, states: Sequence[str], limit: int) -> Any:  # noqa: ANN401
    return session.execute(
        select(
            MessageRow.id,
            MessageRow.state,
            MessageRow.reason,
            MessageRow.issue_key,
            MessageBody.body,
        )
        .join(MessageBody, MessageBody.message_id == MessageRow.id)
        .where(
            MessageRow.connector_id == relation.connector_id,
            MessageRow.queue == queues.RECEIVE,
            MessageRow.state.in_(list(states)),
        )
        .order_by(MessageRow.id.desc())
        .limit(limit)
    ).all()


def error_responses(session: Session, relation: RelationRow) -> list[dict[str, Any]]:
    """The partner's sync requests that failed here (newest first), in the seed's shape."""
    if relation.connector_id is None:
        return []
    answers = []
    states = (ReceiveState.ERROR.value, ReceiveState.INVALID.value)
    for row_id, state, reason, issue_key, _ in _received(session, relation, states, SHOWN_ERRORS):
        answers.append(
            {
                "syncEventId": row_id,
                "relationKey": relation.name,
                "sourceIssueKey": {"urn": issue_key},
                "message": reason or f"The sync event is in state '{state}'.",
                "errorReason": error_reason(state, reason).value,
            }
        )
    return answers


def blob_responses(session: Session, relation: RelationRow) -> list[dict[str, Any]]:
    """The blobs of the partner's sync requests that arrived here intact (newest first)."""
    if relation.connector_id is None:
        return []
    answers: list[dict[str, Any]] = []
    states = (ReceiveState.ARCHIVE.value, *[s.value for s in (ReceiveState.NEW,)])
    for row_id, _, _, _, body in _received(session, relation, states, SHOWN_ERRORS):
        try:
            message = Message.loads(body)
        except InvalidMessageError:
            continue
        answers.extend(
            {
                "relationKey": relation.name,
                "syncEventId": row_id,
                "blobEventId": row_id,
                "blobMetadata": {"blobId": blob.blob_id, "checksum": blob.checksum},
            }
            for blob in message.blob_metadata_list
        )
    return answers


def blob_error_responses(session: Session, relation: RelationRow) -> list[dict[str, Any]]:
    """The partner's blobs that did not arrive intact here, in the seed's shape."""
    failures = session.scalars(
        select(BlobFailureRow)
        .where(BlobFailureRow.relation_id == relation.id)
        .order_by(BlobFailureRow.id.desc())
        .limit(SHOWN_ERRORS)
    )
    return [
        {
            "relationKey": relation.name,
            "syncEventId": failure.sync_event_id,
            "blobEventId": failure.id,
            "blobId": failure.blob_id,
            "sourceIssueKey": {"urn": failure.source_issue_key},
            "errorMessage": failure.message,
            "blobErrorReason": "CHECKSUM_MISMATCH" if failure.actual else "BLOB_NOT_AVAILABLE",
            "attempts": failure.attempts,
            "parked": failure.parked,
        }
        for failure in failures
    ]


@dataclass(frozen=True)
class QueueCounts:
    """A relation's sync queue, for monitoring (Zabbix reads these by JSON path)."""

    pending_out: int
    pending_in: int
    blobs_pending: int
    in_error: int

    def to_json(self) -> dict[str, int]:
        """The flat JSON of the monitoring route."""
        return {
            "pendingOut": self.pending_out,
            "pendingIn": self.pending_in,
            "blobsPending": self.blobs_pending,
            "inError": self.in_error,
        }


def queue_counts(session: Session, relation: RelationRow) -> QueueCounts:
    """How many sync events wait, each way, and how many failed."""
    if relation.connector_id is None:
        return QueueCounts(0, 0, 0, 0)
    counts = {
        (queue, state): int(number)
        for queue, state, number in session.execute(
            select(MessageRow.queue, MessageRow.state, func.count(MessageRow.id))
            .where(MessageRow.connector_id == relation.connector_id)
            .group_by(MessageRow.queue, MessageRow.state)
        ).all()
    }
    blobs = session.execute(
        select(BlobFailureRow.parked, func.count(BlobFailureRow.id))
        .where(BlobFailureRow.relation_id == relation.id)
        .group_by(BlobFailureRow.parked)
    ).all()
    return tally_queue(counts, {bool(parked): int(n) for parked, n in blobs})


def tally_queue(counts: Mapping[tuple[str, str], int], blobs: Mapping[bool, int]) -> QueueCounts:
    """A relation's :class:`QueueCounts` from its connector's messages by (queue, state) and
    its blob failures by ``parked`` (the metrics read every relation's in one query)."""
    pending_in = sum(
        counts.get((queues.RECEIVE, state.value), 0)
        for state in (
            ReceiveState.NEW,
            ReceiveState.SEQUENCE_ERROR,
            ReceiveState.ISSUE_MISSING,
            ReceiveState.OFFLINE,
        )
    )
    in_error = (
        counts.get((queues.RECEIVE, ReceiveState.ERROR.value), 0)
        + counts.get((queues.RECEIVE, ReceiveState.INVALID.value), 0)
        + counts.get((queues.SEND, SendState.ERROR.value), 0)
    )
    return QueueCounts(
        pending_out=counts.get((queues.SEND, SendState.NEW.value), 0),
        pending_in=pending_in,
        blobs_pending=blobs.get(False, 0),
        in_error=in_error + blobs.get(True, 0),
    )
