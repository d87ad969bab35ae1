"""The fields of the built-in tracker as Jira's ``/rest/api/2/field`` describes them."""

from __future__ import annotations

from dataclasses import dataclass

from issuesync.trackers.local.models import CustomField, CustomFieldType

JsonDict = dict[str, object]


@dataclass(frozen=True)
class SystemField:
    """A system field: its id, display name and Jira schema."""

    id: str
    name: str
    schema_type: str | None
    items: str | None = None
    navigable: bool = True
    orderable: bool = True
    searchable: bool = True
    clause_names: tuple[str, ...] = ()

    def describe(self) -> JsonDict:
        """The field as ``/field`` lists it."""
        described: JsonDict = {
            "id": self.id,
            "key": self.id,
            "name": self.name,
            "custom": False,
            "orderable": self.orderable,
            "navigable": self.navigable,
            "searchable": self.searchable,
            "clauseNames": list(self.clause_names or (self.id,)),
        }
        if self.schema_type:
            schema: JsonDict = {"type": self.schema_type, "system": self.id}
            if self.items:
                schema["items"] = self.items
            described["schema"] = schema
        return described


SYSTEM_FIELDS: tuple[SystemField, ...] = (
    SystemField("issuekey", "Key", None, orderable=False, clause_names=("id", "issue", "key")),
    SystemField("summary", "Summary", "string"),
    SystemField("description", "Description", "string"),
    SystemField("issuetype", "Issue Type", "issuetype", clause_names=("issuetype", "type")),
    SystemField("project", "Project", "project", orderable=False),
    SystemField("status", "Status", "status", orderable=False),
    SystemField("priority", "Priority", "priority"),
    SystemField("resolution", "Resolution", "resolution"),
    SystemField("assignee", "Assignee", "user"),
    SystemField("reporter", "Reporter", "user"),
    SystemField("creator", "Creator", "user", orderable=False),
    SystemField("labels", "Labels", "array", "string"),
    SystemField("components", "Component/s", "array", "component", clause_names=("component",)),
    SystemField("fixVersions", "Fix Version/s", "array", "version", clause_names=("fixVersion",)),
    SystemField(
        "versions", "Affects Version/s", "array", "version", clause_names=("affectedVersion",)
    ),
    SystemField("duedate", "Due Date", "date", clause_names=("due", "duedate")),
    SystemField(
        "created", "Created", "datetime", orderable=False, clause_names=("created", "createdDate")
    ),
    SystemField(
        "updated", "Updated", "datetime", orderable=False, clause_names=("updated", "updatedDate")
    ),
    SystemField(
        "resolutiondate",
        "Resolved",
        "datetime",
        orderable=False,
        clause_names=("resolutiondate", "resolved"),
    ),
    SystemField("parent", "Parent", None, orderable=False, clause_names=("parent",)),
    SystemField("subtasks", "Sub-Tasks", "array", "issuelinks", orderable=False, searchable=False),
    SystemField("issuelinks", "Linked Issues", "array", "issuelinks", searchable=False),
    SystemField("comment", "Comment", "comments-page", navigable=False, clause_names=("comment",)),
    SystemField(
        "attachment", "Attachment", "array", "attachment", navigable=False, orderable=False
    ),
    SystemField("worklog", "Log Work", "array", "worklog", navigable=False, orderable=False),
    SystemField("watches", "Watchers", "watches", orderable=False, searchable=False),
    # Estimates and time spent (estimates.py); not yet searchable by JQL here.
    SystemField("timetracking", "Time tracking", "timetracking", navigable=False, searchable=False),
    SystemField("timeoriginalestimate", "Original Estimate", "number", searchable=False),
    SystemField("timeestimate", "Remaining Estimate", "number", searchable=False),
    SystemField("timespent", "Time Spent", "number", orderable=False, searchable=False),
)

SYSTEM_FIELD_IDS = frozenset(f.id for f in SYSTEM_FIELDS)
NAVIGABLE_FIELD_IDS = frozenset(f.id for f in SYSTEM_FIELDS if f.navigable)

# Jira's plug-in keys for the custom field types, so Jira tooling recognises them.
CUSTOM_TYPE_KEYS: dict[CustomFieldType, tuple[str, str, str | None]] = {
    CustomFieldType.STRING: (
        "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
        "string",
        None,
    ),
    CustomFieldType.TEXT: (
        "com.atlassian.jira.plugin.system.customfieldtypes:textarea",
        "string",
        None,
    ),
    CustomFieldType.NUMBER: (
        "com.atlassian.jira.plugin.system.customfieldtypes:float",
        "number",
        None,
    ),
    CustomFieldType.DATE: (
        "com.atlassian.jira.plugin.system.customfieldtypes:datepicker",
        "date",
        None,
    ),
    CustomFieldType.DATETIME: (
        "com.atlassian.jira.plugin.system.customfieldtypes:datetime",
        "datetime",
        None,
    ),
    CustomFieldType.OPTION: (
        "com.atlassian.jira.plugin.system.customfieldtypes:select",
        "option",
        None,
    ),
    CustomFieldType.OPTIONS: (
        "com.atlassian.jira.plugin.system.customfieldtypes:multiselect",
        "array",
        "option",
    ),
    CustomFieldType.USER: (
        "com.atlassian.jira.plugin.system.customfieldtypes:userpicker",
        "user",
        None,
    ),
    CustomFieldType.USERS: (
        "com.atlassian.jira.plugin.system.customfieldtypes:multiuserpicker",
        "array",
        "user",
    ),
}
CUSTOM_TYPE_BY_KEY = {key: kind for kind, (key, _t, _i) in CUSTOM_TYPE_KEYS.items()}


def describe_custom_field(field: CustomField) -> JsonDict:
    """A custom field as ``/field`` lists it."""
    kind = CustomFieldType(field.field_type)
    plugin_key, schema_type, items = CUSTOM_TYPE_KEYS[kind]
    schema: JsonDict = {"type": schema_type, "custom": plugin_key, "customId": field.id}
    if items:
        schema["items"] = items
    return {
        "id": field.field_id,
        "key": field.field_id,
        "name": field.name,
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": [f"cf[{field.id}]", field.name],
        "schema": schema,
    }


def custom_field_type(value: str) -> CustomFieldType | None:
    """A custom field type from our short name or Jira's plug-in key."""
    try:
        return CustomFieldType(value)
    except ValueError:
        return CUSTOM_TYPE_BY_KEY.get(value)
