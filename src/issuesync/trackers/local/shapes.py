"""The small JSON shapes of Jira REST v2 that the built-in tracker's responses are made of."""

from __future__ import annotations

from issuesync.store.users import User
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.models import Component, IssueType, Priority, Status, Version
from issuesync.trackers.local.users import EmailVisibility

STATUS_CATEGORIES: dict[str, tuple[int, str, str]] = {
    "new": (2, "blue-gray", "To Do"),
    "indeterminate": (4, "yellow", "In Progress"),
    "done": (3, "green", "Done"),
}


def format_duration(seconds: int) -> str:
    """Jira's short duration text: ``1d 2h 30m`` (8-hour days, 5-day weeks)."""
    units = (("w", 5 * 8 * 3600), ("d", 8 * 3600), ("h", 3600), ("m", 60))
    parts = []
    rest = seconds
    for suffix, size in units:
        if rest >= size:
            parts.append(f"{rest // size}{suffix}")
            rest %= size
    return " ".join(parts) or "0m"


def user_json(user: User, api: str, emails: EmailVisibility) -> JsonDict:
    """A user as Jira Server shows one; ``emailAddress`` is null where ``emails`` hides it.

    (Jira Cloud answers a hidden address as null too.)
    """
    return {
        "self": f"{api}/user?username={user.name}",
        "name": user.name,
        "key": user.name,
        "emailAddress": user.email if emails.covers(user.id) else None,
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": "UTC",
    }


def status_json(status: Status, api: str) -> JsonDict:
    """A status with its category."""
    category_id, colour, category_name = STATUS_CATEGORIES[status.category]
    return {
        "self": f"{api}/status/{status.id}",
        "description": status.description,
        "name": status.name,
        "id": str(status.id),
        "statusCategory": {
            "self": f"{api}/statuscategory/{category_id}",
            "id": category_id,
            "key": status.category,
            "colorName": colour,
            "name": category_name,
        },
    }


def issue_type_json(issue_type: IssueType, api: str) -> JsonDict:
    """An issue type."""
    return {
        "self": f"{api}/issuetype/{issue_type.id}",
        "id": str(issue_type.id),
        "description": issue_type.description,
        "name": issue_type.name,
        "subtask": issue_type.subtask,
    }


def priority_json(priority: Priority, api: str) -> JsonDict:
    """A priority."""
    return {
        "self": f"{api}/priority/{priority.id}",
        "id": str(priority.id),
        "name": priority.name,
        "description": priority.description,
    }


def component_json(component: Component, api: str) -> JsonDict:
    """A component."""
    return {
        "self": f"{api}/component/{component.id}",
        "id": str(component.id),
        "name": component.name,
        "description": component.description,
        "projectId": component.project_id,
    }


def version_json(version: Version, api: str) -> JsonDict:
    """A version."""
    body: JsonDict = {
        "self": f"{api}/version/{version.id}",
        "id": str(version.id),
        "name": version.name,
        "description": version.description,
        "archived": version.archived,
        "released": version.released,
        "projectId": version.project_id,
    }
    if version.release_date:
        body["releaseDate"] = version.release_date.isoformat()
    return body


def link_type_json(type_id: int, name: str, inward: str, outward: str, api: str) -> JsonDict:
    """An issue link type."""
    return {
        "id": str(type_id),
        "name": name,
        "inward": inward,
        "outward": outward,
        "self": f"{api}/issueLinkType/{type_id}",
    }
