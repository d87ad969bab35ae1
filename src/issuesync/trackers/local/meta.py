"""What a client may do and set: Jira's ``createmeta``, ``editmeta`` and ``mypermissions``.

A sync tool asks these before it writes: which fields an issue type takes,
which are required, which values are allowed, and whether its user may create,
edit, transition, comment and attach. The answers follow the rules the services
enforce, so what is reported allowed is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.defaults import DEFAULT_PRIORITY
from issuesync.trackers.local.fielddefs import CUSTOM_TYPE_KEYS, JsonDict
from issuesync.trackers.local.models import (
    Component,
    CustomFieldType,
    Issue,
    IssueType,
    Project,
    Version,
)
from issuesync.trackers.local.shapes import (
    component_json,
    issue_type_json,
    priority_json,
    version_json,
)

# Jira's project and global permission keys, and who holds each here: every user,
# the project's admins (and administrators), or administrators only.
_EVERYONE = (
    "BROWSE_PROJECTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "TRANSITION_ISSUES",
    "RESOLVE_ISSUES",
    "CLOSE_ISSUES",
    "ASSIGN_ISSUES",
    "ASSIGNABLE_USER",
    "SCHEDULE_ISSUES",
    "LINK_ISSUES",
    "WORK_ON_ISSUES",
    "ADD_COMMENTS",
    "EDIT_OWN_COMMENTS",
    "DELETE_OWN_COMMENTS",
    "CREATE_ATTACHMENTS",
    "DELETE_OWN_ATTACHMENTS",
    "EDIT_OWN_WORKLOGS",
    "VIEW_VOTERS_AND_WATCHERS",
    "DELETE_OWN_WORKLOGS",
)
_PROJECT_ADMINS = (
    "ADMINISTER_PROJECTS",
    "DELETE_ISSUES",
    "EDIT_ALL_COMMENTS",
    "DELETE_ALL_COMMENTS",
    "DELETE_ALL_ATTACHMENTS",
    "MANAGE_WATCHERS",
    "EDIT_ALL_WORKLOGS",
    "DELETE_ALL_WORKLOGS",
)
_ADMINS = ("ADMINISTER", "SYSTEM_ADMIN")
PERMISSIONS = (*_EVERYONE, *_PROJECT_ADMINS, *_ADMINS)
PROJECT_ADMIN_PERMISSIONS = frozenset(_PROJECT_ADMINS)  # what the permission scheme grants them


def my_permissions(op: Operation, project_key: str | None, wanted: str | None) -> JsonDict:
    """Jira's ``GET mypermissions``: the caller's permissions, in a project when one is named."""
    admin_of_project = op.actor.is_admin
    if project_key:
        admin_of_project = op.actor.administers(op.project(project_key).key)
    keys: Iterable[str] = PERMISSIONS
    if wanted:
        keys = [k.strip().upper() for k in wanted.split(",") if k.strip()]
        unknown = [k for k in keys if k not in PERMISSIONS]
        if unknown:
            raise InvalidInputError(
                f"Unknown permission(s): {', '.join(unknown)}.",
                field_errors={"permissions": f"use some of: {', '.join(PERMISSIONS)}"},
            )
    permissions: JsonDict = {}
    for key in keys:
        if key in _ADMINS:
            have, kind = op.actor.is_admin, "GLOBAL"
        elif key in _PROJECT_ADMINS:
            have, kind = admin_of_project, "PROJECT"
        else:
            have, kind = True, "PROJECT"
        permissions[key] = {
            "id": str(PERMISSIONS.index(key) + 1),
            "key": key,
            "name": key.replace("_", " ").title(),
            "type": kind,
            "description": "",
            "havePermission": have,
        }
    return {"permissions": permissions}


def create_meta(
    op: Operation,
    project_keys: list[str],
    issue_type_names: list[str],
    issue_type_ids: list[str],
    *,
    with_fields: bool,
) -> JsonDict:
    """Jira's ``GET issue/createmeta``: per project and issue type, the fields a create takes."""
    projects = list(op.session.scalars(select(Project).order_by(Project.key)))
    wanted = {k.strip().upper() for key in project_keys for k in key.split(",") if k.strip()}
    if wanted:
        projects = [p for p in projects if p.key in wanted or str(p.id) in wanted]
    names = {n.strip().lower() for name in issue_type_names for n in name.split(",") if n.strip()}
    ids = {i.strip() for value in issue_type_ids for i in value.split(",") if i.strip()}
    types = [
        t
        for t in op.ref.issue_types.by_id.values()
        if (not names or t.name.lower() in names) and (not ids or str(t.id) in ids)
    ]
    api = f"{op.base_url}/rest/api/2"
    rendered = []
    for project in projects:
        issuetypes = []
        for issue_type in types:
            entry = issue_type_json(issue_type, api) | {"expand": "fields"}
            if with_fields:
                entry["fields"] = _fields(op, project, issue_type, creating=True)
            issuetypes.append(entry)
        rendered.append(
            {
                "self": f"{api}/project/{project.id}",
                "id": str(project.id),
                "key": project.key,
                "name": project.name,
                "issuetypes": issuetypes,
            }
        )
    return {"expand": "projects", "projects": rendered}


def create_meta_issue_types(
    op: Operation, project_key: str, start_at: int, max_results: int
) -> JsonDict:
    """Jira 8.4's ``GET issue/createmeta/{project}/issuetypes``: a page of the issue types
    a create in the project may name (the same as ``createmeta`` lists)."""
    project = op.project(project_key)
    api = f"{op.base_url}/rest/api/2"
    types = [issue_type_json(t, api) for t in op.ref.issue_types.by_id.values()]
    del project  # every project has every issue type; the lookup is for its 404
    return _page(types, start_at, max_results)


def create_meta_fields(
    op: Operation, project_key: str, issue_type_id: str, start_at: int, max_results: int
) -> JsonDict:
    """Jira 8.4's ``GET issue/createmeta/{project}/issuetypes/{id}``: a page of the fields a
    create of that type takes, each with its ``fieldId`` (the same as ``createmeta`` gives)."""
    project = op.project(project_key)
    issue_type = next(
        (t for t in op.ref.issue_types.by_id.values() if str(t.id) == issue_type_id), None
    )
    if issue_type is None:
        raise NotFoundError(f"The issue type with id '{issue_type_id}' does not exist.")
    values: list[JsonDict] = []
    for field_id, field_meta in _fields(op, project, issue_type, creating=True).items():
        assert isinstance(field_meta, dict)  # _meta's
        values.append({**field_meta, "fieldId": field_id})
    return _page(values, start_at, max_results)


def _page(values: list[JsonDict], start_at: int, max_results: int) -> JsonDict:
    page = values[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": start_at + len(page) >= len(values),
        "values": page,
    }


def edit_meta(op: Operation, key: str) -> JsonDict:
    """Jira's ``GET issue/{key}/editmeta``: the fields an edit of this issue may set."""
    issue: Issue = op.issue(key)
    project = op.project_of(issue)
    issue_type = op.ref.issue_types.get(issue.issue_type_id)
    return {"fields": _fields(op, project, issue_type, creating=False)}


def _fields(op: Operation, project: Project, issue_type: IssueType, *, creating: bool) -> JsonDict:
    api = f"{op.base_url}/rest/api/2"
    components = list(
        op.session.scalars(
            select(Component).where(Component.project_id == project.id).order_by(Component.name)
        )
    )
    versions = list(
        op.session.scalars(
            select(Version).where(Version.project_id == project.id).order_by(Version.id)
        )
    )
    priorities = [priority_json(p, api) for p in op.ref.priorities.by_id.values()]
    same_kind = [t for t in op.ref.issue_types.by_id.values() if t.subtask == issue_type.subtask]
    fields: JsonDict = {
        "summary": _meta(
            "summary", "Summary", {"type": "string", "system": "summary"}, required=True
        ),
        "issuetype": _meta(
            "issuetype",
            "Issue Type",
            {"type": "issuetype", "system": "issuetype"},
            required=True,
            allowed=[issue_type_json(t, api) for t in same_kind],
        ),
        "description": _meta(
            "description", "Description", {"type": "string", "system": "description"}
        ),
        "priority": _meta(
            "priority",
            "Priority",
            {"type": "priority", "system": "priority"},
            allowed=priorities,
        )
        | _default_priority(op, api),
        "labels": _meta(
            "labels",
            "Labels",
            {"type": "array", "items": "string", "system": "labels"},
            operations=["add", "set", "remove"],
        ),
        "components": _meta(
            "components",
            "Component/s",
            {"type": "array", "items": "component", "system": "components"},
            allowed=[component_json(c, api) for c in components],
            operations=["add", "set", "remove"],
        ),
        "fixVersions": _meta(
            "fixVersions",
            "Fix Version/s",
            {"type": "array", "items": "version", "system": "fixVersions"},
            allowed=[version_json(v, api) for v in versions],
            operations=["add", "set", "remove"],
        ),
        "versions": _meta(
            "versions",
            "Affects Version/s",
            {"type": "array", "items": "version", "system": "versions"},
            allowed=[version_json(v, api) for v in versions],
            operations=["add", "set", "remove"],
        ),
        "duedate": _meta("duedate", "Due Date", {"type": "date", "system": "duedate"}),
        "assignee": _meta("assignee", "Assignee", {"type": "user", "system": "assignee"}),
        "reporter": _meta("reporter", "Reporter", {"type": "user", "system": "reporter"}),
        "comment": _meta(
            "comment",
            "Comment",
            {"type": "comments-page", "system": "comment"},
            operations=["add"],
        ),
        "issuelinks": _meta(
            "issuelinks",
            "Linked Issues",
            {"type": "array", "items": "issuelinks", "system": "issuelinks"},
            operations=["add"],
        ),
        "timetracking": _meta(
            "timetracking",
            "Time tracking",
            {"type": "timetracking", "system": "timetracking"},
            operations=["set", "edit"],
        ),
    }
    if creating:
        fields["project"] = _meta(
            "project", "Project", {"type": "project", "system": "project"}, required=True
        )
    else:
        fields["resolution"] = _meta(
            "resolution", "Resolution", {"type": "resolution", "system": "resolution"}
        )
    if issue_type.subtask:
        fields["parent"] = _meta("parent", "Parent", {"type": "issuelink"}, required=creating)
    for custom in op.ref.custom_fields.by_id.values():
        kind = CustomFieldType(custom.field_type)
        plugin_key, schema_type, items = CUSTOM_TYPE_KEYS[kind]
        schema: JsonDict = {"type": schema_type, "custom": plugin_key, "customId": custom.id}
        if items:
            schema["items"] = items
        options: list[JsonDict] = [
            {"self": f"{api}/customFieldOption/{o.id}", "value": o.value, "id": str(o.id)}
            for o in custom.options
        ]
        fields[custom.field_id] = _meta(
            custom.field_id,
            custom.name,
            schema,
            allowed=options if kind in (CustomFieldType.OPTION, CustomFieldType.OPTIONS) else None,
            operations=["add", "set", "remove"] if kind.multiple else ["set"],
        )
    return fields


def _default_priority(op: Operation, api: str) -> JsonDict:
    default = op.ref.priorities.by_name.get(DEFAULT_PRIORITY.lower())
    return {"defaultValue": priority_json(default, api)} if default else {}


def _meta(
    key: str,
    name: str,
    schema: JsonDict,
    *,
    required: bool = False,
    allowed: list[JsonDict] | None = None,
    operations: list[str] | None = None,
) -> JsonDict:
    meta: JsonDict = {
        "required": required,
        "schema": schema,
        "name": name,
        "key": key,
        "hasDefaultValue": False,
        "operations": operations or ["set"],
    }
    if allowed is not None:
        meta["allowedValues"] = allowed
    return meta
