"""Where the file transport's files live and what they are called (Backbone's folders, seed 002).

Each connector has a folder ``<home>/data/default/<INT-n>/<CONNECTOR-KEY>/``::

    SEND/                      written, not yet handed to the exchange folder
      error/                   could not be handed over (send row in ``error``)
    RECEIVE/                   taken in, waiting to be applied (receive row in ``new``)
      archive/  sequence-error/  offline/  invalid/  discard/
      error/<ISSUE-KEY>/  issue-missing/<ISSUE-KEY>/

A file's name comes from its message (``<issueKey>_<sequenceId>_<uuid>.bac``,
:func:`message_file_name`) and its folder from its state (:func:`folder_for`).
Whatever else is in a folder is not the engine's (:func:`survey`): it is left
where it is and reported (:func:`list_invalid`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from issuesync.domain.message import ReceiveState
from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports import queues
from issuesync.engine.transports.fileops import (
    is_regular,
    lstat_mode,
    read_regular,
)
from issuesync.store.sync import MessageRow

SUFFIX = ".bac"
REASON_SUFFIX = ".reason.txt"
BLOBS = "blobs"
SEND = "SEND"
SEND_ERROR = "SEND/error"
RECEIVE = "RECEIVE"

# The state names are the folder names of seed 002; ``new`` waits in RECEIVE itself.
STATE_FOLDERS: dict[str, str] = {
    state: RECEIVE if state is ReceiveState.NEW else f"{RECEIVE}/{state}" for state in ReceiveState
}
_PER_ISSUE = frozenset({ReceiveState.ERROR, ReceiveState.ISSUE_MISSING})
# The folders inside RECEIVE, and inside an exchange folder: the engine's own.
RECEIVE_FOLDERS = frozenset(
    folder.split("/")[1] for folder in STATE_FOLDERS.values() if "/" in folder
)
EXCHANGE_FOLDERS = frozenset({BLOBS})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9-]")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ISSUE_KEY = 64  # the width of sync_messages.issue_key
# What message_file_name makes: a safe issue key (never a leading dot), a sequence id, an id.
_MESSAGE_NAME = re.compile(
    rf"^(?!\.)([A-Za-z0-9_.-]{{1,{MAX_ISSUE_KEY}}})_([0-9]{{1,19}})_([A-Za-z0-9-]{{1,36}})\.bac\Z"
)
_TEMPORARY = re.compile(r"^\.(.+)\.[0-9a-f]{1,32}\.tmp\Z")  # what atomic_writer makes
_MAX_REASON_BYTES = 64 * 1024
_MAX_LEFT = 1000  # entries of one folder remembered as left in place (and warned about once)


# --- where files live ------------------------------------------------------------------------


def connector_folder(home: Path, config: ConnectorConfig) -> Path:
    """``<home>/data/default/<INT-n>/<CONNECTOR-KEY>``: the connector's SEND and RECEIVE."""
    return (
        QueuePlaces.of(home).data
        / path_component(config.integration_key)
        / path_component(config.key)
    )


def path_component(text: str) -> str:
    """A path component for any text: no separators, never ``.`` or ``..``."""
    safe = _UNSAFE.sub("-", text) or "-"
    return f"-{safe[1:]}" if safe.startswith(".") else safe


def message_file_name(issue_key: str, sequence_id: int, message_id: str) -> str:
    """``<issueKey>_<sequenceId>_<uuid>.bac``, the same every time for one message."""
    return f"{path_component(issue_key)}_{sequence_id}_{_UNSAFE_ID.sub('-', message_id)}{SUFFIX}"


def is_message_name(name: str) -> bool:
    """Whether ``name`` is one :func:`message_file_name` makes: the engine's by its format."""
    return _MESSAGE_NAME.match(name) is not None


def parse_name(name: str) -> tuple[str, int] | None:
    """The (safe) issue key and sequence id in a message file's name."""
    found = _MESSAGE_NAME.match(name)
    return (found.group(1), int(found.group(2))) if found else None


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file the engine (here or on the partner node) makes."""
    found = _TEMPORARY.match(name)
    return found is not None and (
        is_message_name(found.group(1)) or SHA256.match(found.group(1)) is not None
    )


def folder_for(state: str, issue_key: str) -> PurePosixPath:
    """The folder of a received message in ``state``, relative to the connector's folder."""
    if state not in STATE_FOLDERS:
        raise ValueError(f"'{state}' is not a receive state")
    folder = PurePosixPath(STATE_FOLDERS[state])
    return folder / path_component(issue_key) if state in _PER_ISSUE else folder


def message_path(home: Path, config: ConnectorConfig, row: MessageRow) -> Path | None:
    """Where the file of a message is now; None when it has none (not written, or deleted)."""
    name = message_file_name(row.issue_key, row.sequence_id, row.uuid)
    base = connector_folder(home, config)
    if row.queue == queues.SEND:
        candidates = [base / SEND / name, base / SEND_ERROR / name]
        if config.send_queue.type == "file" and config.send_queue.path:
            candidates.append(QueuePlaces.of(home).folder(config.send_queue.path) / name)
    else:
        states = [row.state] if row.state in STATE_FOLDERS else []
        candidates = [base / folder_for(s, row.issue_key) / name for s in [*states, *ReceiveState]]
    return next((path for path in candidates if is_regular(path)), None)


@dataclass(frozen=True)
class InvalidFile:
    """A file that came in but is not a message for this connector, and why."""

    name: str
    reason: str
    path: Path


def list_invalid(places: QueuePlaces, config: ConnectorConfig) -> list[InvalidFile]:
    """The files in ``RECEIVE/invalid`` with the reason each was refused, then what the
    connector's folders hold that is not the engine's (left where it is)."""
    base = connector_folder(places.home, config)
    found = []
    invalid, strangers = survey(base / STATE_FOLDERS[ReceiveState.INVALID], accept=_any_file)
    for path in invalid:
        if path.name.endswith(REASON_SUFFIX):
            continue
        try:
            sidecar = read_regular(path.with_name(path.name + REASON_SUFFIX), _MAX_REASON_BYTES)
        except OSError:
            sidecar = None
        reason = sidecar.decode("utf-8", "replace").strip() if sidecar is not None else ""
        found.append(InvalidFile(path.name, reason or "unknown (no reason was recorded)", path))
    folders = [(base / RECEIVE, RECEIVE_FOLDERS)]
    if config.receive_queue.type == "file" and config.receive_queue.path:
        inbox, _ = places.locate(config.receive_queue.path)  # never read outside the roots
        folders += [(inbox, EXCHANGE_FOLDERS)] if inbox is not None else []
    for folder, own in folders:
        strangers += survey(folder, folders=own)[1]
    for left in strangers:
        reason = f"not the engine's ({left.what}): left where it is"
        found.append(InvalidFile(left.path.name, reason, left.path))
    return found


# --- what is in a folder ---------------------------------------------------------------------


@dataclass(frozen=True)
class Left:
    """An entry of a queue folder that is not the engine's: left where it is."""

    path: Path
    what: str


def _any_file(_name: str) -> bool:
    return True


def survey(
    folder: Path,
    *,
    folders: frozenset[str] = frozenset(),
    accept: Callable[[str], bool] = is_message_name,
) -> tuple[list[Path], list[Left]]:
    """The engine's files in ``folder`` (regular, named as it names them), oldest first,
    and up to :data:`_MAX_LEFT` entries that are not its own; ``folders`` are its own
    sub-folders, its temporary files are skipped. Nothing is followed or opened."""
    mode = lstat_mode(folder)
    if mode is None:
        return [], []
    if not stat.S_ISDIR(mode):
        return [], [Left(folder, _what(mode))]  # never followed
    own: list[tuple[int, str]] = []
    left: list[Left] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # gone meanwhile
            regular = stat.S_ISREG(info.st_mode)
            if (regular and is_temporary(entry.name)) or (
                stat.S_ISDIR(info.st_mode) and entry.name in folders
            ):
                continue
            if regular and accept(entry.name):
                own.append((info.st_mtime_ns, entry.name))
            elif len(left) < _MAX_LEFT:
                left.append(Left(folder / entry.name, _what(info.st_mode)))
    return [folder / name for _, name in sorted(own)], left


def _what(mode: int) -> str:
    """What a folder entry that is not the engine's is, for a person."""
    kinds = (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
    )
    return next((text for test, text in kinds if test(mode)), "a file not named as a message")


def unused_path(path: Path) -> Path:
    """``path``, or ``name-1.ext``, ``name-2.ext``…: the first that does not exist."""
    candidate, number = path, 0
    while os.path.lexists(candidate) or os.path.lexists(
        candidate.with_name(candidate.name + REASON_SUFFIX)
    ):
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate
