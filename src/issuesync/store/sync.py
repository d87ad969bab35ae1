"""Tables of the sync engine: integrations, connectors, their state, messages, sync information.

Timestamps are epoch milliseconds. JSON documents (a connector's configuration,
a shadow, a message body) are stored as text: both databases read them back
the same way and nothing queries inside them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuesync.store.base import Base


class KeyCounter(Base):
    """Counters for human keys: ``integration`` numbers ``INT-n``, ``connector`` ``PA-n``."""

    __tablename__ = "key_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class IntegrationRow(Base):
    """An integration: two connectors kept in step. ``running`` is the wanted state."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    summary: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    running: Mapped[bool] = mapped_column(Boolean, default=False)
    distributed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_user: Mapped[str] = mapped_column(String(255))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    modified_user: Mapped[str] = mapped_column(String(255))
    modified_ms: Mapped[int] = mapped_column(BigInteger)
    # The mappings proposed from both schemas, with reasons and warnings (JSON, see
    # application/proposals.py); None when the user gave the mappings.
    proposal: Mapped[str | None] = mapped_column(Text, nullable=True)


class ConnectorRow(Base):
    """One side of an integration: tracker, connection, project, queues and configuration.

    ``secret`` and ``proxy_secret`` are encrypted (``SecretBox``) and never leave
    the engine. ``configuration`` is the completed seed-001 block as JSON.
    """

    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("integration_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # 1: firstConnector, 2: secondConnector
    number: Mapped[int] = mapped_column(Integer, unique=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    project_key: Mapped[str] = mapped_column(String(255), index=True)
    project_connector_key: Mapped[str] = mapped_column(String(128), unique=True)
    system: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(1024))
    user: Mapped[str | None] = mapped_column(String(255))
    secret: Mapped[str | None] = mapped_column(Text)
    proxy_uri: Mapped[str | None] = mapped_column(String(1024))
    proxy_user: Mapped[str | None] = mapped_column(String(255))
    proxy_secret: Mapped[str | None] = mapped_column(Text)
    send_queue: Mapped[str] = mapped_column(Text)  # JSON: {"@type": "vm"|"file", ...}
    receive_queue: Mapped[str] = mapped_column(Text)
    initial_delay_ms: Mapped[int] = mapped_column(Integer, default=1000)
    polling_interval_ms: Mapped[int] = mapped_column(Integer, default=1000)
    configuration: Mapped[str] = mapped_column(Text)
    created_user: Mapped[str] = mapped_column(String(255))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    modified_user: Mapped[str] = mapped_column(String(255))
    modified_ms: Mapped[int] = mapped_column(BigInteger)


class ConnectorState(Base):
    """What the engine knows about a running connector: its cursor and its routes' health.

    ``cursor`` is a versioned JSON value object (see ``engine/pipeline/cursor.py``); it
    advances in the same transaction as the messages a poll produced.
    ``lease_owner``/``lease_until_ms`` let one worker among several own the
    connector's routes.
    """

    __tablename__ = "connector_states"

    connector_id: Mapped[int] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), primary_key=True
    )
    cursor: Mapped[str | None] = mapped_column(Text)
    start_ms: Mapped[int | None] = mapped_column(BigInteger)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    incoming_status: Mapped[str] = mapped_column(String(16), default="STOPPED")
    outgoing_status: Mapped[str] = mapped_column(String(16), default="STOPPED")
    incoming_processing: Mapped[str] = mapped_column(String(16), default="IDLE")
    outgoing_processing: Mapped[str] = mapped_column(String(16), default="IDLE")
    incoming_details: Mapped[str] = mapped_column(Text, default="")
    outgoing_details: Mapped[str] = mapped_column(Text, default="")
    last_poll_ms: Mapped[int | None] = mapped_column(BigInteger)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until_ms: Mapped[int | None] = mapped_column(BigInteger)


class EngineWorker(Base):
    """A running engine, seen by the others: connectors are shared fairly among the live ones.

    Every engine writes ``seen_ms`` when it reads the integrations (each second);
    one not seen for a lease length is gone, and its leases have run out too.
    """

    __tablename__ = "engine_workers"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_ms: Mapped[int] = mapped_column(BigInteger)
    seen_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class SyncInfo(Base):
    """A local issue and its remote twin, with seed 000's sequence ids and timestamps.

    ``shadow`` is the last state both sides agreed on (canonical field values in
    this side's terms) plus, per field, the ``sequenceId`` of the last message
    that sent it: ``{"fields": {...}, "sent": {"summary": 3}}``.
    """

    __tablename__ = "sync_info"
    __table_args__ = (
        UniqueConstraint("connector_id", "local_issue_key"),
        Index("ix_sync_info_remote", "connector_id", "remote_issue_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    local_issue_key: Mapped[str] = mapped_column(String(64))
    remote_issue_key: Mapped[str | None] = mapped_column(String(64))
    first_sync_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_outgoing_change_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_change_seen_ms: Mapped[int | None] = mapped_column(BigInteger)
    outgoing_sequence_id: Mapped[int] = mapped_column(Integer, default=0)
    last_incoming_change_ms: Mapped[int | None] = mapped_column(BigInteger)
    incoming_sequence_id: Mapped[int] = mapped_column(Integer, default=0)
    incoming_changes_ignored: Mapped[bool] = mapped_column(Boolean, default=False)
    shadow: Mapped[str | None] = mapped_column(Text)


class TraceRow(Base):
    """A comment, attachment or work log of a linked issue and its twin on the other side.

    ``local_id`` is this side's id, ``remote_id`` the partner's (unknown until the
    partner answers); ``digest`` fingerprints what was last agreed (a comment's
    body, an attachment's checksum) so that edits are noticed.
    """

    __tablename__ = "sync_traces"
    __table_args__ = (
        Index("ix_sync_traces_local", "connector_id", "kind", "local_id"),
        Index("ix_sync_traces_remote", "connector_id", "kind", "remote_id"),
        Index("ix_sync_traces_issue", "connector_id", "local_issue_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    local_issue_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    local_id: Mapped[str | None] = mapped_column(String(64))
    remote_id: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[str | None] = mapped_column(String(64))


class MessageRow(Base):
    """A message in a connector's send or receive queue; ``state`` names its folder.

    ``issue_key`` is the key of the issue the message is about on the sending
    side (the receiver's ``remoteIssueKey``). ``body`` is the message's JSON, kept
    in a table of its own (:class:`MessageBody`).
    """

    __tablename__ = "sync_messages"
    __table_args__ = (
        UniqueConstraint("connector_id", "queue", "uuid"),
        Index("ix_sync_messages_state", "connector_id", "queue", "state", "id"),
        Index("ix_sync_messages_issue", "connector_id", "queue", "issue_key", "sequence_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(8))  # "send" | "receive"
    state: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    issue_key: Mapped[str] = mapped_column(String(64))
    sequence_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[MessageBody] = relationship(cascade="all, delete-orphan", passive_deletes=True)

    @property
    def body(self) -> str:
        """The message's JSON (read from its own table when first asked for)."""
        return self.content.body


class MessageBody(Base):
    """A message's JSON, beside its row in ``sync_messages``.

    A message changes state several times; SQLite rewrites a whole row on any
    update, and a create's JSON (with its replica) is several kilobytes over
    overflow pages. Kept apart, a state change rewrites a row of a hundred bytes.
    """

    __tablename__ = "sync_message_bodies"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("sync_messages.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text)


class ConflictRow(Base):
    """A field both sides changed: what each side had, and how it was (or is to be) settled."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_messages.id", ondelete="SET NULL")
    )
    local_issue_key: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(255))
    local_value: Mapped[str | None] = mapped_column(Text)  # JSON
    remote_value: Mapped[str | None] = mapped_column(Text)  # JSON
    winner: Mapped[str | None] = mapped_column(String(16))  # "local" | "remote" | None: open
    created_ms: Mapped[int] = mapped_column(BigInteger)
    resolved_ms: Mapped[int | None] = mapped_column(BigInteger)


class TaskRow(Base):
    """An asynchronous job (start, stop, resync, ...) in the seeds' task shape."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), index=True
    )
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    parameters: Mapped[str] = mapped_column(Text, default="{}")
    start_ms: Mapped[int] = mapped_column(BigInteger)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    failure_message: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    resource_location: Mapped[str | None] = mapped_column(String(1024))
    updated_ms: Mapped[int] = mapped_column(BigInteger)
