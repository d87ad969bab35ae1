"""Tables of the built-in tracker.

Timestamps are epoch milliseconds (``*_ms``) so that millisecond precision is
exact and comparisons are plain integer comparisons on SQLite and PostgreSQL.
Multi-valued fields (labels, components, versions, option/user custom fields)
are rows of their own so that JQL compiles to indexed ``EXISTS`` sub-queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple, TypeAlias

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuesync.store.base import Base
from issuesync.store.users import User


class StatusCategory(StrEnum):
    """Jira's three status categories."""

    NEW = "new"
    IN_PROGRESS = "indeterminate"
    DONE = "done"


class CustomFieldType(StrEnum):
    """The custom field types the built-in tracker supports."""

    STRING = "string"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    OPTION = "option"
    OPTIONS = "options"
    USER = "user"
    USERS = "users"

    @property
    def multiple(self) -> bool:
        """Whether a value of this type is a list."""
        return self in (CustomFieldType.OPTIONS, CustomFieldType.USERS)


class VersionKind(StrEnum):
    """Which of an issue's version fields a version is in."""

    FIX = "fix"
    AFFECTED = "affected"


class TrackerRevision(Base):
    """A counter that moves whenever a kind of cached data changes (e.g. ``reference``).

    Processes cache reference data and compare one integer per operation, so a
    custom field created by one worker is seen by every other at once.
    """

    __tablename__ = "tracker_revisions"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)


class NamedRow(Base):
    """A row of a small reference table, found by id or by its unique name."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class Status(NamedRow):
    """A status; global as in Jira, used by the workflows of projects."""

    __tablename__ = "tracker_statuses"
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16))


class IssueType(NamedRow):
    """An issue type; sub-task types need a parent."""

    __tablename__ = "tracker_issue_types"
    description: Mapped[str] = mapped_column(Text, default="")
    subtask: Mapped[bool] = mapped_column(Boolean, default=False)


class Priority(NamedRow):
    """A priority; ``position`` orders them, highest first."""

    __tablename__ = "tracker_priorities"
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)


class Resolution(NamedRow):
    """A resolution, set when an issue reaches a done status."""

    __tablename__ = "tracker_resolutions"
    description: Mapped[str] = mapped_column(Text, default="")


class Project(Base):
    """A project; its issues are keyed ``KEY-N`` with N from ``issue_counter``."""

    __tablename__ = "tracker_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    initial_status_id: Mapped[int] = mapped_column(ForeignKey("tracker_statuses.id"))
    issue_counter: Mapped[int] = mapped_column(Integer, default=0)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    # Jira's project details (migration 0007): shown as given, see trackers/local/projects.py.
    url: Mapped[str] = mapped_column(String(255), default="", server_default="")
    project_type_key: Mapped[str] = mapped_column(
        String(32), default="software", server_default="software"
    )
    assignee_type: Mapped[str] = mapped_column(
        String(16), default="UNASSIGNED", server_default="UNASSIGNED"
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracker_project_categories.id", ondelete="SET NULL")
    )

    lead: Mapped[User | None] = relationship()
    initial_status: Mapped[Status] = relationship()


class ProjectCategory(Base):
    """A project category: a name projects are grouped under (Jira's ``projectCategory``)."""

    __tablename__ = "tracker_project_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class ProjectStatus(Base):
    """A status in a project's workflow."""

    __tablename__ = "tracker_project_statuses"
    __table_args__ = (UniqueConstraint("project_id", "status_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("tracker_statuses.id"))
    position: Mapped[int] = mapped_column(Integer)

    status: Mapped[Status] = relationship(lazy="joined")


class Transition(Base):
    """A workflow transition; ``from_status_id`` None means "from any status".

    ``number`` is the id the API shows. As in Jira, it belongs to the workflow, so
    every project with the default workflow has the same transition ids (11, 21, ...)
    and a script written for one project works for another.
    """

    __tablename__ = "tracker_transitions"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_projects.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    from_status_id: Mapped[int | None] = mapped_column(ForeignKey("tracker_statuses.id"))
    to_status_id: Mapped[int] = mapped_column(ForeignKey("tracker_statuses.id"))

    to_status: Mapped[Status] = relationship(foreign_keys=[to_status_id], lazy="joined")


class Component(Base):
    """A project component."""

    __tablename__ = "tracker_components"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assignee_type: Mapped[str] = mapped_column(
        String(16), default="PROJECT_DEFAULT", server_default="PROJECT_DEFAULT"
    )


class Version(Base):
    """A project version (a fix version or an affected version of issues)."""

    __tablename__ = "tracker_versions"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    release_date: Mapped[dt.date | None] = mapped_column(Date)


class CustomField(NamedRow):
    """A custom field, usable in every project; its id is ``customfield_<id>``."""

    __tablename__ = "tracker_custom_fields"
    description: Mapped[str] = mapped_column(Text, default="")
    field_type: Mapped[str] = mapped_column(String(16))

    options: Mapped[list[CustomFieldOption]] = relationship(
        order_by="CustomFieldOption.position", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def field_id(self) -> str:
        """The Jira-style id of this field."""
        return f"customfield_{self.id}"


class CustomFieldOption(Base):
    """An allowed value of an option or options custom field."""

    __tablename__ = "tracker_custom_field_options"
    __table_args__ = (UniqueConstraint("field_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_custom_fields.id", ondelete="CASCADE")
    )
    value: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Issue(Base):
    """An issue; ``key`` is ``PROJECT-N`` and stays unique."""

    __tablename__ = "tracker_issues"
    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_tracker_issues_project_updated", "project_id", "updated_ms"),
        Index("ix_tracker_issues_project_created", "project_id", "created_ms"),
        # Partial: most issues have no parent, and a full index's statistics would
        # make the planners shun it for "parent_id IN (...)" look-ups.
        Index(
            "ix_tracker_issues_parent",
            "parent_id",
            sqlite_where=text("parent_id IS NOT NULL"),
            postgresql_where=text("parent_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    issue_type_id: Mapped[int] = mapped_column(ForeignKey("tracker_issue_types.id"))
    # No index on status or on updated alone: few distinct statuses, and searches that
    # matter name the project, whose (project_id, updated_ms) index serves them.
    # Every index costs each issue insert on a large project.
    status_id: Mapped[int] = mapped_column(ForeignKey("tracker_statuses.id"))
    priority_id: Mapped[int | None] = mapped_column(ForeignKey("tracker_priorities.id"))
    resolution_id: Mapped[int | None] = mapped_column(ForeignKey("tracker_resolutions.id"))
    summary: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE")
    )
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    resolution_ms: Mapped[int | None] = mapped_column(BigInteger)


ISSUE_COLUMNS = tuple(c.key for c in Issue.__table__.columns)


class IssueRow:
    """An issue's column values outside the ORM: a new issue's, gathered before its row is
    inserted, or a stored one's, read for rendering a page of replicas.

    Setting and reading an ORM :class:`Issue`'s attributes, or loading one, costs more
    than the database's own work on these hot paths. Every column starts as None (as
    a new ``Issue``'s do) until it is set.
    """

    __slots__ = ISSUE_COLUMNS

    id: int  # None until a new issue's row is inserted, as a new Issue's
    key: str
    project_id: int
    number: int
    issue_type_id: int
    status_id: int
    priority_id: int | None
    resolution_id: int | None
    summary: str
    description: str | None
    assignee_id: int | None
    reporter_id: int | None
    creator_id: int | None
    parent_id: int | None
    due_date: dt.date | None
    created_ms: int
    updated_ms: int
    resolution_ms: int | None

    def __init__(self, **values: object) -> None:
        unknown = set(values) - set(ISSUE_COLUMNS)
        if unknown:
            raise TypeError(f"not columns of an issue: {sorted(unknown)}")
        for name in ISSUE_COLUMNS:
            setattr(self, name, values.get(name))

    @classmethod
    def of(cls, values: Sequence[object]) -> IssueRow:
        """The issue of a selected row whose columns are ``ISSUE_COLUMNS``, in order."""
        row = cls.__new__(cls)
        for name, value in zip(ISSUE_COLUMNS, values, strict=True):
            setattr(row, name, value)
        return row

    def row(self) -> dict[str, object]:
        """The values to insert (all columns but ``id``)."""
        return {name: getattr(self, name) for name in ISSUE_COLUMNS if name != "id"}


# What an issue's writer and the renderers work on: a loaded Issue, or its column values.
IssueFields: TypeAlias = Issue | IssueRow


class IssueLabel(Base):
    """One label of an issue."""

    __tablename__ = "tracker_issue_labels"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class IssueComponent(Base):
    """One component of an issue."""

    __tablename__ = "tracker_issue_components"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), primary_key=True
    )
    component_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_components.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class IssueVersion(Base):
    """One fix or affected version of an issue."""

    __tablename__ = "tracker_issue_versions"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_versions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)


class CustomValue(Base):
    """One value of a custom field on an issue; multi-valued fields have one row per value.

    Exactly one of the typed columns is set, by the field's type: string and text
    fields use ``string_value``; option fields ``option_id``; user fields ``user_id``.
    """

    __tablename__ = "tracker_custom_values"
    __table_args__ = (
        Index("ix_tracker_custom_values_issue_field", "issue_id", "field_id"),
        Index("ix_tracker_custom_values_field_option", "field_id", "option_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("tracker_issues.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_custom_fields.id", ondelete="CASCADE")
    )
    string_value: Mapped[str | None] = mapped_column(Text)
    number_value: Mapped[float | None] = mapped_column(Float)
    date_value: Mapped[dt.date | None] = mapped_column(Date)
    datetime_ms: Mapped[int | None] = mapped_column(BigInteger)
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("tracker_custom_field_options.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class LinkType(NamedRow):
    """An issue link type, e.g. Blocks: "blocks" / "is blocked by"."""

    __tablename__ = "tracker_link_types"
    inward: Mapped[str] = mapped_column(String(255))
    outward: Mapped[str] = mapped_column(String(255))


class IssueLink(Base):
    """A link: ``outward_issue`` <outward> ``inward_issue`` (A blocks B)."""

    __tablename__ = "tracker_issue_links"
    __table_args__ = (UniqueConstraint("link_type_id", "source_issue_id", "target_issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_type_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_link_types.id", ondelete="CASCADE")
    )
    source_issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), index=True
    )
    target_issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), index=True
    )
    created_ms: Mapped[int] = mapped_column(BigInteger)

    link_type: Mapped[LinkType] = relationship(lazy="joined")


class Comment(Base):
    """A comment on an issue."""

    __tablename__ = "tracker_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    update_author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    # Jira's comment ``visibility``: who may see it, a "role" or a "group" by name. None:
    # everyone. The sync engine keeps a restricted comment on this side (``HubComment.internal``).
    visibility_type: Mapped[str | None] = mapped_column(String(16), default=None)
    visibility_value: Mapped[str | None] = mapped_column(String(255), default=None)


class CommentRow(NamedTuple):
    """A comment's columns, read for rendering a page: a third of the cost of loading a
    :class:`Comment` through the ORM, which a page of issues does thousands of times (the
    two read alike: ``CommentFields``)."""

    id: int
    issue_id: int
    author_id: int | None
    update_author_id: int | None
    body: str
    created_ms: int
    updated_ms: int
    visibility_type: str | None
    visibility_value: str | None


# What rendering reads a comment from: a loaded Comment, or the row of one read for a page.
CommentFields: TypeAlias = Comment | CommentRow


class Attachment(Base):
    """An attachment; its content lives on disk under the home, addressed by sha256."""

    __tablename__ = "tracker_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Worklog(Base):
    """Time logged on an issue."""

    __tablename__ = "tracker_worklogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    update_author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    comment: Mapped[str] = mapped_column(Text, default="")
    started_ms: Mapped[int] = mapped_column(BigInteger)
    time_spent_seconds: Mapped[int] = mapped_column(Integer)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class TimeTracking(Base):
    """An issue's estimates (Jira's ``timetracking``), in seconds; no row means none.

    The time spent is the sum of the issue's work logs. Work logged, edited or deleted
    moves the remaining estimate as the request's ``adjustEstimate`` says
    (``trackers/local/timetracking.py``).
    """

    __tablename__ = "tracker_time_tracking"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), primary_key=True
    )
    original_estimate_seconds: Mapped[int | None] = mapped_column(Integer)
    remaining_estimate_seconds: Mapped[int | None] = mapped_column(Integer)


class RemoteLink(Base):
    """A link from an issue to an object elsewhere (Jira's remote issue link).

    ``global_id`` is the caller's own identifier of the linked object, unique per
    issue when given, so that posting a link again updates it. The optional parts
    of Jira's shape (``application``, the object's ``icon`` and ``status``) are kept
    as the JSON text they came as, checked and bounded by the service.
    """

    __tablename__ = "tracker_remote_links"
    __table_args__ = (UniqueConstraint("issue_id", "global_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), index=True
    )
    global_id: Mapped[str | None] = mapped_column(String(255))
    relationship: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str | None] = mapped_column(Text)
    application_json: Mapped[str | None] = mapped_column(Text)
    icon_json: Mapped[str | None] = mapped_column(Text)
    status_json: Mapped[str | None] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)


class Watcher(Base):
    """A user watching an issue."""

    __tablename__ = "tracker_watchers"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class ChangeGroup(Base):
    """One edit of an issue by one author at one time: a changelog history entry."""

    __tablename__ = "tracker_change_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_issues.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_ms: Mapped[int] = mapped_column(BigInteger)

    items: Mapped[list[ChangeItem]] = relationship(
        order_by="ChangeItem.id", lazy="selectin", cascade="all, delete-orphan"
    )


class ChangeItem(Base):
    """One field changed within a change group, with raw and display values."""

    __tablename__ = "tracker_change_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("tracker_change_groups.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str] = mapped_column(String(255))
    field_type: Mapped[str] = mapped_column(String(16))
    field_id: Mapped[str | None] = mapped_column(String(64))
    from_value: Mapped[str | None] = mapped_column(Text)
    from_string: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    to_string: Mapped[str | None] = mapped_column(Text)


class DeletedIssue(Base):
    """A deleted issue, kept so that a sync adapter can tell its peer (``deleted_since``).

    Written by the deletion itself, in its transaction. The key is kept, not a
    foreign key: the issue row is gone. Deletions are rare, so rows are kept.
    """

    __tablename__ = "tracker_deleted_issues"
    __table_args__ = (
        Index("ix_tracker_deleted_issues_project_deleted", "project_id", "deleted_ms"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("tracker_projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    deleted_ms: Mapped[int] = mapped_column(BigInteger)


class IdempotencyRecord(Base):
    """What a create made for a caller's idempotency key, so a retried create returns it.

    ``object_id`` is the id of the issue, comment or attachment that the first
    call made; it is recorded in the same transaction as the object itself.
    """

    __tablename__ = "tracker_idempotency"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)


MAX_ROW_ID = 2**31 - 1  # ids and numbers are INTEGER columns: 32 bits on PostgreSQL


def row_id(value: object) -> int | None:
    """The row id ``value`` (an int or ASCII digits) names, or None when it cannot name a row.

    Ids beyond 64 bits and digits such as '²' would make the database or ``int()`` fail;
    they name no row, so a lookup by them is simply "not found".
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_ROW_ID:
        return value
    return None
