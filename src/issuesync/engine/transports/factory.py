"""Which transport a route gets: http for a relation's connector (a partner node), the file
transport where a queue is a folder, else vm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from issuesync.engine.connectors import ConnectorConfig
from issuesync.engine.transports.base import BlobArea, Transport, VmTransport
from issuesync.engine.transports.file import FileTransport
from issuesync.engine.transports.nodes.transport import HttpTransport
from issuesync.security import SecretBox
from issuesync.store.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class QueueTransports:
    """The transports of this server's routes: the services' transport factory.

    ``home`` holds the connectors' folders; ``roots`` are where file queues may
    be (``ISSUESYNC_QUEUE_ROOTS``; none: the home's data folder).
    """

    home: Path
    uow_factory: UnitOfWorkFactory
    secrets: SecretBox
    roots: Sequence[Path] = ()

    def __call__(self, config: ConnectorConfig, blobs: BlobArea, /) -> Transport:
        """The transport of ``config``'s routes, carrying blobs through ``blobs``."""
        if config.send_queue.type == "http":
            return HttpTransport(config, blobs, self.uow_factory, self.secrets)
        if "file" in (config.send_queue.type, config.receive_queue.type):
            return FileTransport(self.home, config, blobs, self.uow_factory, roots=self.roots)
        return VmTransport(blobs)
