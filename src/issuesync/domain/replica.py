"""The replica: a tracker-neutral snapshot of one issue, shaped like Exalate's ``hubIssue`` v1.4.

Every adapter reads its tracker's issues into a :class:`Replica` and the engine
diffs, maps and sends replicas; no other code knows a tracker's own JSON. The
wire form (:meth:`Replica.encode`) is the base64 ``encodedPayload`` that
Exalate's node API carries (seed 003): ``{"version": {...}, "hubIssue": {...}}``.

Field values the engine compares are *canonical*: plain JSON values that two
trackers agree on when their issues agree (names, not ids; sorted lists; dates
as ``YYYY-MM-DD``; users as :class:`UserRef`). :func:`canonical_fields` derives
them, keyed by Jira's field ids, which are the ids of field mappings.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from issuesync.errors import InvalidMessageError

HUB_VERSION = {"major": 1, "minor": 4, "patch": 0}

# A canonical field value: what the diff compares and what a message carries.
FieldValue = str | float | int | bool | list[str] | dict[str, Any] | list[dict[str, Any]] | None


class HubModel(BaseModel):
    """Base of the hubIssue parts: camelCase on the wire, unknown keys kept for round trips.

    Ids are text here; Exalate's own payloads give numbers (``"id": 10817``, seed 003),
    which are read as their text."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)


class SharedHubModel(HubModel):
    """A part that many replicas may share (a user, a status, a project): it cannot change."""

    model_config = ConfigDict(frozen=True)


class UserRef(SharedHubModel):
    """A user as the hubIssue names one; ``username`` is the tracker's login name."""

    key: str | None = None
    username: str | None = None
    email: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    active: bool = True

    def canonical(self) -> dict[str, Any]:
        """What identifies this user across trackers: e-mail first, then the login name."""
        return {"email": (self.email or "").lower() or None, "username": self.username}

    @property
    def label(self) -> str:
        """A human name for messages: the display name, else the login, else the e-mail."""
        return self.display_name or self.username or self.email or "unknown user"


class NamedRef(SharedHubModel):
    """A status, issue type, priority or resolution: an id and a name."""

    id: str | None = None
    name: str
    description: str | None = None


class VersionRef(SharedHubModel):
    """A version of the project, as the project lists it (dates in epoch ms at 00:00 UTC)."""

    id: str | int | None = None
    name: str
    description: str | None = None
    archived: bool = False
    released: bool = False
    release_date: int | None = Field(default=None, alias="releaseDate")
    start_date: int | None = Field(default=None, alias="startDate")
    project_key: str | None = Field(default=None, alias="projectKey")


class ComponentRef(SharedHubModel):
    """A component of the project, as the project lists it."""

    id: str | int | None = None
    name: str
    description: str | None = None
    project_id: str | None = Field(default=None, alias="projectId")
    project_key: str | None = Field(default=None, alias="projectKey")
    assignee_type: str | None = Field(default=None, alias="assigneeType")


class ProjectRef(SharedHubModel):
    """The project an issue lives in; its lead, versions and components where the tracker
    says them (tuples: the project is shared, and stays hashable)."""

    id: str | int | None = None
    key: str
    name: str | None = None
    lead: UserRef | None = None
    versions: tuple[VersionRef, ...] | None = None
    components: tuple[ComponentRef, ...] | None = None


class LabelRef(HubModel):
    """A label, as ``{"label": "Review"}``."""

    label: str


class ItemRef(HubModel):
    """A component or version of the issue's project."""

    id: str | int | None = None
    name: str


class HubComment(HubModel):
    """A comment; ``id`` is the tracker's own id as a string."""

    id: str
    body: str
    author: UserRef | None = None
    update_author: UserRef | None = Field(default=None, alias="updateAuthor")
    created: int | None = None
    updated: int | None = None
    internal: bool = False


class HubAttachment(HubModel):
    """An attachment's metadata; the content moves separately as a blob, checked by ``checksum``."""

    id: str
    filename: str
    mimetype: str = "application/octet-stream"
    filesize: int = 0
    created: int | None = None
    author: UserRef | None = None
    checksum: str | None = None  # sha256 of the content, hex


class HubWorklog(HubModel):
    """Time logged on the issue."""

    id: str
    author: UserRef | None = None
    update_author: UserRef | None = Field(default=None, alias="updateAuthor")
    start_date: int | None = Field(default=None, alias="startDate")
    time_spent: int = Field(default=0, alias="timeSpent")
    comment: str = ""
    created: int | None = None
    updated: int | None = None


class HubIssueLink(HubModel):
    """A typed link from this issue to another of the same tracker (Exalate's ``issueLinks``).

    ``link_type_name`` is the type's name (``Blocks``); ``direction`` says which end this
    issue is: ``outward`` reads "this issue <outward phrase> the other" (PA-1 blocks
    PA-2), ``inward`` the reverse (PA-2 is blocked by PA-1); ``link_name`` is that
    phrase. ``id`` is the tracker's id of the link, which removing it takes.
    """

    id: str | None = None
    other_issue_id: str | None = Field(default=None, alias="otherIssueId")
    other_issue_key: str = Field(alias="otherIssueKey")
    link_type_name: str = Field(alias="linkTypeName")
    link_name: str | None = Field(default=None, alias="linkName")
    direction: str = "outward"


class CustomFieldValue(HubModel):
    """A custom field of the issue; ``value`` is canonical (see the module docstring)."""

    id: str | int | None = None
    name: str
    type: str = "STRING"
    value: Any = None


class HubIssue(HubModel):
    """The issue itself, in hubIssue v1.4's names."""

    id: str | None = None
    # Seed 003's sync response carries a twin's replica without its key or project:
    # read, both are missing (every adapter's replica has them).
    key: str = ""
    summary: str = ""
    description: str | None = None
    environment: str | None = None
    project: ProjectRef | None = None
    issue_type: NamedRef | None = Field(default=None, alias="issueType")
    status: NamedRef | None = None
    priority: NamedRef | None = None
    resolution: NamedRef | None = None
    labels: list[LabelRef] = Field(default_factory=list)
    components: list[ItemRef] = Field(default_factory=list)
    fix_versions: list[ItemRef] = Field(default_factory=list, alias="fixVersions")
    affected_versions: list[ItemRef] = Field(default_factory=list, alias="affectedVersions")
    assignee: UserRef | None = None
    reporter: UserRef | None = None
    due: int | None = None  # epoch ms of the due date at 00:00 UTC, as the hubIssue has it
    created: int | None = None
    updated: int | None = None
    parent_id: str | None = Field(default=None, alias="parentId")
    parent_key: str | None = Field(default=None, alias="parentKey")
    custom_fields: dict[str, CustomFieldValue] = Field(default_factory=dict, alias="customFields")
    custom_keys: dict[str, Any] = Field(default_factory=dict, alias="customKeys")
    comments: list[HubComment] = Field(default_factory=list)
    attachments: list[HubAttachment] = Field(default_factory=list)
    work_logs: list[HubWorklog] = Field(default_factory=list, alias="workLogs")
    issue_links: list[HubIssueLink] = Field(default_factory=list, alias="issueLinks")
    # Who watches the issue and who voted for it, with their counts, and its time
    # tracking in seconds (``estimate`` what remains, ``spent`` its work logs' sum). None,
    # absent on the wire, where the tracker does not say. No field of canonical_fields:
    # a new watcher alone changes nothing to sync.
    watchers: list[UserRef] | None = None
    watches: int | None = None
    voters: list[UserRef] | None = None
    votes: int | None = None
    estimate: int | None = None
    spent: int | None = None


class Replica(BaseModel):
    """A versioned hubIssue: what a message carries about its issue."""

    model_config = ConfigDict(populate_by_name=True)

    version: dict[str, int] = Field(default_factory=lambda: dict(HUB_VERSION))
    hub_issue: HubIssue = Field(alias="hubIssue")

    @property
    def key(self) -> str:
        """The issue key in its own tracker."""
        return self.hub_issue.key

    @property
    def updated(self) -> int:
        """When the issue was last updated, epoch ms (0 when the tracker did not say)."""
        return self.hub_issue.updated or 0

    def to_json(self) -> dict[str, Any]:
        """The JSON object, with hubIssue's names."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def encode(self) -> str:
        """The base64 ``encodedPayload`` of Exalate's node API (compact JSON inside)."""
        raw = self.model_dump_json(by_alias=True, exclude_none=True)
        return base64.b64encode(raw.encode()).decode("ascii")

    @classmethod
    def decode(cls, payload: str) -> Replica:
        """Read an ``encodedPayload``.

        Raises:
            InvalidMessageError: it is not the base64 JSON of a replica (the message
                that carries it cannot be applied: it parks in ``invalid``).
        """
        try:
            raw = base64.b64decode(payload, validate=True)
        except ValueError as exc:
            raise InvalidMessageError(f"not a base64 JSON payload: {exc}") from exc
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] in ("json_invalid", "json_type"):
                raise InvalidMessageError(f"not a base64 JSON payload: {first['msg']}") from exc
            where = ".".join(str(part) for part in first["loc"]) or "replica"
            raise InvalidMessageError(f"encodedPayload: {where}: {first['msg']}") from exc


def due_to_ms(day: dt.date | None) -> int | None:
    """A due date as the hubIssue stores it: epoch ms at midnight UTC."""
    if day is None:
        return None
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def ms_to_day(ms: int | None) -> str | None:
    """The ``YYYY-MM-DD`` of an epoch-ms date (UTC)."""
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date().isoformat()


def _user(ref: UserRef | None) -> dict[str, Any] | None:
    return ref.canonical() if ref is not None else None


def _names(items: list[ItemRef]) -> list[str]:
    return sorted(item.name for item in items)


def canonical_fields(issue: HubIssue) -> dict[str, FieldValue]:
    """The canonical value of every syncable field, keyed by Jira's field id.

    Custom fields appear under their names; comments and attachments are not
    fields: they are synchronized one by one, with traces.
    """
    values: dict[str, FieldValue] = {
        "summary": issue.summary,
        "description": issue.description or None,
        "environment": issue.environment or None,
        "issuetype": issue.issue_type.name if issue.issue_type else None,
        "status": issue.status.name if issue.status else None,
        "priority": issue.priority.name if issue.priority else None,
        "resolution": issue.resolution.name if issue.resolution else None,
        "labels": sorted(label.label for label in issue.labels),
        "components": _names(issue.components),
        "fixVersions": _names(issue.fix_versions),
        "versions": _names(issue.affected_versions),
        "duedate": ms_to_day(issue.due),
        "assignee": _user(issue.assignee),
        "reporter": _user(issue.reporter),
    }
    for name, custom in issue.custom_fields.items():
        values[name] = canonical_custom(custom.value)
    return values


def canonical_custom(value: Any) -> FieldValue:  # noqa: ANN401 - any stored value
    """A custom field's value in canonical form: option lists sorted, empty as None."""
    if value is None or value in ("", []):
        return None
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return sorted(value)
        return [dict(item) for item in value if isinstance(item, Mapping)]
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)


def body_digest(text: str) -> str:
    """A short fingerprint of a comment body, to notice edits without storing the text."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]
