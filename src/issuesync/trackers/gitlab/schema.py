"""A GitLab project's schema: fixed types and states, its labels and milestones as values."""

from __future__ import annotations

from typing import Final

from issuesync.trackers.adapter import FieldInfo, ProjectSchema
from issuesync.trackers.gitlab.client import GitLabClient
from issuesync.trackers.gitlab.shape import CLOSED, ISSUE_TYPES, OPEN

MAX_VALUES: Final = 1000  # labels or milestones listed as allowed values


def read_schema(client: GitLabClient, project_path: str, key: str) -> ProjectSchema:
    """The project's schema (three reads: the project, its labels, its active milestones)."""
    project = client.get(project_path)
    labels = [str(label["name"]) for label in client.everything(f"{project_path}/labels", {})]
    milestones = [
        str(m["title"])
        for m in client.everything(
            f"{project_path}/milestones", {"state": "active", "include_ancestors": "true"}
        )
    ]
    fields = (
        FieldInfo("summary", "Title", "string", required=True),
        FieldInfo("description", "Description", "text"),
        FieldInfo("issuetype", "Type", "issuetype", required=True),
        FieldInfo("status", "State", "status"),
        FieldInfo("labels", "Labels", "array", allowed_values=tuple(labels[:MAX_VALUES])),
        FieldInfo(
            "fixVersions", "Milestone", "array", allowed_values=tuple(milestones[:MAX_VALUES])
        ),
        FieldInfo("duedate", "Due date", "date"),
        FieldInfo("assignee", "Assignee", "user"),
        FieldInfo("reporter", "Author", "user"),
    )
    return ProjectSchema(
        key=key,
        name=str(project.get("name") or key),
        issue_types=tuple(ISSUE_TYPES.values()),
        subtask_types=(),
        statuses=(OPEN, CLOSED),
        priorities=(),
        fields=fields,
        initial_status=OPEN,
    )
