"""engine workers: the live engines that share the connectors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_workers",
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("seen_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_engine_workers")),
    )
    op.create_index(op.f("ix_engine_workers_seen_ms"), "engine_workers", ["seen_ms"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_engine_workers_seen_ms"), table_name="engine_workers")
    op.drop_table("engine_workers")
