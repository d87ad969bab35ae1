"""The file transport's outbox: each new message of the send queue is written as a file,
its blobs beside it, and handed to the exchange folder; what cannot be is parked in
``SEND/error`` (where a person sees it, as in Backbone) and its row set to ``error``."""

from __future__ import annotations

import contextlib
import logging
import os

from sqlalchemy.orm import selectinload

from issuesync.domain.message import Message, SendState
from issuesync.engine.transports import queues
from issuesync.engine.transports.fileops import (
    copy_verified,
    is_regular,
    make_folders,
    move,
    remove,
    write_atomic,
)
from issuesync.engine.transports.folders import (
    BLOBS,
    SEND,
    SEND_ERROR,
    SHA256,
    QueueFolders,
    message_file_name,
)
from issuesync.errors import InvalidMessageError
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageRow

# The file transport's one logger, whichever of its modules speaks: operators filter on it.
log = logging.getLogger("issuesync.engine.transports.file")


def send(queue: QueueFolders, problems: list[str]) -> int:
    """Write the send queue's new messages to the exchange folder; returns how many."""
    query = queues.rows(queue.config.id, queues.SEND).where(MessageRow.state == SendState.NEW)
    rows = queue.load(query.options(selectinload(MessageRow.content)))
    if not rows:
        return 0
    failures = {
        row.id: _send_one(
            queue, message_file_name(row.issue_key, row.sequence_id, row.uuid), row.body
        )
        for row in rows
    }
    with queue.uow_factory() as uow:
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


def _send_one(queue: QueueFolders, name: str, body: str) -> str | None:
    """Write, attach blobs, hand over; the reason it failed, or None."""
    outbox = queue.outbox
    assert outbox is not None
    staged = queue.folder / SEND / name
    try:
        message = Message.loads(body)
        make_folders(outbox, shared=queue.shared(outbox))
        # Made with the exchange folder's group permissions: the rename keeps them.
        write_atomic(staged, body.encode(), mode=queue.file_mode(outbox))
        for blob in message.blob_metadata_list:
            _push_blob(queue, blob.checksum)
        move(staged, outbox / name)
    except (OSError, InvalidMessageError) as exc:
        parked = queue.folder / SEND_ERROR / name  # where a person sees it, as in Backbone
        with contextlib.suppress(OSError):
            if is_regular(staged):
                move(staged, parked)
            else:
                write_atomic(parked, body.encode())
        return f"The message could not be written to the folder {outbox}: {exc}"
    with contextlib.suppress(OSError):
        remove(queue.folder / SEND_ERROR / name)
    return None


def _push_blob(queue: QueueFolders, checksum: str) -> None:
    assert queue.outbox is not None
    folder = queue.outbox / BLOBS
    target = folder / checksum
    if not SHA256.match(checksum):
        return
    make_folders(folder, shared=queue.shared(folder))
    if os.path.lexists(target):
        return  # already there (or something else is in the way: the partner will say)
    source = queue.blobs.store.path(checksum)
    if not is_regular(source):
        log.warning("blob %s is not in the transit area; the partner will wait", checksum)
    elif not copy_verified(source, target, checksum, mode=queue.file_mode(folder)):
        log.warning("blob %s in the transit area does not match its checksum", checksum)
