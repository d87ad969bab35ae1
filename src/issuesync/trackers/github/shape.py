"""GitHub's issue JSON as replicas, and canonical field values as an issue's create or edit body.

Pure functions: nothing here sends a request. The mapping, both ways:

=====================  =======================================  ============================
replica / field id     GitHub                                   canonical value
=====================  =======================================  ============================
key                    ``number``                               ``"12"``
``summary``            ``title``                                text
``description``        ``body`` (the idempotency marker hidden)  text or None
``issuetype``          (one type)                               ``"Issue"``
``status``             ``state`` + ``state_reason``             ``Open``, ``Closed``,
                                                                ``Closed (not planned)``
``labels``             ``labels[].name``                        sorted names
``assignee``           ``assignees[0]``                         ``{"email", "username"}``
``reporter``           ``user`` (read only)                     ``{"email", "username"}``
``Milestone`` (custom) ``milestone.title``                      a title (option)
``Assignees`` (custom) ``assignees[].login``                    users, sorted
=====================  =======================================  ============================

A closed issue whose ``state_reason`` is ``duplicate`` reads as ``Closed (not
planned)``; one closed before GitHub kept reasons (``null``) as ``Closed``.
Users carry the login as ``username``; GitHub shows no e-mail in issues.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from issuesync.domain.outline import StatusCategory
from issuesync.domain.replica import (
    CustomFieldValue,
    FieldValue,
    HubComment,
    HubIssue,
    LabelRef,
    NamedRef,
    ProjectRef,
    Replica,
    UserRef,
)
from issuesync.errors import TrackerRejectedError
from issuesync.trackers.adapter import FieldInfo
from issuesync.trackers.fieldcodec import default_login, parse_datetime

Json = Mapping[str, Any]

ISSUE_TYPE: Final = "Issue"
OPEN: Final = "Open"
CLOSED: Final = "Closed"
NOT_PLANNED: Final = "Closed (not planned)"
STATUSES: Final = (OPEN, CLOSED, NOT_PLANNED)
# ``state`` says open or closed; ``state_reason`` only why a closed one is done.
CATEGORIES: Final = {
    OPEN: StatusCategory.NEW,
    CLOSED: StatusCategory.DONE,
    NOT_PLANNED: StatusCategory.DONE,
}
# A status as an edit body's ``state`` and ``state_reason``.
STATE_OF: Final[dict[str, dict[str, str | None]]] = {
    OPEN.lower(): {"state": "open"},
    CLOSED.lower(): {"state": "closed", "state_reason": "completed"},
    NOT_PLANNED.lower(): {"state": "closed", "state_reason": "not_planned"},
}
MILESTONE: Final = FieldInfo("milestone", "Milestone", "option", custom=True)
ASSIGNEES: Final = FieldInfo("assignees", "Assignees", "users", custom=True)
SYSTEM_FIELDS: Final = (
    FieldInfo("summary", "Summary", "string", required=True),
    FieldInfo("description", "Description", "text"),
    FieldInfo("issuetype", "Issue Type", "issuetype", required=True, allowed_values=(ISSUE_TYPE,)),
    FieldInfo("status", "Status", "status", allowed_values=STATUSES),
    FieldInfo("labels", "Labels", "array"),
    FieldInfo("assignee", "Assignee", "user"),
)

# The idempotency marker: an HTML comment, hidden where GitHub renders the body.
_MARKER: Final = re.compile(r"(?:\r?\n){0,2}<!-- issuesync:([0-9a-f]{24}) -->")
_EMPTY: Final[tuple[object, ...]] = (None, "", [], {})

# A milestone's number by its title (None when the repository has none of that title).
MilestoneNumber = Callable[[str], int | None]


# -- the idempotency marker -----------------------------------------------------------------


def digest(idempotency_key: str) -> str:
    """What the marker carries: a fingerprint of the key, never the key itself."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def with_marker(text: str | None, idempotency_key: str) -> str:
    """``text`` with the key's marker after it (the marker alone for no text)."""
    marker = f"<!-- issuesync:{digest(idempotency_key)} -->"
    return f"{text}\n\n{marker}" if text else marker


def marker_of(text: object) -> str | None:
    """The digest a body's marker carries, if any."""
    found = _MARKER.search(text) if isinstance(text, str) else None
    return found.group(1) if found else None


def without_marker(text: object) -> str:
    """A body as people wrote it: the marker removed."""
    return _MARKER.sub("", text) if isinstance(text, str) else ""


# -- reading --------------------------------------------------------------------------------


def number_of(issue: Json) -> str:
    """An issue's key: its number."""
    return str(issue["number"])


def is_pull_request(issue: Json) -> bool:
    """Whether an item of the issue list is a pull request (excluded everywhere)."""
    return issue.get("pull_request") is not None


def updated_s(issue: Json) -> int:
    """An item's ``updated_at`` in whole epoch seconds."""
    return (parse_datetime(issue.get("updated_at")) or 0) // 1000


def user_ref(data: object) -> UserRef | None:
    """A GitHub user object as a :class:`UserRef` (the login is the username)."""
    if not isinstance(data, Mapping) or not data.get("login"):
        return None
    return UserRef(
        key=str(data["id"]) if data.get("id") is not None else None,
        username=str(data["login"]),
        email=data.get("email") or None,
        display_name=data.get("name") or None,
    )


def status_of(issue: Json) -> str:
    """An issue's status name from ``state`` and ``state_reason``."""
    if issue.get("state") != "closed":
        return OPEN
    return NOT_PLANNED if issue.get("state_reason") in {"not_planned", "duplicate"} else CLOSED


def comment_from_github(data: Json) -> HubComment:
    """A GitHub issue comment as a :class:`HubComment` (the marker hidden)."""
    return HubComment(
        id=str(data["id"]),
        body=without_marker(data.get("body")),
        author=user_ref(data.get("user")),
        created=parse_datetime(data.get("created_at")),
        updated=parse_datetime(data.get("updated_at")),
    )


def _custom(info: FieldInfo, hub_type: str, value: FieldValue) -> CustomFieldValue:
    return CustomFieldValue(id=info.id, name=info.name, type=hub_type, value=value)


def after_comments(issue: Json, posted: Sequence[Json]) -> Json:
    """A new issue's JSON as GitHub holds it after the comments just posted on it: their
    count, and its ``updated_at`` the last comment's ``created_at`` (which GitHub sets)."""
    times = [str(c["created_at"]) for c in posted if c.get("created_at")]
    updated = max((issue.get("updated_at"), *times), key=lambda t: parse_datetime(t) or 0)
    return {
        **issue,
        "comments": int(issue.get("comments") or 0) + len(posted),
        "updated_at": updated,
    }


def issue_to_replica(issue: Json, project_key: str, comments: Sequence[Json] = ()) -> Replica:
    """A GitHub issue (and its comments, oldest first) as a replica."""
    assignees = [ref for ref in (user_ref(u) for u in issue.get("assignees") or []) if ref]
    users = sorted(
        (ref.canonical() for ref in assignees),
        key=lambda user: (user.get("email") or "", user.get("username") or ""),
    )
    milestone = issue.get("milestone")
    title = milestone.get("title") if isinstance(milestone, Mapping) else None
    description = without_marker(issue.get("body"))
    hub = HubIssue(
        id=str(issue["id"]) if issue.get("id") is not None else None,
        key=number_of(issue),
        summary=str(issue.get("title") or ""),
        description=description or None,
        project=ProjectRef(key=project_key, name=project_key),
        issue_type=NamedRef(name=ISSUE_TYPE),
        status=NamedRef(name=status_of(issue)),
        labels=[
            LabelRef(label=str(label["name"]))
            for label in issue.get("labels") or []
            if isinstance(label, Mapping) and label.get("name")
        ],
        assignee=assignees[0] if assignees else None,
        reporter=user_ref(issue.get("user")),
        created=parse_datetime(issue.get("created_at")),
        updated=parse_datetime(issue.get("updated_at")),
        custom_fields={
            MILESTONE.name: _custom(MILESTONE, "OPTION", str(title) if title else None),
            ASSIGNEES.name: _custom(ASSIGNEES, "USERS", users or None),
        },
        comments=[comment_from_github(c) for c in comments],
    )
    return Replica(hub_issue=hub)


# -- writing --------------------------------------------------------------------------------


def _text(name: str, value: FieldValue, errors: dict[str, str]) -> str | None:
    if value is None or isinstance(value, str):
        return value
    errors[name] = "not a text"
    return None


def _names(name: str, value: FieldValue, errors: dict[str, str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    errors[name] = "not a list of names"
    return []


def _logins(name: str, value: FieldValue, errors: dict[str, str]) -> list[str]:
    items: list[Any] = value if isinstance(value, list) else [] if value in _EMPTY else [value]
    logins = [default_login(item) for item in items if item not in _EMPTY]
    if None in logins:
        errors[name] = 'not users as {"email": ..., "username": ...}'
    return [login for login in logins if login]


@dataclass
class _Edit:
    """An edit body in the making, and what cannot be written, by field name."""

    milestone_number: MilestoneNumber
    body: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _title(name: str, value: FieldValue, edit: _Edit) -> None:
    title = _text(name, value, edit.errors)
    if not title or not title.strip():
        edit.errors[name] = "GitHub issues need a title"
    edit.body["title"] = title


def _description(name: str, value: FieldValue, edit: _Edit) -> None:
    edit.body["body"] = _text(name, value, edit.errors) or None


def _labels(name: str, value: FieldValue, edit: _Edit) -> None:
    edit.body["labels"] = sorted(set(_names(name, value, edit.errors)))


def _assignee(name: str, value: FieldValue, edit: _Edit) -> None:
    edit.body.setdefault("assignees", _logins(name, value, edit.errors))


def _assignees(name: str, value: FieldValue, edit: _Edit) -> None:
    edit.body["assignees"] = _logins(name, value, edit.errors)  # wins over "assignee"


def _milestone(name: str, value: FieldValue, edit: _Edit) -> None:
    title = _text(name, value, edit.errors)
    number = edit.milestone_number(title) if title else None
    if title and number is None:
        edit.errors[name] = f"the repository has no milestone '{title}'"
    edit.body["milestone"] = number


def _status(name: str, value: FieldValue, edit: _Edit) -> None:
    state = STATE_OF.get(str(value or "").lower())
    if state is None:
        edit.errors[name] = f"not a status of GitHub issues ({', '.join(STATUSES)})"
    edit.body.update(state or {})


def _issue_type(name: str, value: FieldValue, edit: _Edit) -> None:
    if value not in _EMPTY and str(value).lower() != ISSUE_TYPE.lower():
        edit.errors[name] = f"GitHub issues have one type, '{ISSUE_TYPE}'"


_WRITERS: Final[dict[str, Callable[[str, FieldValue, _Edit], None]]] = {
    "summary": _title,
    "description": _description,
    "labels": _labels,
    "assignee": _assignee,
    ASSIGNEES.id: _assignees,
    MILESTONE.id: _milestone,
    "status": _status,
    "issuetype": _issue_type,
}


def edit_body(
    values: Mapping[str, FieldValue], milestone_number: MilestoneNumber
) -> dict[str, object]:
    """Canonical values (by field id or name) as an issue's create or edit body.

    ``status`` becomes ``state`` and ``state_reason``; the ``Assignees`` field
    wins over ``assignee`` when both are given. A field GitHub issues do not have
    is skipped when its value is empty and refused otherwise.

    Raises:
        TrackerRejectedError: with every field that cannot be written, by name.
    """
    edit = _Edit(milestone_number)
    # "assignee" after "Assignees", so that the list wins whatever the order given.
    for name, value in sorted(values.items(), key=lambda item: item[0].lower() == "assignee"):
        writer = _WRITERS.get(name.lower())
        if writer is not None:
            writer(name, value, edit)
        elif value not in _EMPTY:
            edit.errors[name] = f"GitHub issues have no field '{name}'"
    if edit.errors:
        said = "; ".join(f"{name}: {text}" for name, text in edit.errors.items())
        raise TrackerRejectedError(
            f"GitHub cannot take these values: {said}.", field_errors=edit.errors
        )
    return edit.body
