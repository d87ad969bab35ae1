"""The built-in tracker's issues as replicas, straight from its rows.

The same replica as rendering each issue as Jira JSON and reading that with
:func:`issuesync.trackers.fieldcodec.issue_to_replica` (a test holds the two
equal), without the Jira JSON in between: the sync engine renders every issue
it reads or writes, so this is one of its hottest paths. Custom field values
do go through their Jira JSON, so that their canonical forms have one source.
Beyond Jira's issue fields, a replica shows what the seed's hubIssue does
(:class:`HubParts`): the project's lead, versions and components, the watchers,
the remaining estimate and the time spent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from issuesync.domain.replica import (
    HUB_VERSION,
    ComponentRef,
    NamedRef,
    Replica,
    UserRef,
    VersionRef,
    due_to_ms,
)
from issuesync.domain.replica import ProjectRef as HubProject
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import FieldInfo
from issuesync.trackers.local.models import (
    Attachment,
    CommentFields,
    Component,
    IssueFields,
    IssueLink,
    NamedRow,
    Version,
    VersionKind,
    Watcher,
    Worklog,
)
from issuesync.trackers.local.render import FieldSelection, PageParts, Renderer


def render(
    renderer: Renderer,
    issues: Sequence[IssueFields],
    selection: FieldSelection,
    custom_fields: Mapping[str, FieldInfo],
) -> list[Replica]:
    """A page of issues as replicas: the page's parts in one query per kind, as for Jira JSON.

    Each replica is validated from one plain dict, in pydantic's core: a tenth of
    the time of building (or even constructing) its dozen nested models one by one.
    The parts that recur on a page (users, the project, statuses, issue types,
    priorities, resolutions) are validated once and shared, as instances pydantic
    takes as they are: half the time again. They are frozen models, so a replica
    cannot change another's.
    """
    return HubPage.load(renderer, issues, selection, custom_fields).replicas()


Json = dict[str, object]


@dataclass
class HubParts:
    """What a replica shows and Jira's issue fields do not: each issue's watchers, its
    project's lead, versions and components. One query per kind for a whole page (the
    projects' in one too), as :class:`PageParts`; the users are loaded with the page's."""

    watchers: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[int, list[Version]] = field(default_factory=lambda: defaultdict(list))
    components: dict[int, list[Component]] = field(default_factory=lambda: defaultdict(list))
    users: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, renderer: Renderer, issues: Sequence[IssueFields]) -> HubParts:
        parts = cls()
        ids = [i.id for i in issues]
        if not ids:
            return parts
        session = renderer.session
        project_ids = {i.project_id for i in issues}
        renderer.preload_projects(project_ids)
        for project_id in project_ids:
            lead_id = renderer.project_row(project_id).lead_id
            if lead_id is not None:
                parts.users.add(lead_id)
        for issue_id, user_id in session.execute(
            select(Watcher.issue_id, Watcher.user_id)
            .where(Watcher.issue_id.in_(ids))
            .order_by(Watcher.issue_id, Watcher.user_id)
        ):
            parts.watchers[issue_id].append(user_id)
            parts.users.add(user_id)
        for version in session.scalars(
            select(Version).where(Version.project_id.in_(project_ids)).order_by(Version.id)
        ):
            parts.versions[version.project_id].append(version)
        for component in session.scalars(
            select(Component).where(Component.project_id.in_(project_ids)).order_by(Component.name)
        ):
            parts.components[component.project_id].append(component)
        return parts


class HubPage:
    """A page of issues with everything their replicas show, read in one transaction.

    :meth:`load` does the reading; :meth:`replicas` only builds, so a writer can
    call it after its transaction and not hold the database's write turn for it.
    """

    def __init__(
        self,
        renderer: Renderer,
        issues: Sequence[IssueFields],
        parts: PageParts,
        hub_parts: HubParts,
        custom_fields: Mapping[str, FieldInfo],
    ) -> None:
        self.renderer = renderer
        self.issues = list(issues)
        self.parts = parts
        self.hub_parts = hub_parts
        custom = renderer.ref.custom_fields.by_id.values()
        self.custom = [
            (c, custom_fields[c.field_id]) for c in custom if c.field_id in custom_fields
        ]
        self.users: dict[int, UserRef | None] = {}
        self.projects: dict[int, HubProject] = {}
        self.named: dict[tuple[str, int], NamedRef | None] = {}

    @classmethod
    def load(
        cls,
        renderer: Renderer,
        issues: Sequence[IssueFields],
        selection: FieldSelection,
        custom_fields: Mapping[str, FieldInfo],
    ) -> HubPage:
        """Read the page's parts, projects and users (what :meth:`replicas` would look up)."""
        hub_parts = HubParts.load(renderer, issues)
        parts = PageParts.load(renderer, issues, selection, users=hub_parts.users)
        page = cls(renderer, issues, parts, hub_parts, custom_fields)
        for issue in issues:
            page.project(issue.project_id)
            page.user(issue.assignee_id)
            page.user(issue.reporter_id)
            for user_id in hub_parts.watchers.get(issue.id, ()):
                page.user(user_id)
        for comments in parts.comments.values():
            for comment in comments:
                page.user(comment.author_id)
                page.user(comment.update_author_id)
        for attachments in parts.attachments.values():
            for attachment in attachments:
                page.user(attachment.author_id)
        for worklogs in parts.worklogs.values():
            for worklog in worklogs:
                page.user(worklog.author_id)
                page.user(worklog.update_author_id)
        return page

    def replicas(self) -> list[Replica]:
        """The page's replicas, in the order of its issues."""
        return [
            Replica.model_validate({"version": dict(HUB_VERSION), "hub_issue": self.hub_issue(i)})
            for i in self.issues
        ]

    def hub_issue(self, issue: IssueFields) -> Json:
        ref, parts = self.renderer.ref, self.parts
        parent = parts.related.get(issue.parent_id) if issue.parent_id is not None else None
        watchers = [
            user
            for u in self.hub_parts.watchers.get(issue.id, ())
            if (user := self.user(u)) is not None
        ]
        _original, remaining, spent = parts.estimates.get(issue.id) or (None, None, 0)
        return {
            "id": str(issue.id),
            "key": issue.key,
            "summary": issue.summary or "",
            "description": issue.description,
            "project": self.project(issue.project_id),
            "issue_type": self.named_ref("type", issue.issue_type_id, ref.issue_types.get),
            "status": self.named_ref("status", issue.status_id, ref.statuses.get),
            "priority": self.named_ref("priority", issue.priority_id, ref.priorities.get),
            "resolution": self.named_ref("resolution", issue.resolution_id, ref.resolutions.get),
            "labels": [{"label": label} for label in parts.labels[issue.id]],
            "components": _items(parts.components[issue.id]),
            "fix_versions": _items(parts.versions[(issue.id, VersionKind.FIX.value)]),
            "affected_versions": _items(parts.versions[(issue.id, VersionKind.AFFECTED.value)]),
            "assignee": self.user(issue.assignee_id),
            "reporter": self.user(issue.reporter_id),
            "due": due_to_ms(issue.due_date),
            "created": issue.created_ms,
            "updated": issue.updated_ms,
            "parent_id": str(parent.id) if parent is not None else None,
            "parent_key": parent.key if parent is not None else None,
            "custom_fields": self.custom_values(issue),
            "comments": [self.comment(c) for c in parts.comments[issue.id]],
            "attachments": [self.attachment(a) for a in parts.attachments[issue.id]],
            "work_logs": [self.worklog(w) for w in parts.worklogs.get(issue.id, ())],
            "issue_links": [
                link
                for row in parts.links.get(issue.id, ())
                if (link := self.link(row, issue.id)) is not None
            ],
            "watchers": watchers,
            "watches": len(watchers),
            "estimate": remaining,
            "spent": spent,
        }

    def link(self, row: IssueLink, issue_id: int) -> Json | None:
        """A link as the end ``issue_id`` lists it (as Jira's ``issuelinks`` entry reads)."""
        outward = row.source_issue_id == issue_id
        other = self.parts.related.get(row.target_issue_id if outward else row.source_issue_id)
        if other is None:
            return None
        kind = row.link_type
        return {
            "id": str(row.id),
            "other_issue_id": str(other.id),
            "other_issue_key": other.key,
            "link_type_name": kind.name,
            "link_name": kind.outward if outward else kind.inward,
            "direction": "outward" if outward else "inward",
        }

    def project(self, project_id: int) -> HubProject:
        """The project with its lead, versions and components: built once for the page."""
        if project_id not in self.projects:
            row = self.renderer.project_row(project_id)
            self.projects[project_id] = HubProject(
                id=str(row.id),
                key=row.key,
                name=row.name,
                lead=self.user(row.lead_id),
                versions=tuple(
                    VersionRef(
                        id=str(v.id),
                        name=v.name,
                        description=v.description,
                        archived=v.archived,
                        released=v.released,
                        release_date=due_to_ms(v.release_date),
                        project_key=row.key,
                    )
                    for v in self.hub_parts.versions.get(project_id, ())
                ),
                components=tuple(
                    ComponentRef(
                        id=str(c.id),
                        name=c.name,
                        description=c.description,
                        project_id=str(row.id),
                        project_key=row.key,
                        assignee_type=c.assignee_type,
                    )
                    for c in self.hub_parts.components.get(project_id, ())
                ),
            )
        return self.projects[project_id]

    def named_ref(
        self, kind: str, row_id: int | None, lookup: Callable[[int], NamedRow]
    ) -> NamedRef | None:
        """A status, issue type, priority or resolution (None for none, or a nameless one)."""
        if row_id is None:
            return None
        if (kind, row_id) not in self.named:
            row = lookup(row_id)
            named = NamedRef(id=str(row.id), name=row.name) if row.name else None
            self.named[(kind, row_id)] = named
        return self.named[(kind, row_id)]

    def user(self, user_id: int | None) -> UserRef | None:
        if user_id is None:
            return None
        if user_id not in self.users:
            row = self.renderer.user_row(user_id)
            self.users[user_id] = (
                UserRef(
                    key=row.name,
                    username=row.name,
                    email=row.email,
                    display_name=row.display_name,
                    active=bool(row.active),
                )
                if row is not None
                else None
            )
        return self.users[user_id]

    def comment(self, comment: CommentFields) -> Json:
        return {
            "id": str(comment.id),
            "body": comment.body or "",
            "author": self.user(comment.author_id),
            "update_author": self.user(comment.update_author_id),
            "created": comment.created_ms,
            "updated": comment.updated_ms,
            "internal": comment.visibility_type is not None,
        }

    def attachment(self, attachment: Attachment) -> Json:
        return {
            "id": str(attachment.id),
            "filename": attachment.filename or "",
            "mimetype": attachment.mime_type or "application/octet-stream",
            "filesize": int(attachment.size or 0),
            "created": attachment.created_ms,
            "author": self.user(attachment.author_id),
            "checksum": attachment.sha256,
        }

    def worklog(self, worklog: Worklog) -> Json:
        return {
            "id": str(worklog.id),
            "author": self.user(worklog.author_id),
            "update_author": self.user(worklog.update_author_id),
            "start_date": worklog.started_ms,
            "time_spent": worklog.time_spent_seconds,
            "comment": worklog.comment or "",
            "created": worklog.created_ms,
            "updated": worklog.updated_ms,
        }

    def custom_values(self, issue: IssueFields) -> dict[str, Json]:
        values = self.parts.custom.get(issue.id, {})
        return {
            info.name: {
                "id": custom.field_id,
                "name": info.name,
                "type": fieldcodec.HUB_TYPES.get(info.type, info.type.upper()),
                "value": fieldcodec.custom_value(
                    info, self.parts.custom_json(custom, values.get(custom.id, []))
                ),
            }
            for custom, info in self.custom
        }


def _items(rows: Sequence[Component | Version]) -> list[Json]:
    return [{"id": str(row.id), "name": row.name} for row in rows if row.name]
