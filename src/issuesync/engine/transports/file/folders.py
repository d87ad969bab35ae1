"""One connector's file queues as its pump works on them: the folders, and what it remembers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Select, select

from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.file.disk import FILE_MODE
from issuesync.engine.transports.file.invalid import Left
from issuesync.store.sync import MessageRow
from issuesync.store.uow import UnitOfWorkFactory


@dataclass
class QueueFolders:
    """A connector's queue folders, resolved and checked by each pump before any use, and
    what the pump remembers of them between runs."""

    config: ConnectorConfig
    blobs: BlobArea
    uow_factory: UnitOfWorkFactory
    places: QueuePlaces
    batch_size: int
    folder: Path  # the connector's SEND and RECEIVE
    data: Path  # the data folder
    outbox: Path | None = None  # the send queue's exchange folder
    inbox: Path | None = None  # the receive queue's exchange folder
    # Files in RECEIVE known to be indexed (row exists): not parsed again each pump.
    indexed: set[str] = field(default_factory=set)
    # What is not the engine's, by folder role, as last looked at.
    left: dict[str, list[Left]] = field(default_factory=dict)

    def shared(self, folder: Path) -> bool:
        """Whether an exchange folder may be shared with another node (outside the data folder)."""
        return not folder.is_relative_to(self.data)

    def file_mode(self, folder: Path) -> int:
        """``0600``; in a shared exchange folder plus its group's read and write, never others'."""
        return FILE_MODE | (folder.stat().st_mode & 0o060 if self.shared(folder) else 0)

    def load(self, query: Select[MessageRow]) -> list[MessageRow]:
        """A batch of rows, still readable after the read-only unit of work ends."""
        with self.uow_factory(readonly=True) as uow:
            rows = list(uow.session.scalars(query.limit(self.batch_size)))
            uow.session.expunge_all()  # its rollback would expire them otherwise
        return rows


def queue_rows(connector_id: int, queue: str) -> Select[MessageRow]:
    """A connector's messages in one queue, oldest first."""
    return (
        select(MessageRow)
        .where(MessageRow.connector_id == connector_id, MessageRow.queue == queue)
        .order_by(MessageRow.id)
    )
