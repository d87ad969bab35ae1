"""project details: Jira's project category, URL, type and default assignee; a component's
lead and default assignee

``POST /rest/api/2/project`` and ``POST /rest/api/2/component`` take these fields in Jira
(the clients send them), and ``GET`` shows them back, so the built-in tracker stores them.
Existing projects keep what they had: no URL, no category, type ``software``, issues left
unassigned (``UNASSIGNED``); existing components take the project's default assignee
(``PROJECT_DEFAULT``) and have no lead.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A SQLite database downgraded from here kept the table and two columns (see downgrade).
    kept = sa.inspect(op.get_bind()).has_table("tracker_project_categories")
    if not kept:
        _create_categories()
    # Plain ADD COLUMNs: a batch copy of tracker_projects on SQLite would cascade its
    # deletes into every issue.
    op.add_column(
        "tracker_projects",
        sa.Column("url", sa.String(length=255), nullable=False, server_default=""),
    )
    op.add_column(
        "tracker_projects",
        sa.Column(
            "project_type_key", sa.String(length=32), nullable=False, server_default="software"
        ),
    )
    op.add_column(
        "tracker_projects",
        sa.Column(
            "assignee_type", sa.String(length=16), nullable=False, server_default="UNASSIGNED"
        ),
    )
    if not kept:
        _add_reference("tracker_projects", "category_id", "tracker_project_categories")
        _add_reference("tracker_components", "lead_id", "users")
    op.add_column(
        "tracker_components",
        sa.Column(
            "assignee_type",
            sa.String(length=16),
            nullable=False,
            server_default="PROJECT_DEFAULT",
        ),
    )


def _create_categories() -> None:
    op.create_table(
        "tracker_project_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_project_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_tracker_project_categories_name")),
    )


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable column referring to ``target.id``, set to null when that row goes.

    SQLite cannot add a constraint to a table, but takes a REFERENCES clause on a
    nullable column it adds; PostgreSQL adds the column, then the named constraint.
    """
    name = f"fk_{table}_{column}_{target}"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
            f"CONSTRAINT {name} REFERENCES {target} (id) ON DELETE SET NULL"
        )
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(op.f(name), table, target, [column], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    # PostgreSQL drops a column's foreign key with it. SQLite refuses to drop a column a
    # REFERENCES clause names, and a batch copy of tracker_projects would cascade its deletes
    # into every issue: there the two nullable references stay, unknown to older code.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in (
        ("tracker_components", "assignee_type"),
        ("tracker_components", "lead_id"),
        ("tracker_projects", "category_id"),
        ("tracker_projects", "assignee_type"),
        ("tracker_projects", "project_type_key"),
        ("tracker_projects", "url"),
    ):
        if not (sqlite and column in ("lead_id", "category_id")):
            op.drop_column(table, column)
    if sqlite:
        # What stays holds nothing: an upgrade finds it empty and takes it up again.
        op.execute("UPDATE tracker_projects SET category_id = NULL")
        op.execute("UPDATE tracker_components SET lead_id = NULL")
        op.execute("DELETE FROM tracker_project_categories")
    else:
        op.drop_table("tracker_project_categories")
