"""The declarative base every table of issuesync derives from, and time helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter

from sqlalchemy import (
    Boolean,
    Connection,
    MetaData,
    Table,
    bindparam,
    column,
    func,
    insert,
    select,
    update,
    values,
)
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of all tables; one metadata for one set of migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class: multi-row inserts of plain dicts skip the ORM's
    per-row bookkeeping, which costs more than the database's work for new rows."""
    return Base.metadata.tables[model.__tablename__]


def insert_many(connection: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert rows that all name the same columns: one ``executemany``.

    On SQLite the statement goes to the driver as it is, with the rows as tuples:
    SQLAlchemy's work for each row of an ``executemany`` (parameters looked
    up, processed and checked by name) costs twice the database's own insert.
    That is only right when no column's type converts values on their way in
    and no column left out has a default to compute in Python; otherwise, and
    on PostgreSQL, SQLAlchemy does it.
    """
    if not rows:
        return
    names = tuple(rows[0])
    key = (connection.dialect.name, table.name, names)
    if key not in _PLAIN_INSERTS:
        _PLAIN_INSERTS[key] = _plain_insert(connection, table, names)
    plain = _PLAIN_INSERTS[key]
    if plain is None:
        connection.execute(insert(table), rows)
        return
    statement, values_of = plain
    connection.exec_driver_sql(statement, [values_of(row) for row in rows])


# By dialect, table and the columns given: the driver's INSERT text and what makes a
# row's parameters of a row, or None where SQLAlchemy must do the insert.
_RowValues = Callable[[Mapping[str, object]], tuple[object, ...]]
_PLAIN_INSERTS: dict[tuple[str, str, tuple[str, ...]], tuple[str, _RowValues] | None] = {}


def _plain_insert(
    connection: Connection, table: Table, names: Sequence[str]
) -> tuple[str, _RowValues] | None:
    """The INSERT that rows naming ``names`` can go to the driver with, if they can."""
    if connection.dialect.name != "sqlite" or not _plain(connection, table, names):
        return None
    compiled = insert(table).values({n: bindparam(n) for n in names}).compile(connection)
    order = list(compiled.positiontup or names)
    if len(order) == 1:
        (name,) = order
        return str(compiled), lambda row: (row[name],)
    return str(compiled), itemgetter(*order)  # a row's values as a tuple, in C


def _plain(connection: Connection, table: Table, names: Sequence[str]) -> bool:
    """Whether rows naming ``names`` can go to the driver without SQLAlchemy's processing."""
    given = set(names)
    for col in table.columns:
        if col.name in given:
            # A boolean's processor makes an int of it: the driver binds bool as 1 or 0 too.
            converts = col.type.bind_processor(connection.dialect) is not None
            if converts and not isinstance(col.type, Boolean):
                return False
        elif col.default is not None:
            return False
    return given <= set(table.columns.keys())


def insert_rows(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, object]]
) -> list[int]:
    """Insert ``rows`` into a table whose key is an integer ``id``: their new ids, in order.

    PostgreSQL numbers the rows from the table's sequence and returns the ids in
    batches. SQLite can return ids only one row per statement when their order
    matters, which costs more than the inserts; but a write transaction there
    holds the database's only write lock from its ``BEGIN IMMEDIATE`` on, so the
    ids are counted on from the largest, as SQLite itself would, and the rows go
    in one ``executemany``. Call it only in a write transaction.
    """
    if not rows:
        return []
    if connection.dialect.name != "sqlite":
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(connection.execute(statement, rows).scalars())
    last = connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    ids = list(range(last + 1, last + 1 + len(rows)))
    insert_many(
        connection, table, [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)]
    )
    return ids


def update_rows(
    connection: Connection,
    table: Table,
    keys: Sequence[str],
    rows: Sequence[Mapping[str, object]],
    *,
    only_if_null: str | None = None,
) -> None:
    """Set columns of many rows, each found by its ``keys`` columns: ``rows`` hold both.

    PostgreSQL gets one ``UPDATE ... FROM (VALUES ...)``; thousands of single-row
    updates would cost a server round of planning and WAL each. SQLite cannot
    name a ``VALUES`` list's columns, and runs the single-row updates as fast
    as one statement, so it gets those. ``only_if_null`` leaves rows alone whose
    column of that name is set already.
    """
    if not rows:
        return
    names = list(rows[0])
    changed = [name for name in names if name not in keys]
    if connection.dialect.name == "postgresql":
        given = values(*(column(n, table.c[n].type) for n in names), name="given").data(
            [tuple(row[n] for n in names) for row in rows]
        )
        where = [table.c[k] == given.c[k] for k in keys]
        if only_if_null is not None:
            where.append(table.c[only_if_null].is_(None))
        connection.execute(update(table).where(*where).values({n: given.c[n] for n in changed}))
        return
    where = [table.c[k] == bindparam(f"k_{k}") for k in keys]
    if only_if_null is not None:
        where.append(table.c[only_if_null].is_(None))
    statement = update(table).where(*where).values({n: bindparam(f"v_{n}") for n in changed})
    connection.execute(
        statement,
        [
            {**{f"k_{k}": row[k] for k in keys}, **{f"v_{n}": row[n] for n in changed}}
            for row in rows
        ],
    )


def now_ms() -> int:
    """The current time in epoch milliseconds, the unit every timestamp is stored in.

    Integers keep millisecond precision exact and compare fast on both databases.
    """
    return time.time_ns() // 1_000_000
