"""Write an Alembic migration for the difference between the tables and the migrations so far.

Usage: .venv/bin/python scripts/new_migration.py REV "message"

It upgrades a scratch SQLite database to the newest migration, then lets
Alembic compare it with the models. An unreleased revision may be regenerated:
delete its file first. Review the result by hand: autogenerate misses renames.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from issuesync.store.db import connect
from issuesync.store.migrate import alembic_config, upgrade


def main() -> None:
    """Generate the migration named on the command line."""
    rev, message = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.db'}"
        database = connect(url)
        upgrade(database)
        database.dispose()
        command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev)


if __name__ == "__main__":
    main()
