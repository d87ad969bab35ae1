"""Database engines: one place that knows the differences between SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class Database:
    """The engines of one database.

    On SQLite, writes run on an engine whose transactions start with ``BEGIN
    IMMEDIATE``, so that concurrent writers queue on the busy timeout instead of
    failing when a read lock is upgraded; reads use plain deferred transactions so
    that they never wait for writers (WAL). On PostgreSQL both are the same engine.
    """

    url: str
    write_engine: Engine
    read_engine: Engine

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


def connect(url: str, *, echo: bool = False) -> Database:
    """Create the engines for a database URL (nothing is opened until first use)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
        return Database(url=url, write_engine=engine, read_engine=engine)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    write = _sqlite_engine(url, echo=echo, begin="BEGIN IMMEDIATE")
    read = _sqlite_engine(url, echo=echo, begin="BEGIN")
    return Database(url=url, write_engine=write, read_engine=read)


def _sqlite_engine(url: str, *, echo: bool, begin: str) -> Engine:
    # The pysqlite driver's own transaction handling is switched off so that the
    # BEGIN we emit is the one that runs (SQLAlchemy's documented recipe).
    memory = make_url(url).database in (None, "", ":memory:")
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401 - DB-API
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(begin)

    return engine
