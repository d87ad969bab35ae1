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

import contextlib
import errno
import logging
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from issuesync.domain.integration import connector_key_base
from issuesync.domain.message import InvalidMessageError, Message, ReceiveState, SendState
from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports import queues
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.fileops import (
    FILE_MODE,
    copy_verified,
    is_folder,
    is_regular,
    make_folders,
    move,
    read_regular,
    remove,
    resolved,
    sha256_of,
    write_atomic,
)
from issuesync.engine.transports.folders import (
    BLOBS,
    EXCHANGE_FOLDERS,
    MAX_ISSUE_KEY,
    REASON_SUFFIX,
    RECEIVE,
    RECEIVE_FOLDERS,
    SEND,
    SEND_ERROR,
    SHA256,
    STATE_FOLDERS,
    InvalidFile,
    Left,
    connector_folder,
    folder_for,
    is_temporary,
    list_invalid,
    message_file_name,
    parse_name,
    path_component,
    survey,
    unused_path,
)
from issuesync.errors import ConfigurationError
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageBody, MessageRow
from issuesync.store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

# Folders people may empty by hand (seed 002), and that retention prunes: a file
# missing there is not written again.
_DISPOSABLE = frozenset({ReceiveState.ARCHIVE, ReceiveState.DISCARD})
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # attachments travel as blobs, never inside a message
_MAX_LEFT_SHOWN = 10  # entries left in a folder that the route's status names
_MAX_STATUS = 2000  # characters of the status that the pump writes


# --- the transport ---------------------------------------------------------------------------


def addressed_to(to_connector: str, connector_key: str, project_key: str) -> bool:
    """Whether a message is for this connector.

    The two halves of a distributed integration live on two issuesync nodes,
    and each numbers its connectors itself: a node knows its partner's
    connector only by project, so ``PB-7`` from the partner means our ``PB-2``.
    """
    if to_connector == connector_key:
        return True
    project, _, number = to_connector.rpartition("-")
    return project == connector_key_base(project_key) and number.isdigit()


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
        self.uow_factory = uow_factory
        self.places = QueuePlaces.of(home, roots)
        self.batch_size = batch_size
        self.lookback_ms = lookback_ms
        self.reconcile_ms = reconcile_ms
        self.folder = connector_folder(home, config)
        # The queue folders, symlinks resolved and checked by each pump before any use.
        self.outbox: Path | None = None
        self.inbox: Path | None = None
        self._data = self.places.data
        # Files in RECEIVE known to be indexed (row exists): not parsed again each pump.
        self._indexed: set[str] = set()
        self._watermark: int | None = None  # newest ``updated_ms`` the follow step has seen
        self._reconciled_ms = 0
        # What is not the engine's, by folder role, as last looked at; what was warned about.
        self._left: dict[str, list[Left]] = {}
        self._warned: set[str] = set()

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
        return list_invalid(self.places, self.config)

    def pump(self) -> int:
        """Send new messages, take in arrived ones, move files after their states.

        Returns how many files moved. A queue folder outside the queue roots is
        raised as a :class:`ConfigurationError` before anything is touched; what
        could not be done, and what was left in place, is raised once the rest is
        done (the engine shows it in the route's status).
        """
        stopped = self._locate_folders()
        if stopped is not None:
            self._left.clear()  # not looked at: a folder outside the roots is not even read
            self._report([stopped])
        problems: list[str] = []
        touched: set[tuple[str, str]] = set()
        moved = self._send(problems) if self.outbox is not None else 0
        if self.inbox is not None:
            moved += self._take_in(problems)
            moved += self._index(touched, problems)
            moved += self._follow(touched, problems)
        self._report(problems)
        return moved

    def _locate_folders(self) -> str | None:
        """Resolve the connector's folders, symlinks followed; why they stop, if they do."""
        self.outbox = self.inbox = None
        if not self.places.inside(self.folder, self.places.data):
            return (
                f"The folder of {self.config.key} ({self.folder}) is not inside the data "
                f"folder {self.places.data} (symbolic links followed): the file queues stop."
            )
        found: list[Path | None] = []
        for label, queue in (
            ("send queue", self.config.send_queue),
            ("receive queue", self.config.receive_queue),
        ):
            if queue.type != "file" or not queue.path:
                found.append(None)
                continue
            real, problem = self.places.locate(queue.path)
            if real is None:
                return (
                    f"The {label} of {self.config.key} is stopped: {problem}. Nothing in it "
                    "is created, moved or deleted until it is allowed again."
                )
            found.append(real)
        self.folder = resolved(self.folder)
        self._data = resolved(self.places.data)
        self.outbox, self.inbox = found
        return None

    def _shared(self, folder: Path) -> bool:
        """Whether an exchange folder may be shared with another node (outside the data folder)."""
        return not folder.is_relative_to(self._data)

    def _file_mode(self, folder: Path) -> int:
        """``0600``; in a shared exchange folder plus its group's read and write, never others'."""
        return FILE_MODE | (folder.stat().st_mode & 0o060 if self._shared(folder) else 0)

    def _report(self, problems: list[str]) -> None:
        """Warn once per problem and per entry left in place; raise them for the status."""
        left = [entry for entries in self._left.values() for entry in entries]
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

    def _load(self, query: Select[MessageRow]) -> list[MessageRow]:
        """A batch of rows, still readable after the read-only unit of work ends."""
        with self.uow_factory(readonly=True) as uow:
            rows = list(uow.session.scalars(query.limit(self.batch_size)))
            uow.session.expunge_all()  # its rollback would expire them otherwise
        return rows

    # -- 1. outbound ---------------------------------------------------------------------------

    def _send(self, problems: list[str]) -> int:
        query = _rows(self.config.id, queues.SEND).where(MessageRow.state == SendState.NEW)
        rows = self._load(query.options(selectinload(MessageRow.content)))
        if not rows:
            return 0
        failures = {
            row.id: self._send_one(
                message_file_name(row.issue_key, row.sequence_id, row.uuid), row.body
            )
            for row in rows
        }
        with self.uow_factory() as uow:
            now = now_ms()
            for row_id, failure in failures.items():
                row = uow.session.get(MessageRow, row_id)
                if row is None or row.state != SendState.NEW:
                    continue
                state = SendState.SENT if failure is None else SendState.ERROR
                queues.set_state(row, state, now, failure)
            uow.commit()
        problems.extend(failure for failure in failures.values() if failure)
        return sum(1 for failure in failures.values() if failure is None)

    def _send_one(self, name: str, body: str) -> str | None:
        """Write, attach blobs, hand over; the reason it failed, or None."""
        assert self.outbox is not None
        staged = self.folder / SEND / name
        try:
            message = Message.loads(body)
            make_folders(self.outbox, shared=self._shared(self.outbox))
            # Made with the exchange folder's group permissions: the rename keeps them.
            write_atomic(staged, body.encode(), mode=self._file_mode(self.outbox))
            for blob in message.blob_metadata_list:
                self._push_blob(blob.checksum)
            move(staged, self.outbox / name)
        except (OSError, InvalidMessageError) as exc:
            parked = self.folder / SEND_ERROR / name  # where a person sees it, as in Backbone
            with contextlib.suppress(OSError):
                if is_regular(staged):
                    move(staged, parked)
                else:
                    write_atomic(parked, body.encode())
            return f"The message could not be written to the folder {self.outbox}: {exc}"
        with contextlib.suppress(OSError):
            remove(self.folder / SEND_ERROR / name)
        return None

    def _push_blob(self, checksum: str) -> None:
        assert self.outbox is not None
        folder = self.outbox / BLOBS
        target = folder / checksum
        if not SHA256.match(checksum):
            return
        make_folders(folder, shared=self._shared(folder))
        if os.path.lexists(target):
            return  # already there (or something else is in the way: the partner will say)
        source = self.blobs.store.path(checksum)
        if not is_regular(source):
            log.warning("blob %s is not in the transit area; the partner will wait", checksum)
        elif not copy_verified(source, target, checksum, mode=self._file_mode(folder)):
            log.warning("blob %s in the transit area does not match its checksum", checksum)

    # -- 2. inbound ----------------------------------------------------------------------------

    def _take_in(self, problems: list[str]) -> int:
        """Move arrived message files from the exchange folder into RECEIVE."""
        assert self.inbox is not None
        self._left["inbox"] = []
        try:
            make_folders(self.inbox, shared=self._shared(self.inbox))
            arrived, self._left["inbox"] = survey(self.inbox, folders=EXCHANGE_FOLDERS)
        except OSError as exc:
            problems.append(f"The receive folder {self.inbox} cannot be used: {exc}")
            return 0
        moved = 0
        for path in arrived[: self.batch_size]:
            try:
                move(path, self.folder / RECEIVE / path.name)
                moved += 1
            except OSError as exc:
                problems.append(f"The file {path} cannot be taken in: {exc}")
        return moved

    def _index(self, touched: set[tuple[str, str]], problems: list[str]) -> int:
        """Record RECEIVE's new files in the receive queue; refuse what is not a message."""
        try:
            found, self._left[RECEIVE] = survey(self.folder / RECEIVE, folders=RECEIVE_FOLDERS)
        except OSError as exc:
            problems.append(f"The folder {self.folder / RECEIVE} cannot be read: {exc}")
            return 0
        waiting = [p for p in found if p.name not in self._indexed]
        moved = 0
        arrived: list[tuple[str, Message]] = []
        for path in waiting[: self.batch_size]:
            try:
                message, problem = self._read(path)
                if message is None:
                    self._refuse(path, problem)
                    moved += 1
                    continue
                self._pull_blobs(message)
                name = message_file_name(message.source_issue_key, message.sequence_id, message.id)
                if path.name != name:
                    move(path, path.with_name(name))
                arrived.append((name, message))
            except OSError as exc:
                problems.append(f"The received file {path} cannot be read: {exc}")
        if not arrived:
            return moved
        states: list[str] = []
        with self.uow_factory() as uow:
            now = now_ms()
            for _, message in arrived:
                state = uow.session.scalar(
                    select(MessageRow.state).where(
                        MessageRow.connector_id == self.config.id,
                        MessageRow.queue == queues.RECEIVE,
                        MessageRow.uuid == message.id,
                    )
                )
                if state is None:
                    queues.add_received(uow.session, self.config.id, message, now)
                    moved += 1
                states.append(state or ReceiveState.NEW)
            uow.commit()
        for (name, message), state in zip(arrived, states, strict=True):
            # A second copy of a message already indexed follows the first one's state.
            stray = self.folder / RECEIVE / name
            try:
                moved += self._place(name, message.source_issue_key, state, touched, stray=stray)
            except OSError as exc:
                problems.append(f"The file {name} cannot follow its state: {exc}")
        return moved

    def _read(self, path: Path) -> tuple[Message | None, str]:
        """The message in a file, or None and why it is refused."""
        content = read_regular(path, _MAX_MESSAGE_BYTES)
        if content is None:
            return None, f"larger than {_MAX_MESSAGE_BYTES} bytes"
        try:
            message = Message.loads(content)
        except InvalidMessageError as exc:
            return None, f"not a message: {exc}"
        problem = self._refusal(message)
        return (None, problem) if problem else (message, "")

    def _refusal(self, message: Message) -> str | None:
        if not addressed_to(message.to_connector, self.config.key, self.config.project_key):
            return f"addressed to connector '{message.to_connector}', not '{self.config.key}'"
        if not _MESSAGE_ID.match(message.id):
            return "id: not a message id (up to 36 letters, digits and '-')"
        if not message.source_issue_key or len(message.source_issue_key) > MAX_ISSUE_KEY:
            return f"sourceIssueKey: must have 1 to {MAX_ISSUE_KEY} characters"
        for blob in message.blob_metadata_list:
            if not SHA256.match(blob.checksum):
                return f"blobMetadataList: checksum '{blob.checksum}' is not a sha256"
        return None

    def _refuse(self, path: Path, reason: str) -> None:
        """Set a file with a message's name, but not a message for us, aside in ``invalid``."""
        target = unused_path(self.folder / STATE_FOLDERS[ReceiveState.INVALID] / path.name)
        write_atomic(target.with_name(target.name + REASON_SUFFIX), f"{reason}\n".encode())
        move(path, target)
        log.warning(
            "%s is not a message for %s (%s): moved to %s", path, self.config.key, reason, target
        )

    def _pull_blobs(self, message: Message) -> None:
        """Copy a message's blobs into this side's area; a missing one is retried later."""
        assert self.inbox is not None
        folder = self.inbox / BLOBS
        if not is_folder(folder):
            return  # none arrived (a symlink in its place is reported, never followed)
        for blob in message.blob_metadata_list:
            source = folder / blob.checksum
            if not is_regular(source):
                continue  # the incoming route refuses the message until it arrives
            if self.blobs.has(blob.checksum):
                verified = sha256_of(source) == blob.checksum
            else:
                # The transit area may be a symlink to another disk: its real folder.
                area = resolved(self.blobs.store.path(blob.checksum))
                verified = copy_verified(source, area, blob.checksum)
            if not verified:
                log.warning("blob %s does not match its checksum; left where it is", source)
                continue
            # Only this connector reads this exchange folder, and the content is now here.
            remove(source)

    # -- 3. follow the states ------------------------------------------------------------------

    def _follow(self, touched: set[tuple[str, str]], problems: list[str]) -> int:
        """Move files of receive rows whose state changed; all rows now and then."""
        now = now_ms()
        full = self._watermark is None or now - self._reconciled_ms >= self.reconcile_ms
        since = None if full or self._watermark is None else self._watermark - self.lookback_ms
        moved, newest, after = 0, self._watermark or 0, 0
        while True:
            query = _rows(self.config.id, queues.RECEIVE).where(MessageRow.id > after)
            if since is not None:
                query = query.where(MessageRow.updated_ms >= since)
            rows = self._load(query)  # without their bodies
            for row in rows:
                newest = max(newest, min(row.updated_ms, now))
                name = message_file_name(row.issue_key, row.sequence_id, row.uuid)
                try:
                    moved += self._place(name, row.issue_key, row.state, touched, row_id=row.id)
                except OSError as exc:
                    problems.append(f"The file {name} cannot follow its state: {exc}")
            if len(rows) < self.batch_size:
                break
            after = rows[-1].id
        self._watermark = newest
        if full:
            self._reconciled_ms = now
            self._clean_temporary()
        self._prune(touched, everything=full)
        return moved

    def _place(
        self,
        name: str,
        issue_key: str,
        state: str,
        touched: set[tuple[str, str]],
        row_id: int | None = None,
        *,
        stray: Path | None = None,
    ) -> int:
        """Put a received message's file in the folder of its state; 1 if it moved.

        ``row_id`` lets a file deleted by hand be written again from the row;
        ``stray`` is a second copy that goes away when the file is in place.
        """
        if state not in STATE_FOLDERS:
            return 0
        target = self.folder / folder_for(state, issue_key) / name
        if state == ReceiveState.NEW:
            self._indexed.add(name)
        else:
            self._indexed.discard(name)
        if is_regular(target):
            if stray is not None and stray != target:
                remove(stray)
            return 0
        if os.path.lexists(target):
            raise OSError(errno.EEXIST, "something that is not the engine's is in the way", target)
        candidates = (self.folder / folder_for(s, issue_key) / name for s in ReceiveState)
        source = next((path for path in candidates if is_regular(path)), None)
        if source is not None:
            move(source, target)
        elif state in _DISPOSABLE or row_id is None:
            return 0
        else:  # deleted by hand while it still matters: the row holds the message
            with self.uow_factory(readonly=True) as uow:
                body = uow.session.scalar(
                    select(MessageBody.body).where(MessageBody.message_id == row_id)
                )
            if body is None:
                return 0
            write_atomic(target, body.encode())
        touched.add((state, path_component(issue_key)))
        return 1

    def _prune(self, touched: set[tuple[str, str]], *, everything: bool) -> None:
        """Keep the newest archived/discarded files per issue, as the rows are kept."""
        advanced = self.config.configuration.advanced
        for state, keep in (
            (ReceiveState.ARCHIVE, advanced.archived_messages_per_issue),
            (ReceiveState.DISCARD, advanced.discarded_messages_per_issue),
        ):
            keys = {key for s, key in touched if s == state}
            if not keys and not everything:
                continue
            folder = self.folder / STATE_FOLDERS[state]
            by_issue: dict[str, list[tuple[int, str]]] = defaultdict(list)
            try:
                found, self._left[state] = survey(folder)
            except OSError:
                continue  # pruned next time; the rows are the index
            for path in found:
                parsed = parse_name(path.name)
                if parsed is not None and (everything or parsed[0] in keys):
                    by_issue[parsed[0]].append((parsed[1], path.name))
            for files in by_issue.values():
                for _, name in sorted(files, reverse=True)[keep:]:
                    with contextlib.suppress(OSError):
                        remove(folder / name)

    def _clean_temporary(self) -> None:
        """Remove temporary files a crash left in folders only this connector writes."""
        folders = [self.folder / SEND, self.folder / SEND_ERROR, self.folder / RECEIVE]
        if self.outbox is not None:
            folders += [self.outbox, self.outbox / BLOBS]
        for folder in folders:
            if not is_folder(folder):
                continue
            with contextlib.suppress(OSError), os.scandir(folder) as entries:
                for entry in entries:
                    if is_temporary(entry.name) and entry.is_file(follow_symlinks=False):
                        remove(folder / entry.name)


def _rows(connector_id: int, queue: str) -> Select[MessageRow]:
    """A connector's messages in one queue, oldest first."""
    return (
        select(MessageRow)
        .where(MessageRow.connector_id == connector_id, MessageRow.queue == queue)
        .order_by(MessageRow.id)
    )
