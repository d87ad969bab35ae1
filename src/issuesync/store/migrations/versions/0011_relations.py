"""relations: integrations split between two issuesync nodes over the node API (seed 003)

A relation is this node's side (its partner's URL, the encrypted shared secret, the
pairing's one-time token hash); node_tokens keeps the request tokens already used until
they expire (no replay); outbound_blobs names the attachment content a connector's send
queue offers its partner; blob_failures the partner's content that did not arrive intact.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("project_key", sa.String(length=255), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("partner_node", sa.String(length=64), nullable=True),
        sa.Column("partner_url", sa.String(length=1024), nullable=True),
        sa.Column("partner_project_key", sa.String(length=255), nullable=True),
        sa.Column("ca_bundle", sa.String(length=1024), nullable=True),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_ms", sa.BigInteger(), nullable=True),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_contact_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_failure", sa.Text(), nullable=False),
        sa.Column("partner_errors", sa.Integer(), nullable=False),
        sa.Column("partner_error", sa.Text(), nullable=False),
        sa.Column("nudged_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_user", sa.String(length=255), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["integration_id"], ["integrations.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connector_id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "node_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["relation_id"], ["relations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_index("ix_node_tokens_expires_ms", "node_tokens", ["expires_ms"])
    op.create_table(
        "outbound_blobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connector_id", "checksum"),
    )
    op.create_index("ix_outbound_blobs_connector_id", "outbound_blobs", ["connector_id"])
    op.create_table(
        "blob_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relation_id", sa.Integer(), nullable=False),
        sa.Column("message_uuid", sa.String(length=64), nullable=False),
        sa.Column("sync_event_id", sa.BigInteger(), nullable=False),
        sa.Column("source_issue_key", sa.String(length=255), nullable=False),
        sa.Column("blob_id", sa.String(length=255), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("actual", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("parked", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["relation_id"], ["relations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("relation_id", "message_uuid", "checksum"),
    )


def downgrade() -> None:
    op.drop_table("blob_failures")
    op.drop_index("ix_outbound_blobs_connector_id", table_name="outbound_blobs")
    op.drop_table("outbound_blobs")
    op.drop_index("ix_node_tokens_expires_ms", table_name="node_tokens")
    op.drop_table("node_tokens")
    op.drop_table("relations")
