"""Where the files of a connector's queues live, and how they are named (seed 002).

A file's name comes from its message (``<issueKey>_<sequenceId>_<uuid>.bac``)
and its folder from its state (:func:`folder_for`), so a step redone after a
crash overwrites the same file.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from issuesync.domain.message import ReceiveState
from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports import queues
from issuesync.engine.transports.file.disk import TEMPORARY, is_regular
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
# Folders people may empty by hand (seed 002), and that retention prunes: a file
# missing there is not written again.
DISPOSABLE = frozenset({ReceiveState.ARCHIVE, ReceiveState.DISCARD})
# The folders inside RECEIVE, and inside an exchange folder: the engine's own.
RECEIVE_FOLDERS = frozenset(
    folder.split("/")[1] for folder in STATE_FOLDERS.values() if "/" in folder
)
EXCHANGE_FOLDERS = frozenset({BLOBS})
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9-]")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9-]{1,36}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_ISSUE_KEY = 64  # the width of sync_messages.issue_key
# What message_file_name makes: a safe issue key (never a leading dot), a sequence id, an id.
_MESSAGE_NAME = re.compile(
    rf"^(?!\.)([A-Za-z0-9_.-]{{1,{MAX_ISSUE_KEY}}})_([0-9]{{1,19}})_([A-Za-z0-9-]{{1,36}})\.bac\Z"
)


def connector_folder(home: Path, config: ConnectorConfig) -> Path:
    """``<home>/data/default/<INT-n>/<CONNECTOR-KEY>``: the connector's SEND and RECEIVE."""
    return QueuePlaces.of(home).data / safe(config.integration_key) / safe(config.key)


def safe(text: str) -> str:
    """A path component for any text: no separators, never ``.`` or ``..``."""
    made = _UNSAFE.sub("-", text) or "-"
    return f"-{made[1:]}" if made.startswith(".") else made


def message_file_name(issue_key: str, sequence_id: int, message_id: str) -> str:
    """``<issueKey>_<sequenceId>_<uuid>.bac``, the same every time for one message."""
    return f"{safe(issue_key)}_{sequence_id}_{_UNSAFE_ID.sub('-', message_id)}{SUFFIX}"


def is_message_name(name: str) -> bool:
    """Whether ``name`` is one :func:`message_file_name` makes: the engine's by its format."""
    return _MESSAGE_NAME.match(name) is not None


def parse_name(name: str) -> tuple[str, int] | None:
    """The (safe) issue key and sequence id in a message file's name."""
    found = _MESSAGE_NAME.match(name)
    return (found.group(1), int(found.group(2))) if found else None


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file the engine (here or on the partner node) makes."""
    found = TEMPORARY.match(name)
    return found is not None and (
        is_message_name(found.group(1)) or SHA256.match(found.group(1)) is not None
    )


def folder_for(state: str, issue_key: str) -> PurePosixPath:
    """The folder of a received message in ``state``, relative to the connector's folder."""
    if state not in STATE_FOLDERS:
        raise ValueError(f"'{state}' is not a receive state")
    folder = PurePosixPath(STATE_FOLDERS[state])
    return folder / safe(issue_key) if state in _PER_ISSUE else folder


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
