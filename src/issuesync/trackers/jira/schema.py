"""A Jira project's schema, read from REST v2: issue types, statuses, priorities, fields.

Jira's ``/field`` names a custom field's type by its plug-in key; the replica's
canonical forms (:mod:`issuesync.trackers.fieldcodec`) go by a short type, so the
well-known keys are mapped here and anything else falls back to the schema type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from issuesync.domain.outline import StatusCategory
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import FieldInfo, ProjectSchema
from issuesync.trackers.jira.client import JiraClient

_PLUGIN: Final = "com.atlassian.jira.plugin.system.customfieldtypes:"
# Jira's custom field plug-in keys (after the common prefix) -> fieldcodec's short types.
CUSTOM_TYPES: Final[dict[str, str]] = {
    "textfield": "string",
    "url": "string",
    "textarea": "text",
    "float": "number",
    "datepicker": "date",
    "datetime": "datetime",
    "select": "option",
    "radiobuttons": "option",
    "multiselect": "options",
    "multicheckboxes": "options",
    "userpicker": "user",
    "multiuserpicker": "users",
    "labels": "array",
}

# The system fields a sync can write, with their types: Jira's has an environment too.
SYSTEM_FIELDS: Final = (
    *fieldcodec.SYNCED_SYSTEM_FIELDS[:2],
    FieldInfo("environment", "Environment", "text"),
    *fieldcodec.SYNCED_SYSTEM_FIELDS[2:],
)


def custom_type(schema: Mapping[str, Any]) -> str:
    """fieldcodec's short type of a custom field, from ``/field``'s ``schema`` object."""
    plugin = str(schema.get("custom") or "")
    if plugin.startswith(_PLUGIN) and plugin[len(_PLUGIN) :] in CUSTOM_TYPES:
        return CUSTOM_TYPES[plugin[len(_PLUGIN) :]]
    kind = str(schema.get("type") or "string")
    items = str(schema.get("items") or "")
    if kind == "array" and items in {"option", "user"}:
        return f"{items}s"
    return kind


def custom_fields(fields: Sequence[Mapping[str, Any]]) -> dict[str, FieldInfo]:
    """The custom fields of ``/field``'s answer, by Jira id (``customfield_10001``)."""
    found: dict[str, FieldInfo] = {}
    for field in fields:
        if not field.get("custom") or not field.get("id") or not field.get("name"):
            continue
        schema = field.get("schema")
        found[str(field["id"])] = FieldInfo(
            id=str(field["id"]),
            name=str(field["name"]),
            type=custom_type(schema if isinstance(schema, Mapping) else {}),
            custom=True,
        )
    return found


def _names(items: object) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(str(i["name"]) for i in items if isinstance(i, Mapping) and i.get("name"))


def status_categories(per_type: object) -> dict[str, StatusCategory]:
    """Each status's ``statusCategory`` (new, indeterminate, done) from
    ``/project/{key}/statuses``; a status of Jira's "No Category" (``undefined``) is left out.
    """
    known = {c.value: c for c in StatusCategory}
    found: dict[str, StatusCategory] = {}
    for issue_type in per_type if isinstance(per_type, list) else []:
        statuses = issue_type.get("statuses") if isinstance(issue_type, Mapping) else None
        for status in statuses if isinstance(statuses, list) else []:
            category = status.get("statusCategory") if isinstance(status, Mapping) else None
            key = category.get("key") if isinstance(category, Mapping) else None
            if status.get("name") and key in known:
                found.setdefault(str(status["name"]), known[key])
    return found


def read_schema(
    client: JiraClient, project_key: str
) -> tuple[ProjectSchema, dict[str, FieldInfo], dict[str, StatusCategory]]:
    """The project's schema, its custom fields by id and its statuses' categories, in five
    requests.

    Jira's REST v2 cannot say a project's initial status (it is the workflow's
    first step, not listed anywhere public), so ``initial_status`` stays None.
    Options of custom fields would need ``createmeta`` per issue type; they are
    not read, so ``allowed_values`` is empty for custom fields.
    """
    project = client.get(f"project/{project_key}")
    per_type = client.get(f"project/{project_key}/statuses")
    types = project.get("issueTypes") or per_type or client.get("issuetype")
    statuses: list[str] = []
    for issue_type in per_type if isinstance(per_type, list) else []:
        for name in _names(issue_type.get("statuses")):
            if name not in statuses:
                statuses.append(name)
    priorities = _names(client.get("priority"))
    customs = custom_fields(client.get("field"))
    versions = _names(project.get("versions"))
    allowed: dict[str, tuple[str, ...]] = {
        "issuetype": _names(types),
        "status": tuple(statuses),
        "priority": priorities,
        "components": _names(project.get("components")),
        "fixVersions": versions,
        "versions": versions,
    }
    system = tuple(
        FieldInfo(f.id, f.name, f.type, f.custom, f.required, allowed.get(f.id, ()))
        for f in SYSTEM_FIELDS
    )
    schema = ProjectSchema(
        key=str(project.get("key") or project_key),
        name=str(project.get("name") or project_key),
        issue_types=tuple(
            str(t["name"]) for t in types if isinstance(t, Mapping) and not t.get("subtask")
        ),
        subtask_types=tuple(
            str(t["name"]) for t in types if isinstance(t, Mapping) and t.get("subtask")
        ),
        statuses=tuple(statuses),
        priorities=priorities,
        fields=system + tuple(customs.values()),
        initial_status=None,
    )
    return schema, customs, status_categories(per_type)
