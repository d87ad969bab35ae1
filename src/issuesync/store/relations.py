"""Tables of the node API (``docs/issuehub.md``): relations, used request tokens, blobs.

A relation is one node's side of an integration split between two issuesync
nodes; its secret (the key both nodes sign their requests with) is encrypted
(``SecretBox``) and never leaves the node. Timestamps are epoch milliseconds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from issuesync.store.base import Base


class RelationRow(Base):
    """This node's side of a relation (Exalate's word for an integration across two nodes)."""

    __tablename__ = "relations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # inviter | acceptor
    state: Mapped[str] = mapped_column(String(16))  # invited | active | revoked | broken
    reason: Mapped[str] = mapped_column(Text, default="")  # why it is revoked or broken
    project_key: Mapped[str] = mapped_column(String(255))
    # The integration and this node's connector, once paired (the relation's core side).
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL"), nullable=True
    )
    connector_id: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    node: Mapped[str] = mapped_column(String(64))  # this node's name in the tokens (iss)
    url: Mapped[str] = mapped_column(String(1024))  # where the partner reaches this node
    partner_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partner_url: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    partner_project_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ca_bundle: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    # The invitation: its one-time token (sha256, hex) and when it expires.
    token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_expires_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    interval: Mapped[str] = mapped_column(String(16), default="5s")
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    last_contact_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_failure: Mapped[str] = mapped_column(Text, default="")
    # What the partner says failed here: its error responses (count, the first one).
    partner_errors: Mapped[int] = mapped_column(Integer, default=0)
    partner_error: Mapped[str] = mapped_column(Text, default="")
    nudged_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    created_user: Mapped[str] = mapped_column(String(255))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    modified_ms: Mapped[int] = mapped_column(BigInteger)


class NodeTokenRow(Base):
    """A request token already used (its ``jti``), kept until it expires: a replay is refused."""

    __tablename__ = "node_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    relation_id: Mapped[int] = mapped_column(ForeignKey("relations.id", ondelete="CASCADE"))
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class OutboundBlobRow(Base):
    """Attachment content a connector's send queue offers its partner node (by sha256)."""

    __tablename__ = "outbound_blobs"
    __table_args__ = (UniqueConstraint("connector_id", "checksum"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer, index=True)
    checksum: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class BlobFailureRow(Base):
    """A blob of the partner's sync event that did not arrive intact: retried, then parked.

    Served to the partner as a blob error response (``syncrequests/bloberrorresponses``).
    """

    __tablename__ = "blob_failures"
    __table_args__ = (UniqueConstraint("relation_id", "message_uuid", "checksum"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    relation_id: Mapped[int] = mapped_column(ForeignKey("relations.id", ondelete="CASCADE"))
    message_uuid: Mapped[str] = mapped_column(String(64))
    sync_event_id: Mapped[int] = mapped_column(BigInteger)  # the partner's id of the event
    source_issue_key: Mapped[str] = mapped_column(String(255))
    blob_id: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    actual: Mapped[str] = mapped_column(String(128), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    parked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
