"""message bodies: a message's JSON in a table of its own

A state change then rewrites the message's narrow row, not kilobytes of JSON
(SQLite rewrites a whole row on any update).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_message_bodies",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["sync_messages.id"],
            name=op.f("fk_sync_message_bodies_message_id_sync_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_sync_message_bodies")),
    )
    op.execute(
        "INSERT INTO sync_message_bodies (message_id, body) SELECT id, body FROM sync_messages"
    )
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 or later, as RETURNING already needs): not
    # a batch copy of the table, whose DROP would cascade to the bodies copied above.
    op.drop_column("sync_messages", "body")


def downgrade() -> None:
    op.add_column("sync_messages", sa.Column("body", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE sync_messages SET body = (SELECT body FROM sync_message_bodies "
        "WHERE message_id = sync_messages.id)"
    )
    op.drop_table("sync_message_bodies")
