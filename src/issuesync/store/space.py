"""Telling a full disk from other failures, whichever layer noticed it first.

A write can meet a full file system in the blob store (``OSError`` ENOSPC or, over
quota, EDQUOT), in SQLite (``SQLITE_FULL``: "database or disk is full") or in
PostgreSQL (SQLSTATE 53100 ``disk_full``), and it may reach the caller wrapped in
SQLAlchemy's errors or in issuesync's own (``StoreError`` ``from`` the driver's).
"""

from __future__ import annotations

import errno
import sqlite3
from typing import Final

from issuesync.errors import InsufficientStorageError

_FULL_ERRNOS: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
_POSTGRES_DISK_FULL: Final = "53100"


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error it wraps or was raised from, says storage is full."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _says_full(current):
            return True
        wrapped = getattr(current, "orig", None)  # SQLAlchemy's DBAPIError: the driver's
        pending.extend(
            e for e in (wrapped, current.__cause__, current.__context__) if e is not None
        )
    return False


def _says_full(exc: BaseException) -> bool:
    if isinstance(exc, InsufficientStorageError):
        return True
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
            "database or disk is full" in str(exc)
        )
    return getattr(exc, "sqlstate", None) == _POSTGRES_DISK_FULL


def storage_full_error() -> InsufficientStorageError:
    """The error to answer a write that met a full disk: nothing was kept."""
    return InsufficientStorageError(
        "The server's storage is full: nothing was saved. Repeat the request once an "
        "administrator has freed disk space."
    )
