"""The ``http`` transport: a connector whose partner runs on another issuesync node.

Sending is the file transport's outbox without the files: :meth:`HttpTransport.deliver`
adds the message to the sender's send queue in the sender's transaction, and the
partner *pulls* it (``GET syncevents/syncrequests``, ``serving.py``) and acknowledges
it, which marks it ``sent``. Receiving is :meth:`HttpTransport.pump`, run before and
after the routes like the file transport's: it pulls the partner's sync requests and
sync responses, fetches and verifies their blobs, records each message in the
receive queue once (by its uuid: a message pulled twice after a crash is recorded
once) and only then acknowledges them. A crash anywhere loses nothing and applies
nothing twice; the only cost is a second pull.

Blob content that does not match its checksum is not taken: the message waits (its
issue's later messages wait behind it in ``sequence-error``, no other issue does),
the failure is served to the partner as a blob error response, and the blob is
fetched again after 2, 4, 8 … seconds; after :data:`BLOB_ATTEMPTS` failures the
message is parked in ``error`` with the seed's checksum text (``messages retry``
fetches it again). After sending, the pump nudges the partner (``POST nudges``) so
that it pulls at once instead of at its next interval.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuesync.domain.message import Message, ReceiveState, SendState
from issuesync.domain.relation import (
    ReceivedEvent,
    RelationState,
    checksum_mismatch_text,
    read_sync_event,
)
from issuesync.engine.connectors import ConnectorConfig
from issuesync.engine.transports import queues
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.inbox import addressed_to
from issuesync.engine.transports.nodes.client import NUDGE_TIMEOUT_S, NodeClient, Partner
from issuesync.engine.transports.nodes.serving import relation_of_connector
from issuesync.errors import (
    ConfigurationError,
    InvalidMessageError,
    IssueSyncError,
    PartnerGoneError,
    TrackerOfflineError,
)
from issuesync.security import SecretBox
from issuesync.store.base import now_ms
from issuesync.store.relations import BlobFailureRow, OutboundBlobRow, RelationRow
from issuesync.store.sync import MessageRow
from issuesync.store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

PAGE: Final = 500  # sync events asked for per pull
MAX_PULLS: Final = 8  # pulls of each kind per pump: a long backlog does not starve the routes
BLOB_ATTEMPTS: Final = 5
BLOB_BACKOFF_MS: Final = 2_000
CONTACT_WRITE_MS: Final = 10_000  # how often a live relation's last contact is stored
ERRORS_READ_MS: Final = 15_000  # how often the partner's error responses are read
_PULLS = ("syncevents/syncrequests", "syncrequests/syncresponses")


MAX_BLOB_BYTES: Final = 1 << 34  # what a retried message's blob may be (its size is not known)


class PartnerBlobArea(BlobArea):
    """The blob area, and the partner node for content that is not (yet) in it."""

    def __init__(self, area: BlobArea, fetch: Callable[[str], bytes | None]) -> None:
        self.store = area.store
        self._fetch = fetch

    def read(self, checksum: str) -> bytes:
        """Content by its sha256, fetched from the partner first when it is not here."""
        if not self.store.exists(checksum):
            content = self._fetch(checksum)
            if content is not None and hashlib.sha256(content).hexdigest() == checksum:
                self.put(content)
        return super().read(checksum)


@dataclass
class _Memory:
    """What the transport remembers between pumps (a restart forgets it harmlessly)."""

    contact_written_ms: int = 0
    errors_read_ms: int = 0
    nudged_up_to: int = 0  # the newest send-queue row the partner was nudged about
    client_key: tuple[str, str, str | None, str] | None = None
    client: NodeClient | None = None
    failed: set[str] = field(default_factory=set)


class HttpTransport:
    """Messages to and from a partner node; ``pump`` pulls, the partner pulls from us."""

    kind = "http"
    pulls = True  # the engine pumps when the incoming route is due, and after sending

    def __init__(
        self,
        config: ConnectorConfig,
        blobs: BlobArea,
        uow_factory: UnitOfWorkFactory,
        secrets: SecretBox,
    ) -> None:
        self.config = config
        self.blobs: BlobArea = PartnerBlobArea(blobs, self._fetch_missing)
        self.uow_factory = uow_factory
        self.secrets = secrets
        self._memory = _Memory()

    # -- sending: the send queue is the outbox ------------------------------------------------

    def deliver(
        self, session: Session, sender_id: int, partner_id: int, message: Message, now: int
    ) -> None:
        """Add the message to the sender's send queue; the partner pulls it."""
        del partner_id
        queues.add_sent(session, sender_id, message, now)
        offer_blobs(session, sender_id, [message], now)

    def deliver_many(
        self,
        session: Session,
        sender_id: int,
        partner_id: int,
        messages: Sequence[queues.Sealed],
        now: int,
    ) -> None:
        """Add the messages to the sender's send queue, in one statement."""
        del partner_id
        queues.add_many(session, sender_id, queues.SEND, messages, now)
        offer_blobs(session, sender_id, [sealed.message for sealed in messages], now)

    # -- receiving ------------------------------------------------------------------------

    def pump(self) -> int:
        """Pull what the partner has for us, take it in, acknowledge it; nudge the partner
        when we have something for it. Returns how many messages were taken in."""
        relation, partner = self._partner()
        client = self._client(partner)
        moved = 0
        try:
            for tail in _PULLS:
                for _ in range(MAX_PULLS):
                    documents = client.get(tail, {"limit": PAGE})
                    if not isinstance(documents, list):
                        raise ConfigurationError(f"The partner's {tail} is not a list.")
                    if not documents:
                        break
                    moved += self._take(client, relation, documents)
                    if len(documents) < PAGE:
                        break
            self._nudge_partner(client)
            self._read_partner_errors(client, relation)
        except PartnerGoneError as exc:
            self._broken(relation.id, exc.message)
            raise
        except TrackerOfflineError as exc:
            self._lost(relation.id, exc.message)
            raise
        self._contact(relation.id)
        return moved

    def after_sending(self) -> int:
        """The routes sent something: nudge the partner (it pulls at once). Returns 0."""
        _, partner = self._partner()
        self._nudge_partner(self._client(partner))
        return 0

    def _partner(self) -> tuple[RelationRow, Partner]:
        with self.uow_factory(readonly=True) as uow:
            relation = relation_of_connector(uow.session, self.config.id)
            if relation is not None:
                uow.session.expunge(relation)
        if relation is None:
            raise ConfigurationError(
                f"The connector {self.config.key} has an http queue but no relation: "
                "pair it with `issuesync relation invite` / `relation accept`."
            )
        if relation.state != RelationState.ACTIVE:
            raise ConfigurationError(
                f"The relation {relation.name} is {relation.state}"
                + (f": {relation.reason}" if relation.reason else ".")
            )
        if not (relation.secret and relation.partner_url and relation.partner_node):
            raise ConfigurationError(f"The relation {relation.name} is not paired.")
        return relation, Partner(
            relation=relation.name,
            node=relation.node,
            partner_node=relation.partner_node,
            url=relation.partner_url,
            secret=self.secrets.decrypt(relation.secret),
            ca_bundle=relation.ca_bundle,
        )

    def _client(self, partner: Partner) -> NodeClient:
        memory = self._memory
        key = (partner.url, partner.secret, partner.ca_bundle, partner.partner_node)
        if memory.client is None or memory.client_key != key:
            if memory.client is not None:
                memory.client.close()
            memory.client = NodeClient(partner)
            memory.client_key = key
        return memory.client

    def _fetch_missing(self, checksum: str) -> bytes | None:
        """A blob's content from the partner, when a message needs it and it is not here
        (a message retried after its blob was parked); None when it cannot be had."""
        try:
            _, partner = self._partner()
            return self._client(partner).blob(checksum, MAX_BLOB_BYTES)
        except IssueSyncError as exc:
            log.info("relation %s: blob %s cannot be fetched: %s", self.config.key, checksum, exc)
            return None

    def close(self) -> None:
        """Close the connections to the partner."""
        if self._memory.client is not None:
            self._memory.client.close()
            self._memory.client = None

    def _take(self, client: NodeClient, relation: RelationRow, documents: list[object]) -> int:
        """Record a page of sync events in the receive queue, then acknowledge them."""
        now = now_ms()
        events: list[ReceivedEvent] = []
        refused: list[tuple[int, Message, str]] = []
        for document in documents:
            try:
                event = read_sync_event(document, relation.name)
            except InvalidMessageError as exc:
                # Not ours to record (no message to keep): reported, left with the partner.
                self._warn(f"The partner sent a sync event this node cannot read: {exc.message}")
                continue
            problem = self._refusal(event.message)
            if problem:
                refused.append((event.event_id, event.message, problem))
            else:
                events.append(event)
        ready, parked = self._fetch_blobs(client, relation, events, now)
        # Sealed (serialized) before the write transaction: it holds SQLite's write turn.
        arrivals = [queues.Arrival(queues.Sealed.of(e.message)) for e in ready]
        arrivals += [
            queues.Arrival(queues.Sealed.of(e.message), ReceiveState.ERROR, reason)
            for e, reason in parked
        ]
        arrivals += [
            queues.Arrival(queues.Sealed.of(message), ReceiveState.INVALID, reason)
            for _, message, reason in refused
        ]
        taken = [e.event_id for e in ready] + [e.event_id for e, _ in parked]
        taken += [event_id for event_id, _, _ in refused]
        if arrivals:
            with self.uow_factory() as uow:
                queues.add_arrivals(uow.session, self.config.id, arrivals, now)
                uow.commit()
        if taken:
            client.post("syncevents/acknowledgements", {"syncEventIds": taken})
        return len(taken)

    def _refusal(self, message: Message) -> str | None:
        config = self.config
        if not addressed_to(message.to_connector, config.key, config.project_key):
            return f"addressed to connector '{message.to_connector}', not '{config.key}'"
        return None

    def _fetch_blobs(
        self, client: NodeClient, relation: RelationRow, events: list[ReceivedEvent], now: int
    ) -> tuple[list[ReceivedEvent], list[tuple[ReceivedEvent, str]]]:
        """Fetch the events' missing blobs; the events ready, and those parked for good."""
        failures = self._failures(relation.id, events)
        ready: list[ReceivedEvent] = []
        parked: list[tuple[ReceivedEvent, str]] = []
        for event in events:
            problem: str | None = None
            for blob in event.message.blob_metadata_list:
                if self.blobs.has(blob.checksum):
                    continue
                failure = failures.get((event.message.id, blob.checksum))
                if failure is not None and failure.next_attempt_ms > now and not failure.parked:
                    problem = "waiting"
                    break
                try:
                    content = client.blob(blob.checksum, blob.size)
                except ConfigurationError as exc:  # the partner does not offer it (now)
                    actual, text = "", f"Blob id '{blob.blob_id}' is not available: {exc.message}"
                else:
                    actual = hashlib.sha256(content).hexdigest()
                    if actual == blob.checksum and len(content) == blob.size:
                        self.blobs.put(content)
                        continue
                    text = checksum_mismatch_text(blob.blob_id, blob.checksum, actual)
                attempts = self._blob_failed(
                    relation.id, event, (blob.blob_id, blob.checksum, actual, text), now
                )
                problem = text if attempts >= BLOB_ATTEMPTS else "waiting"
                break
            if problem is None:
                ready.append(event)
            elif problem != "waiting":
                parked.append((event, problem))
        return ready, parked

    def _failures(
        self, relation_id: int, events: list[ReceivedEvent]
    ) -> dict[tuple[str, str], BlobFailureRow]:
        uuids = [e.message.id for e in events if e.message.blob_metadata_list]
        if not uuids:
            return {}
        with self.uow_factory(readonly=True) as uow:
            rows = list(
                uow.session.scalars(
                    select(BlobFailureRow).where(
                        BlobFailureRow.relation_id == relation_id,
                        BlobFailureRow.message_uuid.in_(uuids),
                    )
                )
            )
            for row in rows:
                uow.session.expunge(row)
        return {(row.message_uuid, row.checksum): row for row in rows}

    def _blob_failed(
        self,
        relation_id: int,
        event: ReceivedEvent,
        failed: tuple[str, str, str, str],
        now: int,
    ) -> int:
        """Count a failed fetch (blob id, checksum, what came, the text); returns the
        attempts so far."""
        blob_id, checksum, actual, text = failed
        with self.uow_factory() as uow:
            row = uow.session.scalar(
                select(BlobFailureRow).where(
                    BlobFailureRow.relation_id == relation_id,
                    BlobFailureRow.message_uuid == event.message.id,
                    BlobFailureRow.checksum == checksum,
                )
            )
            if row is None:
                row = BlobFailureRow(
                    relation_id=relation_id,
                    message_uuid=event.message.id,
                    sync_event_id=event.event_id,
                    source_issue_key=event.message.source_issue_key,
                    blob_id=blob_id,
                    checksum=checksum,
                    attempts=0,
                    created_ms=now,
                )
                uow.session.add(row)
            row.attempts += 1
            row.actual = actual[:128]
            row.message = text
            row.parked = row.attempts >= BLOB_ATTEMPTS
            row.next_attempt_ms = now + BLOB_BACKOFF_MS * 2 ** min(row.attempts - 1, 10)
            row.updated_ms = now
            attempts = row.attempts
            uow.commit()
        log.warning("relation %s: %s (attempt %d)", self.config.key, text, attempts)
        return attempts

    def _nudge_partner(self, client: NodeClient) -> None:
        """Tell the partner there is something to pull, when there is something new."""
        with self.uow_factory(readonly=True) as uow:
            newest = uow.session.scalar(
                select(MessageRow.id)
                .where(
                    MessageRow.connector_id == self.config.id,
                    MessageRow.queue == queues.SEND,
                    MessageRow.state == SendState.NEW.value,
                )
                .order_by(MessageRow.id.desc())
                .limit(1)
            )
        if newest is None or newest <= self._memory.nudged_up_to:
            return
        try:
            client.post("nudges", {}, timeout=NUDGE_TIMEOUT_S)
        except IssueSyncError as exc:  # a nudge only saves time: the partner pulls anyway
            log.debug("relation %s: the nudge failed: %s", self.config.key, exc.message)
            return
        self._memory.nudged_up_to = newest

    def _read_partner_errors(self, client: NodeClient, relation: RelationRow) -> None:
        """Note what the partner says failed there, for this node's status (every 15 s)."""
        now = now_ms()
        if now - self._memory.errors_read_ms < ERRORS_READ_MS:
            return
        self._memory.errors_read_ms = now
        errors = client.get("syncrequests/errorresponses")
        blob_errors = client.get("syncrequests/bloberrorresponses")
        found = [e for e in (errors or []) + (blob_errors or []) if isinstance(e, dict)]
        first = ""
        if found:
            item = found[0]
            first = str(item.get("message") or item.get("errorMessage") or "")[:1000]
        if len(found) == relation.partner_errors and first == relation.partner_error:
            return
        with self.uow_factory() as uow:
            uow.session.execute(
                update(RelationRow)
                .where(RelationRow.id == relation.id)
                .values(partner_errors=len(found), partner_error=first)
            )
            uow.commit()

    def _contact(self, relation_id: int) -> None:
        """Store that the partner answered (at most every 10 s while nothing changes)."""
        now = now_ms()
        written = self._memory.contact_written_ms
        if written >= 0 and now - written < CONTACT_WRITE_MS:
            return
        with self.uow_factory() as uow:
            uow.session.execute(
                update(RelationRow)
                .where(RelationRow.id == relation_id)
                .values(last_contact_ms=now, online=True, last_failure="")
            )
            uow.commit()
        self._memory.contact_written_ms = now

    def _lost(self, relation_id: int, reason: str) -> None:
        """Store that the partner does not answer (once, until it answers again)."""
        if self._memory.contact_written_ms == -1:
            return
        with self.uow_factory() as uow:
            uow.session.execute(
                update(RelationRow)
                .where(RelationRow.id == relation_id)
                .values(online=False, last_failure=reason[:2000])
            )
            uow.commit()
        self._memory.contact_written_ms = -1  # the next answer is stored at once

    def _broken(self, relation_id: int, reason: str) -> None:
        with self.uow_factory() as uow:
            uow.session.execute(
                update(RelationRow)
                .where(RelationRow.id == relation_id, RelationRow.state == RelationState.ACTIVE)
                .values(state=RelationState.BROKEN.value, reason=reason, modified_ms=now_ms())
            )
            uow.commit()

    def _warn(self, text: str) -> None:
        if text not in self._memory.failed:
            self._memory.failed.add(text)
            log.warning("relation %s: %s", self.config.key, text)


def offer_blobs(session: Session, connector_id: int, messages: Sequence[Message], now: int) -> None:
    """Record the content these messages need, which the partner may then fetch."""
    checksums = sorted({b.checksum for m in messages for b in m.blob_metadata_list})
    if not checksums:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(OutboundBlobRow).on_conflict_do_nothing(
        index_elements=[OutboundBlobRow.connector_id, OutboundBlobRow.checksum]
    )
    session.execute(
        statement,
        [{"connector_id": connector_id, "checksum": c, "created_ms": now} for c in checksums],
    )
