"""Attachment content on disk, addressed by sha256, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from issuesync.errors import PayloadTooLargeError
from issuesync.store.space import is_disk_full, storage_full_error

CHUNK = 1024 * 1024
PRIVATE_FOLDER = 0o700  # content is the service user's alone; files are 0600 (mkstemp)


class BlobStore:
    """Content-addressed files under ``root``: ``ab/cd/abcd...`` by sha256.

    Identical content is stored once; a write goes to a temporary file in the
    same directory tree and is renamed into place, so a crash never leaves a
    partial file under a content address, and a failed write (a full disk) leaves
    no file at all.
    """

    def __init__(self, root: Path, max_size: int) -> None:
        self.root = root
        self.max_size = max_size

    def path(self, sha256: str) -> Path:
        """Where the content with this digest lives."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, source: BinaryIO) -> tuple[str, int]:
        """Store ``source``; returns (sha256, size).

        Content over ``max_size`` raises PayloadTooLargeError and nothing is kept; a
        full disk raises InsufficientStorageError and nothing is kept either.
        """
        try:
            return self._put(source)
        except OSError as exc:
            if is_disk_full(exc):
                raise storage_full_error() from exc
            raise

    def _put(self, source: BinaryIO) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_size:
                        self._too_large()
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path(sha)
            target.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
            if target.exists():
                tmp.unlink()
            else:
                tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return sha, size

    def _too_large(self) -> None:
        raise PayloadTooLargeError(
            f"The attachment is larger than the limit of {self.max_size} bytes "
            "(ISSUESYNC_MAX_ATTACHMENT_SIZE)."
        )

    def open(self, sha256: str) -> BinaryIO:
        """Open stored content for reading."""
        return self.path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        """Whether this content is stored."""
        return self.path(sha256).exists()

    def remove(self, sha256: str) -> None:
        """Delete stored content (call only when nothing refers to it any more)."""
        self.path(sha256).unlink(missing_ok=True)
