"""The ``file`` transport: messages as ``.bac`` files in Backbone's folders (seed 002).

Each connector has its folder of ``SEND`` and ``RECEIVE`` folders (``folders.py``
draws it). A connector's send queue path and its partner's receive queue path
name one exchange folder, relative to ``<home>/data/default`` or absolute (two
homes sharing a folder). Attachment content travels beside the messages, in
``<exchange>/blobs/<sha256>``, and is copied there before the message.

The database is the index. :meth:`FileTransport.deliver` only adds a send row
in the sender's transaction, so a crash before the commit leaves nothing on
disk. :meth:`FileTransport.pump` then makes the files follow the rows. A file's
name comes from its message and its folder from its state, so a step redone
after a crash overwrites the same file, and the receiver drops a second copy by
uuid.

A pump does three jobs, each in its module: ``outbox.py`` writes the send
queue's files and hands them over, ``inbox.py`` takes arrived files in and
indexes them, ``filing.py`` moves files after their rows' states and prunes
them; this module is the transport the engine calls and the pump's order.

What the engine touches. Each pump first resolves the queue folders (symlinks
followed) and stops, touching nothing, when one is outside the queue roots
(:class:`~issuesync.engine.connectors.QueuePlaces`); it then works on the
resolved folders only, through ``fileops.py`` (no symlink followed, no half
file, ``0600``/``0700``). Only its own regular files are moved: its messages,
its blobs (``blobs/<sha256>``, verified) and its temporary files. Anything else
(another name, a symlink, a folder, a FIFO, a device) stays where it is and is
reported: in the route's status, in one warning per entry, and by ``messages
list --state invalid``. A file with a message's name whose content is not a
message for this connector is ours by its name: it is set aside in
``RECEIVE/invalid`` with a ``.reason.txt``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from issuesync.domain.message import Message
from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports import queues
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.fileops import resolved
from issuesync.engine.transports.filing import Follower
from issuesync.engine.transports.folders import (
    InvalidFile,
    QueueFolders,
    connector_folder,
    list_invalid,
)
from issuesync.engine.transports.inbox import index, take_in
from issuesync.engine.transports.outbox import send
from issuesync.errors import ConfigurationError
from issuesync.store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

_MAX_LEFT_SHOWN = 10  # entries left in a folder that the route's status names
_MAX_STATUS = 2000  # characters of the status that the pump writes


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
        self.home = home
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

    def _report(self, problems: list[str]) -> None:
        """Warn once per problem and per entry left in place; raise them for the status."""
        left = [entry for entries in self.folders.left.values() for entry in entries]
        current = {f"{entry.path} ({entry.what})" for entry in left} | set(problems)
        for text in sorted(current - self._warned):
            if text in problems:
                log.warning("file queue of %s: %s", self.config.key, text)
            else:
                log.warning(
                    "file queue of %s: %s is not the engine's: left where it is",
                    self.config.key,
                    text,
                )
        self._warned = current
        if not problems and not left:
            return
        parts = list(dict.fromkeys(problems))
        if left:
            shown = ", ".join(f"{e.path} ({e.what})" for e in left[:_MAX_LEFT_SHOWN])
            more = f" and {len(left) - _MAX_LEFT_SHOWN} more" if len(left) > _MAX_LEFT_SHOWN else ""
            parts.append(
                f"Left where they are, not the engine's ({len(left)}): {shown}{more}. "
                "Only files named <issueKey>_<sequenceId>_<uuid>.bac are taken in; "
                "remove the others"
            )
        text = "; ".join(parts)
        if len(text) > _MAX_STATUS:
            text = text[: _MAX_STATUS - 1] + "…"
        raise ConfigurationError(text)
