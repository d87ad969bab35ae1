"""Transports carry messages (and their blobs) from one connector to the other.

``vm``: both connectors live in this issuesync; a message goes straight into
the partner's receive queue, in the sender's transaction. ``file``: see
``engine/transports/file.py``. Blobs (attachment content) are content-addressed
by sha256 and checked against the message's checksum when they are read.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from issuesync.domain.message import Message
from issuesync.engine.connectors import ConnectorConfig
from issuesync.engine.transports import queues
from issuesync.errors import BlobMissingError, ChecksumMismatchError
from issuesync.store.blobs import BlobStore

# Blobs are checked by the trackers' own limits; the transit area takes what they gave.
_NO_LIMIT = 2**62


class BlobArea:
    """Attachment content in transit, addressed by sha256."""

    def __init__(self, root: Path) -> None:
        self.store = BlobStore(root, _NO_LIMIT)

    def put(self, content: bytes) -> str:
        """Store content; returns its sha256."""
        digest, _ = self.store.put(io.BytesIO(content))
        return digest

    def has(self, checksum: str) -> bool:
        """Whether this content is here."""
        return self.store.exists(checksum)

    def read(self, checksum: str) -> bytes:
        """Content by its sha256, verified; a mismatch or a missing blob is refused."""
        if not self.store.exists(checksum):
            raise BlobMissingError(f"Blob {checksum} has not arrived (yet).")
        with self.store.open(checksum) as source:
            content = source.read()
        actual = hashlib.sha256(content).hexdigest()
        if actual != checksum:
            raise ChecksumMismatchError(
                f"Checksums for blob '{checksum}' do not match. Expected: {checksum} Was: {actual}"
            )
        return content


class Transport(Protocol):
    """How a connector's messages reach its partner."""

    kind: str
    blobs: BlobArea

    def deliver(
        self, session: Session, sender_id: int, partner_id: int, message: Message, now: int
    ) -> None:
        """Put ``message`` (made in this transaction) on its way, in the sender's transaction."""
        ...

    def deliver_many(
        self,
        session: Session,
        sender_id: int,
        partner_id: int,
        messages: Sequence[queues.Sealed],
        now: int,
    ) -> None:
        """:meth:`deliver` for many messages at once."""
        ...


class TransportFactory(Protocol):
    """Gives a route its transport, carrying attachment content through ``blobs``
    (``factory.QueueTransports`` is the one issuesync uses)."""

    def __call__(self, config: ConnectorConfig, blobs: BlobArea, /) -> Transport:
        """The transport of ``config``'s routes."""
        ...


class VmTransport:
    """In-process delivery through the store: the partner's receive queue gets the message."""

    kind = "vm"

    def __init__(self, blobs: BlobArea) -> None:
        self.blobs = blobs

    def deliver(
        self, session: Session, sender_id: int, partner_id: int, message: Message, now: int
    ) -> None:
        """Insert the message into the partner's receive queue."""
        del sender_id  # nothing waits in the sender's send queue
        queues.add_received(session, partner_id, message, now, fresh=True)

    def deliver_many(
        self,
        session: Session,
        sender_id: int,
        partner_id: int,
        messages: Sequence[queues.Sealed],
        now: int,
    ) -> None:
        """Insert the messages into the partner's receive queue, in one statement."""
        del sender_id
        queues.add_many(session, partner_id, queues.RECEIVE, messages, now)
