"""Alembic environment: runs the migrations of issuesync on the connection it is given.

The metadata the migrations describe is collected here, from every owner of
tables in the store: the store's own (``store/tables.py``) and the built-in
tracker's (``trackers/local/models.py``). Only Alembic loads this module, so the
store itself never imports a tracker.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from issuesync.store.tables import metadata
from issuesync.trackers.local import models  # noqa: F401 - loaded for its tables in `metadata`

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Use the connection handed in by issuesync, or open one from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


run_migrations_online()
