"""Who may see and steer which integration: the rule every surface applies.

An administrator sees and changes everything. A project administrator sees
and steers the integrations where one side is a built-in project they
administer. Everyone else gets 403, whatever they name.

What a caller may not see does not exist for them: an integration, connector
or task of someone else's answers the same 404, message and all, as one that
does not exist, so that no answer tells which keys exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.application.integrations import connector_row_by_key, connector_rows, get_integration
from issuesync.errors import NotFoundError, PermissionDeniedError
from issuesync.store.principals import Principal
from issuesync.store.sync import ConnectorRow, IntegrationRow

LOCAL = "local"


def require_some_project(principal: Principal) -> None:
    """403 for a caller who administers nothing (the API is for administrators)."""
    if not principal.is_admin and not principal.project_admin_keys:
        raise PermissionDeniedError(
            "You must be an administrator, or administer a project, to use this API."
        )


def _own_sides(principal: Principal, rows: Iterable[ConnectorRow]) -> bool:
    return any(row.system == LOCAL and principal.administers(row.project_key) for row in rows)


def visible_integration(session: Session, principal: Principal, key: str) -> IntegrationRow:
    """The integration with this key if the caller may see it; else 404 as for a missing one.

    403 first for a caller who administers nothing, whatever the key.
    """
    require_some_project(principal)
    integration = get_integration(session, key)  # "No integration with key ..."
    if not sees(session, principal, integration):
        raise NotFoundError(f"No integration with key {key}.")
    return integration


def sees(session: Session, principal: Principal, integration: IntegrationRow) -> bool:
    """Whether the caller is an administrator or administers one of its projects."""
    return principal.is_admin or _own_sides(principal, connector_rows(session, integration.id))


def visible_connector(session: Session, principal: Principal, key: str) -> ConnectorRow:
    """The connector with this key if the caller may see its integration; else 404."""
    require_some_project(principal)
    row = connector_row_by_key(session, key)  # "No connector with key ..."
    integration = session.get_one(IntegrationRow, row.integration_id)
    if not sees(session, principal, integration):
        raise NotFoundError(f"No connector with key {key}.")
    return row


def visible_integration_ids(session: Session, principal: Principal) -> set[int] | None:
    """The integrations a project administrator may see; None for an administrator."""
    if principal.is_admin:
        return None
    rows = session.execute(
        select(ConnectorRow.integration_id, ConnectorRow.project_key).where(
            ConnectorRow.system == LOCAL,
            ConnectorRow.project_key.in_(sorted(principal.project_admin_keys)),
        )
    )
    return {integration_id for integration_id, _ in rows}
