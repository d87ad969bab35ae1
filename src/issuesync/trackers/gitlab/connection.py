"""The ``gitlab`` adapter's connection test: reachable, the token, the project, the access."""

from __future__ import annotations

from typing import Any, Final

from issuesync.errors import AuthError
from issuesync.trackers.adapter import ConnectionReport, run_checks
from issuesync.trackers.gitlab.client import GitLabClient

REPORTER: Final = 20  # GitLab's access level that may edit, label and close others' issues
MAINTAINER: Final = 40  # ... and delete uploads


def test_connection(client: GitLabClient, project_path: str) -> ConnectionReport:
    """Each check in turn (see ``run_checks``); no credential in any detail."""
    project: dict[str, Any] = {}

    def reachable() -> str:
        try:
            info = client.get("version")
        except AuthError:  # an answer (401, 403): the token is checked next
            return f"GitLab at {client.base_url} answers"
        return f"GitLab {info.get('version', '?')} at {client.base_url} answers"

    def authenticated() -> str:
        return f"token of '{client.get('user').get('username')}'"

    def project_exists() -> str:
        project.update(client.get(project_path))
        name = project.get("path_with_namespace")
        if not project.get("issues_enabled", True):
            return f"missing: issues are turned off in project {name}"
        return f"project {name} exists, with issues"

    def permissions() -> str:
        granted = project.get("permissions") or {}
        level = max(
            int((granted.get(kind) or {}).get("access_level") or 0)
            for kind in ("project_access", "group_access")
        )
        if level < REPORTER:
            return (
                f"missing: access level {level}; the sync user needs Reporter (20) or more "
                "to edit, label, assign and close issues"
            )
        uploads = "" if level >= MAINTAINER else "; deleting uploads needs Maintainer (40)"
        return f"access level {level}: may create, edit, close and comment{uploads}"

    steps = (
        ("reachable", reachable),
        ("authenticated", authenticated),
        ("project", project_exists),
        ("permissions", permissions),
    )
    return run_checks(steps)
