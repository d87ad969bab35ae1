"""Applying Jira-shaped ``fields`` and ``update`` to an issue, recording the change history.

This is the one place that knows how a Jira client writes each field. The REST
routes and, later, the sync engine's ``local`` adapter both write through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from issuesync.errors import InvalidInputError
from issuesync.store.base import Base, insert_many
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.local.customvalues import CustomValues
from issuesync.trackers.local.estimates import Estimates, parse_estimates, stored_estimates
from issuesync.trackers.local.fieldops import (
    apply_operation,
    ids_text,
    named_row,
    names_text,
    valid_label,
)
from issuesync.trackers.local.jiratime import format_date, parse_date
from issuesync.trackers.local.models import (
    ChangeItem,
    Comment,
    Component,
    CustomField,
    CustomFieldType,
    CustomValue,
    Issue,
    IssueComponent,
    IssueFields,
    IssueLabel,
    IssueLink,
    IssueVersion,
    TimeTracking,
    Version,
    VersionKind,
    row_id,
)
from issuesync.trackers.local.refdata import ProjectRef, ReferenceData
from issuesync.trackers.local.textlimits import DEFAULT_TEXT_LIMIT, SUMMARY_LIMIT, check_length
from issuesync.trackers.local.users import EmailVisibility, UserDirectory

K = TypeVar("K")

MAX_LABEL = 255

# Fields a client may name in ``fields`` or ``update`` but that are not written there.
READ_ONLY_FIELDS = frozenset(
    {
        "status",
        "created",
        "updated",
        "creator",
        "resolutiondate",
        "subtasks",
        "watches",
        "attachment",
        "worklog",
        "issuekey",
        "key",
        "id",
    }
)


@dataclass
class Changes:
    """Change-history items gathered while one edit is applied."""

    items: list[ChangeItem] = field(default_factory=list)

    def record(
        self,
        name: str,
        old: tuple[str | None, str | None],
        new: tuple[str | None, str | None],
        *,
        custom_id: str | None = None,
    ) -> None:
        """Record a change of field ``name`` from ``old`` to ``new`` (value, display string)."""
        if old == new:
            return
        self.items.append(
            ChangeItem(
                field=name,
                field_type="custom" if custom_id else "jira",
                field_id=custom_id or name,
                from_value=old[0],
                from_string=old[1],
                to_value=new[0],
                to_string=new[1],
            )
        )


@dataclass
class IssueWriter:
    """Writes field values of one issue in one unit of work."""

    session: Session
    ref: ReferenceData
    actor: Principal
    project: ProjectRef
    now_ms: int
    creating: bool = False
    # Whose e-mail may name a user in a value; by default as an HTTP caller sees them.
    emails: EmailVisibility | None = None
    text_limit: int = DEFAULT_TEXT_LIMIT  # see textlimits
    users: UserDirectory = field(init=False)
    custom_values: CustomValues = field(init=False)
    changes: Changes = field(default_factory=Changes)
    pending_comments: list[str] = field(default_factory=list)
    pending_links: list[Mapping[str, object]] = field(default_factory=list)
    # The wanted state of multi-valued fields, gathered before it is written.
    _labels: list[str] | None = None
    _components: list[int] | None = None
    _versions: dict[VersionKind, list[int]] = field(default_factory=dict)
    _custom_rows: dict[int, list[CustomValue]] = field(default_factory=dict)
    _estimates: Estimates | None = None  # the timetracking field, when the edit sets it

    @property
    def component_ids(self) -> list[int]:
        """The components gathered for the issue (none when the body named none)."""
        return list(self._components or [])

    def __post_init__(self) -> None:
        emails = self.emails or EmailVisibility(self.actor.is_admin, self.actor.id)
        self.users = UserDirectory(self.session, emails)
        self.custom_values = CustomValues(self.session, self.users, self.text_limit)

    # -- entry point -----------------------------------------------------------------------

    def apply(
        self,
        issue: IssueFields,
        fields: Mapping[str, object],
        update: Mapping[str, object],
        *,
        creating: bool,
    ) -> None:
        """Apply ``fields`` (set) and ``update`` (operations) to ``issue``.

        Every problem is collected first and raised together, as Jira does, so a
        client learns of all its mistakes at once and nothing is half-written.
        """
        errors: dict[str, str] = {}
        both = set(fields) & set(update)
        for name in sorted(both):
            errors[name] = f"Field '{name}' cannot be set in both 'fields' and 'update'."
        operations: list[tuple[str, str, object]] = [
            (name, "set", value) for name, value in fields.items() if name not in both
        ]
        for name, ops in update.items():
            if name in both:
                continue
            if not isinstance(ops, list):
                errors[name] = 'Expected a list of operations, e.g. [{"set": ...}].'
                continue
            for op in ops:
                if not isinstance(op, Mapping) or len(op) != 1:
                    errors[name] = (
                        "Each operation must be an object with one verb: set, add, remove."
                    )
                    break
                ((verb, value),) = op.items()
                operations.append((name, str(verb), value))
        for name, verb, value in operations:
            if name == "project" and not creating:
                errors[name] = "Field 'project' cannot be changed; move the issue instead."
                continue
            try:
                self._apply_one(issue, name, verb, value, creating=creating)
            except InvalidInputError as exc:
                errors.update(exc.field_errors or {name: exc.message})
        if errors:
            raise InvalidInputError("The issue could not be saved.", field_errors=errors)

    def _apply_one(  # noqa: PLR0911 - a dispatch table over the kinds of field
        self, issue: IssueFields, name: str, verb: str, value: object, *, creating: bool
    ) -> None:
        if name == "project":
            return  # resolved by the caller before the issue exists
        handler = _SINGLE.get(name)
        if handler is not None:
            if verb != "set":
                raise InvalidInputError(
                    name, field_errors={name: f"Field '{name}' supports only 'set'."}
                )
            handler(self, issue, value)
            return
        multi = _MULTI.get(name)
        if multi is not None:
            multi(self, issue, verb, value)
            return
        if name == "parent":
            self._set_parent(issue, value, creating=creating)
            return
        if name == "comment":
            self._comment(verb, value)
            return
        if name == "issuelinks":
            self._link(verb, value)
            return
        if name == "timetracking":
            self._set_estimates(issue, verb, value)
            return
        custom = self.ref.custom_field(name)
        if custom is not None:
            self._custom(issue, custom, verb, value)
            return
        if name in READ_ONLY_FIELDS:
            reason = "use a transition" if name == "status" else "it is set by the tracker"
            raise InvalidInputError(
                name, field_errors={name: f"Field '{name}' cannot be set: {reason}."}
            )
        raise InvalidInputError(
            name,
            field_errors={
                name: f"Field '{name}' cannot be set. "
                "It is not on the appropriate screen, or unknown."
            },
        )

    # -- single-valued system fields ------------------------------------------------------

    def set_summary(self, issue: IssueFields, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(
                "summary", field_errors={"summary": "You must specify a summary of the issue."}
            )
        if len(value) > SUMMARY_LIMIT:
            raise InvalidInputError(
                "summary", field_errors={"summary": "Summary must be less than 255 characters."}
            )
        if issue.summary is not None:
            self.changes.record("summary", (None, issue.summary), (None, value))
        issue.summary = value

    def set_description(self, issue: IssueFields, value: object) -> None:
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(
                "description", field_errors={"description": "Description must be a string."}
            )
        text = check_length(value, "description", self.text_limit) if value else None
        if issue.id is not None:
            self.changes.record("description", (None, issue.description), (None, text))
        issue.description = text

    def set_issuetype(self, issue: IssueFields, value: object) -> None:
        new = self.ref.issue_types.resolve(value, "issuetype")
        if issue.issue_type_id is not None and issue.id is not None:
            old = self.ref.issue_types.get(issue.issue_type_id)
            if old.subtask != new.subtask:
                raise InvalidInputError(
                    "issuetype",
                    field_errors={
                        "issuetype": "A sub-task type and a standard type cannot be swapped "
                        "by an edit."
                    },
                )
            self.changes.record("issuetype", (str(old.id), old.name), (str(new.id), new.name))
        issue.issue_type_id = new.id

    def set_priority(self, issue: IssueFields, value: object) -> None:
        new = None if value is None else self.ref.priorities.resolve(value, "priority")
        if issue.id is not None:
            old = self.ref.priorities.by_id.get(issue.priority_id or -1)
            self.changes.record(
                "priority",
                (str(old.id) if old else None, old.name if old else None),
                (str(new.id) if new else None, new.name if new else None),
            )
        issue.priority_id = new.id if new else None

    def set_resolution(self, issue: IssueFields, value: object) -> None:
        new = None if value is None else self.ref.resolutions.resolve(value, "resolution")
        old = self.ref.resolutions.by_id.get(issue.resolution_id or -1)
        if issue.id is not None:
            self.changes.record(
                "resolution",
                (str(old.id) if old else None, old.name if old else None),
                (str(new.id) if new else None, new.name if new else None),
            )
        issue.resolution_id = new.id if new else None
        if new is None:
            issue.resolution_ms = None
        elif old is None:
            issue.resolution_ms = self.now_ms

    def _set_user(self, issue: IssueFields, attribute: str, value: object) -> None:
        user = self.users.resolve(value, attribute)
        old_id: int | None = getattr(issue, f"{attribute}_id")
        if issue.id is not None and old_id != (user.id if user else None):
            old = self.session.get(User, old_id) if old_id else None
            self.changes.record(
                attribute,
                (old.name if old else None, old.display_name if old else None),
                (user.name if user else None, user.display_name if user else None),
            )
        setattr(issue, f"{attribute}_id", user.id if user else None)

    def set_assignee(self, issue: IssueFields, value: object) -> None:
        self._set_user(issue, "assignee", value)

    def set_reporter(self, issue: IssueFields, value: object) -> None:
        self._set_user(issue, "reporter", value)

    def set_duedate(self, issue: IssueFields, value: object) -> None:
        day = parse_date(value, "duedate")
        if issue.id is not None:
            self.changes.record(
                "duedate",
                (format_date(issue.due_date), format_date(issue.due_date)),
                (format_date(day), format_date(day)),
            )
        issue.due_date = day

    def _set_parent(self, issue: IssueFields, value: object, *, creating: bool) -> None:
        parent = self.find_issue(value, "parent")
        if parent.project_id != self.project.id:
            raise InvalidInputError(
                "parent", field_errors={"parent": "The parent issue must be in the same project."}
            )
        if parent.parent_id is not None:
            raise InvalidInputError(
                "parent", field_errors={"parent": "A sub-task cannot be the parent of an issue."}
            )
        if not creating and issue.parent_id is None:
            raise InvalidInputError(
                "parent", field_errors={"parent": "Only a sub-task can be moved to another parent."}
            )
        if parent.id == issue.id:
            raise InvalidInputError(
                "parent", field_errors={"parent": "An issue cannot be its own parent."}
            )
        if not creating and issue.parent_id != parent.id:
            old = self.session.get(Issue, issue.parent_id)
            self.changes.record(
                "Parent",
                (str(issue.parent_id), old.key if old else None),
                (str(parent.id), parent.key),
            )
        issue.parent_id = parent.id

    def find_issue(self, value: object, field_id: str) -> Issue:
        """The issue a reference ``{"key": ..}`` / ``{"id": ..}`` / bare key names."""
        ref: object = value
        if isinstance(value, Mapping):
            ref = value.get("key") or value.get("id")
        found: Issue | None = None
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            number = row_id(ref)
            found = self.session.get(Issue, number) if number is not None else None
        elif isinstance(ref, str):
            found = self.session.scalar(select(Issue).where(Issue.key == ref.upper()))
        if found is None:
            raise InvalidInputError(
                field_id, field_errors={field_id: f"Issue '{ref}' does not exist."}
            )
        return found

    def _set_estimates(self, issue: IssueFields, verb: str, value: object) -> None:
        """Jira's ``timetracking``: ``set`` in ``fields``, ``set`` or ``edit`` in ``update``."""
        if verb not in ("set", "edit"):
            raise InvalidInputError(
                "timetracking",
                field_errors={"timetracking": "Field 'timetracking' supports 'set' and 'edit'."},
            )
        current = self._estimates
        if current is None:
            current = stored_estimates(self.session, issue.id)
        new = parse_estimates(value, current)
        if issue.id is not None:
            for name, old_seconds, new_seconds in (
                ("timeoriginalestimate", current[0], new[0]),
                ("timeestimate", current[1], new[1]),
            ):
                old_text = None if old_seconds is None else str(old_seconds)
                new_text = None if new_seconds is None else str(new_seconds)
                self.changes.record(name, (old_text, old_text), (new_text, new_text))
        self._estimates = new

    # -- multi-valued system fields --------------------------------------------------------

    def labels(self, issue: IssueFields, verb: str, value: object) -> None:
        current = self._current_labels(issue)
        if verb == "set":
            if not isinstance(value, list):
                raise InvalidInputError(
                    "labels", field_errors={"labels": "Labels must be a list of strings."}
                )
            wanted = [valid_label(v) for v in value]
        elif verb in ("add", "remove"):
            label = valid_label(value)
            if verb == "add":
                wanted = current if label in current else [*current, label]
            else:
                wanted = [v for v in current if v != label]
        else:
            raise InvalidInputError(
                "labels", field_errors={"labels": f"Unknown operation '{verb}'."}
            )
        wanted = list(dict.fromkeys(wanted))
        if issue.id is not None:
            self.changes.record(
                "labels",
                (None, " ".join(sorted(current)) or None),
                (None, " ".join(sorted(wanted)) or None),
            )
        self._labels = wanted

    def _current_labels(self, issue: IssueFields) -> list[str]:
        if self._labels is not None:
            return self._labels
        if issue.id is None:
            return []
        return list(
            self.session.scalars(select(IssueLabel.label).where(IssueLabel.issue_id == issue.id))
        )

    def components(self, issue: IssueFields, verb: str, value: object) -> None:
        rows = {
            c.id: c
            for c in self.session.scalars(
                select(Component).where(Component.project_id == self.project.id)
            )
        }
        if self._components is None:
            self._components = self._stored_ids(
                issue,
                select(IssueComponent.component_id).where(IssueComponent.issue_id == issue.id),
            )
        self._components = self._edit_ids(
            issue, verb, value, self._components, rows, ("components", "Component", "Component")
        )

    def _set_versions(
        self, issue: IssueFields, verb: str, value: object, kind: VersionKind
    ) -> None:
        rows = {
            v.id: v
            for v in self.session.scalars(
                select(Version).where(Version.project_id == self.project.id)
            )
        }
        current = self._versions.get(kind)
        if current is None:
            current = self._stored_ids(
                issue,
                select(IssueVersion.version_id).where(
                    IssueVersion.issue_id == issue.id, IssueVersion.kind == kind.value
                ),
            )
        names = (
            ("fixVersions", "Version", "Fix Version")
            if kind is VersionKind.FIX
            else ("versions", "Version", "Version")
        )
        self._versions[kind] = self._edit_ids(issue, verb, value, current, rows, names)

    def _stored_ids(self, issue: IssueFields, query: Select[int]) -> list[int]:
        return [] if issue.id is None else list(self.session.scalars(query))

    def _edit_ids(
        self,
        issue: IssueFields,
        verb: str,
        value: object,
        current: list[int],
        rows: Mapping[int, Component] | Mapping[int, Version],
        names: tuple[str, str, str],
    ) -> list[int]:
        """Apply one operation to a component or version list; record it in the history."""
        field_id, label, history = names
        wanted = apply_operation(
            verb, value, current, lambda v: named_row(rows, v, field_id, label), field_id
        )
        if issue.id is not None:
            self.changes.record(
                history,
                (ids_text(sorted(current)), names_text(rows, current)),
                (ids_text(sorted(wanted)), names_text(rows, wanted)),
            )
        return wanted

    def fix_versions(self, issue: IssueFields, verb: str, value: object) -> None:
        self._set_versions(issue, verb, value, VersionKind.FIX)

    def affected_versions(self, issue: IssueFields, verb: str, value: object) -> None:
        self._set_versions(issue, verb, value, VersionKind.AFFECTED)

    # -- comments and links given with an edit ---------------------------------------------

    def _comment(self, verb: str, value: object) -> None:
        body = value.get("body") if isinstance(value, Mapping) else None
        if verb != "add" or not isinstance(body, str) or not body.strip():
            raise InvalidInputError(
                "comment", field_errors={"comment": 'Use [{"add": {"body": "..."}}] to comment.'}
            )
        self.pending_comments.append(check_length(body, "comment", self.text_limit))

    def _link(self, verb: str, value: object) -> None:
        if verb != "add" or not isinstance(value, Mapping):
            raise InvalidInputError(
                "issuelinks",
                field_errors={"issuelinks": 'Use [{"add": {"type": ..., "outwardIssue": ...}}].'},
            )
        self.pending_links.append(value)

    # -- custom fields ---------------------------------------------------------------------

    def _custom(self, issue: IssueFields, custom: CustomField, verb: str, value: object) -> None:
        kind = CustomFieldType(custom.field_type)
        field_id = custom.field_id
        old_rows = self._custom_rows.get(custom.id)
        if old_rows is None:
            old_rows = (
                []
                if issue.id is None
                else list(
                    self.session.scalars(
                        select(CustomValue)
                        .where(CustomValue.issue_id == issue.id, CustomValue.field_id == custom.id)
                        .order_by(CustomValue.id)
                    )
                )
            )
        if kind.multiple:
            current = [r.option_id if r.option_id is not None else r.user_id or 0 for r in old_rows]
            wanted_keys = apply_operation(
                verb, value, current, lambda v: self.custom_values.ref(custom, v), field_id
            )
            new_rows = [self.custom_values.row(custom, k) for k in wanted_keys]
        else:
            if verb != "set":
                raise InvalidInputError(
                    field_id, field_errors={field_id: f"Field '{field_id}' supports only 'set'."}
                )
            new_rows = (
                [] if value is None or value == "" else [self.custom_values.value(custom, value)]
            )
        self._custom_rows[custom.id] = new_rows
        if issue.id is not None:
            self.changes.record(
                custom.name,
                (
                    ids_text([self.custom_values.key(r) for r in old_rows]),
                    self.custom_values.text(custom, old_rows),
                ),
                (
                    ids_text([self.custom_values.key(r) for r in new_rows]),
                    self.custom_values.text(custom, new_rows),
                ),
                custom_id=field_id,
            )

    # -- flushing what was gathered --------------------------------------------------------

    def write_collections(self, issue: IssueFields) -> None:
        """Store labels, components, versions and custom values gathered for ``issue``."""
        if issue.id is not None and not self.creating:
            # An edit replaces each collection it names.
            if self._labels is not None:
                self.session.execute(delete(IssueLabel).where(IssueLabel.issue_id == issue.id))
            if self._components is not None:
                self.session.execute(
                    delete(IssueComponent).where(IssueComponent.issue_id == issue.id)
                )
            for kind in self._versions:
                self.session.execute(
                    delete(IssueVersion).where(
                        IssueVersion.issue_id == issue.id, IssueVersion.kind == kind.value
                    )
                )
            for field_id in self._custom_rows:
                self.session.execute(
                    delete(CustomValue).where(
                        CustomValue.issue_id == issue.id, CustomValue.field_id == field_id
                    )
                )
            if self._estimates is not None:
                self.session.execute(delete(TimeTracking).where(TimeTracking.issue_id == issue.id))
        for table, rows in self.new_collection_rows(issue).items():
            self._insert(table, rows)

    def new_collection_rows(self, issue: IssueFields) -> dict[type[Base], list[dict[str, object]]]:
        """The rows of the collections gathered for ``issue``, by table (insert them in bulk)."""
        rows: dict[type[Base], list[dict[str, object]]] = {}
        if self._labels:
            rows[IssueLabel] = [{"issue_id": issue.id, "label": x} for x in self._labels]
        if self._components:
            rows[IssueComponent] = [
                {"issue_id": issue.id, "component_id": c} for c in self._components
            ]
        versions: list[dict[str, object]] = [
            {"issue_id": issue.id, "version_id": v, "kind": kind.value}
            for kind, ids in self._versions.items()
            for v in ids
        ]
        if versions:
            rows[IssueVersion] = versions
        values: list[dict[str, object]] = [
            {
                "issue_id": issue.id,
                "field_id": field_id,
                "string_value": row.string_value,
                "number_value": row.number_value,
                "date_value": row.date_value,
                "datetime_ms": row.datetime_ms,
                "option_id": row.option_id,
                "user_id": row.user_id,
            }
            for field_id, custom_rows in self._custom_rows.items()
            for row in custom_rows
        ]
        if values:
            rows[CustomValue] = values
        if self._estimates is not None and self._estimates != (None, None):
            original, remaining = self._estimates
            rows[TimeTracking] = [
                {
                    "issue_id": issue.id,
                    "original_estimate_seconds": original,
                    "remaining_estimate_seconds": remaining,
                }
            ]
        return rows

    def _insert(self, table: type[Base], rows: list[dict[str, object]]) -> None:
        # Plain multi-row INSERTs: these rows are never read back in the same operation.
        if rows:
            table_ = Base.metadata.tables[table.__tablename__]
            insert_many(self.session.connection(), table_, rows)

    def write_comments_and_links(self, issue: IssueFields) -> None:
        """Add the comments and links that came with the edit."""
        for body in self.pending_comments:
            self.session.add(
                Comment(
                    issue_id=issue.id,
                    author_id=self.actor.id,
                    update_author_id=self.actor.id,
                    body=body,
                    created_ms=self.now_ms,
                    updated_ms=self.now_ms,
                )
            )
        added: set[tuple[int, int, int]] = set()
        for link in self.pending_links:
            row = self.build_link(issue, link)
            ends = (row.link_type_id, row.source_issue_id, row.target_issue_id)
            # As Jira: linking issues that are linked so already changes nothing.
            if ends not in added and existing_link(self.session, row) is None:
                added.add(ends)
                self.session.add(row)

    def build_link(self, issue: IssueFields, link: Mapping[str, object]) -> IssueLink:
        """An issue link from ``issue`` as Jira's ``issuelinks`` ``add`` describes it."""
        link_type = self.ref.link_types.resolve(link.get("type"), "issuelinks")
        source: IssueFields
        target: IssueFields
        if link.get("outwardIssue") is not None:
            other = self.find_issue(link["outwardIssue"], "issuelinks")
            source, target = issue, other
        elif link.get("inwardIssue") is not None:
            other = self.find_issue(link["inwardIssue"], "issuelinks")
            source, target = other, issue
        else:
            raise InvalidInputError(
                "issuelinks", field_errors={"issuelinks": "Name an outwardIssue or an inwardIssue."}
            )
        if source.id == target.id:
            raise InvalidInputError(
                "issuelinks", field_errors={"issuelinks": "An issue cannot be linked to itself."}
            )
        return IssueLink(
            link_type_id=link_type.id,
            source_issue_id=source.id,
            target_issue_id=target.id,
            created_ms=self.now_ms,
        )


def existing_link(session: Session, link: IssueLink) -> IssueLink | None:
    """The stored link with the same type and ends as ``link``, if there is one."""
    return session.scalar(
        select(IssueLink).where(
            IssueLink.link_type_id == link.link_type_id,
            IssueLink.source_issue_id == link.source_issue_id,
            IssueLink.target_issue_id == link.target_issue_id,
        )
    )


_SINGLE: dict[str, Callable[[IssueWriter, IssueFields, object], None]] = {
    "summary": IssueWriter.set_summary,
    "description": IssueWriter.set_description,
    "issuetype": IssueWriter.set_issuetype,
    "priority": IssueWriter.set_priority,
    "resolution": IssueWriter.set_resolution,
    "assignee": IssueWriter.set_assignee,
    "reporter": IssueWriter.set_reporter,
    "duedate": IssueWriter.set_duedate,
}

_MULTI: dict[str, Callable[[IssueWriter, IssueFields, str, object], None]] = {
    "labels": IssueWriter.labels,
    "components": IssueWriter.components,
    "fixVersions": IssueWriter.fix_versions,
    "versions": IssueWriter.affected_versions,
}
