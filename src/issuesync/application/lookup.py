"""Finding integrations, wanting them running or stopped, and deleting them."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuesync.errors import ConflictError, NotFoundError
from issuesync.store.base import now_ms
from issuesync.store.connections import ConnectionRow
from issuesync.store.sync import ConnectorRow, IntegrationRow


def list_integrations(session: Session, project_key: str | None = None) -> list[IntegrationRow]:
    """Every integration, oldest first; with ``project_key``, those that sync that project."""
    query = select(IntegrationRow).order_by(IntegrationRow.number)
    if project_key:
        query = query.where(
            IntegrationRow.id.in_(
                select(ConnectorRow.integration_id).where(
                    ConnectorRow.project_key == project_key.upper()
                )
            )
        )
    return list(session.scalars(query))


def get_integration(session: Session, key: str) -> IntegrationRow:
    """The integration with this key (``INT-n``), or NotFoundError."""
    row = session.scalar(select(IntegrationRow).where(IntegrationRow.key == key.upper()))
    if row is None:
        raise NotFoundError(f"No integration with key {key}.")
    return row


def set_running(session: Session, key: str, running: bool, actor: str) -> IntegrationRow:
    """Mark the integration as wanted running (or stopped); the workers follow."""
    row = get_integration(session, key)
    if row.running != running:
        row.running = running
        row.modified_user = actor
        row.modified_ms = now_ms()
    session.flush()
    return row


def delete_integration(session: Session, key: str) -> None:
    """Delete the integration; its connectors, state, messages and sync links go too."""
    row = get_integration(session, key)
    # The foreign keys cascade (SQLite runs with foreign_keys=ON).
    session.execute(delete(IntegrationRow).where(IntegrationRow.id == row.id))
    session.expunge(row)


def refuse_connection(session: Session, integration: IntegrationRow) -> None:
    """Refuse to start or reconfigure an integration that a connection runs by jobs: its
    configuration is written from the connection's settings, and a continuous run would
    hold the connectors its jobs need.

    Raises:
        ConflictError: a connection runs it (the error says where to change it).
    """
    connection_id = session.scalar(
        select(ConnectionRow.id).where(ConnectionRow.integration_id == integration.id)
    )
    if connection_id is not None:
        raise ConflictError(
            f"{integration.key} is run by jobs of connection {connection_id}: change it at "
            f"/api/v2/connections/issue-tracker/{connection_id}/ or with "
            f"`issuesync connection change {connection_id}`."
        )
