"""Apply the Alembic migrations; the same ones serve SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from issuesync.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration that points at the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


# Any fixed number: PostgreSQL advisory locks are keyed by a bigint.
MIGRATION_LOCK_ID = 0x1555_E5_0C


@dataclass(frozen=True)
class Migration:
    """What :func:`upgrade` did: the schema revision before (None: no schema yet) and after."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        """Whether any migration ran."""
        return self.before != self.after


def upgrade(database: Database, revision: str = "head") -> Migration:
    """Bring the database up to ``revision`` (the newest by default); what it did.

    On PostgreSQL an advisory lock makes workers that start together migrate
    one after the other; the later ones find nothing left to do.
    """
    config = alembic_config(database.url)
    with database.write_engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            before = MigrationContext.configure(connection).get_current_revision()
            connection.commit()  # the read began a transaction; Alembic begins its own
            command.upgrade(config, revision)
            connection.commit()
            after = MigrationContext.configure(connection).get_current_revision()
        finally:
            if postgres:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
                connection.commit()
    return Migration(before, after)


def is_current(database: Database) -> bool:
    """Whether the database is at the newest revision."""
    script = ScriptDirectory.from_config(alembic_config(database.url))
    with database.read_engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(script.get_heads())
