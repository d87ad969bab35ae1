"""The ``redmine`` adapter's connection test: reachable, key valid, project, roles, fields."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Final

from issuesync.errors import AuthError
from issuesync.trackers.adapter import ConnectionReport, run_checks
from issuesync.trackers.redmine.client import RedmineClient
from issuesync.trackers.redmine.schema import Catalog

# What a sync needs, as Redmine's permission names; the notes' edit needs either one.
NEEDED: Final = (
    "view_issues",
    "add_issues",
    "edit_issues",
    "add_issue_notes",
    "manage_subtasks",
)
NOTE_EDITS: Final = ("edit_issue_notes", "edit_own_issue_notes")


class ConnectionTest:
    """The checks, in order; each says what it found, or "missing: ..."."""

    def __init__(
        self, client: RedmineClient, identifier: str, catalog: Callable[[], Catalog]
    ) -> None:
        self._client = client
        self._identifier = identifier
        self._catalog = catalog
        self._me: Mapping[str, Any] = {}

    def run(self) -> ConnectionReport:
        """Each check in turn (see :func:`~issuesync.trackers.adapter.run_checks`)."""
        return run_checks(
            (
                ("reachable", self.reachable),
                ("authenticated", self.authenticated),
                ("project", self.project),
                ("permissions", self.permissions),
                ("fields", self.fields),
            )
        )

    def reachable(self) -> str:
        """Redmine answers (a refusal of the key is an answer too)."""
        with contextlib.suppress(AuthError):
            self._client.get("issue_statuses.json")
        return f"Redmine at {self._client.base_url} answers"

    def authenticated(self) -> str:
        """The key or password is a user's (``users/current.json``; anonymous is refused)."""
        self._me = self._client.get("users/current.json", {"include": "memberships"})["user"]
        admin = " (administrator)" if self._me.get("admin") else ""
        return f"logged in as '{self._me.get('login')}'{admin}"

    def project(self) -> str:
        """The project exists, for this user, and tracks issues."""
        answer = self._client.get(
            f"projects/{self._identifier}.json", {"include": "enabled_modules"}
        )["project"]
        modules = {m.get("name") for m in answer.get("enabled_modules") or []}
        if "issue_tracking" not in modules:
            return f"missing: the issue tracking module of project {self._identifier}"
        return f"project {self._identifier} ({answer.get('name')}) tracks issues"

    def permissions(self) -> str:
        """The user's roles in the project allow what a sync does."""
        if self._me.get("admin"):
            return "an administrator may do everything"
        project_id = self._catalog().project_id
        held: set[str] = set()
        for membership in self._me.get("memberships") or []:
            if (membership.get("project") or {}).get("id") != project_id:
                continue
            for role in membership.get("roles") or []:
                answer = self._client.get(f"roles/{role['id']}.json")["role"]
                held.update(answer.get("permissions") or [])
        missing = [p for p in NEEDED if p not in held]
        if not held.intersection(NOTE_EDITS):
            missing.append(" or ".join(NOTE_EDITS))
        if missing:
            return f"missing: {', '.join(missing)} (the sync user's roles in {self._identifier})"
        return "may view, create and edit issues and sub-tasks, add and edit notes, attach"

    def fields(self) -> str:
        """The fields a create needs, and the trackers it may use."""
        known = self._catalog()
        if not known.trackers:
            return f"missing: project {self._identifier} enables no tracker"
        required = [f.name.lower() for f in known.system_fields() if f.required]
        required += [c.name for c in known.custom_fields.values() if c.required]
        return f"required fields: {', '.join(required)}; trackers: {', '.join(known.trackers)}"
