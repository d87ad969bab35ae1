"""What in a queue folder is not the engine's, and how it is reported.

A folder is surveyed without following or opening anything: the engine's own
files (regular, named as it names them) are worked on; anything else (another
name, a symlink, a folder, a FIFO, a device) stays where it is and is reported,
in the route's status, in one warning per entry, and by ``messages list --state
invalid``. A file with a message's name that is not a message for the connector
is set aside in ``RECEIVE/invalid`` with a ``.reason.txt``.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from issuesync.domain.message import ReceiveState
from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports.file.disk import lstat_mode, read_regular
from issuesync.engine.transports.file.layout import (
    EXCHANGE_FOLDERS,
    REASON_SUFFIX,
    RECEIVE,
    RECEIVE_FOLDERS,
    STATE_FOLDERS,
    connector_folder,
    is_message_name,
    is_temporary,
)
from issuesync.errors import ConfigurationError

log = logging.getLogger(__name__)

_MAX_REASON_BYTES = 64 * 1024
_MAX_LEFT = 1000  # entries of one folder remembered as left in place (and warned about once)
_MAX_LEFT_SHOWN = 10  # of them, named in the route's status
_MAX_STATUS = 2000  # characters of the status that the pump writes


@dataclass(frozen=True)
class Left:
    """An entry of a queue folder that is not the engine's: left where it is."""

    path: Path
    what: str


def any_file(_name: str) -> bool:
    """Every name (for a folder whose every file is the engine's)."""
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
    invalid, strangers = survey(base / STATE_FOLDERS[ReceiveState.INVALID], accept=any_file)
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


def unused(path: Path) -> Path:
    """``path``, or ``name-1.ext``, ``name-2.ext``…: the first that does not exist."""
    candidate, number = path, 0
    while os.path.lexists(candidate) or os.path.lexists(
        candidate.with_name(candidate.name + REASON_SUFFIX)
    ):
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def report(key: str, problems: Sequence[str], left: Sequence[Left], warned: set[str]) -> None:
    """Warn once per problem and per entry left in place (``warned`` keeps what was warned
    about, and is updated); raise them as a :class:`ConfigurationError` for the status."""
    current = {f"{entry.path} ({entry.what})" for entry in left} | set(problems)
    for text in sorted(current - warned):
        if text in problems:
            log.warning("file queue of %s: %s", key, text)
        else:
            log.warning("file queue of %s: %s is not the engine's: left where it is", key, text)
    warned.clear()
    warned.update(current)
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
