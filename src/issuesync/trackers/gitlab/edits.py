"""Canonical field values as the body of GitLab's create or edit issue request.

Users and milestones are named in canonical values and numbered in GitLab's
API: a :class:`Directory` finds (and remembers) their ids. What GitLab has no
place for (priority, components, ...) is refused with a field error unless it
is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

from issuesync.domain.replica import FieldValue, UserRef
from issuesync.errors import TrackerRejectedError
from issuesync.trackers.fieldcodec import day_text
from issuesync.trackers.gitlab.client import GitLabClient
from issuesync.trackers.gitlab.shape import ISSUE_TYPES, STATE_EVENTS, user_ref

NOT_KEPT: Final = frozenset({"priority", "resolution", "components", "versions", "environment"})
# The author of an issue is whoever's token made it: a reporter is not written.
NOT_WRITTEN: Final = frozenset({"reporter"})

Json = dict[str, Any]


def _reject(field: str, text: str) -> TrackerRejectedError:
    return TrackerRejectedError(
        f"GitLab cannot take the value of '{field}': {text}.", field_errors={field: text}
    )


class Directory:
    """GitLab's users and one project's milestones by name, their ids remembered."""

    def __init__(self, client: GitLabClient, project_path: str) -> None:
        self._client = client
        self._project = project_path
        self._users: dict[str, UserRef | None] = {}
        self._milestones: dict[str, int] = {}

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The user with this e-mail (where GitLab shows it), else this username."""
        if ref.email:
            email = ref.email.lower()
            users = [
                u
                for u in map(user_ref, self._client.get("users", {"search": ref.email}) or [])
                if u
            ]
            for found in users:
                if (found.email or "").lower() == email:
                    return found
            # GitLab's lists hide e-mails but match the search to a public one exactly:
            # one user whose name and username do not hold the text is that match.
            if len(users) == 1 and users[0].email is None:
                found = users[0]
                names = f"{found.username} {found.display_name}".lower()
                if email not in names:
                    return found.model_copy(update={"email": ref.email})
        if ref.username:
            name = ref.username.lower()
            if name not in self._users:
                users = self._client.get("users", {"username": ref.username}) or []
                self._users[name] = next(
                    (u for u in map(user_ref, users) if u and (u.username or "").lower() == name),
                    None,
                )
            return self._users[name]
        return None

    def user_id(self, value: FieldValue, field: str) -> int | None:
        """The id of the user a canonical value names; None for no user."""
        if value is None or value in ({}, ""):
            return None
        if isinstance(value, str):
            value = {"username": value}
        if not isinstance(value, Mapping):
            raise _reject(field, "not one user")
        ref = UserRef(email=value.get("email") or None, username=value.get("username") or None)
        found = self.find_user(ref)
        if found is None or found.key is None:
            raise _reject(field, f"no GitLab user {ref.label}")
        return int(found.key)

    def milestone_id(self, title: str) -> int:
        """The id of the project's (or its groups') milestone with this title."""
        if title not in self._milestones:
            found = self._client.get(
                f"projects/{quote(self._project, safe='')}/milestones",
                {"title": title, "include_ancestors": "true"},
            )
            for milestone in found or []:
                self._milestones[str(milestone["title"])] = int(milestone["id"])
        if title not in self._milestones:
            raise _reject("fixVersions", f"project {self._project} has no milestone '{title}'")
        return self._milestones[title]


def _text(field: str, value: FieldValue) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    raise _reject(field, "not a text")


def _names(field: str, value: FieldValue) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise _reject(field, "not a list of names")


def _milestone(field: str, value: FieldValue, directory: Directory) -> Json:
    titles = _names(field, value)
    if len(titles) > 1:
        raise _reject(field, "GitLab keeps one milestone per issue")
    return {"milestone_id": directory.milestone_id(titles[0]) if titles else 0}


def _assignee(field: str, value: FieldValue, directory: Directory) -> Json:
    user = directory.user_id(value, field)
    return {"assignee_ids": [user] if user is not None else []}


def _due(field: str, value: FieldValue, _directory: Directory) -> Json:
    if value in (None, ""):
        return {"due_date": None}
    day = day_text(value)
    if day is None:
        raise _reject(field, "not a date as YYYY-MM-DD")
    return {"due_date": day}


def _state(field: str, value: FieldValue, _directory: Directory) -> Json:
    status = _text(field, value).lower()
    if not status:
        return {}
    if status not in STATE_EVENTS:
        raise _reject(field, f"GitLab issues are Open or Closed, not '{value}'")
    return {"state_event": STATE_EVENTS[status]}


_WRITERS: Final[dict[str, Callable[[str, FieldValue, Directory], Json]]] = {
    "summary": lambda f, v, _: {"title": _text(f, v)},
    "description": lambda f, v, _: {"description": _text(f, v)},
    "labels": lambda f, v, _: {"labels": ",".join(_names(f, v))},
    "fixVersions": _milestone,
    "assignee": _assignee,
    "duedate": _due,
    "status": _state,
    "issuetype": lambda f, v, _: {"issue_type": issue_type(_text(f, v))},
}


def issue_body(values: Mapping[str, FieldValue], directory: Directory) -> Json:
    """The request body that sets ``values`` (a ``status`` becomes a ``state_event``)."""
    body: Json = {}
    for field, value in values.items():
        writer = _WRITERS.get(field)
        if writer is not None:
            body |= writer(field, value, directory)
        elif field in NOT_WRITTEN:
            continue
        elif field not in NOT_KEPT or value not in (None, "", [], {}):
            raise _reject(field, "GitLab issues have no such field")
    return body


def issue_type(name: str) -> str:
    """GitLab's ``issue_type`` for a type name ("Issue", "Incident")."""
    for raw, shown in ISSUE_TYPES.items():
        if name.lower() in {raw, shown.lower()}:
            return raw
    raise _reject("issuetype", f"GitLab issues are of type Issue or Incident, not '{name}'")


__all__ = ["Directory", "issue_body", "issue_type"]
