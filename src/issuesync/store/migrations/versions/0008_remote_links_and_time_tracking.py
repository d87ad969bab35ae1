"""remote links and estimates: the built-in tracker's remote issue links and time tracking

Jira's remote issue links (``issue/{key}/remotelink``: a link from an issue to an object
elsewhere, found again by the caller's ``globalId``) get a table; so do an issue's
estimates (Jira's ``timetracking``: original and remaining, in seconds), which work logs
move by their ``adjustEstimate``. Both go with their issue.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracker_remote_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("global_id", sa.String(length=255), nullable=True),
        sa.Column("relationship", sa.String(length=255), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("application_json", sa.Text(), nullable=True),
        sa.Column("icon_json", sa.Text(), nullable=True),
        sa.Column("status_json", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["tracker_issues.id"],
            name=op.f("fk_tracker_remote_links_issue_id_tracker_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_remote_links")),
        sa.UniqueConstraint(
            "issue_id", "global_id", name=op.f("uq_tracker_remote_links_issue_id_global_id")
        ),
    )
    with op.batch_alter_table("tracker_remote_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracker_remote_links_issue_id"), ["issue_id"], unique=False
        )
    op.create_table(
        "tracker_time_tracking",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("original_estimate_seconds", sa.Integer(), nullable=True),
        sa.Column("remaining_estimate_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["issue_id"],
            ["tracker_issues.id"],
            name=op.f("fk_tracker_time_tracking_issue_id_tracker_issues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issue_id", name=op.f("pk_tracker_time_tracking")),
    )


def downgrade() -> None:
    op.drop_table("tracker_time_tracking")
    with op.batch_alter_table("tracker_remote_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracker_remote_links_issue_id"))
    op.drop_table("tracker_remote_links")
