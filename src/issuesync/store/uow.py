"""The unit of work: it owns every transaction of issuesync.

Service functions open one with ``with uow_factory() as uow:`` (or
``uow_factory(readonly=True)`` for reads), work through ``uow.session`` and call
``uow.commit()`` once at the end; leaving the block without a commit rolls back.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from issuesync.errors import ConflictError, StoreError
from issuesync.store.db import Database


class UnitOfWork:
    """One transaction against the store."""

    def __init__(
        self, session_factory: sessionmaker[Session], lock: threading.Lock | None = None
    ) -> None:
        self._session_factory = session_factory
        self._lock = lock
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

    def flush(self) -> None:
        """Send pending changes so that generated ids are known, without committing."""
        self.session.flush()


class UnitOfWorkFactory:
    """Makes units of work for one database; ``readonly=True`` ones never write.

    SQLite has one writer at a time. Its busy handler makes a waiting writer
    sleep in growing steps, so threads of one process that queue there leave the
    database idle between writes; a lock in the process hands the turn over at
    once instead. Writers of other processes still queue on the busy timeout.
    A write unit of work must therefore not open another write unit of work.
    """

    def __init__(self, database: Database) -> None:
        self._write = sessionmaker(database.write_engine, expire_on_commit=False)
        self._read = sessionmaker(database.read_engine, expire_on_commit=False)
        self._write_lock = threading.Lock() if database.is_sqlite else None

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        if readonly:
            return UnitOfWork(self._read)
        return UnitOfWork(self._write, self._write_lock)
