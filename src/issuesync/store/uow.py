"""The unit of work: it owns every transaction of issuesync.

Service functions open one with ``with uow_factory() as uow:`` (or
``uow_factory(readonly=True)`` for reads), work through ``uow.session`` and call
``uow.commit()`` once at the end; leaving the block without a commit rolls back.

Nothing waits for the database without a bound (``Database.wait_ms``): a writer
that does not get the write turn in time, and any statement the database
refuses because of a lock, a full disk or a lost connection, raises a
retryable :class:`~issuesync.errors.BusyError` naming the cause, and the
process's :class:`~issuesync.health.Health` shows the failure until the same
kind of work succeeds again.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from issuesync.errors import BusyError, ConflictError, StoreError
from issuesync.health import DATABASE, WRITES, Health
from issuesync.store.db import (
    BUSY,
    BUSY_MS_OPTION,
    UNREACHABLE,
    Database,
    DatabaseFailure,
    database_failure,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MIN_BUSY_MS = 50  # what SQLite's busy handler gets at least, even at the end of a wait


class UnitOfWork:
    """One transaction against the store."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        lock: WriterLock | None = None,
        reader: sessionmaker[Session] | None = None,
        *,
        health: Health | None = None,
        readonly: bool = False,
        retry_after_s: int = 5,
        turn_taken: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self._lock = lock
        self._turn_taken = turn_taken  # the factory took the write turn already (if_free)
        self._reader = reader
        self._health = health or Health()
        self._readonly = readonly
        self._retry_after = retry_after_s  # what a busy store's error tells the client
        self._session: Session | None = None
        self._committed = False

    @property
    def session(self) -> Session:
        """The session of this unit of work (only inside its ``with`` block)."""
        if self._session is None:
            raise StoreError("the unit of work is used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        if self._lock is None:
            left_ms = None
        elif self._turn_taken:
            self._turn_taken = False  # for this block only
            left_ms = MIN_BUSY_MS  # SQLite's own lock: barely waited for either
        else:
            left_ms = self._lock.acquire()
        self._session = self._session_factory()
        self._committed = False
        if left_ms is not None:
            # BEGIN IMMEDIATE now, with SQLite's busy handler bounded by what is left
            # of the wait (another program may hold SQLite's own lock).
            busy_ms = max(MIN_BUSY_MS, left_ms)
            try:
                self._session.connection(execution_options={BUSY_MS_OPTION: busy_ms})
            except BaseException as exc:
                self.__exit__(type(exc), exc, exc.__traceback__)
                raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        cleanup_error: SQLAlchemyError | None = None
        try:
            if not self._committed:
                session.rollback()
        except SQLAlchemyError as error:  # the connection is gone: reported below
            cleanup_error = error
        finally:
            session.close()
            self._session = None
            if self._lock is not None:
                self._lock.release()
        problem = exc if exc is not None else cleanup_error
        if problem is None:
            self._health.recover(DATABASE)
            if self._committed:
                self._health.recover(WRITES)
            return
        if isinstance(problem, SQLAlchemyError):
            failure = self._failed(problem)
            if failure is not None:
                raise failure from problem
        if exc is None:
            raise problem

    def _failed(self, exc: SQLAlchemyError) -> StoreError | None:
        """The error to raise for a failure of the database, recorded in the health."""
        failure = database_failure(exc)
        if failure is None:
            return None
        self._record(failure)
        return failure.error(retry_after_s=self._retry_after)

    def _record(self, failure: DatabaseFailure) -> None:
        if failure.kind == UNREACHABLE:  # neither reads nor writes work
            area, reason = DATABASE, failure.reason
        elif self._readonly:
            area, reason = DATABASE, f"reads fail: {failure.reason}"
        else:
            area, reason = WRITES, f"writes fail: {failure.reason}"
        if self._health.fail(area, reason, failure.detail):
            level = logging.INFO if failure.kind == BUSY else logging.WARNING
            log.log(level, "the store: %s (%s)", reason, failure.detail)

    def commit(self) -> None:
        """Commit the transaction; a constraint violation becomes a ``ConflictError``, a
        database that cannot take it a ``BusyError`` or ``StoreError``."""
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            raise ConflictError(f"the change clashes with existing data: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            failure = self._failed(exc)
            with contextlib.suppress(SQLAlchemyError):  # a lost connection: reported above
                self.session.rollback()
            if failure is None:
                raise
            raise failure from exc
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


POLL_FIRST_S = 0.001  # a waiting process looks again after 1 ms, then 2, 4, 8 ...
POLL_MAX_S = 0.01  # ... and at least every 10 ms: 100 cheap system calls a second
NO_REAL_WAIT_S = 0.1  # a turn taken sooner leaves SQLite the whole wait (no PRAGMA to change)
YIELD_S = 5 * POLL_MAX_S  # how long a process lets a waiting one go first (it looks every 10 ms)


class WriterLock:
    """Queues the writers of one SQLite database, in this process and across processes,
    for at most ``wait_ms``.

    SQLite has one writer at a time, and its busy handler makes a waiting writer
    sleep in growing steps, which leaves the database idle between writes. Here
    threads queue on a lock and processes on an advisory ``flock`` of a file
    beside the database, so the turn passes at once. A process without ``fcntl``
    (Windows) falls back to SQLite's busy timeout across processes.

    No writer waits without a bound: one that does not get the turn within
    ``wait_ms`` raises :class:`BusyError`, naming the process that holds it (a
    stopped worker, a hung command). The thread part waits with
    ``Lock.acquire(timeout=…)``; the process part polls a non-blocking ``flock``
    with a short, growing sleep (1 ms up to 10 ms: no CPU burnt, little latency).
    Polling alone would let a busy process take the turn again and again before
    a waiting one looks, so a waiting process says so with a shared ``flock`` on
    ``<lock>.queue``, and a process that gives the turn up while another waits
    lets it go first (for up to :data:`YIELD_S`): processes take turns.
    """

    def __init__(
        self, path: Path | None, wait_ms: int = 10_000, health: Health | None = None
    ) -> None:
        self._thread_lock = threading.Lock()
        self._health = health or Health()
        self._wait_ms = wait_ms
        self._wait_s = wait_ms / 1000
        self.retry_after_s = retry_after(wait_ms)
        self._path = path
        self._fd: int | None = None
        self._queue_fd: int | None = None
        self._yield_until = 0.0
        if path is not None and fcntl is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            queue = path.with_name(path.name + ".queue")
            self._queue_fd = os.open(queue, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> int:
        """Wait for this database's write turn; returns the milliseconds left of the wait
        (all of it after no real wait, so that SQLite's busy timeout need not change)."""
        started = time.monotonic()
        deadline = started + self._wait_s
        if not self._thread_lock.acquire(timeout=self._wait_s):
            raise self._busy("another writer of this process")
        try:
            if self._fd is not None:
                self._take_turn(deadline)
        except BaseException:
            self._thread_lock.release()
            raise
        now = time.monotonic()
        if now - started < NO_REAL_WAIT_S:
            return self._wait_ms
        return max(math.floor((deadline - now) * 1000), 0)

    def try_acquire(self) -> bool:
        """Take the write turn only if it is free now: never waits, records nothing."""
        if not self._thread_lock.acquire(blocking=False):
            return False
        if self._fd is not None and not _try_flock(self._fd, fcntl.LOCK_EX):
            self._thread_lock.release()
            return False
        return True

    def _take_turn(self, deadline: float) -> None:
        assert self._fd is not None
        assert self._queue_fd is not None
        while time.monotonic() < min(self._yield_until, deadline) and self._others_wait():
            time.sleep(POLL_FIRST_S)  # another process waits: let it have this turn
        self._yield_until = 0.0
        if _try_flock(self._fd, fcntl.LOCK_EX):
            return
        queued = False
        delay = POLL_FIRST_S
        try:
            while True:
                queued = queued or _try_flock(self._queue_fd, fcntl.LOCK_SH)
                if _try_flock(self._fd, fcntl.LOCK_EX):
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._busy("another process", holder=flock_holder(self._path))
                time.sleep(min(delay, left))
                delay = min(delay * 2, POLL_MAX_S)
        finally:
            if queued:
                fcntl.flock(self._queue_fd, fcntl.LOCK_UN)

    def _others_wait(self) -> bool:
        """Whether another process waits for the turn (holds the queue file shared)."""
        assert self._queue_fd is not None
        if not _try_flock(self._queue_fd, fcntl.LOCK_EX):
            return True
        fcntl.flock(self._queue_fd, fcntl.LOCK_UN)
        return False

    def _busy(self, who: str, *, holder: int | None = None) -> BusyError:
        """The error for a wait that ran out, recorded in the health of the process."""
        name = self._path.name if self._path is not None else "the database"
        held = f"{who} has held the write turn ({name}) for more than {self._wait_s:g} s"
        by = f"process {holder}" if holder is not None else ""
        if self._health.fail(WRITES, f"writes wait: {held}", by):
            log.info("the store's writes wait: %s%s", held, f" ({by})" if by else "")
        return BusyError(
            f"The store is busy: {who}{f' ({by})' if by else ''} has held the write turn "
            f"({name}) for more than {self._wait_s:g} s; nothing was changed. Repeat the "
            "request later; if this lasts, look for a stopped or hung issuesync process.",
            retry_after_s=self.retry_after_s,
        )

    def release(self) -> None:
        """Give the write turn to the next writer."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            if self._others_wait():
                self._yield_until = time.monotonic() + YIELD_S
        self._thread_lock.release()

    def close(self) -> None:
        """Close the lock files."""
        for fd in (self._fd, self._queue_fd):
            if fd is not None:
                os.close(fd)
        self._fd = self._queue_fd = None


def flock_holder(path: Path | None) -> int | None:
    """The process holding a file's exclusive ``flock``, from ``/proc/locks`` (Linux;
    None elsewhere or when nobody holds it)."""
    if path is None:
        return None
    try:
        stat = path.stat()
        locks = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in locks.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" ("1: -> FLOCK ..." waits)
        parts = line.split()
        if len(parts) > 5 and parts[1] == "FLOCK" and parts[3] == "WRITE" and parts[5] == device:  # noqa: PLR2004
            return int(parts[4]) if parts[4].isdigit() else None
    return None


def retry_after(wait_ms: int) -> int:
    """The ``Retry-After`` of a busy store: the wait, in whole seconds from 1 to 30."""
    return max(1, min(30, math.ceil(wait_ms / 1000)))


def _try_flock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class UnitOfWorkFactory:
    """Makes units of work for one database; ``readonly=True`` ones never write.

    On SQLite, write units of work take the database's :class:`WriterLock`, so a
    write unit of work must not open another write unit of work.
    """

    def __init__(self, database: Database, health: Health | None = None) -> None:
        self.health = health or Health()
        self._retry_after = retry_after(database.wait_ms)
        self._write = sessionmaker(database.write_engine, expire_on_commit=False)
        self._read = sessionmaker(database.read_engine, expire_on_commit=False)
        self._write_lock = (
            WriterLock(
                database.sqlite_path.with_name(database.sqlite_path.name + ".writelock")
                if database.sqlite_path
                else None,
                database.wait_ms,
                self.health,
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

    def if_free(self) -> UnitOfWork | None:
        """A write unit of work for a write that may be skipped (a token's last use),
        if the write turn is free right now, else None; enter it at once."""
        if self._write_lock is not None and not self._write_lock.try_acquire():
            return None
        return UnitOfWork(
            self._write,
            self._write_lock,
            self._read_after,
            health=self.health,
            retry_after_s=self._retry_after,
            turn_taken=self._write_lock is not None,
        )

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        if readonly:
            return UnitOfWork(
                self._read, health=self.health, readonly=True, retry_after_s=self._retry_after
            )
        return UnitOfWork(
            self._write,
            self._write_lock,
            self._read_after,
            health=self.health,
            retry_after_s=self._retry_after,
        )
