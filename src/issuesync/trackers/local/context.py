"""What every operation of the built-in tracker works with: one session and its reference data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from issuesync.errors import NotFoundError, PermissionDeniedError
from issuesync.store.base import now_ms
from issuesync.store.principals import Principal
from issuesync.trackers.local.models import (
    ISSUE_COLUMNS,
    ChangeGroup,
    Issue,
    IssueRow,
    Project,
    row_id,
)
from issuesync.trackers.local.refdata import (
    ProjectRef,
    ProjectRefs,
    ReferenceCache,
    ReferenceData,
)
from issuesync.trackers.local.render import Renderer
from issuesync.trackers.local.textlimits import DEFAULT_TEXT_LIMIT
from issuesync.trackers.local.users import EmailVisibility, UserDirectory
from issuesync.trackers.local.writer import Changes, IssueWriter

# Built once: constructing a statement costs more than running it from the cache.
_ISSUE_BY_KEY = select(Issue).where(Issue.key == bindparam("key"))
_PROJECT_BY_KEY = select(Project).where(Project.key == bindparam("key"))

_ISSUE_ROW_COLUMNS = tuple(getattr(Issue, name) for name in ISSUE_COLUMNS)


@dataclass
class Operation:
    """One request's view of the tracker: its session, caller, clock and renderer."""

    session: Session
    actor: Principal
    base_url: str
    reference: ReferenceCache
    project_refs: ProjectRefs = field(default_factory=ProjectRefs)
    now: int = field(default_factory=now_ms)
    all_emails: bool = False  # the sync engine, or ISSUESYNC_SHOW_EMAIL_ADDRESSES
    _ref: ReferenceData | None = None
    text_limit: int = field(default=DEFAULT_TEXT_LIMIT, kw_only=True)  # see textlimits

    def writer(self, project: ProjectRef, *, creating: bool = False) -> IssueWriter:
        """An issue writer in this operation, for an issue of ``project``."""
        return IssueWriter(
            self.session,
            self.ref,
            self.actor,
            project,
            self.now,
            creating=creating,
            emails=self.emails,
            text_limit=self.text_limit,
        )

    @property
    def emails(self) -> EmailVisibility:
        """Whose e-mail addresses the caller sees (see :class:`EmailVisibility`)."""
        return EmailVisibility(self.all_emails or self.actor.is_admin, self.actor.id)

    def users(self) -> UserDirectory:
        """Finds users as the caller may (by an e-mail address only where it sees it)."""
        return UserDirectory(self.session, self.emails)

    @property
    def ref(self) -> ReferenceData:
        """Reference data, from the process-wide cache when it is current."""
        if self._ref is None:
            self._ref = self.reference.get(self.session)
        return self._ref

    def renderer(self) -> Renderer:
        """A renderer sharing this operation's session and reference data."""
        return Renderer(self.session, self.ref, self.base_url, self.emails, viewer_id=self.actor.id)

    def issue(self, key_or_id: str) -> Issue:
        """The issue with this key (case-insensitive) or numeric id; 404 otherwise."""
        found: Issue | None
        if key_or_id.isdigit():
            number = row_id(key_or_id)
            found = self.session.get(Issue, number) if number is not None else None
        else:
            found = self.session.scalar(_ISSUE_BY_KEY, {"key": key_or_id.upper()})
        if found is None:
            raise NotFoundError("Issue Does Not Exist")
        return found

    def issue_rows_by_id(self, ids: Iterable[int]) -> dict[int, IssueRow]:
        """:meth:`issues_by_id` as plain rows, for rendering (one query, no ORM objects)."""
        wanted = list(ids)
        if not wanted:
            return {}
        rows = self.session.execute(select(*_ISSUE_ROW_COLUMNS).where(Issue.id.in_(wanted)))
        return {row.id: row for row in map(IssueRow.of, rows)}

    def issues_by_id(self, ids: Iterable[int]) -> dict[int, Issue]:
        """The issues of these ids that exist, by id (one query)."""
        wanted = list(ids)
        if not wanted:
            return {}
        return {i.id: i for i in self.session.scalars(select(Issue).where(Issue.id.in_(wanted)))}

    def project(self, key_or_id: str) -> Project:
        """The project with this key (case-insensitive) or numeric id; 404 otherwise."""
        found: Project | None
        if key_or_id.isdigit():
            number = row_id(key_or_id)
            found = self.session.get(Project, number) if number is not None else None
        else:
            found = self.session.scalar(_PROJECT_BY_KEY, {"key": key_or_id.upper()})
        if found is None:
            raise NotFoundError(f"No project could be found with key '{key_or_id}'.")
        return found

    def project_ref(self, key_or_id: str) -> ProjectRef:
        """Like :meth:`project`, but only the unchanging facts, from a cache when it can."""
        known = self.project_refs.get(key_or_id.upper())
        if known is not None:
            return known
        ref = ProjectRef.of(self.project(key_or_id))
        self.project_refs.remember(ref)
        return ref

    def project_of(self, issue: Issue) -> Project:
        """The project an issue is in."""
        project = self.session.get(Project, issue.project_id)
        assert project is not None  # a foreign key guarantees it
        return project

    def require_project_admin(self, project: Project) -> None:
        """Raise 403 unless the caller administers ``project``."""
        if not self.actor.administers(project.key):
            raise PermissionDeniedError(
                f"You do not have permission to do this in project {project.key}: "
                "it needs the project admin role."
            )

    def touch(self, issue: Issue, changes: Changes | None = None) -> None:
        """Mark ``issue`` updated now, with a change-history entry if anything changed."""
        issue.updated_ms = max(self.now, issue.updated_ms + 1 if issue.updated_ms else self.now)
        if changes and changes.items:
            group = ChangeGroup(issue_id=issue.id, author_id=self.actor.id, created_ms=self.now)
            group.items = list(changes.items)
            self.session.add(group)
