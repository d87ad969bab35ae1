"""connections: tracker connectors and connections run by jobs on a schedule (seed 004)

tracker_connectors holds a tracker server and its encrypted credentials; connections
link a built-in project with a tracker project through an integration of their own,
with the schedule and the claim of the process running a job; connection_jobs keeps
every run and its result.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracker_connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("system", sa.String(length=32), nullable=False),
        sa.Column("server", sa.String(length=1024), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("validate_cert", sa.Boolean(), nullable=False),
        sa.Column("auth_mode", sa.String(length=16), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("created_user", sa.String(length=255), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("tracker_connector_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("debug_mode", sa.Boolean(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("inaccessible", sa.Boolean(), nullable=False),
        sa.Column("last_successful_ms", sa.BigInteger(), nullable=True),
        sa.Column("next_run_ms", sa.BigInteger(), nullable=True),
        sa.Column("job_owner", sa.String(length=128), nullable=True),
        sa.Column("job_until_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_user", sa.String(length=255), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tracker_connector_id"], ["tracker_connectors.id"]),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("integration_id"),
    )
    op.create_index("ix_connections_due", "connections", ["frequency", "next_run_ms"])
    op.create_table(
        "connection_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("triggered_by", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=128), nullable=True),
        sa.Column("queued_ms", sa.BigInteger(), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=True),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=True),
        sa.Column("result_message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["connection_id"], ["connections.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_connection_jobs_connection", "connection_jobs", ["connection_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_connection_jobs_connection", table_name="connection_jobs")
    op.drop_table("connection_jobs")
    op.drop_index("ix_connections_due", table_name="connections")
    op.drop_table("connections")
    op.drop_table("tracker_connectors")
