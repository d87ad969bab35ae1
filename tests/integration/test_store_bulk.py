"""Multi-row writes of the store (``store.base``) on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from issuesync.store.base import table_of, update_rows
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
