"""The migrations and the unit of work on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from issuesync.errors import ConflictError, StoreError
from issuesync.store.base import now_ms
from issuesync.store.db import Database
from issuesync.store.migrate import is_current, upgrade
from issuesync.store.tables import metadata
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import User


def test_migrations_create_every_table(database: Database) -> None:
    assert is_current(database)
    tables = set(inspect(database.write_engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_upgrade_twice_is_harmless(database: Database) -> None:
    upgrade(database)
    assert is_current(database)


def test_uncommitted_work_is_rolled_back(database: Database) -> None:
    uow_factory = UnitOfWorkFactory(database)
    with uow_factory() as uow:
        uow.session.add(User(name="ghost", display_name="Ghost", created_ms=now_ms()))
        uow.flush()
    with uow_factory(readonly=True) as uow:
        assert uow.session.scalar(select(User).where(User.name == "ghost")) is None


def test_committed_work_is_kept_and_duplicates_conflict(database: Database) -> None:
    uow_factory = UnitOfWorkFactory(database)
    with uow_factory() as uow:
        uow.session.add(User(name="ann", display_name="Ann", created_ms=now_ms()))
        uow.commit()
    with uow_factory() as uow:
        uow.session.add(User(name="ann", display_name="Ann again", created_ms=now_ms()))
        with pytest.raises(ConflictError):
            uow.commit()
    with uow_factory(readonly=True) as uow:
        names = uow.session.scalars(select(User.display_name).where(User.name == "ann")).all()
        assert names == ["Ann"]


def test_a_read_after_the_commit_sees_exactly_that_commit(database: Database) -> None:
    uow_factory = UnitOfWorkFactory(database)
    with uow_factory() as uow:
        if not uow.reads_after_commit:
            with pytest.raises(StoreError):
                uow.commit_and_read()
            return  # PostgreSQL: the tracker reads back before it commits
        uow.session.add(User(name="first", display_name="First", created_ms=now_ms()))
        reader = uow.commit_and_read()
    try:
        # The write turn has passed on: another writer commits before the reader reads.
        with uow_factory() as uow:
            uow.session.add(User(name="second", display_name="Second", created_ms=now_ms()))
            uow.commit()
        names = set(reader.scalars(select(User.name).where(User.name.in_(["first", "second"]))))
        assert names == {"first"}
    finally:
        reader.close()
    with uow_factory(readonly=True) as uow:
        names = set(
            uow.session.scalars(select(User.name).where(User.name.in_(["first", "second"])))
        )
        assert names == {"first", "second"}
