"""A really full disk for tests: a small tmpfs mounted on a folder, filled to the last byte.

Needs root (``mount``); :func:`unavailable` says why not, for a skip. In a test,
:func:`full_disk` mounts one for a ``with`` block (skipping the test where it
cannot) and always unmounts it::

    with full_disk(home / "attachments", size="2m") as disk:
        disk.fill()
        ...  # every write under home/attachments now fails with ENOSPC

or by hand::

    disk = FullDisk(tmp_path / "home", size="16m")
    disk.mount()
    try:
        ...              # put a home, a database, a WAL on it
        disk.fill()      # now every write that needs a new block fails with ENOSPC
        ...
        disk.free()      # space again
    finally:
        disk.unmount()
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

FILLER = ".filler"
REQUIRED = "ISSUESYNC_TEST_FULLDISK"  # "1": a test that cannot have a full disk fails
CHUNK = 1024 * 1024


def unavailable() -> str | None:
    """Why a tmpfs cannot be mounted here (None when it can)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "mount and umount are not installed"
    return None


class FullDisk:
    """A tmpfs of ``size`` (``mount -o size=``: ``16m``, ``512k``) on ``path``."""

    def __init__(self, path: Path, *, size: str = "16m") -> None:
        self.path = path
        self.size = size
        self.mounted = False

    def mount(self) -> None:
        """Create the folder and mount an empty tmpfs on it, private to this user."""
        self.path.mkdir(parents=True, exist_ok=True)
        _run("mount", "-t", "tmpfs", "-o", f"size={self.size},mode=0700", "tmpfs", str(self.path))
        self.mounted = True

    def fill(self) -> int:
        """Write a file until the disk is full (to the last block); returns the bytes
        written."""
        written = 0
        with (self.path / FILLER).open("ab", buffering=0) as filler:
            for size in (CHUNK, 4096, 512, 1):
                block = b"\0" * size
                while True:
                    try:
                        done = filler.write(block)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
                    written += done or 0
                    if not done:
                        break
        return written

    def free(self) -> None:
        """Remove what :meth:`fill` wrote."""
        (self.path / FILLER).unlink(missing_ok=True)

    def files(self) -> list[Path]:
        """Every regular file on the disk but the filler."""
        filler = self.path / FILLER
        return sorted(p for p in self.path.rglob("*") if p.is_file() and p != filler)

    @property
    def available(self) -> int:
        """Bytes free on the disk now."""
        stat = os.statvfs(self.path)
        return stat.f_bavail * stat.f_frsize

    def unmount(self) -> None:
        """Unmount (lazily, if a file is still open: it goes when the last one closes)."""
        if not self.mounted:
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            _run("umount", str(self.path))
            self.mounted = False
            return
        _run("umount", "-l", str(self.path))
        self.mounted = False


def cannot(reason: str) -> NoReturn:
    """Skip the calling test, saying why a full disk cannot be had here; fail it instead
    where full disks are required (``ISSUESYNC_TEST_FULLDISK=1``, as in CI)."""
    if os.environ.get(REQUIRED) == "1":
        pytest.fail(f"{REQUIRED}=1 but {reason}")
    pytest.skip(reason)


def require() -> None:
    """:func:`cannot` when :func:`unavailable` says so."""
    reason = unavailable()
    if reason:
        cannot(reason)


@contextlib.contextmanager
def full_disk(folder: Path, size: str = "2m") -> Iterator[FullDisk]:
    """A tmpfs of ``size`` mounted on ``folder`` for the block; skips the test where
    mounting is not possible or not permitted (see :func:`cannot`)."""
    require()
    disk = FullDisk(folder, size=size)
    try:
        disk.mount()
    except subprocess.CalledProcessError as exc:
        cannot(f"mounting a tmpfs is not permitted here: {exc.stderr!r}")
    try:
        yield disk
    finally:
        disk.unmount()


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)  # noqa: S603 - fixed commands
