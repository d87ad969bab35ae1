"""The declarative base every table of issuesync derives from, and time helpers."""

from __future__ import annotations

import time

from sqlalchemy import MetaData, Table
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


def now_ms() -> int:
    """The current time in epoch milliseconds, the unit every timestamp is stored in.

    Integers keep millisecond precision exact and compare fast on both databases.
    """
    return time.time_ns() // 1_000_000
