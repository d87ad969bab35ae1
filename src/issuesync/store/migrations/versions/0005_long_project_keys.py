"""long project keys: a GitHub owner/repo or a GitLab group/project path fits

A connector's project key was at most 32 characters, a Jira key's length; the
other trackers name projects by paths of up to 255.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite does not enforce a VARCHAR's length: only PostgreSQL needs the change.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "connectors",
            "project_key",
            type_=sa.String(255),
            existing_type=sa.String(32),
            existing_nullable=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "connectors",
            "project_key",
            type_=sa.String(32),
            existing_type=sa.String(255),
            existing_nullable=False,
        )
