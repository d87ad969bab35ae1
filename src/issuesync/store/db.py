"""Database engines: one place that knows the differences between SQLite and PostgreSQL.

It also knows how each database says that it cannot do the work now
(:func:`database_failure`): SQLite's ``database is locked`` and a full disk,
PostgreSQL's lock and statement timeouts, deadlocks and lost connections all
become a retryable :class:`~issuesync.errors.BusyError` naming the cause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from issuesync.errors import BusyError, InsufficientStorageError, StoreError

DEFAULT_WAIT_MS = 10_000
BUSY_MS_OPTION = "issuesync_busy_ms"  # execution option: SQLite's busy timeout for one transaction


@dataclass(frozen=True)
class Database:
    """The engines of one database.

    On SQLite, writes run on an engine whose transactions start with ``BEGIN
    IMMEDIATE``, so that concurrent writers queue on the busy timeout instead of
    failing when a read lock is upgraded; reads use plain deferred transactions so
    that they never wait for writers (WAL). On PostgreSQL both are the same engine.

    ``wait_ms`` bounds every wait for the database: for the write turn, SQLite's
    busy handler, PostgreSQL's row locks (``lock_timeout``), a pooled connection
    and a new one (``connect_timeout``).
    """

    url: str
    write_engine: Engine
    read_engine: Engine
    wait_ms: int = DEFAULT_WAIT_MS

    @property
    def sqlite_path(self) -> Path | None:
        """The file of an SQLite database (None in memory or on another database)."""
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database or "")

    @property
    def is_sqlite(self) -> bool:
        """Whether this is an SQLite database."""
        return self.write_engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def connect(url: str, *, echo: bool = False, wait_ms: int = DEFAULT_WAIT_MS) -> Database:
    """Create the engines for a database URL (nothing is opened until first use)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            pool_timeout=wait_ms / 1000,
            connect_args=_postgres_connect_args(url, wait_ms),
        )
        return Database(url=url, write_engine=engine, read_engine=engine, wait_ms=wait_ms)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    write = _sqlite_engine(url, echo=echo, begin="BEGIN IMMEDIATE", busy_ms=wait_ms)
    read = _sqlite_engine(url, echo=echo, begin="BEGIN", busy_ms=wait_ms)
    return Database(url=url, write_engine=write, read_engine=read, wait_ms=wait_ms)


def _postgres_connect_args(url: str, wait_ms: int) -> dict[str, Any]:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    # A row lock held longer than the wait fails the statement (55P03) instead of
    # holding the request; a server that does not answer fails the connect. The
    # URL's own options (a search_path, say) are kept.
    given = parsed.query.get("options", "")
    options = " ".join(
        [*([given] if isinstance(given, str) else given), f"-c lock_timeout={wait_ms}"]
    )
    return {"connect_timeout": max(2, math.ceil(wait_ms / 1000)), "options": options.strip()}


def _sqlite_engine(url: str, *, echo: bool, begin: str, busy_ms: int) -> Engine:
    # The pysqlite driver's own transaction handling is switched off so that the
    # BEGIN we emit is the one that runs (SQLAlchemy's documented recipe).
    memory = make_url(url).database in (None, "", ":memory:")
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:  # noqa: ANN401 - DB-API
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        record.info[BUSY_MS_OPTION] = busy_ms
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A unit of work that waited for the write turn gives SQLite only what is
        # left of its wait, so the whole wait stays within the bound.
        wanted = connection.get_execution_options().get(BUSY_MS_OPTION, busy_ms)
        info = connection.info
        if info.get(BUSY_MS_OPTION) != wanted:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(wanted)}")
            info[BUSY_MS_OPTION] = wanted
        connection.exec_driver_sql(begin)

    return engine


# -- what the database says when it cannot do the work ------------------------------------

BUSY = "busy"  # a lock or the write turn: retry soon
FULL = "full"  # no space: retry once space is freed
UNREACHABLE = "unreachable"  # no connection: retry later
BROKEN = "broken"  # anything else: the operation failed


@dataclass(frozen=True)
class DatabaseFailure:
    """Why the database did not do the work: ``reason`` in issuesync's words (safe to
    show anyone), ``detail`` the driver's message (may name the database's host)."""

    kind: str
    reason: str
    detail: str

    @property
    def retryable(self) -> bool:
        """Whether the same work may simply be repeated later."""
        return self.kind != BROKEN

    def error(self, *, retry_after_s: int = 5) -> StoreError:
        """The error to raise: :class:`BusyError` (503, retryable), for a full disk
        :class:`InsufficientStorageError` (507), else :class:`StoreError`."""
        if self.kind == BROKEN:
            return StoreError(f"{self.reason}: nothing was changed.")
        if self.kind == FULL:  # 507: nothing to repeat until someone frees space
            return InsufficientStorageError(
                f"The server's storage is full ({self.reason}): nothing was changed; free "
                "disk space, then repeat the request.",
                retry_after_s=retry_after_s,
            )
        advice = {
            BUSY: "repeat the request in a few seconds",
            UNREACHABLE: "repeat the request once the database is back",
        }[self.kind]
        return BusyError(
            f"{self.reason}: nothing was changed; {advice}.", retry_after_s=retry_after_s
        )


# SQLite's primary result codes (https://sqlite.org/rescode.html) and what each means here.
_SQLITE_CODES = {
    5: (BUSY, "another process holds the SQLite database's lock (database is locked)"),
    6: (BUSY, "a table of the SQLite database is locked (database table is locked)"),
    13: (FULL, "the disk of the database is full"),
    10: (BROKEN, "the database's disk failed (I/O error)"),
    8: (BROKEN, "the database is read-only"),
    14: (UNREACHABLE, "the database file cannot be opened"),
}
_SQLITE_MESSAGES = (
    ("database is locked", 5),
    ("database is busy", 5),
    ("database table is locked", 6),
    ("database or disk is full", 13),
    ("disk i/o error", 10),
    ("readonly database", 8),
    ("unable to open database", 14),
)
# PostgreSQL's SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_POSTGRES_STATES = {
    "55P03": (BUSY, "a row or table the request needs is locked by another session (lock_timeout)"),
    "57014": (BUSY, "the database cancelled a statement that ran too long (statement_timeout)"),
    "40P01": (BUSY, "the database broke a deadlock with another session"),
    "40001": (BUSY, "another session changed the same rows (serialization failure)"),
    "53100": (FULL, "the disk of the database is full"),
    "53200": (BUSY, "the database is out of memory"),
    "53300": (BUSY, "the database has too many connections"),
    "57P01": (UNREACHABLE, "the database is shutting down"),
    "57P02": (UNREACHABLE, "the database is shutting down"),
    "57P03": (UNREACHABLE, "the database is not accepting connections yet"),
}


def database_failure(exc: BaseException) -> DatabaseFailure | None:
    """What an exception from the database means, or None when it is not a failure of the
    database itself (a constraint violation, a programming error: those keep their type)."""
    if isinstance(exc, PoolTimeoutError):
        return DatabaseFailure(BUSY, "every connection to the database is in use", _first_line(exc))
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    detail = _first_line(orig if orig is not None else exc)
    found = _sqlite_failure(orig, detail) or _postgres_failure(exc, detail)
    if found is None and isinstance(exc, OperationalError):
        return DatabaseFailure(BROKEN, "the database failed the operation", detail)
    return found


def _sqlite_failure(orig: BaseException | None, detail: str) -> DatabaseFailure | None:
    if type(orig).__module__ != "sqlite3":
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    if code is None:
        lowered = detail.lower()
        code = next((c for text, c in _SQLITE_MESSAGES if text in lowered), None)
    if not isinstance(code, int) or (code & 0xFF) not in _SQLITE_CODES:
        return None
    kind, reason = _SQLITE_CODES[code & 0xFF]  # the primary code of an extended one
    return DatabaseFailure(kind, reason, detail)


def _postgres_failure(exc: DBAPIError, detail: str) -> DatabaseFailure | None:
    orig = exc.orig
    if not type(orig).__module__.startswith("psycopg"):
        return None
    state = getattr(orig, "sqlstate", None)
    if state in _POSTGRES_STATES:
        kind, reason = _POSTGRES_STATES[state]
        return DatabaseFailure(kind, reason, detail)
    if isinstance(state, str) and state.startswith("08"):  # connection_exception and its kind
        return DatabaseFailure(UNREACHABLE, "the connection to the database failed", detail)
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
    if exc.connection_invalidated or (isinstance(exc, OperationalError) and state is None):
        return DatabaseFailure(UNREACHABLE, "the database cannot be reached", detail)
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
