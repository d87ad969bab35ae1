"""neutral configuration: connectors' configurations, queues and resync tasks in the core's
own names

A connector's configuration, its two queues and a resync task's parameters were stored as
the Backbone API's bodies give them (camelCase, ``@type``). They are stored as the core's
neutral models dump themselves (``domain/configuration.py``, ``domain/connection.py``,
``engine/pipeline/resync.py``): the same values under snake_case names, so that no API
dialect's names are the store's. The conversion renames keys by the models' structure and
never touches a value (a field default's or a value mapping's value is any JSON, its keys
too). Downgrading renames them back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00.000000
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Json = Any
Names = Mapping[str, str]  # stored name -> new name

_SYNC = {
    "outgoingJqls": "outgoing_jqls",
    "outgoingInterval": "outgoing_interval",
    "incomingInterval": "incoming_interval",
    "automaticConflictResolution": "automatic_conflict_resolution",
}
_ADVANCED = {
    "archivedMessagesPerIssue": "archived_messages_per_issue",
    "discardedMessagesPerIssue": "discarded_messages_per_issue",
    "sequenceErrorRetries": "sequence_error_retries",
}
_FIELD_DEFAULT = {"field": "field", "value": "value", "issueType": "issue_type"}
_PAIR = {"local": "local", "remote": "remote"}
_FIELD_MAPPING = {
    "id": "id",
    "localField": "local_field",
    "remoteField": "remote_field",
    "direction": "direction",
    "valueMappings": "value_mappings",
}
_WORKFLOW = {"id": "id", "statusMappings": "status_mappings"}
_CONFIGURATION = {
    "sync": "sync",
    "advanced": "advanced",
    "fieldDefaults": "field_defaults",
    "issueTypeMappings": "issue_type_mappings",
    "fieldMappings": "field_mappings",
    "workflowMappings": "workflow_mappings",
}
_QUEUE = {"@type": "type", "name": "name", "path": "path"}
_RESYNC = {
    "jql": "query",
    "fieldMappings": "field_mapping_ids",
    "responsibility": "responsibility",
    "sendStatusField": "send_status",
}


def _renamed(data: Json, names: Names, inner: Mapping[str, Callable[[Json], Json]]) -> Json:
    """``data``'s keys renamed by ``names`` (others kept), the values under ``inner`` converted."""
    if not isinstance(data, dict):
        return data
    renamed = {}
    for key, value in data.items():
        name = names.get(key, key)
        renamed[name] = inner[key](value) if key in inner else value
    return renamed


def _each(convert: Callable[[Json], Json]) -> Callable[[Json], Json]:
    return lambda items: [convert(item) for item in items] if isinstance(items, list) else items


def _flipped(names: Names) -> dict[str, str]:
    return {new: old for old, new in names.items()}


def _configuration(data: Json, *, up: bool) -> Json:
    def names(table: Names) -> Names:
        return table if up else _flipped(table)

    def key(stored: str, new: str) -> str:
        return stored if up else new

    def pairs(items: Json) -> Json:
        return _each(lambda pair: _renamed(pair, names(_PAIR), {}))(items)

    field_mapping = {key("valueMappings", "value_mappings"): pairs}
    workflow = {key("statusMappings", "status_mappings"): pairs}
    inner: dict[str, Callable[[Json], Json]] = {
        "sync": lambda sync: _renamed(sync, names(_SYNC), {}),
        "advanced": lambda advanced: _renamed(advanced, names(_ADVANCED), {}),
        key("fieldDefaults", "field_defaults"): _each(
            lambda default: _renamed(default, names(_FIELD_DEFAULT), {})
        ),
        key("issueTypeMappings", "issue_type_mappings"): lambda mappings: _renamed(
            mappings, {}, {"incoming": pairs, "outgoing": pairs}
        ),
        key("fieldMappings", "field_mappings"): _each(
            lambda mapping: _renamed(mapping, names(_FIELD_MAPPING), field_mapping)
        ),
        key("workflowMappings", "workflow_mappings"): _each(
            lambda workflow_mapping: _renamed(workflow_mapping, names(_WORKFLOW), workflow)
        ),
    }
    return _renamed(data, names(_CONFIGURATION), inner)


def configuration_up(text: str) -> str:
    """A stored configuration in the neutral names."""
    return json.dumps(_configuration(json.loads(text), up=True), separators=(",", ":"))


def configuration_down(text: str) -> str:
    """A stored configuration in the names it had before this revision."""
    return json.dumps(_configuration(json.loads(text), up=False), separators=(",", ":"))


def queue_up(text: str) -> str:
    """A stored queue in the neutral names."""
    return json.dumps(_renamed(json.loads(text), _QUEUE, {}), separators=(",", ":"))


def queue_down(text: str) -> str:
    """A stored queue in the names it had before this revision."""
    return json.dumps(_renamed(json.loads(text), _flipped(_QUEUE), {}), separators=(",", ":"))


def resync_up(text: str) -> str:
    """A resync task's stored parameters in the neutral names."""
    return json.dumps(_renamed(json.loads(text), _RESYNC, {}), separators=(",", ":"))


def resync_down(text: str) -> str:
    """A resync task's stored parameters in the names they had before this revision."""
    return json.dumps(_renamed(json.loads(text), _flipped(_RESYNC), {}), separators=(",", ":"))


def _convert(
    connectors: Callable[[str], str], queues: Callable[[str], str], tasks: Callable[[str], str]
) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, configuration, send_queue, receive_queue FROM connectors")
    ).all()
    for row_id, configuration, send, receive in rows:
        bind.execute(
            sa.text(
                "UPDATE connectors SET configuration = :configuration, send_queue = :send,"
                " receive_queue = :receive WHERE id = :id"
            ),
            {
                "id": row_id,
                "configuration": connectors(configuration),
                "send": queues(send),
                "receive": queues(receive),
            },
        )
    found = bind.execute(sa.text("SELECT id, parameters FROM tasks WHERE kind = 'resync'")).all()
    for task_id, parameters in found:
        bind.execute(
            sa.text("UPDATE tasks SET parameters = :parameters WHERE id = :id"),
            {"id": task_id, "parameters": tasks(parameters or "{}")},
        )


def upgrade() -> None:
    _convert(configuration_up, queue_up, resync_up)


def downgrade() -> None:
    _convert(configuration_down, queue_down, resync_down)
