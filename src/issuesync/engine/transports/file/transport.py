"""The ``file`` transport: what the engine calls (deliver, pump), and the pump's order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from issuesync.domain.message import Message
from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports import queues
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.file.disk import resolved
from issuesync.engine.transports.file.folders import QueueFolders
from issuesync.engine.transports.file.following import Follower
from issuesync.engine.transports.file.invalid import InvalidFile, list_invalid, report
from issuesync.engine.transports.file.layout import connector_folder
from issuesync.engine.transports.file.receiving import index, take_in
from issuesync.engine.transports.file.sending import send
from issuesync.store.uow import UnitOfWorkFactory


class FileTransport:
    """Messages and blobs through folders; ``pump`` moves them each engine tick."""

    kind = "file"

    def __init__(
        self,
        home: Path,
        config: ConnectorConfig,
        blobs: BlobArea,
        uow_factory: UnitOfWorkFactory,
        *,
        roots: Sequence[Path] = (),
        batch_size: int = 500,
        lookback_ms: int = 60_000,
        reconcile_ms: int = 600_000,
    ) -> None:
        self.config = config
        self.blobs = blobs
        places = QueuePlaces.of(home, roots)
        self.folders = QueueFolders(
            config,
            blobs,
            uow_factory,
            places,
            batch_size,
            folder=connector_folder(home, config),
            data=places.data,
        )
        self.follower = Follower(lookback_ms, reconcile_ms)
        self._warned: set[str] = set()  # what was warned about, not to warn again

    def deliver(
        self, session: Session, sender_id: int, partner_id: int, message: Message, now: int
    ) -> None:
        """Add the message to the sender's send queue; :meth:`pump` writes the file."""
        del partner_id  # the partner takes the file from the exchange folder
        queues.add_sent(session, sender_id, message, now)

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

    def list_invalid(self) -> list[InvalidFile]:
        """The files this connector refused, with their reasons, and what it left in place."""
        return list_invalid(self.folders.places, self.config)

    def pump(self) -> int:
        """Send new messages, take in arrived ones, move files after their states.

        Returns how many files moved. A queue folder outside the queue roots is
        raised as a :class:`ConfigurationError` before anything is touched; what
        could not be done, and what was left in place, is raised once the rest is
        done (the engine shows it in the route's status).
        """
        folders = self.folders
        stopped = self._locate_folders()
        if stopped is not None:
            folders.left.clear()  # not looked at: a folder outside the roots is not even read
            self._report([stopped])
        problems: list[str] = []
        touched: set[tuple[str, str]] = set()
        moved = send(folders, problems) if folders.outbox is not None else 0
        if folders.inbox is not None:
            moved += take_in(folders, problems)
            moved += index(folders, touched, problems)
            moved += self.follower.follow(folders, touched, problems)
        self._report(problems)
        return moved

    def _report(self, problems: list[str]) -> None:
        left = [entry for entries in self.folders.left.values() for entry in entries]
        report(self.config.key, problems, left, self._warned)

    def _locate_folders(self) -> str | None:
        """Resolve the connector's folders, symlinks followed; why they stop, if they do."""
        folders = self.folders
        folders.outbox = folders.inbox = None
        if not folders.places.inside(folders.folder, folders.places.data):
            return (
                f"The folder of {self.config.key} ({folders.folder}) is not inside the data "
                f"folder {folders.places.data} (symbolic links followed): the file queues stop."
            )
        found: list[Path | None] = []
        for label, queue in (
            ("send queue", self.config.send_queue),
            ("receive queue", self.config.receive_queue),
        ):
            if queue.type != "file" or not queue.path:
                found.append(None)
                continue
            real, problem = folders.places.locate(queue.path)
            if real is None:
                return (
                    f"The {label} of {self.config.key} is stopped: {problem}. Nothing in it "
                    "is created, moved or deleted until it is allowed again."
                )
            found.append(real)
        folders.folder = resolved(folders.folder)
        folders.data = resolved(folders.places.data)
        folders.outbox, folders.inbox = found
        return None
