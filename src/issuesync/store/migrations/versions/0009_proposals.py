"""proposals: the mappings an integration got from both trackers' schemas, with reasons

An integration created without mappings gets them proposed from both projects' schemas
(``application/proposals.py``); the proposal's pairs, reasons and warnings are kept with
the integration so that ``/conflicts`` can show what will not cross. Existing
integrations have none (their mappings were given or are the old defaults).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("integrations") as batch:
        batch.add_column(sa.Column("proposal", sa.Text(), nullable=True))


def downgrade() -> None:
    # Not in a batch: on SQLite a batch would copy the table, and dropping the old one
    # cascades to every connector (foreign keys are on). SQLite drops a column in place
    # since 3.35.
    op.drop_column("integrations", "proposal")
