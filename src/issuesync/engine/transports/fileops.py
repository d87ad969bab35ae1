"""File operations of the file transport that never follow a symlink and never leave half a file.

In the folders it works on, the engine moves, renames, copies and deletes nothing
but regular files; it never follows a symlink (``O_NOFOLLOW``, ``lstat``) and
never writes through a folder that is a symlink. A file appears complete and
synced or not at all (:func:`atomic_writer`), a blob only with the content its
sha256 names (:func:`copy_verified`).

Files the engine creates are ``0600`` and its folders ``0700``. In an exchange
folder (which another node's service user may have to read) a new file or
folder also gets the group permissions of the folder it is made in, and never
any for others: an operator shares a folder by giving it a group (``2770``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from issuesync.errors import ChecksumMismatchError

_CHUNK = 1024 * 1024
FILE_MODE = 0o600
_FOLDER_MODE = 0o700


# --- what a path is, never following a symlink -----------------------------------------------


def lstat_mode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None


def is_regular(path: Path) -> bool:
    """A regular file itself, not a symlink to one."""
    mode = lstat_mode(path)
    return mode is not None and stat.S_ISREG(mode)


def is_folder(path: Path) -> bool:
    """A folder itself, not a symlink to one."""
    mode = lstat_mode(path)
    return mode is not None and stat.S_ISDIR(mode)


def resolved(path: Path) -> Path:
    return path.resolve(strict=False)


# --- file operations -------------------------------------------------------------------------


def make_folders(folder: Path, *, shared: bool = False) -> None:
    """Create ``folder`` and its missing parents, ``0700`` (``shared``: plus the group
    permissions of the folder each is made in, whatever the umask). A symlink or a file
    in the way is an error: never followed."""
    mode = lstat_mode(folder)
    if mode is None:
        if folder.parent == folder:
            raise FileNotFoundError(errno.ENOENT, "no such folder", str(folder))
        make_folders(folder.parent, shared=shared)
        group = folder.parent.stat().st_mode & 0o070 if shared else 0
        try:
            folder.mkdir(_FOLDER_MODE)
        except FileExistsError:
            pass  # made meanwhile: checked below
        else:
            _set_mode(folder, _FOLDER_MODE | group)
        mode = lstat_mode(folder)
    if mode is None or not stat.S_ISDIR(mode):
        raise NotADirectoryError(
            errno.ENOTDIR, "not a folder (a symbolic link is never followed)", str(folder)
        )


def _set_mode(folder: Path, mode: int) -> None:
    """Give a folder just made exactly ``mode`` (never through a symlink put in its place)."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(descriptor, mode | (os.fstat(descriptor).st_mode & stat.S_ISGID))
    finally:
        os.close(descriptor)


def _open_regular(path: Path) -> int:
    """A descriptor of ``path`` for reading, if it is a regular file and not a symlink."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return descriptor


def read_regular(path: Path, limit: int) -> bytes | None:
    """The content of a regular file (never through a symlink); None when over ``limit``."""
    with os.fdopen(_open_regular(path), "rb") as stream:
        content = stream.read(limit + 1)
    return None if len(content) > limit else content


def sha256_of(path: Path) -> str | None:
    """The sha256 of a regular file (never through a symlink); None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with os.fdopen(_open_regular(path), "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def remove(path: Path) -> None:
    """Delete ``path`` if it is a regular file; anything else is left alone."""
    if is_regular(path):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_writer(target: Path, mode: int = FILE_MODE) -> Iterator[IO[bytes]]:
    """A file that appears at ``target`` complete and synced, or not at all."""
    make_folders(target.parent)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        with os.fdopen(os.open(temporary, flags, mode), "wb") as out:
            os.fchmod(out.fileno(), mode)  # exactly: a shared folder's group bits despite umask
            yield out
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
    except BaseException:
        remove(temporary)
        raise
    _fsync_folder(target.parent)


def write_atomic(target: Path, content: bytes, mode: int = FILE_MODE) -> None:
    with atomic_writer(target, mode) as out:
        out.write(content)


def copy_verified(source: Path, target: Path, checksum: str, mode: int = FILE_MODE) -> bool:
    """Copy ``source`` (a regular file) to ``target`` atomically if its sha256 is ``checksum``."""
    digest = hashlib.sha256()
    try:
        with os.fdopen(_open_regular(source), "rb") as stream, atomic_writer(target, mode) as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            if digest.hexdigest() != checksum:
                # Raised to abort the atomic writer: the target never appears.
                raise ChecksumMismatchError(f"{source} is not {checksum}")  # noqa: TRY301
    except ChecksumMismatchError:
        return False
    return True


def move(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` atomically, also across file systems.

    A rename moves the entry itself: a symlink is never followed. Whatever is at
    ``target`` must be a regular file (it is replaced), or nothing.
    """
    make_folders(target.parent)
    if os.path.lexists(target) and not is_regular(target):
        raise OSError(errno.EEXIST, "something that is not the engine's is in the way", target)
    try:
        source.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with os.fdopen(_open_regular(source), "rb") as stream, atomic_writer(target) as out:
            while chunk := stream.read(_CHUNK):
                out.write(chunk)
        remove(source)
        return
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows it)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
