"""Redmine issue JSON to replicas, and canonical field values back to an issue's body.

Reading (``issues/<id>.json?include=journals,attachments``): the subject is the
summary, the tracker the issue type, the author the reporter; journals with
notes are the comments (journals that only record changes are not); custom
fields are keyed by name. Markers (see ``markers``) are stripped. An issue's key
is its id: Redmine numbers issues across projects.

Writing: canonical values keyed by the Protocol's field ids become the ``issue``
object of a create or update body. A value the project cannot take (an
unknown tracker, priority or status, a field it does not have) raises
:class:`~issuesync.errors.TrackerRejectedError` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from issuesync.domain.replica import (
    CustomFieldValue,
    FieldValue,
    HubAttachment,
    HubComment,
    HubIssue,
    NamedRef,
    ProjectRef,
    Replica,
    UserRef,
    due_to_ms,
)
from issuesync.errors import TrackerRejectedError
from issuesync.trackers import fieldcodec
from issuesync.trackers.redmine import markers
from issuesync.trackers.redmine.schema import Catalog, CustomField

JsonObject = Mapping[str, Any]
UserOf = Callable[[object], UserRef | None]
UserIdOf = Callable[[object], int | None]

SHA256_HEX: Final = 64


def _named(data: object) -> NamedRef | None:
    if not isinstance(data, Mapping) or "name" not in data:
        return None
    return NamedRef(id=str(data.get("id", "")) or None, name=str(data["name"]))


def comment(journal: JsonObject, user: UserOf) -> HubComment:
    """A journal with notes as a comment (markers stripped)."""
    created = fieldcodec.parse_datetime(journal.get("created_on"))
    updated = fieldcodec.parse_datetime(journal.get("updated_on")) or created
    return HubComment(
        id=str(journal["id"]),
        body=markers.strip(journal.get("notes")),
        author=user(journal.get("user")),
        update_author=user(journal.get("updated_by")) if journal.get("updated_by") else None,
        created=created,
        updated=updated,
        internal=bool(journal.get("private_notes")),
    )


def attachment(data: JsonObject, user: UserOf) -> HubAttachment:
    """An attachment's metadata (Redmine 5.0's API shows no digest: no checksum)."""
    digest = str(data.get("digest") or "")  # should a later Redmine show its SHA-256
    return HubAttachment(
        id=str(data["id"]),
        filename=str(data.get("filename") or ""),
        mimetype=str(data.get("content_type") or "application/octet-stream"),
        filesize=int(data.get("filesize") or 0),
        created=fieldcodec.parse_datetime(data.get("created_on")),
        author=user(data.get("author")),
        checksum=digest.lower() if len(digest) == SHA256_HEX else None,
    )


def comments_of(issue: JsonObject, user: UserOf) -> list[HubComment]:
    """The issue's journals that carry notes, oldest first."""
    return [comment(j, user) for j in issue.get("journals") or [] if markers.strip(j.get("notes"))]


def _custom_value(custom: CustomField | None, raw: object) -> FieldValue:
    if raw in (None, "", []):
        return None
    kind = custom.info.type if custom is not None else "string"
    if kind == "number" and isinstance(raw, str):
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if number.is_integer() else number
    if isinstance(raw, list):
        return sorted(str(v) for v in raw if v not in (None, ""))
    return str(raw)


def issue_to_replica(issue: JsonObject, catalog: Catalog, key: str, user: UserOf) -> Replica:
    """One issue as a replica of project ``key``."""
    customs: dict[str, CustomFieldValue] = {}
    for raw in issue.get("custom_fields") or []:
        name = str(raw.get("name") or "")
        if not name:
            continue
        custom = catalog.custom(name)
        kind = custom.info.type if custom is not None else "string"
        customs[name] = CustomFieldValue(
            id=str(raw.get("id", "")) or None,
            name=name,
            type=fieldcodec.HUB_TYPES.get(kind, "STRING"),
            value=_custom_value(custom, raw.get("value")),
        )
    parent = issue.get("parent")
    parent_id = str(parent["id"]) if isinstance(parent, Mapping) and "id" in parent else None
    status = _named(issue.get("status"))
    project = issue.get("project") or {}
    hub = HubIssue(
        id=str(issue["id"]),
        key=str(issue["id"]),
        summary=str(issue.get("subject") or ""),
        description=markers.strip(issue.get("description")) or None,
        project=ProjectRef(id=project.get("id"), key=key, name=project.get("name")),
        issue_type=_named(issue.get("tracker")),
        status=status,
        priority=_named(issue.get("priority")),
        assignee=user(issue.get("assigned_to")),
        reporter=user(issue.get("author")),
        due=due_to_ms(fieldcodec.parse_day(issue.get("due_date"))),
        created=fieldcodec.parse_datetime(issue.get("created_on")),
        updated=fieldcodec.parse_datetime(issue.get("updated_on")),
        parent_id=parent_id,
        parent_key=parent_id,
        custom_fields=customs,
        comments=comments_of(issue, user),
        attachments=[attachment(a, user) for a in issue.get("attachments") or []],
    )
    return Replica(hub_issue=hub)


# -- writing --------------------------------------------------------------------------------


def _refuse(field_id: str, text: str) -> TrackerRejectedError:
    return TrackerRejectedError(
        f"Redmine cannot take {field_id}: {text}.", field_errors={field_id: text}
    )


def _named_id(catalog: Catalog, kind: str, field_id: str, value: FieldValue) -> int:
    if not isinstance(value, str) or not value:
        raise _refuse(field_id, f"a {kind} name is needed, not {value!r}")
    found = catalog.id_of(kind, value)
    if found is None:
        names = {"tracker": catalog.trackers, "status": catalog.statuses}.get(
            kind, catalog.priorities
        )
        raise _refuse(field_id, f"no {kind} '{value}' (there are {', '.join(names)})")
    return found


def _text(field_id: str, value: FieldValue) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _refuse(field_id, f"text is needed, not {type(value).__name__}")
    return value


def _custom_raw(custom: CustomField, value: FieldValue, user_id: UserIdOf) -> object:
    kind = custom.info.type
    if value is None:
        return [] if custom.multiple else ""
    if kind in {"user", "users"}:
        items = value if isinstance(value, list) else [value]
        ids = [str(found) for item in items if (found := user_id(item)) is not None]
        return ids if custom.multiple else next(iter(ids), "")
    if kind == "date":
        return fieldcodec.day_text(value) or ""
    if isinstance(value, list):
        texts = [str(v) for v in value]
        return texts if custom.multiple else ", ".join(texts)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


class _Body:
    """The ``issue`` object of a write, field by field."""

    def __init__(self, catalog: Catalog, user_id: UserIdOf) -> None:
        self.catalog = catalog
        self.user_id = user_id
        self.body: dict[str, object] = {}
        self.customs: list[dict[str, object]] = []

    def set(self, field_id: str, value: FieldValue) -> None:
        simple = {"summary": "subject", "description": "description"}
        named = {"issuetype": "tracker", "status": "status", "priority": "priority"}
        if field_id in simple:
            self.body[simple[field_id]] = _text(field_id, value)
        elif field_id in named:
            kind = named[field_id]
            if kind == "priority" and value is None:
                value = self.catalog.default_priority  # Redmine needs one
            self.body[f"{kind}_id"] = _named_id(self.catalog, kind, field_id, value)
        elif field_id == "duedate":
            self.body["due_date"] = fieldcodec.day_text(value) if value is not None else ""
        elif field_id == "assignee":
            self.body["assigned_to_id"] = self._assignee(value)
        elif (custom := self.catalog.custom(field_id)) is not None:
            raw = _custom_raw(custom, value, self.user_id)
            self.customs.append({"id": custom.id, "value": raw})
        elif field_id != "reporter" and value not in (None, "", []):
            # The reporter is Redmine's author: the sync user. Fields Redmine lacks
            # (labels, resolution, ...) are refused unless there is nothing to set.
            raise _refuse(field_id, f"project {self.catalog.identifier} has no such field")

    def _assignee(self, value: FieldValue) -> object:
        if value is None:
            return ""
        assignee = self.user_id(value)
        if assignee is None:
            raise _refuse("assignee", f"no user {value!r} among the project's members")
        return assignee


def issue_body(
    values: Mapping[str, FieldValue], catalog: Catalog, user_id: UserIdOf
) -> dict[str, object]:
    """The ``issue`` object that sets ``values`` (canonical, by the Protocol's field ids).

    The reporter (Redmine's author) is not written: Redmine sets it to the sync user.
    """
    body = _Body(catalog, user_id)
    for field_id, value in values.items():
        body.set(field_id, value)
    if body.customs:
        body.body["custom_fields"] = body.customs
    return body.body
