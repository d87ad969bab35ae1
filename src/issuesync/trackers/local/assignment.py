"""Jira's ``PUT issue/{key}/assignee``: assign an issue, unassign it, or assign it automatically.

As Jira Server answers (its REST function test ``TestIssueResourceAssign`` and the
8.20 reference): a name assigns that user, ``null`` unassigns, ``"-1"`` assigns
automatically; a missing issue is 404, and a user who cannot be assigned is a 400
naming ``assignee``. Every user holds Assign Issues and Assignable User here (see
``meta.PERMISSIONS``), so no caller is refused for lack of them; a deactivated user
cannot be assigned, as in Jira.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from issuesync.errors import InvalidInputError
from issuesync.store.users import User
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.models import Issue, IssueComponent
from issuesync.trackers.local.projects import default_assignee as project_default_assignee
from issuesync.trackers.local.refdata import ProjectRef

AUTOMATIC: Final = "-1"


def assign_issue(op: Operation, key: str, name: str | None) -> None:
    """Assign ``key`` to the user ``name``; None unassigns, ``"-1"`` assigns automatically.

    The change lands in the issue's history and moves ``updated``, as an edit's does.
    """
    issue = op.issue(key)
    project = op.project_of(issue)
    if name is None:
        user = None
    elif name == AUTOMATIC:
        user = default_assignee(op, issue)
    else:
        user = _assignable(op, name)
    writer = op.writer(ProjectRef.of(project))
    writer.set_assignee(issue, {"name": user.name} if user is not None else None)
    op.touch(issue, writer.changes)


def default_assignee(op: Operation, issue: Issue) -> User | None:
    """Who "Automatic" assigns ``issue`` to: Jira's default assignee, by the same rule a
    new issue without an assignee follows (its components' assignee types, else its
    project's: :func:`~issuesync.trackers.local.projects.default_assignee`). No one, or a
    deactivated lead, leaves it unassigned, as Jira does for a project whose default is
    UNASSIGNED (unassigned issues are always allowed here)."""
    component_ids = op.session.scalars(
        select(IssueComponent.component_id).where(IssueComponent.issue_id == issue.id)
    )
    user_id = project_default_assignee(op, issue.project_id, component_ids)
    return op.session.get(User, user_id) if user_id is not None else None


def _assignable(op: Operation, name: str) -> User:
    user = op.users().find(name)
    if user is None:
        raise InvalidInputError(
            f"User '{name}' does not exist.",
            field_errors={"assignee": f"User '{name}' does not exist."},
        )
    if not user.active:
        raise InvalidInputError(
            f"User '{name}' cannot be assigned issues.",
            field_errors={"assignee": f"User '{name}' cannot be assigned issues."},
        )
    return user
