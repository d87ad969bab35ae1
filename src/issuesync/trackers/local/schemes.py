"""The built-in tracker's schemes, as Jira's scheme routes show them: one of each, fixed.

Jira attaches a permission scheme, a notification scheme and an issue security
scheme to every project, and clients ask for them before they create one
(``jira.JIRA.create_project`` picks "Default Permission Scheme" and the first
issue security scheme). The built-in tracker has one permission model (every
user works on issues; project admins and administrators administer) and
neither notifications nor security levels, so each kind has exactly one
scheme that says so: the permission scheme's grants are the rules
``meta.my_permissions`` reports and the services enforce, the notification
scheme has no events and the issue security scheme has no levels. None of
them can be changed; a project names them only by these ids.
"""

from __future__ import annotations

from typing import Final, Literal

from issuesync.errors import NotFoundError
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.meta import PERMISSIONS, PROJECT_ADMIN_PERMISSIONS

# Jira's own ids: the default permission scheme is 0, the default notification
# scheme 10000 (``jira.JIRA.create_project`` sends 10000 unless told otherwise).
PERMISSION_SCHEME_ID: Final = 0
NOTIFICATION_SCHEME_ID: Final = 10000
ISSUE_SECURITY_SCHEME_ID: Final = 10000
# Jira's "Administrators" project role, the role project admins hold here.
ADMINISTRATORS_ROLE_ID: Final = 10002

_PERMISSION_SCHEME = (
    "Default Permission Scheme",
    (
        "The built-in tracker's one permission model: every user browses, creates, edits, "
        "transitions, comments on and attaches to the issues of every project; project admins "
        "and administrators also administer the project and delete issues, others' comments "
        "and attachments. It cannot be changed."
    ),
)
_NOTIFICATION_SCHEME = (
    "Default Notification Scheme",
    "The built-in tracker sends no notifications: this scheme has no events.",
)
_ISSUE_SECURITY_SCHEME = (
    "No Issue Security",
    (
        "The built-in tracker has no issue security levels: every issue is visible to everyone "
        "who can browse its project."
    ),
)
_GLOBAL = frozenset({"ADMINISTER", "SYSTEM_ADMIN"})  # held globally, not through a scheme


def _api(op: Operation) -> str:
    return f"{op.base_url}/rest/api/2"


def _expands(expand: str | None) -> set[str]:
    return {e.strip() for e in (expand or "").split(",") if e.strip()}


def permission_schemes(op: Operation, expand: str | None) -> JsonDict:
    """Jira's ``GET permissionscheme`` (administrators)."""
    op.actor.require_admin()
    return {"permissionSchemes": [_permission_scheme(op, expand)]}


def permission_scheme(op: Operation, scheme_id: str, expand: str | None) -> JsonDict:
    """Jira's ``GET permissionscheme/{id}`` (administrators)."""
    op.actor.require_admin()
    if scheme_id != str(PERMISSION_SCHEME_ID):
        raise NotFoundError(f"The permission scheme with id '{scheme_id}' does not exist.")
    return _permission_scheme(op, expand)


def _permission_scheme(op: Operation, expand: str | None) -> JsonDict:
    api = _api(op)
    name, description = _PERMISSION_SCHEME
    body: JsonDict = {
        "expand": "permissions,user,group,projectRole,field,all",
        "id": PERMISSION_SCHEME_ID,
        "self": f"{api}/permissionscheme/{PERMISSION_SCHEME_ID}",
        "name": name,
        "description": description,
    }
    # As in Jira, any expand at all includes the grants.
    if _expands(expand):
        grants = []
        for number, key in enumerate((k for k in PERMISSIONS if k not in _GLOBAL), start=1):
            holder: JsonDict
            if key in PROJECT_ADMIN_PERMISSIONS:
                holder = {
                    "type": "projectRole",
                    "parameter": str(ADMINISTRATORS_ROLE_ID),
                    "expand": "projectRole",
                }
            else:
                holder = {"type": "applicationRole"}  # any logged-in user
            grants.append(
                {
                    "id": number,
                    "self": f"{api}/permissionscheme/{PERMISSION_SCHEME_ID}/permission/{number}",
                    "holder": holder,
                    "permission": key,
                }
            )
        body["permissions"] = grants
    return body


def issue_security_schemes(op: Operation) -> JsonDict:
    """Jira's ``GET issuesecurityschemes`` (administrators)."""
    op.actor.require_admin()
    return {"issueSecuritySchemes": [_issue_security_scheme(op)]}


def issue_security_scheme(op: Operation, scheme_id: str) -> JsonDict:
    """Jira's ``GET issuesecurityschemes/{id}``, with its (no) levels (administrators)."""
    op.actor.require_admin()
    if scheme_id != str(ISSUE_SECURITY_SCHEME_ID):
        raise NotFoundError(f"The issue security scheme with id '{scheme_id}' does not exist.")
    return _issue_security_scheme(op) | {"levels": []}


def _issue_security_scheme(op: Operation) -> JsonDict:
    name, description = _ISSUE_SECURITY_SCHEME
    return {
        "self": f"{_api(op)}/issuesecurityschemes/{ISSUE_SECURITY_SCHEME_ID}",
        "id": ISSUE_SECURITY_SCHEME_ID,
        "name": name,
        "description": description,
    }


def notification_schemes(
    op: Operation, start_at: int, max_results: int, expand: str | None
) -> JsonDict:
    """Jira's paged ``GET notificationscheme`` (administrators)."""
    op.actor.require_admin()
    values = [_notification_scheme(op, expand)][start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": 1,
        "isLast": start_at + max_results >= 1,
        "values": values,
    }


def notification_scheme(op: Operation, scheme_id: str, expand: str | None) -> JsonDict:
    """Jira's ``GET notificationscheme/{id}`` (administrators)."""
    op.actor.require_admin()
    if scheme_id != str(NOTIFICATION_SCHEME_ID):
        raise NotFoundError(f"The notification scheme with id '{scheme_id}' does not exist.")
    return _notification_scheme(op, expand)


def _notification_scheme(op: Operation, expand: str | None) -> JsonDict:
    name, description = _NOTIFICATION_SCHEME
    body: JsonDict = {
        "expand": "notificationSchemeEvents,user,group,projectRole,field,all",
        "id": NOTIFICATION_SCHEME_ID,
        "self": f"{_api(op)}/notificationscheme/{NOTIFICATION_SCHEME_ID}",
        "name": name,
        "description": description,
    }
    if _expands(expand):
        body["notificationSchemeEvents"] = []
    return body


SchemeKind = Literal["permissionscheme", "notificationscheme", "issuesecuritylevelscheme"]


def project_scheme(op: Operation, key: str, kind: SchemeKind, expand: str | None) -> JsonDict:
    """Jira's ``GET project/{key}/permissionscheme`` and its notification and issue security
    siblings: every project has the one scheme of each kind (its admins may look)."""
    project = op.project(key)
    op.require_project_admin(project)
    if kind == "permissionscheme":
        return _permission_scheme(op, expand)
    if kind == "notificationscheme":
        return _notification_scheme(op, expand)
    return _issue_security_scheme(op) | {"levels": []}  # with its (no) levels, as Jira's
