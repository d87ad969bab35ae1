"""Multi-row writes of the store (``store.base``) on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from issuesync.store.base import insert_many, insert_rows, table_of, update_rows
from issuesync.store.db import Database
from issuesync.store.users import User


def test_update_rows_sets_each_row_by_its_keys(database: Database) -> None:
    users = table_of(User)
    with Session(database.write_engine) as session:
        session.execute(
            insert(users),
            [
                {"name": name, "display_name": name, "email": email, "created_ms": 0}
                for name, email in (("u1", None), ("u2", "old@example.test"), ("u3", None))
            ],
        )
        connection = session.connection()
        update_rows(
            connection,
            users,
            ("name",),
            [{"name": f"u{n}", "email": f"u{n}@example.test"} for n in (1, 2, 4)],
            only_if_null="email",
        )
        update_rows(
            connection,
            users,
            ("name", "created_ms"),
            [{"name": "u3", "created_ms": 0, "display_name": "Three", "active": False}],
        )
        update_rows(connection, users, ("name",), [])  # nothing to do: no statement
        session.commit()
        rows = session.execute(
            select(users.c.name, users.c.email, users.c.display_name, users.c.active)
            .where(users.c.name.in_(["u1", "u2", "u3", "u4"]))
            .order_by(users.c.name)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("u1", "u1@example.test", "u1", True),  # set: it was empty
        ("u2", "old@example.test", "u2", True),  # kept: only where none was known
        ("u3", None, "Three", False),  # other columns, by two keys
    ]


def test_insert_many_and_insert_rows_write_what_they_are_given(database: Database) -> None:
    """The driver's own executemany on SQLite (booleans among the values), SQLAlchemy's where
    a left-out column has a default to compute (``active``, ``is_admin``), and on PostgreSQL."""
    users = table_of(User)
    given: list[dict[str, object]] = [
        {
            "name": "b1",
            "display_name": "B1",
            "email": None,
            "created_ms": 1,
            "active": False,
            "is_admin": True,
        },
        {
            "name": "b2",
            "display_name": "B2",
            "email": "b2@example.test",
            "created_ms": 2,
            "active": True,
            "is_admin": False,
        },
    ]
    with Session(database.write_engine) as session:
        connection = session.connection()
        insert_many(connection, users, given)
        insert_many(connection, users, [])  # nothing to do
        ids = insert_rows(
            connection,
            users,
            [{"name": f"r{n}", "display_name": f"R{n}", "created_ms": n} for n in (1, 2, 3)],
        )
        session.commit()
        rows = session.execute(
            select(users.c.id, users.c.name, users.c.email, users.c.active, users.c.is_admin)
            .where(users.c.name.in_(["b1", "b2", "r1", "r2", "r3"]))
            .order_by(users.c.name)
        ).all()
    assert [tuple(r)[1:] for r in rows] == [
        ("b1", None, False, True),
        ("b2", "b2@example.test", True, False),
        ("r1", None, True, False),  # the defaults of the columns left out
        ("r2", None, True, False),
        ("r3", None, True, False),
    ]
    assert ids == [r.id for r in rows[2:]]  # in the order given
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
