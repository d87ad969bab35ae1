"""Which JQL fields the built-in tracker knows: the system fields and the custom fields.

System fields are built once (``system_fields``); custom fields are looked up by
name or ``cf[id]`` in the session while a query compiles, since their type
decides how their values compare.
"""

from __future__ import annotations

import functools
import re
from typing import Final

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from issuesync.domain.jql import FieldRef, FunctionCall, Value
from issuesync.errors import QueryError
from issuesync.store.users import User
from issuesync.trackers.local.jql_fields import (
    EMPTINESS,
    EQUALITY,
    LIKE,
    RANGE,
    Condition,
    Days,
    Family,
    Field,
    InRows,
    Instants,
    Items,
    Lookup,
    Numbers,
    OnIssue,
    SortKey,
    Strings,
    Target,
    Text,
    compare,
    contains_words,
    in_ids,
)
from issuesync.trackers.local.jql_values import (
    ISSUE_TYPE_FUNCTIONS,
    LOOKUP_CHUNK,
    JqlContext,
    check_function,
    ids_by_name,
    lookup_ids,
    matches_name,
    parse_number,
    plain_values,
    unknown_value,
    user_ids,
)
from issuesync.trackers.local.models import (
    MAX_ROW_ID,
    Comment,
    Component,
    CustomField,
    CustomFieldOption,
    CustomFieldType,
    CustomValue,
    Issue,
    IssueComponent,
    IssueLabel,
    IssueType,
    IssueVersion,
    Priority,
    Project,
    Resolution,
    Status,
    StatusCategory,
    Version,
    VersionKind,
    row_id,
)

_ALIASES: Final = {
    "issuekey": "key",
    "type": "issuetype",
    "createddate": "created",
    "updateddate": "updated",
    "due": "duedate",
    "resolved": "resolutiondate",
}

# Jira's names and ids of the status categories, besides their keys.
_CATEGORIES: Final = {
    "new": StatusCategory.NEW,
    "to do": StatusCategory.NEW,
    "2": StatusCategory.NEW,
    "indeterminate": StatusCategory.IN_PROGRESS,
    "in progress": StatusCategory.IN_PROGRESS,
    "4": StatusCategory.IN_PROGRESS,
    "done": StatusCategory.DONE,
    "3": StatusCategory.DONE,
}

_KEY = re.compile(r"(.+)-(\d+)")


def resolve_field(ref: FieldRef, session: Session) -> Field:
    """The field a reference names: a system field, else a custom field; unknown ones fail."""
    custom_id = ref.custom_id
    if custom_id is None:
        name = ref.name.lower()
        system = system_fields().get(_ALIASES.get(name, name))
        if system is not None:
            return system
        found = session.scalars(select(CustomField).where(CustomField.name == ref.name)).first()
        if found is None:
            condition = func.lower(CustomField.name) == name
            found = session.scalars(select(CustomField).where(condition)).first()
    else:
        found = session.get(CustomField, custom_id)
    if found is None:
        raise QueryError(
            f"Field '{ref.name}' does not exist or you do not have permission to view it."
        )
    return custom_field(found)


@functools.cache
def system_fields() -> dict[str, Field]:
    """The system fields by lower-case name, built on first use."""
    ids = EQUALITY
    fields = [
        Field(
            "project",
            ids,
            OnIssue(Issue.project_id),
            Lookup(_projects),
            SortKey((_name_of(Project.key, Project.id, Issue.project_id),)),
        ),
        Field(
            "key",
            ids | RANGE,
            OnIssue(Issue.id),
            _IssueKeys(),
            SortKey((_name_of(Project.key, Project.id, Issue.project_id), Issue.number)),
        ),
        Field("id", ids | RANGE, OnIssue(Issue.id), _Integers(), SortKey((Issue.id,))),
        Field(
            "summary", LIKE | EMPTINESS, OnIssue(Issue.summary), Text(), SortKey((Issue.summary,))
        ),
        Field(
            "description",
            LIKE | EMPTINESS,
            OnIssue(Issue.description, nullable=True, blank_is_empty=True),
            Text(),
        ),
        Field("comment", LIKE | EMPTINESS, InRows(Comment.issue_id, Comment.body), Text()),
        Field("text", frozenset({"~"}), OnIssue(Issue.summary), _Everywhere()),
        Field(
            "status",
            ids,
            OnIssue(Issue.status_id),
            Lookup(_statuses),
            SortKey((_name_of(Status.name, Status.id, Issue.status_id),)),
        ),
        Field("statuscategory", ids, OnIssue(Issue.status_id), Lookup(_status_categories)),
        Field(
            "issuetype",
            ids,
            OnIssue(Issue.issue_type_id),
            Lookup(_issue_types),
            SortKey((_name_of(IssueType.name, IssueType.id, Issue.issue_type_id),)),
        ),
        Field(
            "priority",
            ids | RANGE,
            OnIssue(Issue.priority_id, nullable=True),
            _Priorities(),
            SortKey(
                (_name_of(Priority.position, Priority.id, Issue.priority_id),),
                nullable=True,
                default_descending=True,
                inverted=True,
            ),
        ),
        Field(
            "resolution",
            ids,
            OnIssue(Issue.resolution_id, nullable=True),
            _Resolutions(),
            SortKey(
                (_name_of(Resolution.name, Resolution.id, Issue.resolution_id),), nullable=True
            ),
        ),
        _user_field("assignee", Issue.assignee_id),
        _user_field("reporter", Issue.reporter_id),
        _user_field("creator", Issue.creator_id),
        Field("labels", ids, InRows(IssueLabel.issue_id, IssueLabel.label), Strings()),
        Field(
            "component",
            ids,
            InRows(IssueComponent.issue_id, IssueComponent.component_id),
            Lookup(_components),
        ),
        _version_field("fixversion", VersionKind.FIX),
        _version_field("affectedversion", VersionKind.AFFECTED),
        Field("parent", ids, OnIssue(Issue.parent_id, nullable=True), Lookup(_issues)),
        _date_field("created", Issue.created_ms, nullable=False),
        _date_field("updated", Issue.updated_ms, nullable=False),
        _date_field("resolutiondate", Issue.resolution_ms, nullable=True),
        Field(
            "duedate",
            ids | RANGE,
            OnIssue(Issue.due_date, nullable=True),
            Days(),
            SortKey((Issue.due_date,), nullable=True),
        ),
    ]
    return {field.name: field for field in fields}


def custom_field(field: CustomField) -> Field:
    """The JQL field of a custom field, by its type."""
    kind = CustomFieldType(field.field_type)
    scope = (CustomValue.field_id == field.id,)
    name = field.name
    sort: SortKey | None = None
    if kind in (CustomFieldType.STRING, CustomFieldType.TEXT):
        target: Target = CustomValue.string_value
        family: Family = Strings()
        operators = LIKE | EQUALITY
    elif kind is CustomFieldType.NUMBER:
        target, family, operators = CustomValue.number_value, Numbers(), EQUALITY | RANGE
    elif kind is CustomFieldType.DATE:
        target, family, operators = CustomValue.date_value, Days(), EQUALITY | RANGE
    elif kind is CustomFieldType.DATETIME:
        target, family, operators = CustomValue.datetime_ms, Instants(), EQUALITY | RANGE
    elif kind in (CustomFieldType.OPTION, CustomFieldType.OPTIONS):
        target, family, operators = CustomValue.option_id, _Options(field.id), EQUALITY
    else:
        target, family, operators = CustomValue.user_id, Lookup(_users), EQUALITY
    if kind is CustomFieldType.OPTION:
        position = select(CustomFieldOption.position).where(
            CustomFieldOption.id == CustomValue.option_id
        )
        sort = _custom_sort(field.id, position.scalar_subquery())
    elif kind is CustomFieldType.USER:
        display = select(User.display_name).where(User.id == CustomValue.user_id)
        sort = _custom_sort(field.id, display.scalar_subquery())
    elif not kind.multiple:
        sort = _custom_sort(field.id, target)
    return Field(name, operators, InRows(CustomValue.issue_id, target, scope), family, sort)


def _custom_sort(field_id: int, value: Target) -> SortKey:
    one = select(func.min(value)).where(
        CustomValue.issue_id == Issue.id, CustomValue.field_id == field_id
    )
    return SortKey((one.scalar_subquery(),), nullable=True)


def _name_of(column: Target, key: Target, reference: Target) -> Target:
    """A column of the row an issue's column points at, as a correlated scalar subquery."""
    return select(column).where(key == reference).scalar_subquery()


def _user_field(name: str, column: Target) -> Field:
    display = _name_of(User.display_name, User.id, column)
    sort = SortKey((display,), nullable=True)
    return Field(name, EQUALITY, OnIssue(column, nullable=True), Lookup(_users), sort)


def _version_field(name: str, kind: VersionKind) -> Field:
    holder = InRows(IssueVersion.issue_id, IssueVersion.version_id, (IssueVersion.kind == kind,))
    return Field(name, EQUALITY, holder, Lookup(_versions))


def _date_field(name: str, column: Target, *, nullable: bool) -> Field:
    sort = SortKey((column,), nullable=nullable, default_descending=True)
    return Field(name, EQUALITY | RANGE, OnIssue(column, nullable=nullable), Instants(), sort)


def _projects(items: Items, ctx: JqlContext, label: str) -> set[int]:
    names = (Project.key, Project.name)
    values = plain_values(items, label)
    return lookup_ids(
        ctx.session, select(Project.id), values, names=names, by_id=Project.id, field=label
    )


def _statuses(items: Items, ctx: JqlContext, label: str) -> set[int]:
    values = plain_values(items, label)
    query = select(Status.id)
    return lookup_ids(
        ctx.session, query, values, names=(Status.name,), by_id=Status.id, field=label
    )


def _status_categories(items: Items, ctx: JqlContext, label: str) -> set[int]:
    categories: set[str] = set()
    for value in plain_values(items, label):
        category = _CATEGORIES.get(value.text.lower())
        if category is None:
            raise unknown_value(value.text, label)
        categories.add(category.value)
    return set(
        ctx.session.scalars(select(Status.id).where(Status.category.in_(sorted(categories))))
    )


def _issue_types(items: Items, ctx: JqlContext, label: str) -> set[int]:
    ids: set[int] = set()
    values: list[Value] = []
    for item in items:
        if isinstance(item, FunctionCall):
            subtask = check_function(item, label, ISSUE_TYPE_FUNCTIONS) == "subtaskissuetypes"
            query = select(IssueType.id).where(IssueType.subtask.is_(subtask))
            ids |= set(ctx.session.scalars(query))
        else:
            values.append(item)
    names = (IssueType.name,)
    query = select(IssueType.id)
    return ids | lookup_ids(
        ctx.session, query, values, names=names, by_id=IssueType.id, field=label
    )


def _users(items: Items, ctx: JqlContext, label: str) -> set[int]:
    return user_ids(ctx.session, items, label, ctx.current_user_id, by_email=ctx.all_emails)


def _components(items: Items, ctx: JqlContext, label: str) -> set[int]:
    values = plain_values(items, label)
    query = select(Component.id)
    names = (Component.name,)
    return lookup_ids(ctx.session, query, values, names=names, by_id=Component.id, field=label)


def _versions(items: Items, ctx: JqlContext, label: str) -> set[int]:
    values = plain_values(items, label)
    query = select(Version.id)
    return lookup_ids(
        ctx.session, query, values, names=(Version.name,), by_id=Version.id, field=label
    )


def _issues(items: Items, ctx: JqlContext, label: str) -> set[int]:
    """Issues by key (any case) or id; an unknown one fails, as in Jira.

    A few queries however many keys a list names: ``key IN (...)`` of hundreds of
    keys is what tools send.
    """
    values = plain_values(items, label)
    texts = [value.text.strip() for value in values]
    keys = {text: _key_parts(text, label) for text in texts if not text.isdigit()}
    projects = ids_by_name(
        ctx.session, select(Project.id), [prefix for prefix, _ in keys.values()], (Project.key,)
    )
    numbered: dict[tuple[int, int], int] = {}
    wanted = sorted({number for _, number in keys.values()})
    project_ids = sorted({pid for ids in projects.values() for pid in ids})
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = ctx.session.execute(
            select(Issue.project_id, Issue.number, Issue.id).where(
                Issue.project_id.in_(project_ids), Issue.number.in_(chunk)
            )
        )
        numbered.update(((pid, number), issue_id) for pid, number, issue_id in rows)
    rids = sorted({rid for text in texts if (rid := row_id(text)) is not None})
    existing: set[int] = set()
    for start in range(0, len(rids), LOOKUP_CHUNK):
        chunk = rids[start : start + LOOKUP_CHUNK]
        existing |= set(ctx.session.scalars(select(Issue.id).where(Issue.id.in_(chunk))))
    ids: set[int] = set()
    for value, text in zip(values, texts, strict=True):
        if text.isdigit():
            rid = row_id(text)
            found = {rid} if rid in existing else set()
        else:
            prefix, number = keys[text]
            found = {
                numbered[(pid, number)] for pid in projects[prefix] if (pid, number) in numbered
            }
        if not found:
            missing = f"An issue with key '{value.text}' does not exist for field '{label}'."
            if ctx.validate:
                raise QueryError(missing)
            ctx.warnings.append(missing)
        ids |= found
    return ids


def _key_parts(text: str, label: str) -> tuple[str, int]:
    """A key's project prefix and its number."""
    match = _KEY.fullmatch(text)
    if match is None:
        raise QueryError(f"The issue key '{text}' for field '{label}' is invalid.")
    prefix, number = match.groups()
    # A number no issue can have still compares sensibly, without overflowing the database.
    return prefix, min(int(number), MAX_ROW_ID)


def _split_key(text: str, ctx: JqlContext, label: str) -> tuple[set[int], int]:
    """The ids of the project(s) a key's prefix names, and its number."""
    prefix, number = _key_parts(text, label)
    query = select(Project.id).where(matches_name(Project.key, prefix))
    return set(ctx.session.scalars(query)), number


class _IssueKeys(Family):
    """``key``: equality by looked-up id; ``<``/``>`` by number within the key's project."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        return in_ids(target, _issues(items, ctx, label))

    def compare(
        self, target: Target, op: str, item: Value | FunctionCall, ctx: JqlContext, label: str
    ) -> Condition:
        del target
        (value,) = plain_values([item], label)
        project_ids, number = _split_key(value.text.strip(), ctx, label)
        return and_(
            in_ids(Issue.project_id, project_ids),
            compare(op, Issue.number, number),
        )


class _Integers(Family):
    """``id``: whole numbers."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        del ctx
        return target.in_([_integer(item, label) for item in items])

    def compare(
        self, target: Target, op: str, item: Value | FunctionCall, ctx: JqlContext, label: str
    ) -> Condition:
        del ctx
        return compare(op, target, _integer(item, label))


def _integer(item: Value | FunctionCall, label: str) -> int:
    number = parse_number(item, label)
    if not number.is_integer():
        raise QueryError(f"The value '{number}' is not a valid number for the field '{label}'.")
    # Beyond any row id, clamp so that the database never sees an overflowing integer.
    return max(-MAX_ROW_ID, min(int(number), MAX_ROW_ID))


class _Priorities(Lookup):
    """Priorities by name or id; ``priority > Low`` is more urgent than Low (a lower position)."""

    def __init__(self) -> None:
        super().__init__(self._lookup)

    @staticmethod
    def _lookup(items: Items, ctx: JqlContext, label: str) -> set[int]:
        values = plain_values(items, label)
        query = select(Priority.id)
        return lookup_ids(
            ctx.session, query, values, names=(Priority.name,), by_id=Priority.id, field=label
        )

    def compare(
        self, target: Target, op: str, item: Value | FunctionCall, ctx: JqlContext, label: str
    ) -> Condition:
        (given,) = self._lookup([item], ctx, label)
        position = ctx.session.scalar(select(Priority.position).where(Priority.id == given))
        flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
        more = compare(flipped, Priority.position, position)
        return in_ids(target, set(ctx.session.scalars(select(Priority.id).where(more))))


class _Resolutions(Lookup):
    """Resolutions by name or id; ``Unresolved`` (unless a resolution has that name) is empty."""

    def __init__(self) -> None:
        super().__init__(self._lookup)

    @staticmethod
    def _lookup(items: Items, ctx: JqlContext, label: str) -> set[int]:
        values = plain_values(items, label)
        query = select(Resolution.id)
        return lookup_ids(
            ctx.session, query, values, names=(Resolution.name,), by_id=Resolution.id, field=label
        )

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        named = [item for item in items if not _is_unresolved(item, ctx)]
        matched = in_ids(target, self._lookup(named, ctx, label))
        return or_(matched, target.is_(None)) if len(named) < len(items) else matched


def _is_unresolved(item: Value | FunctionCall, ctx: JqlContext) -> bool:
    """Whether the item is Jira's ``Unresolved``, which no real resolution may shadow."""
    if not isinstance(item, Value) or item.text.lower() != "unresolved":
        return False
    named = select(Resolution.id).where(matches_name(Resolution.name, item.text))
    return ctx.session.scalar(named) is None


class _Options(Lookup):
    """Options of one custom field, by value (any case) or option id."""

    def __init__(self, field_id: int) -> None:
        self.field_id = field_id
        super().__init__(self._lookup)

    def _lookup(self, items: Items, ctx: JqlContext, label: str) -> set[int]:
        query = select(CustomFieldOption.id).where(CustomFieldOption.field_id == self.field_id)
        values = plain_values(items, label)
        names = (CustomFieldOption.value,)
        return lookup_ids(
            ctx.session, query, values, names=names, by_id=CustomFieldOption.id, field=label
        )


class _Everywhere(Family):
    """``text ~``: summary, description, comments and string/text custom fields."""

    def like(self, target: Target, item: Value | FunctionCall, label: str) -> Condition:
        del target
        comment = select(Comment.id).where(Comment.issue_id == Issue.id)
        custom = select(CustomValue.id).where(
            CustomValue.issue_id == Issue.id, CustomValue.string_value.is_not(None)
        )
        return or_(
            contains_words(Issue.summary, item, label),
            and_(Issue.description.is_not(None), contains_words(Issue.description, item, label)),
            comment.where(contains_words(Comment.body, item, label)).exists(),
            custom.where(contains_words(CustomValue.string_value, item, label)).exists(),
        )
