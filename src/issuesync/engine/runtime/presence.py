"""Engines' lock files in the home: proof that an engine lives or died, and its health.

Each running engine (``serve``, ``worker``) holds an exclusive ``flock`` on
``<home>/engines/<owner>.lock`` for its lifetime; the kernel drops the lock
when the process dies, however it dies (SIGKILL too). So another process on the
same home can prove that an engine is dead: its file exists and can be locked.
The engine then frees that engine's leases at once instead of waiting for them
to lapse (``runner.Engine._lease``), and stops counting it among the live
engines. Leases of owners without a file in this home (another home, another
host) keep the lapse rule. A dead engine's file is removed once nothing in the
store names it any more.

The file also carries the engine's health problems (:mod:`issuesync.health`)
as JSON, so that the API process and the CLI can show the problems of the
engines that run beside them (``issuesync worker``). The file is written once
at its full size (:data:`SIZE`) and later only overwritten in place, so
publishing works on a full disk (on file systems that overwrite in place: ext4,
xfs, tmpfs; not on copy-on-write ones such as btrfs or zfs).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from issuesync.health import Health, Problem

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no proof of death, leases lapse
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FOLDER = "engines"
SUFFIX = ".lock"
SIZE = 4096
STALE_TEMPORARY_S = 60.0  # a half-made file older than this is a crashed start's
_OWNER = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def folder(home: Path) -> Path:
    """Where the engines of a home keep their lock files."""
    return home / FOLDER


class Presence:
    """This engine's lock file, locked for as long as the engine runs."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def claim(cls, home: Path, owner: str) -> Presence | None:
        """Create and lock the lock file of ``owner``; None where that cannot be done
        (no ``flock``, an owner that is no file name): then leases lapse as before."""
        if fcntl is None or not _OWNER.fullmatch(owner):
            return None
        where = folder(home)
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = where / f"{owner}{SUFFIX}"
        # Made and locked under a temporary name, then renamed: no other process ever
        # sees this file unlocked (and takes this engine for a dead one).
        temporary = where / f".{owner}.{os.getpid()}.tmp"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.pwrite(fd, _padded({"owner": owner, "pid": os.getpid(), "problems": []}), 0)
            os.fsync(fd)
            temporary.rename(path)
        except BaseException:
            os.close(fd)
            temporary.unlink(missing_ok=True)
            raise
        return cls(path, fd)

    def publish(self, problems: Sequence[Problem]) -> None:
        """Show these problems to the other processes of the home (in place: no new space)."""
        if self._fd is None:
            return
        document: dict[str, object] = {
            "pid": os.getpid(),
            "problems": [
                {"area": p.area, "reason": p.reason, "detail": p.detail, "sinceMs": p.since_ms}
                for p in problems
            ],
        }
        try:
            os.pwrite(self._fd, _padded(document), 0)
        except OSError as exc:
            log.debug("could not publish the engine's health in %s: %s", self.path, exc)

    def close(self) -> None:
        """Remove the file and release the lock (the engine stops)."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None


@dataclass(frozen=True)
class EngineProblem:
    """A problem a live engine of this home published."""

    owner: str
    problem: Problem


def dead_owners(home: Path, own: str | None = None) -> set[str]:
    """The owners whose lock file in this home can be locked: their engines died."""
    dead: set[str] = set()
    for owner, path in _lock_files(home):
        if owner != own:
            with _probe(path) as alive:
                if alive is False:
                    dead.add(owner)
    return dead


def forget(home: Path, owners: Sequence[str]) -> None:
    """Remove the lock files of dead engines that nothing names any more (checked again
    under the file's lock, so a live engine's file is never removed)."""
    wanted = set(owners)
    for owner, path in _lock_files(home):
        if owner in wanted:
            with _probe(path, exclusive=True) as alive:
                if alive is False:
                    path.unlink(missing_ok=True)


def live_problems(home: Path) -> list[EngineProblem]:
    """The problems that the live engines of this home published, but this process's own
    (its :class:`~issuesync.health.Health` has them first-hand)."""
    found: list[EngineProblem] = []
    for owner, path in _lock_files(home):
        document = _read_live(path)
        if not document or document.get("pid") == os.getpid():
            continue
        items = document.get("problems")
        for item in items if isinstance(items, list) else []:
            with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
                problem = Problem(
                    str(item["area"]),
                    str(item["reason"]),
                    str(item.get("detail", "")),
                    int(item["sinceMs"]),
                )
                found.append(EngineProblem(owner, problem))
    return found


def problems_seen(health: Health, home: Path) -> list[tuple[str, Problem]]:
    """This process's problems (named "") and those of the live engines of its home (named
    by their owner): what the status readings show."""
    seen: list[tuple[str, Problem]] = [("", problem) for problem in health.problems()]
    seen += [(f"engine {found.owner}", found.problem) for found in live_problems(home)]
    return seen


def _read_live(path: Path) -> dict[str, object] | None:
    """The document of a live engine's file; None when the engine is dead or it is
    unreadable (being rewritten: the next reading has it)."""
    with _probe(path) as alive:
        if alive is not True:
            return None
    try:
        raw = path.read_bytes()[:SIZE]
        document = json.loads(raw.decode("utf-8").strip() or "{}")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _lock_files(home: Path) -> Iterator[tuple[str, Path]]:
    if fcntl is None:
        return
    where = folder(home)
    try:
        entries = list(os.scandir(where))
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if name.endswith(SUFFIX) and not name.startswith("."):
            owner = name[: -len(SUFFIX)]
            if _OWNER.fullmatch(owner):
                yield owner, Path(entry.path)
        elif name.startswith(".") and name.endswith(".tmp"):
            _remove_stale_temporary(Path(entry.path))


def _remove_stale_temporary(path: Path) -> None:
    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > STALE_TEMPORARY_S:
            with _probe(path, exclusive=True) as alive:
                if alive is False:
                    path.unlink()


@contextlib.contextmanager
def _probe(path: Path, *, exclusive: bool = False) -> Iterator[bool | None]:
    """Whether the engine of a lock file lives (holds its lock): True, False, or None
    when the file is gone. When it is dead, the caller runs holding a lock of the file
    (shared: readers agree; ``exclusive`` to remove it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            yield True
            return
        yield False
    finally:
        os.close(fd)  # releases our lock, if we took it


def _padded(document: dict[str, object]) -> bytes:
    raw = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    if len(raw) > SIZE:  # the details make it too long: the reasons alone fit
        problems = document.get("problems")
        slim = (
            [{**item, "detail": ""} for item in problems if isinstance(item, dict)]
            if isinstance(problems, list)
            else []
        )
        raw = json.dumps({**document, "problems": slim}, separators=(",", ":")).encode()[:SIZE]
    return raw + b" " * (SIZE - len(raw))
