"""Issues and their parts as Jira REST v2 JSON, loaded in batches for a page of issues."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from issuesync.store.users import User
from issuesync.trackers.local.estimates import TIME_FIELDS, load_estimates, time_fields
from issuesync.trackers.local.fielddefs import (
    NAVIGABLE_FIELD_IDS,
    SYSTEM_FIELD_IDS,
    SYSTEM_FIELDS,
    JsonDict,
    describe_custom_field,
)
from issuesync.trackers.local.jiratime import format_date, format_ms
from issuesync.trackers.local.models import (
    Attachment,
    ChangeGroup,
    Comment,
    CommentFields,
    CommentRow,
    Component,
    CustomField,
    CustomFieldType,
    CustomValue,
    Issue,
    IssueComponent,
    IssueFields,
    IssueLabel,
    IssueLink,
    IssueType,
    IssueVersion,
    Priority,
    Project,
    Resolution,
    Status,
    Version,
    VersionKind,
    Watcher,
    Worklog,
)
from issuesync.trackers.local.refdata import ReferenceData
from issuesync.trackers.local.shapes import (
    component_json,
    format_duration,
    issue_type_json,
    link_type_json,
    priority_json,
    status_json,
    user_json,
    version_json,
)
from issuesync.trackers.local.users import EmailVisibility

ISSUE_EXPANDS = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


@dataclass(frozen=True)
class FieldSelection:
    """Which fields a response carries, from Jira's ``fields`` parameter."""

    include_all: bool
    navigable: bool
    names: frozenset[str]
    excluded: frozenset[str]

    @classmethod
    def parse(cls, raw: str | Sequence[str] | None, *, default: str) -> FieldSelection:
        """Parse ``*all``, ``*navigable``, ``-field`` and field names, comma-separated or listed."""
        parts: list[str] = []
        for chunk in [raw] if isinstance(raw, str) else list(raw or []):
            parts.extend(p.strip() for p in chunk.split(",") if p.strip())
        if not parts:
            parts = [default]
        include_all = "*all" in parts
        navigable = "*navigable" in parts
        names = frozenset(p for p in parts if not p.startswith(("*", "-")))
        excluded = frozenset(p[1:] for p in parts if p.startswith("-"))
        if excluded and not names and not include_all and not navigable:
            navigable = True
        return cls(include_all, navigable, names, excluded)

    def wants(self, field_id: str) -> bool:
        """Whether ``field_id`` is in the response."""
        if field_id in self.excluded:
            return False
        if self.include_all or field_id in self.names:
            return True
        if self.navigable:
            return field_id in NAVIGABLE_FIELD_IDS or field_id.startswith("customfield_")
        return False


@dataclass
class Renderer:
    """Renders issues of one request; every part is fetched once per page, not per issue."""

    session: Session
    ref: ReferenceData
    base_url: str
    emails: EmailVisibility
    viewer_id: int | None = None
    _users: dict[int, User] = field(default_factory=dict)
    _projects: dict[int, Project] = field(default_factory=dict)

    @property
    def api(self) -> str:
        """The REST base URL, for ``self`` links."""
        return f"{self.base_url}/rest/api/2"

    # -- small shapes --------------------------------------------------------------------

    def user(self, user_id: int | None) -> JsonDict | None:
        """A user, or None."""
        user = self.user_row(user_id)
        return user_json(user, self.api, self.emails) if user is not None else None

    def user_row(self, user_id: int | None) -> User | None:
        """A user's row (preloaded for the page, else fetched once), or None."""
        if user_id is None:
            return None
        user = self._users.get(user_id) or self.session.get(User, user_id)
        if user is not None:
            self._users[user_id] = user
        return user

    def preload_users(self, ids: Iterable[int | None]) -> None:
        """Load these users in one query."""
        wanted = {i for i in ids if i is not None and i not in self._users}
        if wanted:
            for user in self.session.scalars(select(User).where(User.id.in_(wanted))):
                self._users[user.id] = user

    def project(self, project_id: int) -> JsonDict:
        """A project reference."""
        project = self.project_row(project_id)
        return {
            "self": f"{self.api}/project/{project.id}",
            "id": str(project.id),
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
        }

    def preload_projects(self, ids: Iterable[int]) -> None:
        """Load these projects in one query."""
        wanted = {i for i in ids if i not in self._projects}
        if wanted:
            for project in self.session.scalars(select(Project).where(Project.id.in_(wanted))):
                self._projects[project.id] = project

    def project_row(self, project_id: int) -> Project:
        """A project's row (preloaded, else fetched once per renderer)."""
        project = self._projects.get(project_id) or self.session.get(Project, project_id)
        assert project is not None  # a foreign key guarantees it
        self._projects[project_id] = project
        return project

    def status(self, status: Status) -> JsonDict:
        """A status with its category."""
        return status_json(status, self.api)

    def issue_type(self, issue_type: IssueType) -> JsonDict:
        """An issue type."""
        return issue_type_json(issue_type, self.api)

    def priority(self, priority: Priority) -> JsonDict:
        """A priority."""
        return priority_json(priority, self.api)

    def resolution(self, resolution: Resolution) -> JsonDict:
        """A resolution."""
        return {
            "self": f"{self.api}/resolution/{resolution.id}",
            "id": str(resolution.id),
            "name": resolution.name,
            "description": resolution.description,
        }

    def issue_ref(self, issue: Issue) -> JsonDict:
        """A linked issue or a sub-task: key, id and a few fields."""
        fields: JsonDict = {
            "summary": issue.summary,
            "status": self.status(self.ref.statuses.get(issue.status_id)),
            "issuetype": self.issue_type(self.ref.issue_types.get(issue.issue_type_id)),
        }
        if issue.priority_id is not None:
            fields["priority"] = self.priority(self.ref.priorities.get(issue.priority_id))
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": f"{self.api}/issue/{issue.id}",
            "fields": fields,
        }

    def comment(self, comment: CommentFields) -> JsonDict:
        """A comment."""
        return {
            "self": f"{self.api}/issue/{comment.issue_id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user(comment.author_id),
            "body": comment.body,
            "updateAuthor": self.user(comment.update_author_id),
            "created": format_ms(comment.created_ms),
            "updated": format_ms(comment.updated_ms),
            **visibility_json(comment),
        }

    def attachment(self, attachment: Attachment) -> JsonDict:
        """Attachment metadata with its content URL."""
        return {
            "self": f"{self.api}/attachment/{attachment.id}",
            "id": str(attachment.id),
            "filename": attachment.filename,
            "author": self.user(attachment.author_id),
            "created": format_ms(attachment.created_ms),
            "size": attachment.size,
            "mimeType": attachment.mime_type,
            "sha256": attachment.sha256,
            "content": f"{self.base_url}/secure/attachment/{attachment.id}/{attachment.filename}",
        }

    def worklog(self, worklog: Worklog, issue_id: int) -> JsonDict:
        """A work log entry."""
        return {
            "self": f"{self.api}/issue/{issue_id}/worklog/{worklog.id}",
            "id": str(worklog.id),
            "issueId": str(issue_id),
            "author": self.user(worklog.author_id),
            "updateAuthor": self.user(worklog.update_author_id),
            "comment": worklog.comment,
            "started": format_ms(worklog.started_ms),
            "timeSpentSeconds": worklog.time_spent_seconds,
            "timeSpent": format_duration(worklog.time_spent_seconds),
            "created": format_ms(worklog.created_ms),
            "updated": format_ms(worklog.updated_ms),
        }

    # -- whole issues --------------------------------------------------------------------

    def issues(
        self, issues: Sequence[Issue], selection: FieldSelection, *, changelog: bool = False
    ) -> list[JsonDict]:
        """Render a page of issues with the selected fields."""
        parts = PageParts.load(self, issues, selection)
        rendered = []
        for issue in issues:
            body: JsonDict = {
                "expand": ISSUE_EXPANDS,
                "id": str(issue.id),
                "self": f"{self.api}/issue/{issue.id}",
                "key": issue.key,
                "fields": parts.fields(issue, selection),
            }
            if changelog:
                body["changelog"] = self.changelog(issue.id)
            rendered.append(body)
        return rendered

    def names_and_schema(self, selection: FieldSelection, *, names: bool, schema: bool) -> JsonDict:
        """Jira's ``expand=names`` / ``expand=schema``: the selected fields' names and schemas."""
        described = [f.describe() for f in SYSTEM_FIELDS] + [
            describe_custom_field(c) for c in self.ref.custom_fields.by_id.values()
        ]
        chosen = [f for f in described if selection.wants(str(f["id"])) and f["id"] != "issuekey"]
        extra: JsonDict = {}
        if names:
            extra["names"] = {str(f["id"]): f["name"] for f in chosen}
        if schema:
            extra["schema"] = {str(f["id"]): f["schema"] for f in chosen if "schema" in f}
        return extra

    def changelog(self, issue_id: int) -> JsonDict:
        """The change history of an issue, oldest first."""
        groups = list(
            self.session.scalars(
                select(ChangeGroup).where(ChangeGroup.issue_id == issue_id).order_by(ChangeGroup.id)
            )
        )
        self.preload_users(g.author_id for g in groups)
        histories = [
            {
                "id": str(group.id),
                "author": self.user(group.author_id),
                "created": format_ms(group.created_ms),
                "items": [
                    {
                        "field": item.field,
                        "fieldtype": item.field_type,
                        "fieldId": item.field_id,
                        "from": item.from_value,
                        "fromString": item.from_string,
                        "to": item.to_value,
                        "toString": item.to_string,
                    }
                    for item in group.items
                ],
            }
            for group in groups
        ]
        return {
            "startAt": 0,
            "maxResults": len(histories),
            "total": len(histories),
            "histories": histories,
        }


_COMMENT_COLUMNS = tuple(getattr(Comment, name) for name in CommentRow._fields)


@dataclass
class PageParts:
    """Everything a page of issues refers to, fetched with one query per kind."""

    renderer: Renderer
    labels: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    components: dict[int, list[Component]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[tuple[int, str], list[Version]] = field(
        default_factory=lambda: defaultdict(list)
    )
    custom: dict[int, dict[int, list[CustomValue]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    related: dict[int, Issue] = field(default_factory=dict)
    subtasks: dict[int, list[Issue]] = field(default_factory=lambda: defaultdict(list))
    links: dict[int, list[IssueLink]] = field(default_factory=lambda: defaultdict(list))
    comments: dict[int, list[CommentFields]] = field(default_factory=lambda: defaultdict(list))
    attachments: dict[int, list[Attachment]] = field(default_factory=lambda: defaultdict(list))
    worklogs: dict[int, list[Worklog]] = field(default_factory=lambda: defaultdict(list))
    watchers: dict[int, int] = field(default_factory=dict)
    watched: set[int] = field(default_factory=set)
    estimates: dict[int, tuple[int | None, int | None, int]] = field(default_factory=dict)

    @classmethod
    def load(  # noqa: C901, PLR0912 - one query per kind of part, each behind its field
        cls,
        renderer: Renderer,
        issues: Sequence[IssueFields],
        selection: FieldSelection,
        users: Iterable[int | None] = (),
    ) -> PageParts:
        """The page's parts; ``users`` are loaded with the page's own, in the same query."""
        parts = cls(renderer)
        session = renderer.session
        ids = [i.id for i in issues]
        if not ids:
            return parts
        user_ids: set[int | None] = set(users)
        for issue in issues:
            user_ids.update((issue.assignee_id, issue.reporter_id, issue.creator_id))
        if selection.wants("labels"):
            for issue_id, label in session.execute(
                select(IssueLabel.issue_id, IssueLabel.label)
                .where(IssueLabel.issue_id.in_(ids))
                .order_by(IssueLabel.label)
            ):
                parts.labels[issue_id].append(label)
        if selection.wants("components"):
            for issue_id, component in session.execute(
                select(IssueComponent.issue_id, Component)
                .join(Component, Component.id == IssueComponent.component_id)
                .where(IssueComponent.issue_id.in_(ids))
                .order_by(Component.name)
            ):
                parts.components[issue_id].append(component)
        if selection.wants("fixVersions") or selection.wants("versions"):
            for issue_id, kind, version in session.execute(
                select(IssueVersion.issue_id, IssueVersion.kind, Version)
                .join(Version, Version.id == IssueVersion.version_id)
                .where(IssueVersion.issue_id.in_(ids))
                .order_by(Version.name)
            ):
                parts.versions[(issue_id, kind)].append(version)
        if any(selection.wants(cf.field_id) for cf in renderer.ref.custom_fields.by_id.values()):
            for value in session.scalars(
                select(CustomValue).where(CustomValue.issue_id.in_(ids)).order_by(CustomValue.id)
            ):
                parts.custom[value.issue_id].setdefault(value.field_id, []).append(value)
                user_ids.add(value.user_id)
        related_ids = {i.parent_id for i in issues if i.parent_id is not None}
        if selection.wants("subtasks"):
            # Sorted here, not in SQL, so that the planner has no reason to walk the
            # primary key instead of the (partial) parent index.
            subs = session.scalars(
                select(Issue).where(Issue.parent_id.is_not(None), Issue.parent_id.in_(ids))
            )
            for sub in sorted(subs, key=lambda i: i.id):
                parts.subtasks[sub.parent_id or 0].append(sub)
        if selection.wants("issuelinks"):
            for link in session.scalars(
                select(IssueLink)
                .where(or_(IssueLink.source_issue_id.in_(ids), IssueLink.target_issue_id.in_(ids)))
                .order_by(IssueLink.id)
            ):
                parts.links[link.source_issue_id].append(link)
                if link.target_issue_id != link.source_issue_id:
                    parts.links[link.target_issue_id].append(link)
                related_ids.update((link.source_issue_id, link.target_issue_id))
        if related_ids:
            parts.related = {
                i.id: i for i in session.scalars(select(Issue).where(Issue.id.in_(related_ids)))
            }
        if selection.wants("comment"):
            for row in session.execute(
                select(*_COMMENT_COLUMNS).where(Comment.issue_id.in_(ids)).order_by(Comment.id)
            ):
                comment = CommentRow._make(row)
                parts.comments[comment.issue_id].append(comment)
                user_ids.update((comment.author_id, comment.update_author_id))
        if selection.wants("attachment"):
            for attachment in session.scalars(
                select(Attachment).where(Attachment.issue_id.in_(ids)).order_by(Attachment.id)
            ):
                parts.attachments[attachment.issue_id].append(attachment)
                user_ids.add(attachment.author_id)
        if selection.wants("worklog"):
            for worklog in session.scalars(
                select(Worklog).where(Worklog.issue_id.in_(ids)).order_by(Worklog.id)
            ):
                parts.worklogs[worklog.issue_id].append(worklog)
                user_ids.update((worklog.author_id, worklog.update_author_id))
        if selection.wants("watches"):
            parts.watchers = dict(
                session.execute(
                    select(Watcher.issue_id, func.count())
                    .where(Watcher.issue_id.in_(ids))
                    .group_by(Watcher.issue_id)
                ).all()
            )
            if renderer.viewer_id is not None and parts.watchers:
                parts.watched = set(
                    session.scalars(
                        select(Watcher.issue_id).where(
                            Watcher.issue_id.in_(ids), Watcher.user_id == renderer.viewer_id
                        )
                    )
                )
        if any(selection.wants(name) for name in TIME_FIELDS):
            parts.estimates = load_estimates(session, ids)
        renderer.preload_users(user_ids)
        return parts

    def fields(self, issue: Issue, selection: FieldSelection) -> JsonDict:
        r = self.renderer
        ref = r.ref
        out: JsonDict = {}

        def put(name: str, make: object) -> None:
            if selection.wants(name):
                out[name] = make() if callable(make) else make

        put("summary", issue.summary)
        put("description", issue.description)
        put("issuetype", lambda: r.issue_type(ref.issue_types.get(issue.issue_type_id)))
        put("project", lambda: r.project(issue.project_id))
        put("status", lambda: r.status(ref.statuses.get(issue.status_id)))
        put(
            "priority",
            lambda: (
                r.priority(ref.priorities.get(issue.priority_id)) if issue.priority_id else None
            ),
        )
        put(
            "resolution",
            lambda: (
                r.resolution(ref.resolutions.get(issue.resolution_id))
                if issue.resolution_id
                else None
            ),
        )
        put("assignee", lambda: r.user(issue.assignee_id))
        put("reporter", lambda: r.user(issue.reporter_id))
        put("creator", lambda: r.user(issue.creator_id))
        put("labels", lambda: list(self.labels.get(issue.id, [])))
        put(
            "components",
            lambda: [component_json(c, r.api) for c in self.components.get(issue.id, [])],
        )
        put(
            "fixVersions",
            lambda: [
                version_json(v, r.api)
                for v in self.versions.get((issue.id, VersionKind.FIX.value), [])
            ],
        )
        put(
            "versions",
            lambda: [
                version_json(v, r.api)
                for v in self.versions.get((issue.id, VersionKind.AFFECTED.value), [])
            ],
        )
        put("duedate", format_date(issue.due_date))
        put("created", format_ms(issue.created_ms))
        put("updated", format_ms(issue.updated_ms))
        put("resolutiondate", format_ms(issue.resolution_ms))
        if (
            issue.parent_id is not None
            and selection.wants("parent")
            and issue.parent_id in self.related
        ):
            out["parent"] = r.issue_ref(self.related[issue.parent_id])
        put("subtasks", lambda: [r.issue_ref(s) for s in self.subtasks.get(issue.id, [])])
        put(
            "issuelinks",
            lambda: [self._link(link, issue.id) for link in self.links.get(issue.id, [])],
        )
        put(
            "comment",
            lambda: _page("comments", [r.comment(c) for c in self.comments.get(issue.id, [])]),
        )
        put("attachment", lambda: [r.attachment(a) for a in self.attachments.get(issue.id, [])])
        put(
            "worklog",
            lambda: _page(
                "worklogs", [r.worklog(w, issue.id) for w in self.worklogs.get(issue.id, [])]
            ),
        )
        put(
            "watches",
            lambda: {
                "self": f"{r.api}/issue/{issue.key}/watchers",
                "watchCount": self.watchers.get(issue.id, 0),
                "isWatching": issue.id in self.watched,
            },
        )
        if any(selection.wants(name) for name in TIME_FIELDS):
            times = time_fields(self.estimates.get(issue.id))
            out.update((name, times[name]) for name in times if selection.wants(name))
        for custom in ref.custom_fields.by_id.values():
            if selection.wants(custom.field_id):
                out[custom.field_id] = self.custom_json(
                    custom, self.custom.get(issue.id, {}).get(custom.id, [])
                )
        return out

    def _link(self, link: IssueLink, issue_id: int) -> JsonDict:
        r = self.renderer
        link_type = link.link_type
        body: JsonDict = {
            "id": str(link.id),
            "self": f"{r.api}/issueLink/{link.id}",
            "type": link_type_json(
                link_type.id, link_type.name, link_type.inward, link_type.outward, r.api
            ),
        }
        if link.source_issue_id == issue_id:
            other = self.related.get(link.target_issue_id)
            body["outwardIssue"] = r.issue_ref(other) if other else None
        else:
            other = self.related.get(link.source_issue_id)
            body["inwardIssue"] = r.issue_ref(other) if other else None
        return body

    def custom_json(self, custom: CustomField, values: list[CustomValue]) -> object:
        """A custom field's values as Jira renders them."""
        r = self.renderer
        kind = CustomFieldType(custom.field_type)
        options = {o.id: o for o in custom.options}
        rendered: list[object] = []
        for value in values:
            if value.option_id is not None and value.option_id in options:
                option = options[value.option_id]
                rendered.append(
                    {
                        "self": f"{r.api}/customFieldOption/{option.id}",
                        "value": option.value,
                        "id": str(option.id),
                    }
                )
            elif value.user_id is not None:
                rendered.append(r.user(value.user_id))
            elif value.number_value is not None:
                rendered.append(value.number_value)
            elif value.date_value is not None:
                rendered.append(format_date(value.date_value))
            elif value.datetime_ms is not None:
                rendered.append(format_ms(value.datetime_ms))
            else:
                rendered.append(value.string_value)
        if kind.multiple:
            return rendered or None
        return rendered[0] if rendered else None


def _page(name: str, items: list[JsonDict]) -> JsonDict:
    return {name: items, "maxResults": len(items), "total": len(items), "startAt": 0}


__all__ = ["SYSTEM_FIELD_IDS", "FieldSelection", "Renderer"]


def visibility_json(comment: CommentFields) -> JsonDict:
    """A restricted comment's ``visibility`` as Jira shows it; nothing for everyone's."""
    if comment.visibility_type is None or comment.visibility_value is None:
        return {}
    kind, value = comment.visibility_type, comment.visibility_value
    shown: JsonDict = {"type": kind, "value": value}
    if kind == "group":
        shown["identifier"] = value
    return {"visibility": shown}
