"""The migrations and the unit of work on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.orm import Session

from issuesync.errors import ConflictError, StoreError
from issuesync.store.base import now_ms
from issuesync.store.db import Database, connect
from issuesync.store.migrate import is_current, upgrade
from issuesync.store.sync import ConnectorRow, IntegrationRow
from issuesync.store.tables import metadata
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import User


def test_migrations_create_every_table(database: Database) -> None:
    assert is_current(database)
    tables = set(inspect(database.write_engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_message_bodies_move_to_their_own_table_with_the_messages(database_url: str) -> None:
    """Migration 0004 carries every stored message's JSON over; a deleted message takes its
    body with it."""
    db = connect(database_url)
    try:
        upgrade(db, "0003")
        with Session(db.write_engine) as session:  # these two tables are as at 0003
            made = {"created_user": "t", "created_ms": 0, "modified_user": "t", "modified_ms": 0}
            # The columns as they were then (a Core insert names only these; the ORM would
            # name every column the model has now).
            session.execute(insert(IntegrationRow).values(id=1, number=1, key="INT-1", **made))
            session.flush()
            session.add(
                ConnectorRow(
                    id=1,
                    integration_id=1,
                    position=1,
                    number=1,
                    key="PA-1",
                    project_key="PA",
                    project_connector_key="PA-1",
                    system="local",
                    send_queue="{}",
                    receive_queue="{}",
                    configuration="{}",
                    **made,
                )
            )
            session.commit()
        with db.write_engine.begin() as connection:
            for row_id in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO sync_messages (id, uuid, connector_id, queue, state, kind,"
                        " issue_key, sequence_id, body, attempts, created_ms, updated_ms)"
                        " VALUES (:id, :uuid, 1, 'receive', 'archive', 'create', 'PB-1', :id,"
                        " :body, 0, 0, 0)"
                    ),
                    {"id": row_id, "uuid": f"u-{row_id}", "body": f'{{"n": {row_id}}}'},
                )
        upgrade(db)
        with db.write_engine.begin() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("sync_messages")}
            assert "body" not in columns
            bodies = connection.execute(
                text("SELECT message_id, body FROM sync_message_bodies ORDER BY message_id")
            ).all()
            assert [tuple(b) for b in bodies] == [(1, '{"n": 1}'), (2, '{"n": 2}')]
            connection.execute(text("DELETE FROM sync_messages WHERE id = 1"))
            left = connection.execute(text("SELECT message_id FROM sync_message_bodies")).all()
            assert [b[0] for b in left] == [2]
    finally:
        db.dispose()


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
