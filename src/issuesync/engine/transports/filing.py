"""The file transport's filing: each received message's file follows its row to the folder
of its state, archived and discarded files are pruned as the rows are (``advanced``
settings), and temporary files a crash left are removed."""

from __future__ import annotations

import contextlib
import errno
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from issuesync.domain.message import ReceiveState
from issuesync.engine.transports import queues
from issuesync.engine.transports.fileops import is_folder, is_regular, move, remove, write_atomic
from issuesync.engine.transports.folders import (
    BLOBS,
    RECEIVE,
    SEND,
    SEND_ERROR,
    STATE_FOLDERS,
    QueueFolders,
    folder_for,
    is_temporary,
    message_file_name,
    parse_name,
    path_component,
    survey,
)
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageBody, MessageRow

# Folders people may empty by hand (seed 002), and that retention prunes: a file
# missing there is not written again.
_DISPOSABLE = frozenset({ReceiveState.ARCHIVE, ReceiveState.DISCARD})


@dataclass
class Follower:
    """Moves the files of receive rows whose state changed (all rows now and then)."""

    lookback_ms: int
    reconcile_ms: int
    watermark: int | None = None  # newest ``updated_ms`` seen
    reconciled_ms: int = 0

    def follow(
        self, queue: QueueFolders, touched: set[tuple[str, str]], problems: list[str]
    ) -> int:
        """Put the files of rows changed since the last run where their states say."""
        now = now_ms()
        full = self.watermark is None or now - self.reconciled_ms >= self.reconcile_ms
        since = None if full or self.watermark is None else self.watermark - self.lookback_ms
        moved, newest, after = 0, self.watermark or 0, 0
        while True:
            query = queues.rows(queue.config.id, queues.RECEIVE).where(MessageRow.id > after)
            if since is not None:
                query = query.where(MessageRow.updated_ms >= since)
            rows = queue.load(query)  # without their bodies
            for row in rows:
                newest = max(newest, min(row.updated_ms, now))
                name = message_file_name(row.issue_key, row.sequence_id, row.uuid)
                try:
                    moved += place(queue, name, row.issue_key, row.state, touched, row_id=row.id)
                except OSError as exc:
                    problems.append(f"The file {name} cannot follow its state: {exc}")
            if len(rows) < queue.batch_size:
                break
            after = rows[-1].id
        self.watermark = newest
        if full:
            self.reconciled_ms = now
            _clean_temporary(queue)
        _prune(queue, touched, everything=full)
        return moved


def place(
    queue: QueueFolders,
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
    target = queue.folder / folder_for(state, issue_key) / name
    if state == ReceiveState.NEW:
        queue.indexed.add(name)
    else:
        queue.indexed.discard(name)
    if is_regular(target):
        if stray is not None and stray != target:
            remove(stray)
        return 0
    if os.path.lexists(target):
        raise OSError(errno.EEXIST, "something that is not the engine's is in the way", target)
    candidates = (queue.folder / folder_for(s, issue_key) / name for s in ReceiveState)
    source = next((path for path in candidates if is_regular(path)), None)
    if source is not None:
        move(source, target)
    elif state in _DISPOSABLE or row_id is None:
        return 0
    else:  # deleted by hand while it still matters: the row holds the message
        with queue.uow_factory(readonly=True) as uow:
            body = uow.session.scalar(
                select(MessageBody.body).where(MessageBody.message_id == row_id)
            )
        if body is None:
            return 0
        write_atomic(target, body.encode())
    touched.add((state, path_component(issue_key)))
    return 1


def _prune(queue: QueueFolders, touched: set[tuple[str, str]], *, everything: bool) -> None:
    """Keep the newest archived/discarded files per issue, as the rows are kept."""
    advanced = queue.config.configuration.advanced
    for state, keep in (
        (ReceiveState.ARCHIVE, advanced.archived_messages_per_issue),
        (ReceiveState.DISCARD, advanced.discarded_messages_per_issue),
    ):
        keys = {key for s, key in touched if s == state}
        if not keys and not everything:
            continue
        folder = queue.folder / STATE_FOLDERS[state]
        by_issue: dict[str, list[tuple[int, str]]] = defaultdict(list)
        try:
            found, queue.left[state] = survey(folder)
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


def _clean_temporary(queue: QueueFolders) -> None:
    """Remove temporary files a crash left in folders only this connector writes."""
    folders = [queue.folder / SEND, queue.folder / SEND_ERROR, queue.folder / RECEIVE]
    if queue.outbox is not None:
        folders += [queue.outbox, queue.outbox / BLOBS]
    for folder in folders:
        if not is_folder(folder):
            continue
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if is_temporary(entry.name) and entry.is_file(follow_symlinks=False):
                    remove(folder / entry.name)
