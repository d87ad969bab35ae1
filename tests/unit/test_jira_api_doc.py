"""docs/jira-api.md stays true: every route it calls served is one the built-in tracker's
Jira routers have, and every route those routers have is in it, called served."""

from __future__ import annotations

import re
from pathlib import Path

from issuesync.api.jira.admin import build_admin_router
from issuesync.api.jira.issue_extras import build_issue_extras_router
from issuesync.api.jira.routers import JIRA_PREFIX, build_router

DOC = Path(__file__).resolve().parents[2] / "docs" / "jira-api.md"
METHODS = {"GET", "POST", "PUT", "DELETE"}


def _normal(path: str) -> str:
    """A path with its parameters unnamed: ``/issue/{key}`` and ``/issue/{id}`` are one."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented() -> dict[tuple[str, str], bool]:
    """(method, path) of every route in the doc's table, and whether it says served."""
    routes: dict[tuple[str, str], bool] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        served = cells[1].startswith("served")
        pending: list[str] = []
        for token in re.findall(r"`([^`]+)`", cells[0]):
            method, _, path = token.partition(" ")
            assert method in METHODS, (token, line)
            pending.append(method)
            if path:
                for each in pending:
                    routes[(each, _normal(path))] = served
                pending = []
        assert not pending, line
    return routes


def routed() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for build in (build_router, build_admin_router, build_issue_extras_router):
        for route in build().routes:
            path = getattr(route, "path", "")
            for method in getattr(route, "methods", set()) & METHODS:
                found.add((method, _normal(path.removeprefix(JIRA_PREFIX))))
    return found


def test_every_route_served_is_documented_as_served_and_nothing_else_is() -> None:
    doc = documented()
    served = {route for route, yes in doc.items() if yes}
    assert len(doc) > 100  # the table was read
    assert sorted(routed() - served) == []
    assert sorted(served - routed()) == []
