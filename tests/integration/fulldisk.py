"""A really full file system for tests: a small tmpfs mounted on a folder, then filled.

``full_disk(folder)`` mounts a tmpfs of a few megabytes on ``folder`` (created if need
be), yields a :class:`FullDisk` whose :meth:`~FullDisk.fill` writes a filler file until
the kernel answers ENOSPC and whose :meth:`~FullDisk.free` deletes it again, and
unmounts the folder at the end, whatever happened. Mounting needs root (or
CAP_SYS_ADMIN); where it is not permitted the test is skipped, saying why.

    with full_disk(home / "attachments") as disk:
        disk.fill()
        ...  # every write under home/attachments now fails with ENOSPC
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

COMMAND_TIMEOUT_S = 30
_CHUNKS = (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1)


class FullDisk:
    """A mounted tmpfs: fill it up, free it again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / ".filler"

    def fill(self) -> None:
        """Write until the file system is full: the next write of even one byte fails."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in _CHUNKS:
                chunk = b"\xa5" * size
                while True:
                    try:
                        written = os.write(fd, chunk)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
                    if written < size:
                        break
        finally:
            os.close(fd)
        assert self.free_bytes() < _CHUNKS[-2], f"{self.root} is not full"

    def free(self) -> None:
        """Delete the filler: the space is there again."""
        self.filler.unlink(missing_ok=True)

    def free_bytes(self) -> int:
        """Bytes still free for an ordinary user of the file system."""
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def files(self) -> list[Path]:
        """Every regular file on the file system but the filler."""
        return sorted(p for p in self.root.rglob("*") if p.is_file() and p != self.filler)


@contextmanager
def full_disk(folder: Path, size: str = "2m") -> Iterator[FullDisk]:
    """A tmpfs of ``size`` mounted on ``folder`` for the block; skips the test if it cannot."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if mount is None or umount is None:
        pytest.skip("a full disk needs the mount and umount commands, which are not installed")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(  # noqa: S603 - the system's mount, on a test's own folder
        [mount, "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): "
            f"{mounted.stderr.strip() or mounted.returncode}"
        )
    try:
        yield FullDisk(folder)
    finally:
        done = subprocess.run(  # noqa: S603 - the system's umount, of what was mounted above
            [umount, str(folder)], capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False
        )
        if done.returncode != 0:  # something still holds a file open: detach it anyway
            subprocess.run(  # noqa: S603 - as above
                [umount, "--lazy", str(folder)], timeout=COMMAND_TIMEOUT_S, check=True
            )
