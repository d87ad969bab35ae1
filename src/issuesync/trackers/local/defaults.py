"""The built-in tracker's shipped configuration: statuses, types, priorities, workflow."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.trackers.local.models import (
    IssueType,
    LinkType,
    Priority,
    ProjectStatus,
    Resolution,
    Status,
    StatusCategory,
    Transition,
)
from issuesync.trackers.local.refdata import bump_reference_revision

DEFAULT_STATUSES: tuple[tuple[str, StatusCategory], ...] = (
    ("To Do", StatusCategory.NEW),
    ("In Progress", StatusCategory.IN_PROGRESS),
    ("Done", StatusCategory.DONE),
)

# name, from (None: from any status), to
DEFAULT_TRANSITIONS: tuple[tuple[str, str | None, str], ...] = (
    ("Start Progress", "To Do", "In Progress"),
    ("Done", "In Progress", "Done"),
    ("Done", "To Do", "Done"),
    ("Stop Progress", "In Progress", "To Do"),
    ("Reopen", "Done", "To Do"),
    ("Back to In Progress", "Done", "In Progress"),
)

DEFAULT_ISSUE_TYPES: tuple[tuple[str, str, bool], ...] = (
    ("Bug", "A problem which impairs or prevents the functions of the product.", False),
    ("Task", "A task that needs to be done.", False),
    ("Story", "A user story.", False),
    ("Epic", "A big user story that needs to be broken down.", False),
    ("Sub-task", "The sub-task of the issue.", True),
)

DEFAULT_PRIORITIES: tuple[str, ...] = ("Highest", "High", "Medium", "Low", "Lowest")
DEFAULT_PRIORITY = "Medium"

DEFAULT_RESOLUTIONS: tuple[tuple[str, str], ...] = (
    ("Done", "Work has been completed on this issue."),
    ("Won't Do", "This issue won't be actioned."),
    ("Duplicate", "The problem is a duplicate of an existing issue."),
    ("Cannot Reproduce", "All attempts at reproducing this issue failed."),
)
DEFAULT_RESOLUTION = "Done"

DEFAULT_LINK_TYPES: tuple[tuple[str, str, str], ...] = (
    ("Blocks", "is blocked by", "blocks"),
    ("Cloners", "is cloned by", "clones"),
    ("Duplicate", "is duplicated by", "duplicates"),
    ("Relates", "relates to", "relates to"),
)


def ensure_defaults(session: Session) -> None:
    """Create the shipped statuses, types, priorities, resolutions and link types if missing."""
    if _add_missing(session):
        bump_reference_revision(session)


def _add_missing(session: Session) -> bool:
    existing = set(session.scalars(select(Status.name)))
    for name, category in DEFAULT_STATUSES:
        if name not in existing:
            session.add(Status(name=name, category=category.value, description=""))
    existing = set(session.scalars(select(IssueType.name)))
    for name, description, subtask in DEFAULT_ISSUE_TYPES:
        if name not in existing:
            session.add(IssueType(name=name, description=description, subtask=subtask))
    existing = set(session.scalars(select(Priority.name)))
    for position, name in enumerate(DEFAULT_PRIORITIES, start=1):
        if name not in existing:
            session.add(Priority(name=name, position=position, description=""))
    existing = set(session.scalars(select(Resolution.name)))
    for name, description in DEFAULT_RESOLUTIONS:
        if name not in existing:
            session.add(Resolution(name=name, description=description))
    existing = set(session.scalars(select(LinkType.name)))
    for name, inward, outward in DEFAULT_LINK_TYPES:
        if name not in existing:
            session.add(LinkType(name=name, inward=inward, outward=outward))
    added = bool(session.new)
    session.flush()
    return added


def default_initial_status(session: Session) -> Status:
    """The status new issues of a project with the default workflow start in."""
    status = session.scalar(select(Status).where(Status.name == DEFAULT_STATUSES[0][0]))
    if status is None:
        ensure_defaults(session)
        return default_initial_status(session)
    return status


def install_default_workflow(session: Session, project_id: int) -> None:
    """Give a new project the default workflow's statuses and transitions."""
    statuses = {s.name: s for s in session.scalars(select(Status))}
    for position, (name, _category) in enumerate(DEFAULT_STATUSES):
        session.add(
            ProjectStatus(project_id=project_id, status_id=statuses[name].id, position=position)
        )
    for position, (name, source, target) in enumerate(DEFAULT_TRANSITIONS):
        session.add(
            Transition(
                project_id=project_id,
                number=11 + 10 * position,  # Jira numbers a workflow's transitions 11, 21, ...
                name=name,
                from_status_id=statuses[source].id if source else None,
                to_status_id=statuses[target].id,
            )
        )
