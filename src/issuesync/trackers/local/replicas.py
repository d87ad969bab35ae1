"""The built-in tracker in the sync adapter's terms: replicas, the project's schema, users.

Issues are rendered straight into replicas by :mod:`~issuesync.trackers.local.hubrender`,
one query per kind of part for a whole page; a test holds that equal to rendering
them as Jira JSON and reading that with :mod:`issuesync.trackers.fieldcodec`, the
code that reads a remote Jira's answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuesync.domain.replica import FieldValue, HubAttachment, HubComment, Replica, UserRef
from issuesync.errors import NotFoundError
from issuesync.store.users import User
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import FieldInfo, ProjectSchema
from issuesync.trackers.local import hubrender
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.models import (
    Attachment,
    Comment,
    Component,
    IssueFields,
    Project,
    ProjectStatus,
    Version,
    row_id,
)
from issuesync.trackers.local.render import FieldSelection

# What a replica is made of; sub-tasks and Jira's watch count would cost queries for
# nothing (hubrender reads the watchers themselves). Links cost one query a page (both
# ends' issues are read with the page's parents).
SELECTION: Final = FieldSelection(
    include_all=False,
    navigable=True,
    names=frozenset({"comment", "attachment", "worklog", "issuelinks"}),
    excluded=frozenset({"subtasks", "watches"}),
)


def render_replicas(op: Operation, rows: Sequence[IssueFields]) -> list[Replica]:
    """A page of issues as replicas, rendered in one batch (see ``hubrender``)."""
    return load_replicas(op, rows).replicas()


def load_replicas(op: Operation, rows: Sequence[IssueFields]) -> hubrender.HubPage:
    """What :func:`render_replicas` reads; its ``replicas()`` may be built after ``op``."""
    return hubrender.HubPage.load(op.renderer(), rows, SELECTION, custom_fields(op))


def custom_fields(op: Operation) -> dict[str, FieldInfo]:
    """Every custom field (they are global), by Jira id, with its options."""
    return {
        field.field_id: FieldInfo(
            id=field.field_id,
            name=field.name,
            type=field.field_type,
            custom=True,
            allowed_values=tuple(o.value for o in field.options),
        )
        for field in sorted(op.ref.custom_fields.by_id.values(), key=lambda f: f.id)
    }


def write_schema(op: Operation, project_key: str) -> ProjectSchema:
    """The fields a write may name: what ``to_jira_fields`` needs, without project queries."""
    fields = fieldcodec.SYNCED_SYSTEM_FIELDS + tuple(custom_fields(op).values())
    return ProjectSchema(project_key, project_key, (), (), (), (), fields=fields)


def describe_project(op: Operation, project: Project) -> ProjectSchema:
    """Issue types, the workflow's statuses, priorities, and fields with allowed values."""
    session, ref = op.session, op.ref
    statuses = tuple(
        row.status.name
        for row in session.scalars(
            select(ProjectStatus)
            .where(ProjectStatus.project_id == project.id)
            .order_by(ProjectStatus.position)
        )
    )
    components = tuple(
        session.scalars(
            select(Component.name)
            .where(Component.project_id == project.id)
            .order_by(Component.name)
        )
    )
    versions = tuple(
        session.scalars(
            select(Version.name).where(Version.project_id == project.id).order_by(Version.id)
        )
    )
    types = sorted(ref.issue_types.by_id.values(), key=lambda t: t.id)
    allowed: dict[str, tuple[str, ...]] = {
        "issuetype": tuple(t.name for t in types),
        "status": statuses,
        "priority": tuple(p.name for p in ref.priorities.by_id.values()),
        "resolution": tuple(r.name for r in ref.resolutions.by_id.values()),
        "components": components,
        "fixVersions": versions,
        "versions": versions,
    }
    system = tuple(
        dataclasses.replace(info, allowed_values=allowed.get(info.id, ()))
        for info in fieldcodec.SYNCED_SYSTEM_FIELDS
    )
    return ProjectSchema(
        key=project.key,
        name=project.name,
        issue_types=tuple(t.name for t in types if not t.subtask),
        subtask_types=tuple(t.name for t in types if t.subtask),
        statuses=statuses,
        priorities=allowed["priority"],
        fields=system + tuple(custom_fields(op).values()),
        initial_status=ref.statuses.get(project.initial_status_id).name,
    )


# -- users ----------------------------------------------------------------------------------


def user_by_name(session: Session, name: object) -> User | None:
    """The user with this login name: exactly, else case-insensitively."""
    if not isinstance(name, str) or not name:
        return None
    exact = session.scalar(select(User).where(User.name == name))
    return exact or session.scalar(
        select(User).where(func.lower(User.name) == name.lower()).order_by(User.id).limit(1)
    )


def user_by_email(session: Session, email: object) -> User | None:
    """The user with this e-mail (case-insensitive), an active one first."""
    if not isinstance(email, str) or not email:
        return None
    return session.scalar(
        select(User)
        .where(func.lower(User.email) == email.lower())
        .order_by(User.active.desc(), User.id)
        .limit(1)
    )


def user_ref(user: User) -> UserRef:
    """A user as the replica names one."""
    return UserRef(
        key=user.name,
        username=user.name,
        email=user.email,
        display_name=user.display_name,
        active=user.active,
    )


def login_of(session: Session) -> fieldcodec.LoginOf:
    """Names the users of canonical values here: by username, else by e-mail.

    A user found neither way keeps the value's own name, which the tracker then
    refuses with a field error naming it.
    """

    def login(value: object) -> str | None:
        if isinstance(value, Mapping):
            user = user_by_name(session, value.get("username")) or user_by_email(
                session, value.get("email")
            )
            if user is not None:
                return user.name
        return fieldcodec.default_login(value)

    return login


def reporter_name(session: Session, value: FieldValue, ref: UserRef | None) -> str | None:
    """The reporter of a new issue, from its canonical value or the draft's reporter.

    None when neither names an active user here: the sync user reports it then.
    """
    candidates: list[User | None] = []
    if isinstance(value, Mapping):
        candidates += [user_by_name(session, value.get("username"))]
        candidates += [user_by_email(session, value.get("email"))]
    if ref is not None:
        candidates += [user_by_email(session, ref.email), user_by_name(session, ref.username)]
    return next((u.name for u in candidates if u is not None and u.active), None)


# -- comments and attachments ---------------------------------------------------------------


def comment_row(session: Session, comment_id: str, issue_id: int) -> Comment | None:
    """The comment with this id on this issue, or None."""
    number = row_id(comment_id)
    comment = session.get(Comment, number) if number is not None else None
    return comment if comment is not None and comment.issue_id == issue_id else None


def attachment_row(session: Session, attachment_id: str, issue_id: int) -> Attachment | None:
    """The attachment with this id on this issue, or None."""
    number = row_id(attachment_id)
    row = session.get(Attachment, number) if number is not None else None
    return row if row is not None and row.issue_id == issue_id else None


def comment_of(op: Operation, comment_id: str) -> HubComment:
    """A comment by id as the replica has it; 404 when it is gone."""
    number = row_id(comment_id)
    comment = op.session.get(Comment, number) if number is not None else None
    if comment is None:
        raise NotFoundError(f"The comment {comment_id} does not exist (any more).")
    return fieldcodec.comment_from_jira(op.renderer().comment(comment))


def attachment_of(op: Operation, attachment_id: str) -> HubAttachment:
    """An attachment by id as the replica has it; 404 when it is gone."""
    number = row_id(attachment_id)
    row = op.session.get(Attachment, number) if number is not None else None
    if row is None:
        raise NotFoundError(f"The attachment {attachment_id} does not exist (any more).")
    return fieldcodec.attachment_from_jira(op.renderer().attachment(row))
