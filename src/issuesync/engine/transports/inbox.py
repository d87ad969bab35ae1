"""The file transport's inbox: arrived files are taken from the exchange folder into
``RECEIVE``, read, checked and indexed in the receive queue (once per message uuid), their
blobs pulled and verified; a file with a message's name that is not a message for the
connector is set aside in ``RECEIVE/invalid`` with a ``.reason.txt``."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from sqlalchemy import select

from issuesync.domain.integration import connector_key_base
from issuesync.domain.message import Message, ReceiveState
from issuesync.engine.transports import queues
from issuesync.engine.transports.fileops import (
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
from issuesync.engine.transports.filing import place
from issuesync.engine.transports.folders import (
    BLOBS,
    EXCHANGE_FOLDERS,
    MAX_ISSUE_KEY,
    REASON_SUFFIX,
    RECEIVE,
    RECEIVE_FOLDERS,
    SHA256,
    STATE_FOLDERS,
    QueueFolders,
    message_file_name,
    survey,
    unused_path,
)
from issuesync.errors import InvalidMessageError
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageRow

# The file transport's one logger, whichever of its modules speaks: operators filter on it.
log = logging.getLogger("issuesync.engine.transports.file")

_MESSAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # attachments travel as blobs, never inside a message


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


def take_in(queue: QueueFolders, problems: list[str]) -> int:
    """Move arrived message files from the exchange folder into RECEIVE."""
    inbox = queue.inbox
    assert inbox is not None
    queue.left["inbox"] = []
    try:
        make_folders(inbox, shared=queue.shared(inbox))
        arrived, queue.left["inbox"] = survey(inbox, folders=EXCHANGE_FOLDERS)
    except OSError as exc:
        problems.append(f"The receive folder {inbox} cannot be used: {exc}")
        return 0
    moved = 0
    for path in arrived[: queue.batch_size]:
        try:
            move(path, queue.folder / RECEIVE / path.name)
            moved += 1
        except OSError as exc:
            problems.append(f"The file {path} cannot be taken in: {exc}")
    return moved


def index(queue: QueueFolders, touched: set[tuple[str, str]], problems: list[str]) -> int:
    """Record RECEIVE's new files in the receive queue; refuse what is not a message."""
    try:
        found, queue.left[RECEIVE] = survey(queue.folder / RECEIVE, folders=RECEIVE_FOLDERS)
    except OSError as exc:
        problems.append(f"The folder {queue.folder / RECEIVE} cannot be read: {exc}")
        return 0
    waiting = [p for p in found if p.name not in queue.indexed]
    moved = 0
    arrived: list[tuple[str, Message]] = []
    for path in waiting[: queue.batch_size]:
        try:
            message, problem = _read(queue, path)
            if message is None:
                _refuse(queue, path, problem)
                moved += 1
                continue
            _pull_blobs(queue, message)
            name = message_file_name(message.source_issue_key, message.sequence_id, message.id)
            if path.name != name:
                move(path, path.with_name(name))
            arrived.append((name, message))
        except OSError as exc:
            problems.append(f"The received file {path} cannot be read: {exc}")
    if not arrived:
        return moved
    states: list[str] = []
    with queue.uow_factory() as uow:
        now = now_ms()
        for _, message in arrived:
            state = uow.session.scalar(
                select(MessageRow.state).where(
                    MessageRow.connector_id == queue.config.id,
                    MessageRow.queue == queues.RECEIVE,
                    MessageRow.uuid == message.id,
                )
            )
            if state is None:
                queues.add_received(uow.session, queue.config.id, message, now)
                moved += 1
            states.append(state or ReceiveState.NEW)
        uow.commit()
    for (name, message), state in zip(arrived, states, strict=True):
        # A second copy of a message already indexed follows the first one's state.
        stray = queue.folder / RECEIVE / name
        try:
            moved += place(queue, name, message.source_issue_key, state, touched, stray=stray)
        except OSError as exc:
            problems.append(f"The file {name} cannot follow its state: {exc}")
    return moved


def _read(queue: QueueFolders, path: Path) -> tuple[Message | None, str]:
    """The message in a file, or None and why it is refused."""
    content = read_regular(path, _MAX_MESSAGE_BYTES)
    if content is None:
        return None, f"larger than {_MAX_MESSAGE_BYTES} bytes"
    try:
        message = Message.loads(content)
    except InvalidMessageError as exc:
        return None, f"not a message: {exc}"
    problem = _refusal(queue, message)
    return (None, problem) if problem else (message, "")


def _refusal(queue: QueueFolders, message: Message) -> str | None:
    config = queue.config
    if not addressed_to(message.to_connector, config.key, config.project_key):
        return f"addressed to connector '{message.to_connector}', not '{config.key}'"
    if not _MESSAGE_ID.match(message.id):
        return "id: not a message id (up to 36 letters, digits and '-')"
    if not message.source_issue_key or len(message.source_issue_key) > MAX_ISSUE_KEY:
        return f"sourceIssueKey: must have 1 to {MAX_ISSUE_KEY} characters"
    for blob in message.blob_metadata_list:
        if not SHA256.match(blob.checksum):
            return f"blobMetadataList: checksum '{blob.checksum}' is not a sha256"
    return None


def _refuse(queue: QueueFolders, path: Path, reason: str) -> None:
    """Set a file with a message's name, but not a message for us, aside in ``invalid``."""
    target = unused_path(queue.folder / STATE_FOLDERS[ReceiveState.INVALID] / path.name)
    write_atomic(target.with_name(target.name + REASON_SUFFIX), f"{reason}\n".encode())
    move(path, target)
    log.warning(
        "%s is not a message for %s (%s): moved to %s", path, queue.config.key, reason, target
    )


def _pull_blobs(queue: QueueFolders, message: Message) -> None:
    """Copy a message's blobs into this side's area; a missing one is retried later."""
    assert queue.inbox is not None
    folder = queue.inbox / BLOBS
    if not is_folder(folder):
        return  # none arrived (a symlink in its place is reported, never followed)
    for blob in message.blob_metadata_list:
        source = folder / blob.checksum
        if not is_regular(source):
            continue  # the incoming route refuses the message until it arrives
        if queue.blobs.has(blob.checksum):
            verified = sha256_of(source) == blob.checksum
        else:
            # The transit area may be a symlink to another disk: its real folder.
            area = resolved(queue.blobs.store.path(blob.checksum))
            verified = copy_verified(source, area, blob.checksum)
        if not verified:
            log.warning("blob %s does not match its checksum; left where it is", source)
            continue
        # Only this connector reads this exchange folder, and the content is now here.
        remove(source)
