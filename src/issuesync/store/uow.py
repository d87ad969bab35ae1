"""The unit of work: it owns every transaction of issuesync.

Service functions open one with ``with uow_factory() as uow:`` (or
``uow_factory(readonly=True)`` for reads), work through ``uow.session`` and call
``uow.commit()`` once at the end; leaving the block without a commit rolls back.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from issuesync.errors import ConflictError, StoreError
from issuesync.store.db import Database

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class UnitOfWork:
    """One transaction against the store."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        lock: WriterLock | None = None,
        reader: sessionmaker[Session] | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._lock = lock
        self._reader = reader
        self._session: Session | None = None
        self._committed = False

    @property
    def session(self) -> Session:
        """The session of this unit of work (only inside its ``with`` block)."""
        if self._session is None:
            raise StoreError("the unit of work is used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        if self._lock is not None:
            self._lock.acquire()
        self._session = self._session_factory()
        self._committed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            if not self._committed:
                session.rollback()
        finally:
            session.close()
            self._session = None
            if self._lock is not None:
                self._lock.release()

    def commit(self) -> None:
        """Commit the transaction; a constraint violation becomes a ``ConflictError``."""
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise ConflictError(f"the change clashes with existing data: {exc.orig}") from exc
        except OperationalError as exc:
            self.session.rollback()
            raise StoreError(f"the database failed the change: {exc.orig}") from exc
        self._committed = True

    @property
    def reads_after_commit(self) -> bool:
        """Whether :meth:`commit_and_read` is available (SQLite, whose writers take turns)."""
        return self._lock is not None and self._reader is not None

    def commit_and_read(self) -> Session:
        """Commit, then a read-only session that sees the database exactly as this commit left it.

        The read's snapshot is taken before the write turn passes on, so no other
        writer's change can come between: what was just written can be read back
        (and rendered) without holding the turn. The caller closes the session.
        Only where :attr:`reads_after_commit` (on SQLite); elsewhere read before
        committing.
        """
        if not self.reads_after_commit or self._reader is None:
            raise StoreError("reading after the commit needs the write turn of SQLite")
        self.commit()
        reader = self._reader()
        try:
            # A deferred read transaction takes its snapshot at its first read.
            reader.execute(text("SELECT count(*) FROM sqlite_master"))
        except BaseException:
            reader.close()
            raise
        return reader

    def flush(self) -> None:
        """Send pending changes so that generated ids are known, without committing."""
        self.session.flush()


class WriterLock:
    """Queues the writers of one SQLite database, in this process and across processes.

    SQLite has one writer at a time, and its busy handler makes a waiting writer
    sleep in growing steps, which leaves the database idle between writes. Here
    threads queue on a lock and processes on an advisory ``flock`` of a file
    beside the database, so the turn passes at once. A process without ``fcntl``
    (Windows) falls back to SQLite's busy timeout across processes.
    """

    def __init__(self, path: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if path is not None and fcntl is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        """Wait for this database's write turn."""
        self._thread_lock.acquire()
        if self._fd is not None and fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise

    def release(self) -> None:
        """Give the write turn to the next writer."""
        if self._fd is not None and fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def close(self) -> None:
        """Close the lock file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class UnitOfWorkFactory:
    """Makes units of work for one database; ``readonly=True`` ones never write.

    On SQLite, write units of work take the database's :class:`WriterLock`, so a
    write unit of work must not open another write unit of work.
    """

    def __init__(self, database: Database) -> None:
        self._write = sessionmaker(database.write_engine, expire_on_commit=False)
        self._read = sessionmaker(database.read_engine, expire_on_commit=False)
        self._write_lock = (
            WriterLock(
                database.sqlite_path.with_name(database.sqlite_path.name + ".writelock")
                if database.sqlite_path
                else None
            )
            if database.is_sqlite
            else None
        )
        # Another connection sees a writer's commit only in a database file.
        self._read_after = self._read if database.sqlite_path else None

    def close(self) -> None:
        """Release the lock file, if any."""
        if self._write_lock is not None:
            self._write_lock.close()

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        if readonly:
            return UnitOfWork(self._read)
        return UnitOfWork(self._write, self._write_lock, self._read_after)
