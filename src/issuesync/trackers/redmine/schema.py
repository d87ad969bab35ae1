"""A Redmine project's schema: trackers (issue types), statuses, priorities, custom fields.

Redmine's names map onto the Protocol's: a *tracker* is an issue type, and any
tracker may be a sub-task (Redmine has no sub-task types: a child is an issue
with ``parent_issue_id``), so every tracker is listed as both kinds. Statuses and
priorities are global; the project enables some trackers and custom fields.
The custom fields are those the project enables and those its newest issue
shows (fields "for all projects" are not listed as the project's); their formats
come from ``custom_fields.json``, which only an administrator may read; otherwise
they are taken as plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from issuesync.domain.outline import StatusCategory
from issuesync.errors import PermissionDeniedError
from issuesync.trackers.adapter import FieldInfo, ProjectSchema
from issuesync.trackers.redmine.client import RedmineClient

# Redmine's custom field formats -> fieldcodec's short types.
FORMATS: Final[dict[str, str]] = {
    "string": "string",
    "link": "string",
    "text": "text",
    "int": "number",
    "float": "number",
    "date": "date",
    "bool": "string",
    "list": "option",
    "enumeration": "option",
    "user": "user",
    "version": "option",
}

# The system fields the adapter reads and writes, by the Protocol's (Jira's) ids.
SYSTEM_FIELDS: Final = (
    FieldInfo("summary", "Subject", "string", required=True),
    FieldInfo("description", "Description", "text"),
    FieldInfo("issuetype", "Tracker", "issuetype", required=True),
    FieldInfo("status", "Status", "status"),
    FieldInfo("priority", "Priority", "priority", required=True),
    FieldInfo("duedate", "Due date", "date"),
    FieldInfo("assignee", "Assignee", "user"),
    FieldInfo("reporter", "Author", "user"),
)


@dataclass(frozen=True)
class CustomField:
    """A custom field of the project's issues."""

    id: int
    name: str
    format: str = "string"
    multiple: bool = False
    required: bool = False
    possible_values: tuple[str, ...] = ()

    @property
    def info(self) -> FieldInfo:
        """The field as the Protocol's schema lists it."""
        kind = FORMATS.get(self.format, "string")
        if self.multiple and kind in {"option", "user"}:
            kind = f"{kind}s"
        return FieldInfo(
            f"customfield_{self.id}",
            self.name,
            kind,
            custom=True,
            required=self.required,
            allowed_values=self.possible_values,
        )


@dataclass(frozen=True)
class Catalog:
    """Names to Redmine's ids for one project, and the schema they make."""

    project_id: int
    identifier: str
    name: str
    trackers: Mapping[str, int]
    default_status: Mapping[str, str]  # tracker name -> its default status's name
    statuses: Mapping[str, int]
    closed: frozenset[str]
    priorities: Mapping[str, int]
    default_priority: str | None
    custom_fields: Mapping[str, CustomField] = field(default_factory=dict)

    def schema(self, key: str) -> ProjectSchema:
        """The Protocol's view of the project."""
        trackers = tuple(self.trackers)
        defaults = {self.default_status.get(t) for t in trackers}
        initial = defaults.pop() if len(defaults) == 1 else None
        return ProjectSchema(
            key=key,
            name=self.name,
            issue_types=trackers,
            subtask_types=trackers,  # any tracker may have a parent
            statuses=tuple(self.statuses),
            priorities=tuple(self.priorities),
            fields=(*self.system_fields(), *(c.info for c in self.custom_fields.values())),
            initial_status=initial if initial in self.statuses else None,
        )

    def system_fields(self) -> tuple[FieldInfo, ...]:
        """:data:`SYSTEM_FIELDS`; the priority is required only where Redmine has no default
        priority: Redmine gives an issue created without one its default (and the adapter
        writes it for an emptied one), so ``/conflicts`` would otherwise ask a pair without
        priorities (Redmine <-> GitHub) to fill what is filled."""
        if self.default_priority is None:
            return SYSTEM_FIELDS
        return tuple(replace(f, required=False) if f.id == "priority" else f for f in SYSTEM_FIELDS)

    def categories(self) -> dict[str, StatusCategory]:
        """Each status's category: a closed one (``is_closed``) is done; a tracker's default
        status, else the first open one by position, is new; any other open one is under way.
        """
        open_ = [name for name in self.statuses if name not in self.closed]
        new = {name for name in self.default_status.values() if name in open_} or set(open_[:1])
        return {
            name: StatusCategory.DONE
            if name in self.closed
            else StatusCategory.NEW
            if name in new
            else StatusCategory.INDETERMINATE
            for name in self.statuses
        }

    def id_of(self, kind: str, name: str) -> int | None:
        """The id of the tracker, status or priority named ``name`` (case-insensitive)."""
        names: Mapping[str, int] = {
            "tracker": self.trackers,
            "status": self.statuses,
            "priority": self.priorities,
        }[kind]
        lowered = name.casefold()
        return next((i for n, i in names.items() if n.casefold() == lowered), None)

    def custom(self, name: str) -> CustomField | None:
        """The custom field with this name, or this ``customfield_<id>``."""
        lowered = name.casefold()
        for custom in self.custom_fields.values():
            if custom.name.casefold() == lowered or f"customfield_{custom.id}" == name:
                return custom
        return None


def read_catalog(client: RedmineClient, identifier: str) -> Catalog:
    """Read the project's trackers and custom fields, and the global statuses and priorities.

    Raises:
        NotFoundError: the project does not exist or the sync user cannot see it.
    """
    project = client.get(
        f"projects/{identifier}.json", {"include": "trackers,issue_custom_fields"}
    )["project"]
    all_trackers = client.get("trackers.json").get("trackers") or []
    defaults = {
        str(t["name"]): str((t.get("default_status") or {}).get("name") or "") for t in all_trackers
    }
    statuses = client.get("issue_statuses.json").get("issue_statuses") or []
    priorities = [
        p
        for p in client.get("enumerations/issue_priorities.json").get("issue_priorities") or []
        if p.get("active", True)
    ]
    default_priority = next((str(p["name"]) for p in priorities if p.get("is_default")), None)
    trackers = {str(t["name"]): int(t["id"]) for t in project.get("trackers") or []}
    return Catalog(
        project_id=int(project["id"]),
        identifier=str(project.get("identifier") or identifier),
        name=str(project.get("name") or identifier),
        trackers=trackers,
        default_status={t: defaults.get(t, "") for t in trackers},
        statuses={str(s["name"]): int(s["id"]) for s in statuses},
        closed=frozenset(str(s["name"]) for s in statuses if s.get("is_closed")),
        priorities={str(p["name"]): int(p["id"]) for p in priorities},
        default_priority=default_priority,
        custom_fields=_custom_fields(client, _enabled_fields(client, project)),
    )


def _enabled_fields(client: RedmineClient, project: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The project's issue custom fields: those it enables, and those its newest issue shows.

    ``issue_custom_fields`` leaves out the fields "for all projects"; an issue lists
    every field it has (empty ones too). A project without issues shows only the former.
    """
    fields = list(project.get("issue_custom_fields") or [])
    newest = (
        client.get(
            "issues.json",
            {"project_id": project["id"], "status_id": "*", "sort": "updated_on:desc", "limit": 1},
        ).get("issues")
        or []
    )
    fields += [f for issue in newest for f in issue.get("custom_fields") or []]
    return fields


def _custom_fields(
    client: RedmineClient, enabled: list[Mapping[str, Any]]
) -> dict[str, CustomField]:
    """The project's issue custom fields, with formats when the sync user may read them."""
    wanted = {int(c["id"]): str(c["name"]) for c in enabled if "id" in c and "name" in c}
    if not wanted:
        return {}
    try:
        described = client.get("custom_fields.json").get("custom_fields") or []
    except PermissionDeniedError:  # administrators only: names and ids must do
        return {name: CustomField(cid, name) for cid, name in wanted.items()}
    found: dict[str, CustomField] = {}
    for custom in described:
        cid = int(custom.get("id") or 0)
        if cid not in wanted or custom.get("customized_type") != "issue":
            continue
        values = tuple(
            str(v.get("label") or v.get("value"))
            for v in custom.get("possible_values") or []
            if isinstance(v, Mapping)
        )
        found[wanted[cid]] = CustomField(
            cid,
            wanted[cid],
            str(custom.get("field_format") or "string"),
            multiple=bool(custom.get("multiple")),
            required=bool(custom.get("is_required")),
            possible_values=values,
        )
    return found
