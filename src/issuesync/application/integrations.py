"""Integration management, the one service every surface shares: create, read, change,
start, stop and delete integrations and their connectors.

It takes and returns the neutral models of ``domain/integration.py``: a dialect's surface
translates its request body into an :class:`~issuesync.domain.integration.IntegrationDraft`
and renders the :class:`~issuesync.domain.integration.IntegrationView` it gets back. Errors
name fields by their neutral paths (``application/fields.py``). The jobs live in their own
modules (creation, changes, lookup, rules, sync users, queues, monitoring); this one is
their public surface, with the engine's view of connectors (``engine/connectors.py``).

Every function works in the caller's session; the caller's unit of work commits. Secrets
(the sync user's password or token, the proxy password) are encrypted before they reach a
row and are read back only by :func:`connector_secret` and :func:`connector_proxy`.
"""

from __future__ import annotations

from issuesync.application.changes import update_connection, update_integration
from issuesync.application.creation import SYNCINFO_PREFIX, create_integration, next_number
from issuesync.application.lookup import (
    delete_integration,
    get_integration,
    list_integrations,
    set_running,
)
from issuesync.application.monitoring import integration_view, integration_views
from issuesync.application.rules import ProjectExists, project_checker
from issuesync.application.sync_users import Editor
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    ConnectorConfig,
    QueuePlaces,
    connector_by_key,
    connector_configs,
    connector_proxy,
    connector_row_by_key,
    connector_rows,
    connector_secret,
    load_configuration,
    load_queue,
)
from issuesync.trackers.credentials import ProxySettings

__all__ = [
    "PARTNER_SYSTEM",
    "SYNCINFO_PREFIX",
    "ConnectorConfig",
    "Editor",
    "ProjectExists",
    "ProxySettings",
    "QueuePlaces",
    "connector_by_key",
    "connector_configs",
    "connector_proxy",
    "connector_row_by_key",
    "connector_rows",
    "connector_secret",
    "create_integration",
    "delete_integration",
    "get_integration",
    "integration_view",
    "integration_views",
    "list_integrations",
    "load_configuration",
    "load_queue",
    "next_number",
    "project_checker",
    "set_running",
    "update_connection",
    "update_integration",
]
