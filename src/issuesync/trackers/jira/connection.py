"""The ``jira`` adapter's connection test: reachable, logged in, the project, permissions."""

from __future__ import annotations

from typing import Final

from issuesync.errors import AuthError, NotFoundError
from issuesync.trackers.adapter import ConnectionReport, run_checks
from issuesync.trackers.jira.client import JiraClient

PERMISSIONS: Final = (
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "TRANSITION_ISSUES",
    "ADD_COMMENTS",
    "CREATE_ATTACHMENTS",
)


def test_connection(client: JiraClient, project_key: str) -> ConnectionReport:
    """Reachable, authenticated (``/myself``), the project exists, the permissions."""
    return run_checks(
        (
            ("reachable", lambda: _check_reachable(client)),
            ("authenticated", lambda: _check_user(client)),
            ("project", lambda: _check_project(client, project_key)),
            ("permissions", lambda: _check_permissions(client, project_key)),
        )
    )


def _check_reachable(client: JiraClient) -> str:
    try:
        info = client.get("serverInfo")
    except AuthError:  # an answer (401, 403), so reachable: auth is checked next
        return f"Jira at {client.base_url} answers"
    return f"Jira {info.get('version', '?')} at {client.base_url} answers"


def _check_user(client: JiraClient) -> str:
    me = client.get("myself")
    return f"logged in as '{me.get('name') or me.get('displayName')}'"


def _check_project(client: JiraClient, project_key: str) -> str:
    project = client.get(f"project/{project_key}")
    return f"project {project.get('key')} ({project.get('name')}) exists"


def _check_permissions(client: JiraClient, project_key: str) -> str:
    try:
        answer = client.get(
            "mypermissions",
            {"projectKey": project_key, "permissions": ",".join(PERMISSIONS)},
        )
    except NotFoundError:
        # Not a refusal: this server cannot tell (jira820 has no such resource).
        return "not checked: the server has no /mypermissions; writes will tell"
    held = answer.get("permissions") or {}
    missing = [p for p in PERMISSIONS if not (held.get(p) or {}).get("havePermission", False)]
    if missing:
        return f"missing: {', '.join(missing)}"
    return "may browse, create, edit and transition issues, comment and attach"
