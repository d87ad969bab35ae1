"""Jira REST v2 issue JSON to replicas, and canonical field values back to Jira's ``fields``.

Pure functions, shared by every adapter that speaks Jira's JSON: the built-in
tracker renders its issues in it, and a remote Jira answers in it. Nothing here
reads a database or sends a request; the caller hands in the issue JSON, the
custom fields it knows (by Jira id) and, for writes, how to name a user.

Reading: dates become epoch ms (``due`` at midnight UTC), users :class:`UserRef`,
custom fields are keyed by their *name* with canonical values (option names,
sorted option lists, ``YYYY-MM-DD`` dates, epoch-ms date-times, users as
``{"email", "username"}``), as :func:`~issuesync.domain.replica.canonical_fields`
compares them.

Writing: canonical values keyed by Jira's field id (custom fields by name) become
an edit or create body's ``fields``; a value of the wrong shape or a field the
project does not have raises :class:`~issuesync.errors.InvalidInputError` naming
the field, before anything is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Final

from issuesync.domain.replica import (
    CustomFieldValue,
    FieldValue,
    HubAttachment,
    HubComment,
    HubIssue,
    HubIssueLink,
    HubWorklog,
    ItemRef,
    LabelRef,
    NamedRef,
    ProjectRef,
    Replica,
    UserRef,
    canonical_custom,
    due_to_ms,
)
from issuesync.errors import InvalidInputError
from issuesync.trackers.adapter import FieldInfo, ProjectSchema

JsonObject = Mapping[str, Any]

# hubIssue's names of custom field types (Exalate's CustomFieldType), by Jira's short type.
HUB_TYPES: Final[dict[str, str]] = {
    "string": "STRING",
    "text": "TEXT",
    "number": "NUMERIC",
    "date": "DATE",
    "datetime": "DATETIME",
    "option": "OPTION",
    "options": "OPTIONS",
    "user": "USER",
    "users": "USERS",
}

_ISO_DATE_LENGTH: Final = len("2024-01-31")
_OFFSET_LENGTH: Final = len("+0000")

# Login name of a canonical user value; the default takes its username, else its e-mail.
LoginOf = Callable[[object], str | None]


# -- Jira's scalar formats ------------------------------------------------------------------


# Jira's system fields that a sync reads and writes, with their types: what an
# adapter's schema lists for them (a Jira-shaped adapter adds what its tracker has more).
SYNCED_SYSTEM_FIELDS: Final = (
    FieldInfo("summary", "Summary", "string", required=True),
    FieldInfo("description", "Description", "text"),
    FieldInfo("issuetype", "Issue Type", "issuetype", required=True),
    FieldInfo("status", "Status", "status"),
    FieldInfo("priority", "Priority", "priority"),
    FieldInfo("resolution", "Resolution", "resolution"),
    FieldInfo("labels", "Labels", "array"),
    FieldInfo("components", "Component/s", "array"),
    FieldInfo("fixVersions", "Fix Version/s", "array"),
    FieldInfo("versions", "Affects Version/s", "array"),
    FieldInfo("duedate", "Due Date", "date"),
    FieldInfo("assignee", "Assignee", "user"),
    FieldInfo("reporter", "Reporter", "user"),
)


def parse_datetime(value: object) -> int | None:
    """Epoch ms of Jira's ``2026-11-22T21:40:11.123+0000`` (any ISO 8601; naive is UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    # Python wants +00:00 where Jira writes +0000.
    if len(text) > _OFFSET_LENGTH and text[-_OFFSET_LENGTH] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def format_datetime(ms: int) -> str:
    """Epoch ms as Jira writes them: ``2026-11-22T21:40:11.123+0000``."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def parse_day(value: object) -> dt.date | None:
    """The date of a ``YYYY-MM-DD`` text (a date-time's day too), or None."""
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:_ISO_DATE_LENGTH])
    except ValueError:
        return None


def day_text(value: object) -> str | None:
    """A canonical date (``YYYY-MM-DD``, or epoch ms at midnight UTC) as Jira's date text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC).date().isoformat()
    day = parse_day(value)
    return day.isoformat() if day else None


# -- reading --------------------------------------------------------------------------------


def user_ref(data: object) -> UserRef | None:
    """A Jira user object as a :class:`UserRef`; None for null or an empty object."""
    if not isinstance(data, Mapping) or not data:
        return None
    return UserRef(
        key=data.get("key") or data.get("accountId"),
        username=data.get("name"),
        email=data.get("emailAddress"),
        display_name=data.get("displayName"),
        active=bool(data.get("active", True)),
    )


def _named(data: object) -> NamedRef | None:
    if not isinstance(data, Mapping) or not data.get("name"):
        return None
    raw_id = data.get("id")
    return NamedRef(id=str(raw_id) if raw_id is not None else None, name=str(data["name"]))


def _items(data: object) -> list[ItemRef]:
    if not isinstance(data, list):
        return []
    return [
        ItemRef(id=item.get("id"), name=str(item["name"]))
        for item in data
        if isinstance(item, Mapping) and item.get("name")
    ]


def comment_from_jira(data: JsonObject) -> HubComment:
    """A Jira comment as a :class:`HubComment` (string id, epoch-ms times)."""
    return HubComment(
        id=str(data["id"]),
        body=str(data.get("body") or ""),
        author=user_ref(data.get("author")),
        update_author=user_ref(data.get("updateAuthor")),
        created=parse_datetime(data.get("created")),
        updated=parse_datetime(data.get("updated")),
        # Restricted to a role or group (``visibility``), or a service desk's internal
        # comment (``jsdPublic: false``).
        internal=bool(data.get("visibility")) or data.get("jsdPublic") is False,
    )


def attachment_from_jira(data: JsonObject) -> HubAttachment:
    """Jira attachment metadata; ``checksum`` is the sha256 when the tracker tells it."""
    return HubAttachment(
        id=str(data["id"]),
        filename=str(data.get("filename") or ""),
        mimetype=str(data.get("mimeType") or "application/octet-stream"),
        filesize=int(data.get("size") or 0),
        created=parse_datetime(data.get("created")),
        author=user_ref(data.get("author")),
        checksum=data.get("sha256"),
    )


def worklog_from_jira(data: JsonObject) -> HubWorklog:
    """A Jira work log as a :class:`HubWorklog` (string id, seconds, epoch-ms times)."""
    seconds = data.get("timeSpentSeconds")
    return HubWorklog(
        id=str(data["id"]),
        author=user_ref(data.get("author")),
        update_author=user_ref(data.get("updateAuthor")),
        start_date=parse_datetime(data.get("started")),
        time_spent=seconds if isinstance(seconds, int) and not isinstance(seconds, bool) else 0,
        comment=str(data.get("comment") or ""),
        created=parse_datetime(data.get("created")),
        updated=parse_datetime(data.get("updated")),
    )


def _canonical_user(data: object) -> dict[str, Any] | None:
    ref = user_ref(data)
    return ref.canonical() if ref is not None else None


def _option_value(data: object) -> str | None:
    if isinstance(data, Mapping):
        value = data.get("value")
        return str(value) if value is not None else None
    return data if isinstance(data, str) else None


def _user_sort_key(user: Mapping[str, Any]) -> tuple[str, str]:
    return (user.get("email") or "", user.get("username") or "")


def custom_value(info: FieldInfo, raw: object) -> FieldValue:
    """A custom field's value as Jira renders it, in canonical form for its type."""
    kind = info.type
    value: object = raw
    if raw is None:
        value = None
    elif kind == "option":
        value = _option_value(raw)
    elif kind == "options":
        items = raw if isinstance(raw, list) else [raw]
        value = [v for v in (_option_value(i) for i in items) if v is not None]
    elif kind == "user":
        value = _canonical_user(raw)
    elif kind == "users":
        items = raw if isinstance(raw, list) else [raw]
        users = [u for u in (_canonical_user(i) for i in items) if u is not None]
        value = sorted(users, key=_user_sort_key)
    elif kind == "date":
        value = day_text(raw)
    elif kind == "datetime":
        value = parse_datetime(raw)
    return canonical_custom(value)


def links_from_jira(data: object) -> list[HubIssueLink]:
    """Jira's ``issuelinks``: an entry with ``outwardIssue`` is this issue's outward end
    (this issue *blocks* that one), one with ``inwardIssue`` its inward end."""
    links: list[HubIssueLink] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type") or {}
        for direction, place in (("outward", "outwardIssue"), ("inward", "inwardIssue")):
            other = item.get(place)
            if isinstance(other, Mapping) and other.get("key") and isinstance(kind, Mapping):
                links.append(
                    HubIssueLink(
                        id=str(item["id"]) if item.get("id") is not None else None,
                        other_issue_id=str(other["id"]) if other.get("id") is not None else None,
                        other_issue_key=str(other["key"]),
                        link_type_name=str(kind.get("name") or ""),
                        link_name=kind.get(direction),
                        direction=direction,
                    )
                )
    return links


def issue_to_replica(issue: JsonObject, custom_fields: Mapping[str, FieldInfo]) -> Replica:
    """A Jira issue (``{id, key, fields}``) as a replica.

    ``custom_fields`` describes the custom fields by Jira id (``customfield_10001``);
    custom values the mapping does not describe are left out, since the replica
    names custom fields, and a field without a name cannot be mapped.
    """
    fields: JsonObject = issue.get("fields") or {}
    project: JsonObject = fields.get("project") or {}
    parent = fields.get("parent")
    comments = fields.get("comment")
    comment_list = comments.get("comments", []) if isinstance(comments, Mapping) else []
    worklogs = fields.get("worklog")
    worklog_list = worklogs.get("worklogs", []) if isinstance(worklogs, Mapping) else []
    custom: dict[str, CustomFieldValue] = {}
    for field_id, info in custom_fields.items():
        if field_id in fields:
            custom[info.name] = CustomFieldValue(
                id=field_id,
                name=info.name,
                type=HUB_TYPES.get(info.type, info.type.upper()),
                value=custom_value(info, fields[field_id]),
            )
    hub = HubIssue(
        id=str(issue["id"]) if issue.get("id") is not None else None,
        key=str(issue["key"]),
        summary=str(fields.get("summary") or ""),
        description=fields.get("description"),
        environment=fields.get("environment"),
        project=ProjectRef(
            id=project.get("id"),
            key=str(project.get("key") or str(issue["key"]).rsplit("-", 1)[0]),
            name=project.get("name"),
        ),
        issue_type=_named(fields.get("issuetype")),
        status=_named(fields.get("status")),
        priority=_named(fields.get("priority")),
        resolution=_named(fields.get("resolution")),
        labels=[LabelRef(label=str(x)) for x in fields.get("labels") or []],
        components=_items(fields.get("components")),
        fix_versions=_items(fields.get("fixVersions")),
        affected_versions=_items(fields.get("versions")),
        assignee=user_ref(fields.get("assignee")),
        reporter=user_ref(fields.get("reporter")),
        due=due_to_ms(parse_day(fields.get("duedate"))),
        created=parse_datetime(fields.get("created")),
        updated=parse_datetime(fields.get("updated")),
        parent_id=str(parent["id"]) if isinstance(parent, Mapping) and "id" in parent else None,
        parent_key=parent.get("key") if isinstance(parent, Mapping) else None,
        custom_fields=custom,
        comments=[comment_from_jira(c) for c in comment_list if isinstance(c, Mapping)],
        attachments=[
            attachment_from_jira(a)
            for a in fields.get("attachment") or []
            if isinstance(a, Mapping)
        ],
        work_logs=[worklog_from_jira(w) for w in worklog_list if isinstance(w, Mapping)],
        issue_links=links_from_jira(fields.get("issuelinks")),
    )
    return Replica(hub_issue=hub)


# -- writing --------------------------------------------------------------------------------


def default_login(value: object) -> str | None:
    """The login name a canonical user value names: its username, else its e-mail."""
    if isinstance(value, Mapping):
        name = value.get("username") or value.get("name") or value.get("email")
        return str(name) if name else None
    return value if isinstance(value, str) and value else None


def _wrong(field_id: str, expected: str) -> InvalidInputError:
    return InvalidInputError(
        f"The value of '{field_id}' is not {expected}.", field_errors={field_id: expected}
    )


def _text(field_id: str, value: FieldValue) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _wrong(field_id, "a text")


def _names(field_id: str, value: FieldValue) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise _wrong(field_id, "a list of names")


def _named_ref(field_id: str, value: FieldValue) -> dict[str, str] | None:
    name = _text(field_id, value)
    return {"name": name} if name else None


def _user(field_id: str, value: FieldValue, login: LoginOf) -> dict[str, str] | None:
    if value is None or value in ({}, ""):
        return None
    if isinstance(value, list):
        raise _wrong(field_id, "one user")
    name = login(value)
    if name is None:
        raise _wrong(field_id, 'a user as {"email": ..., "username": ...}')
    return {"name": name}


def _users(field_id: str, value: FieldValue, login: LoginOf) -> list[dict[str, str]]:
    items: list[Any] = value if isinstance(value, list) else [] if value is None else [value]
    users = [_user(field_id, item, login) for item in items]
    return [u for u in users if u is not None]


def _number(field_id: str, value: FieldValue) -> float | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise _wrong(field_id, "a number")


def _datetime(field_id: str, value: FieldValue) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return format_datetime(value)
    if isinstance(value, str) and parse_datetime(value) is not None:
        return value
    raise _wrong(field_id, "a date-time (epoch ms or ISO 8601)")


def _day(field_id: str, value: FieldValue) -> str | None:
    if value is None or value == "":
        return None
    text = day_text(value)
    if text is None:
        raise _wrong(field_id, "a date as YYYY-MM-DD")
    return text


_CUSTOM: Final[dict[str, Callable[[str, FieldValue, LoginOf], object]]] = {
    "option": lambda f, v, _: {"value": name} if (name := _text(f, v)) else None,
    "options": lambda f, v, _: [{"value": n} for n in _names(f, v)],
    "user": _user,
    "users": _users,
    "number": lambda f, v, _: _number(f, v),
    "date": lambda f, v, _: _day(f, v),
    "datetime": lambda f, v, _: _datetime(f, v),
}


def custom_to_jira(info: FieldInfo, value: FieldValue, login: LoginOf = default_login) -> object:
    """A canonical custom field value as Jira's ``fields`` writes it for the field's type.

    Option fields take ``{"value": ..}``, user fields ``{"name": ..}``, number,
    date and date-time fields their plain value; text fields (any other type) a string.
    """
    convert = _CUSTOM.get(info.type)
    if convert is None:
        return _text(info.id, value)
    return convert(info.id, value, login)


_SYSTEM: Final[dict[str, Callable[[str, FieldValue, LoginOf], object]]] = {
    "summary": lambda f, v, _: _text(f, v),
    "description": lambda f, v, _: _text(f, v),
    "environment": lambda f, v, _: _text(f, v),
    "issuetype": lambda f, v, _: _named_ref(f, v),
    "priority": lambda f, v, _: _named_ref(f, v),
    "resolution": lambda f, v, _: _named_ref(f, v),
    "labels": lambda f, v, _: _names(f, v),
    "components": lambda f, v, _: [{"name": n} for n in _names(f, v)],
    "fixVersions": lambda f, v, _: [{"name": n} for n in _names(f, v)],
    "versions": lambda f, v, _: [{"name": n} for n in _names(f, v)],
    "duedate": lambda f, v, _: _day(f, v),
    "assignee": _user,
    "reporter": _user,
}

SYSTEM_FIELD_IDS: Final = frozenset(_SYSTEM)


def to_jira_fields(
    values: Mapping[str, FieldValue], schema: ProjectSchema, login: LoginOf = default_login
) -> dict[str, object]:
    """Canonical values as an edit or create body's ``fields``.

    ``values`` is keyed by Jira's system field ids and by custom field names (or
    ids); ``status`` is not a field (it moves by transitions) and is refused here.
    A system field that ``schema`` lists no field for (``environment``, say) is
    skipped when the value is empty and refused otherwise. Every problem is
    gathered and raised together, as Jira does.

    Raises:
        InvalidInputError: a field is unknown to ``schema`` or a value has the wrong shape.
    """
    body: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        try:
            info = schema.field(name)
            if name in _SYSTEM:
                if schema.fields and info is None:
                    # A field the project lacks: clearing it is already done.
                    if value not in (None, "", []):
                        errors[name] = f"The project {schema.key} has no field '{name}'."
                    continue
                body[name] = _SYSTEM[name](name, value, login)
                continue
            if info is None or not info.custom:
                errors[name] = f"The project {schema.key} has no field '{name}' that can be set."
                continue
            body[info.id] = custom_to_jira(info, value, login)
        except InvalidInputError as exc:
            errors.update(exc.field_errors or {name: exc.message})
    if errors:
        raise InvalidInputError("The field values cannot be written.", field_errors=errors)
    return body
