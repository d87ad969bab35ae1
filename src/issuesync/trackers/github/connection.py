"""The ``github`` adapter's connection test: one check after the other, stopping at a failure.

Reachable (``GET /rate_limit``, which GitHub does not count), the token valid
(``GET /user``), the repository visible (``GET /repos/{owner}/{repo}``), its issues
turned on (``has_issues``), and triage or write access (``permissions``), which
labelling, assigning, closing and reopening issues need. A check's detail that
starts with "missing" fails it; an error fails it with the client's message,
which names method, path and status, never a credential.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from issuesync.errors import AuthError
from issuesync.trackers.adapter import ConnectionReport, run_checks
from issuesync.trackers.github.client import GitHubClient


def test_connection(
    client: GitHubClient, project_key: str, repo_path: str, login: Callable[[], str]
) -> ConnectionReport:
    """The checks, in order, up to the first that fails."""
    repo: dict[str, Any] = {}

    def reachable() -> str:
        with contextlib.suppress(AuthError):  # an answer (401, 403) is reachable: token next
            client.request("GET", "rate_limit")
        return f"GitHub at {client.base_url} answers"

    def repository() -> str:
        repo.update(client.get(repo_path))
        return f"repository {repo.get('full_name') or project_key} exists"

    steps: tuple[tuple[str, Callable[[], str]], ...] = (
        ("reachable", reachable),
        ("authenticated", lambda: f"signed in as '{login()}'"),
        ("project", repository),
        ("issues", lambda: _issues(repo, project_key)),
        ("permissions", lambda: _permissions(repo, project_key)),
    )
    return run_checks(steps)


def _issues(repo: Mapping[str, Any], project_key: str) -> str:
    if repo.get("has_issues") is False:
        return f"missing: issues are turned off in {project_key}'s settings"
    return "issues are on"


def _permissions(repo: Mapping[str, Any], project_key: str) -> str:
    held = repo.get("permissions") or {}
    if not (held.get("push") or held.get("triage")):
        return (
            f"missing: triage or write access to {project_key} (to label, assign, close "
            "and reopen issues)"
        )
    return "may open, edit, label, assign, close and comment on issues"
