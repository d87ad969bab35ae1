"""dashboard_sessions: the dashboard's sessions, so that logging out ends one on the server

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 00:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("sid_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sid_hash"),
    )
    op.create_index(
        "ix_dashboard_sessions_user_id", "dashboard_sessions", ["user_id"], unique=False
    )
    op.create_index(
        "ix_dashboard_sessions_expires_ms", "dashboard_sessions", ["expires_ms"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_dashboard_sessions_expires_ms", table_name="dashboard_sessions")
    op.drop_index("ix_dashboard_sessions_user_id", table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
