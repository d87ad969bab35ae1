"""The ``file`` transport: messages as ``.bac`` files in Backbone's folders (seed 002).

Each connector has a folder ``<home>/data/default/<INT-n>/<CONNECTOR-KEY>/``::

    SEND/                      written, not yet handed to the exchange folder
      error/                   could not be handed over (send row in ``error``)
    RECEIVE/                   taken in, waiting to be applied (receive row in ``new``)
      archive/  sequence-error/  offline/  invalid/  discard/
      error/<ISSUE-KEY>/  issue-missing/<ISSUE-KEY>/

A connector's send queue path and its partner's receive queue path name one
exchange folder, relative to ``<home>/data/default`` or absolute (two homes
sharing a folder). Attachment content travels beside the messages, in
``<exchange>/blobs/<sha256>``, and is copied there before the message.

The database is the index. :meth:`FileTransport.deliver` only adds a send row
in the sender's transaction, so a crash before the commit leaves nothing on
disk. :meth:`FileTransport.pump` then makes the files follow the rows. A file's
name comes from its message (``<issueKey>_<sequenceId>_<uuid>.bac``) and its
folder from its state (:func:`folder_for`), so a step redone after a crash
overwrites the same file, and the receiver drops a second copy by uuid.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from issuesync.domain.integration import Queue, connector_key_base
from issuesync.domain.message import InvalidMessageError, Message, ReceiveState, SendState
from issuesync.engine import queues
from issuesync.engine.integrations import ConnectorConfig
from issuesync.engine.transport import BlobArea
from issuesync.errors import ConfigurationError
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageBody, MessageRow
from issuesync.store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

SUFFIX = ".bac"
REASON_SUFFIX = ".reason.txt"
BLOBS = "blobs"
SEND = "SEND"
SEND_ERROR = "SEND/error"
RECEIVE = "RECEIVE"

# The state names are the folder names of seed 002; ``new`` waits in RECEIVE itself.
_STATE_FOLDERS: dict[str, str] = {
    state: RECEIVE if state is ReceiveState.NEW else f"{RECEIVE}/{state}" for state in ReceiveState
}
_PER_ISSUE = frozenset({ReceiveState.ERROR, ReceiveState.ISSUE_MISSING})
# Folders people may empty by hand (seed 002), and that retention prunes: a file
# missing there is not written again.
_DISPOSABLE = frozenset({ReceiveState.ARCHIVE, ReceiveState.DISCARD})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9-]")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_ISSUE_KEY = 64  # the width of sync_messages.issue_key
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # attachments travel as blobs, never inside a message
_CHUNK = 1024 * 1024


# --- where files live ------------------------------------------------------------------------


def data_folder(home: Path) -> Path:
    """``<home>/data/default``: relative queue paths start here."""
    return home / "data" / "default"


def exchange_folder(home: Path, path: str) -> Path:
    """A file queue's folder: ``path`` if absolute, else under :func:`data_folder`."""
    given = Path(path.replace("\\", "/"))
    return given if given.is_absolute() else data_folder(home) / given


def connector_folder(home: Path, config: ConnectorConfig) -> Path:
    """``<home>/data/default/<INT-n>/<CONNECTOR-KEY>``: the connector's SEND and RECEIVE."""
    return data_folder(home) / _safe(config.integration_key) / _safe(config.key)


def _safe(text: str) -> str:
    """A path component for any text: no separators, never ``.`` or ``..``."""
    safe = _UNSAFE.sub("-", text) or "-"
    return f"-{safe[1:]}" if safe.startswith(".") else safe


def message_file_name(issue_key: str, sequence_id: int, message_id: str) -> str:
    """``<issueKey>_<sequenceId>_<uuid>.bac``, the same every time for one message."""
    return f"{_safe(issue_key)}_{sequence_id}_{_UNSAFE_ID.sub('-', message_id)}{SUFFIX}"


def _parse_name(name: str) -> tuple[str, int] | None:
    """The (safe) issue key and sequence id in a message file's name."""
    if not name.endswith(SUFFIX):
        return None
    parts = name[: -len(SUFFIX)].rsplit("_", 2)
    if len(parts) != 3 or not parts[1].isdigit():  # noqa: PLR2004 - key, sequence, uuid
        return None
    return parts[0], int(parts[1])


def folder_for(state: str, issue_key: str) -> PurePosixPath:
    """The folder of a received message in ``state``, relative to the connector's folder."""
    if state not in _STATE_FOLDERS:
        raise ValueError(f"'{state}' is not a receive state")
    folder = PurePosixPath(_STATE_FOLDERS[state])
    return folder / _safe(issue_key) if state in _PER_ISSUE else folder


def _queue_folder(home: Path, queue: Queue) -> Path | None:
    if queue.type != "file" or not queue.path:
        return None
    return exchange_folder(home, queue.path)


def message_path(home: Path, config: ConnectorConfig, row: MessageRow) -> Path | None:
    """Where the file of a message is now; None when it has none (not written, or deleted)."""
    name = message_file_name(row.issue_key, row.sequence_id, row.uuid)
    base = connector_folder(home, config)
    if row.queue == queues.SEND:
        outbox = _queue_folder(home, config.send_queue)
        candidates = [base / SEND / name, base / SEND_ERROR / name]
        candidates += [outbox / name] if outbox is not None else []
    else:
        states = [row.state] if row.state in _STATE_FOLDERS else []
        candidates = [base / folder_for(s, row.issue_key) / name for s in [*states, *ReceiveState]]
    return next((path for path in candidates if path.exists()), None)


@dataclass(frozen=True)
class InvalidFile:
    """A file that came in but is not a message for this connector, and why."""

    name: str
    reason: str
    path: Path


def list_invalid(home: Path, config: ConnectorConfig) -> list[InvalidFile]:
    """The files in ``RECEIVE/invalid`` with the reason each was refused."""
    folder = connector_folder(home, config) / _STATE_FOLDERS[ReceiveState.INVALID]
    found = []
    for path in _files(folder):
        if path.name.endswith(REASON_SUFFIX):
            continue
        sidecar = path.with_name(path.name + REASON_SUFFIX)
        try:
            reason = sidecar.read_text(encoding="utf-8").strip()
        except OSError:
            reason = "unknown (no reason was recorded)"
        found.append(InvalidFile(path.name, reason, path))
    return found


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
        batch_size: int = 500,
        lookback_ms: int = 60_000,
        reconcile_ms: int = 600_000,
    ) -> None:
        self.home = home
        self.config = config
        self.blobs = blobs
        self.uow_factory = uow_factory
        self.batch_size = batch_size
        self.lookback_ms = lookback_ms
        self.reconcile_ms = reconcile_ms
        self.folder = connector_folder(home, config)
        self.outbox = _queue_folder(home, config.send_queue)
        self.inbox = _queue_folder(home, config.receive_queue)
        # Files in RECEIVE known to be indexed (row exists): not parsed again each pump.
        self._indexed: set[str] = set()
        self._watermark: int | None = None  # newest ``updated_ms`` the follow step has seen
        self._reconciled_ms = 0

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
        """The files this connector refused, with their reasons."""
        return list_invalid(self.home, self.config)

    def pump(self) -> int:
        """Send new messages, take in arrived ones, move files after their states.

        Returns how many files moved. A folder that cannot be used is raised as a
        :class:`ConfigurationError` (the engine shows it) when nothing else moved.
        """
        problems: list[str] = []
        touched: set[tuple[str, str]] = set()
        moved = self._send(problems) if self.outbox is not None else 0
        if self.inbox is not None:
            moved += self._take_in(problems)
            moved += self._index(touched, problems)
            moved += self._follow(touched, problems)
        if problems:
            if moved == 0:
                raise ConfigurationError("; ".join(dict.fromkeys(problems)))
            log.warning("file queue of %s: %s", self.config.key, "; ".join(problems))
        return moved

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
            _write_atomic(staged, body.encode())
            for blob in message.blob_metadata_list:
                self._push_blob(blob.checksum)
            _move(staged, self.outbox / name)
        except (OSError, InvalidMessageError) as exc:
            parked = self.folder / SEND_ERROR / name  # where a person sees it, as in Backbone
            with contextlib.suppress(OSError):
                if staged.exists():
                    _move(staged, parked)
                else:
                    _write_atomic(parked, body.encode())
            return f"The message could not be written to the folder {self.outbox}: {exc}"
        with contextlib.suppress(OSError):
            (self.folder / SEND_ERROR / name).unlink(missing_ok=True)
        return None

    def _push_blob(self, checksum: str) -> None:
        assert self.outbox is not None
        target = self.outbox / BLOBS / checksum
        if not _SHA256.match(checksum) or target.exists():
            return
        source = self.blobs.store.path(checksum)
        if not source.exists():
            log.warning("blob %s is not in the transit area; the partner will wait", checksum)
        elif not _copy_verified(source, target, checksum):
            log.warning("blob %s in the transit area does not match its checksum", checksum)

    # -- 2. inbound ----------------------------------------------------------------------------

    def _take_in(self, problems: list[str]) -> int:
        """Move arrived files from the exchange folder into RECEIVE."""
        assert self.inbox is not None
        moved = 0
        try:
            self.inbox.mkdir(parents=True, exist_ok=True)
            for path in _files(self.inbox)[: self.batch_size]:
                _move(path, self.folder / RECEIVE / path.name)
                moved += 1
        except OSError as exc:
            problems.append(f"The receive folder {self.inbox} cannot be used: {exc}")
        return moved

    def _index(self, touched: set[tuple[str, str]], problems: list[str]) -> int:
        """Record RECEIVE's new files in the receive queue; refuse what is not a message."""
        waiting = [p for p in _files(self.folder / RECEIVE) if p.name not in self._indexed]
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
                    _move(path, path.with_name(name))
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
            moved += self._place(name, message.source_issue_key, state, touched, stray=stray)
        return moved

    def _read(self, path: Path) -> tuple[Message | None, str]:
        """The message in a file, or None and why it is refused."""
        if not path.name.endswith(SUFFIX):
            return None, f"not a '{SUFFIX}' file"
        if path.stat().st_size > _MAX_MESSAGE_BYTES:
            return None, f"larger than {_MAX_MESSAGE_BYTES} bytes"
        try:
            message = Message.loads(path.read_bytes())
        except InvalidMessageError as exc:
            return None, f"not a message: {exc}"
        problem = self._refusal(message)
        return (None, problem) if problem else (message, "")

    def _refusal(self, message: Message) -> str | None:
        if not addressed_to(message.to_connector, self.config.key, self.config.project_key):
            return f"addressed to connector '{message.to_connector}', not '{self.config.key}'"
        if not _MESSAGE_ID.match(message.id):
            return "id: not a message id (up to 36 letters, digits and '-')"
        if not message.source_issue_key or len(message.source_issue_key) > _MAX_ISSUE_KEY:
            return f"sourceIssueKey: must have 1 to {_MAX_ISSUE_KEY} characters"
        for blob in message.blob_metadata_list:
            if not _SHA256.match(blob.checksum):
                return f"blobMetadataList: checksum '{blob.checksum}' is not a sha256"
        return None

    def _refuse(self, path: Path, reason: str) -> None:
        target = _unused(self.folder / _STATE_FOLDERS[ReceiveState.INVALID] / path.name)
        _write_atomic(target.with_name(target.name + REASON_SUFFIX), f"{reason}\n".encode())
        _move(path, target)
        log.warning(
            "%s is not a message for %s (%s): moved to %s", path, self.config.key, reason, target
        )

    def _pull_blobs(self, message: Message) -> None:
        """Copy a message's blobs into this side's area; a missing one is retried later."""
        assert self.inbox is not None
        for blob in message.blob_metadata_list:
            source = self.inbox / BLOBS / blob.checksum
            if not self.blobs.has(blob.checksum):
                if not source.exists():
                    continue  # the incoming route refuses the message until it arrives
                if not _copy_verified(source, self.blobs.store.path(blob.checksum), blob.checksum):
                    log.warning("blob %s does not match its checksum; not taken", source)
                    continue
            # Only this connector reads this exchange folder, and the content is now here.
            source.unlink(missing_ok=True)

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
        if state not in _STATE_FOLDERS:
            return 0
        target = self.folder / folder_for(state, issue_key) / name
        if state == ReceiveState.NEW:
            self._indexed.add(name)
        else:
            self._indexed.discard(name)
        if target.exists():
            if stray is not None and stray != target:
                stray.unlink(missing_ok=True)
            return 0
        candidates = (self.folder / folder_for(s, issue_key) / name for s in ReceiveState)
        source = next((path for path in candidates if path.exists()), None)
        if source is not None:
            _move(source, target)
        elif state in _DISPOSABLE or row_id is None:
            return 0
        else:  # deleted by hand while it still matters: the row holds the message
            with self.uow_factory(readonly=True) as uow:
                body = uow.session.scalar(
                    select(MessageBody.body).where(MessageBody.message_id == row_id)
                )
            if body is None:
                return 0
            _write_atomic(target, body.encode())
        touched.add((state, _safe(issue_key)))
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
            folder = self.folder / _STATE_FOLDERS[state]
            by_issue: dict[str, list[tuple[int, str]]] = defaultdict(list)
            for path in _files(folder):
                parsed = _parse_name(path.name)
                if parsed is not None and (everything or parsed[0] in keys):
                    by_issue[parsed[0]].append((parsed[1], path.name))
            for files in by_issue.values():
                for _, name in sorted(files, reverse=True)[keep:]:
                    with contextlib.suppress(OSError):
                        (folder / name).unlink()

    def _clean_temporary(self) -> None:
        """Remove temporary files a crash left in folders only this connector writes."""
        folders = [self.folder / SEND, self.folder / SEND_ERROR, self.folder / RECEIVE]
        if self.outbox is not None:
            folders += [self.outbox, self.outbox / BLOBS]
        for folder in folders:
            with contextlib.suppress(OSError):
                for entry in folder.iterdir():
                    if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                        entry.unlink(missing_ok=True)


def _rows(connector_id: int, queue: str) -> Select[MessageRow]:
    """A connector's messages in one queue, oldest first."""
    return (
        select(MessageRow)
        .where(MessageRow.connector_id == connector_id, MessageRow.queue == queue)
        .order_by(MessageRow.id)
    )


# --- file operations -------------------------------------------------------------------------


def _files(folder: Path) -> list[Path]:
    """Regular files of a folder, oldest first; temporary (dot) files and folders left out."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    found = [
        (entry.stat(follow_symlinks=False).st_mtime_ns, entry.name)
        for entry in entries
        if entry.is_file(follow_symlinks=False) and not entry.name.startswith(".")
    ]
    return [folder / name for _, name in sorted(found)]


def _unused(path: Path) -> Path:
    """``path``, or ``name-1.ext``, ``name-2.ext``…: the first that does not exist."""
    candidate, number = path, 0
    while candidate.exists() or candidate.with_name(candidate.name + REASON_SUFFIX).exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


@contextlib.contextmanager
def _atomic_writer(target: Path) -> Iterator[IO[bytes]]:
    """A file that appears at ``target`` complete and synced, or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _write_atomic(target: Path, content: bytes) -> None:
    with _atomic_writer(target) as out:
        out.write(content)


class _ChecksumMismatchError(Exception):
    """The copied content is not what its name says."""


def _copy_verified(source: Path, target: Path, checksum: str) -> bool:
    """Copy ``source`` to ``target`` atomically if its sha256 is ``checksum``."""
    digest = hashlib.sha256()
    try:
        with source.open("rb") as stream, _atomic_writer(target) as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            if digest.hexdigest() != checksum:
                raise _ChecksumMismatchError  # noqa: TRY301 - it aborts the atomic writer
    except _ChecksumMismatchError:
        return False
    return True


def _move(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` atomically, also across file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        source.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with source.open("rb") as stream, _atomic_writer(target) as out:
            shutil.copyfileobj(stream, out, _CHUNK)
        source.unlink()
        return
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
