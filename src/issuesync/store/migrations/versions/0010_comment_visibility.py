"""comment visibility: who may see a comment of the built-in tracker

Jira's comment ``visibility`` (a role or a group by name) was accepted and dropped; it is
kept now, shown by the Jira API, and the sync engine leaves a restricted comment on its
side unless the connector's ``syncRestrictedComments`` says otherwise.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 12:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tracker_comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visibility_type", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("visibility_value", sa.String(length=255), nullable=True))


def downgrade() -> None:
    # In place, not in a batch, which on SQLite copies the table and cascades the drop of
    # the old one to what refers to it (see 0009).
    op.drop_column("tracker_comments", "visibility_value")
    op.drop_column("tracker_comments", "visibility_type")
