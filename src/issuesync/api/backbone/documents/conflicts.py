"""Conflicts as ``GET /integrations/{key}/conflicts`` shows them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from issuesync.api.backbone.documents.dates import backbone_date
from issuesync.domain.conflict import Conflict


def conflicts_json(conflicts: Sequence[Conflict]) -> list[dict[str, Any]]:
    """Conflicts as the API shows them: camelCase; data conflicts with their message and fields."""
    shown: list[dict[str, Any]] = []
    for conflict in conflicts:
        body: dict[str, Any] = {
            "id": conflict.id,
            "category": conflict.category,
            "type": conflict.type,
            "connectorKey": conflict.connector_key,
            "projectKey": conflict.project_key,
            "message": conflict.message,
            "resolution": conflict.resolution,
            "severity": conflict.severity,
        }
        if conflict.message_id is not None:
            body["messageId"] = conflict.message_id
            body["issueKey"] = conflict.issue_key
            body["remoteIssueKey"] = conflict.remote_issue_key
            body["fields"] = [
                {"field": f.field, "localValue": f.local_value, "remoteValue": f.remote_value}
                for f in conflict.fields
            ]
            body["createdDate"] = backbone_date(conflict.created_ms or 0)
        shown.append(body)
    return shown
