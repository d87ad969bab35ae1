"""A connector's ``configuration`` block as Backbone writes it (seed 001), both ways.

The models validate a body (unknown keys refused, naming the field; every number within
its range, the range named: the README lists them) and :func:`neutral_configuration`
makes the core's :class:`~issuesync.domain.configuration.Configuration` of it;
:func:`configuration_json` shows a stored one. The class names and docstrings are those of
the API's schema (``/openapi.json``).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from issuesync.domain import configuration as neutral
from issuesync.domain.configuration import (
    GLOBAL_WORKFLOW,
    MAX_KEPT_PER_ISSUE,
    MAX_SEQUENCE_RETRIES,
    Direction,
    KeptPerIssue,
    Retries,
    checked_interval,
)
from issuesync.domain.markup import Markup

JsonDict = dict[str, Any]


class Model(BaseModel):
    """Input models: camelCase names as in the seeds, unknown keys refused."""

    # hide_input_in_errors: an error's text must not repeat a refused URL or a secret.
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, str_strip_whitespace=True, hide_input_in_errors=True
    )


class SyncSettings(Model):
    """``configuration.sync``: what is sent and how often."""

    outgoing_jqls: list[str] = Field(default_factory=list, alias="outgoingJqls")
    outgoing_interval: str = Field(default="5s", alias="outgoingInterval")
    incoming_interval: str = Field(default="5s", alias="incomingInterval")
    automatic_conflict_resolution: bool = Field(default=False, alias="automaticConflictResolution")

    @field_validator("outgoing_interval", "incoming_interval")
    @classmethod
    def _valid_interval(cls, value: str, info: ValidationInfo) -> str:
        del info
        return checked_interval(value)


class AdvancedSettings(Model):
    """``configuration.advanced``: retention and retries."""

    archived_messages_per_issue: KeptPerIssue = Field(
        default=2, ge=0, le=MAX_KEPT_PER_ISSUE, alias="archivedMessagesPerIssue"
    )
    discarded_messages_per_issue: KeptPerIssue = Field(
        default=2, ge=0, le=MAX_KEPT_PER_ISSUE, alias="discardedMessagesPerIssue"
    )
    sequence_error_retries: Retries = Field(
        default=5, ge=0, le=MAX_SEQUENCE_RETRIES, alias="sequenceErrorRetries"
    )


class FieldDefault(Model):
    """A value for a field the partner does not send, used when an issue is created here."""

    field: str = Field(min_length=1)
    value: Any
    issue_type: str | None = Field(default=None, alias="issueType")


class IssueTypeMapping(Model):
    """A local issue type and the partner's type that corresponds to it."""

    local: str = Field(min_length=1)
    remote: str = Field(min_length=1)


class IssueTypeMappings(Model):
    """``incoming``: the partner's types to ours; ``outgoing``: ours to the partner's."""

    incoming: list[IssueTypeMapping] = Field(default_factory=list)
    outgoing: list[IssueTypeMapping] = Field(default_factory=list)


class ValueMapping(Model):
    """A local value and the partner's value that means the same."""

    local: Any
    remote: Any


class FieldMapping(Model):
    """A local field, the partner's field, the direction, and optional value mappings."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1)
    local_field: str = Field(alias="localField", min_length=1)
    remote_field: str = Field(alias="remoteField", min_length=1)
    direction: Direction = Direction.BOTH
    value_mappings: list[ValueMapping] = Field(default_factory=list, alias="valueMappings")


class StatusMapping(Model):
    """A local status and the partner's status that corresponds to it."""

    local: str = Field(min_length=1)
    remote: str = Field(min_length=1)


class WorkflowMapping(Model):
    """Status pairs for one issue type, or for all (``id`` ``##GLOBAL##``).

    Statuses without a pair map to the equally named status.
    """

    id: str = Field(default=GLOBAL_WORKFLOW, min_length=1)
    status_mappings: list[StatusMapping] = Field(default_factory=list, alias="statusMappings")


class MarkupSettings(Model):
    """``configuration.markup``: the markup this connector's tracker writes (``jira``,
    ``gfm``, ``gitlab``, ``textile``, ``commonmark``; none: the adapter's own, Textile for
    Redmine) and whether the partner's text is converted to it (``convert``)."""

    dialect: Markup | None = None
    convert: bool = True


class Configuration(Model):
    """One connector's ``configuration`` block (seed 001)."""

    sync: SyncSettings = Field(default_factory=SyncSettings)
    advanced: AdvancedSettings = Field(default_factory=AdvancedSettings)
    field_defaults: list[FieldDefault] = Field(default_factory=list, alias="fieldDefaults")
    issue_type_mappings: IssueTypeMappings = Field(
        default_factory=IssueTypeMappings, alias="issueTypeMappings"
    )
    field_mappings: list[FieldMapping] = Field(default_factory=list, alias="fieldMappings")
    workflow_mappings: list[WorkflowMapping] = Field(
        default_factory=lambda: [WorkflowMapping()], alias="workflowMappings"
    )
    markup: MarkupSettings = Field(default_factory=MarkupSettings)


def neutral_configuration(body: Configuration) -> neutral.Configuration:
    """The core's configuration of a ``configuration`` block.

    Backbone's names are the neutral ones in camelCase, so the block's values carry over
    by name; what the body did not set stays unset (both sides must settle conflicts the
    same way: one side's ``automaticConflictResolution`` is the other's when it says none).
    """
    return neutral.Configuration.model_validate(body.model_dump(exclude_unset=True))


def _pairs(pairs: list[neutral.IssueTypeMapping] | list[neutral.StatusMapping]) -> list[JsonDict]:
    return [{"local": pair.local, "remote": pair.remote} for pair in pairs]


def configuration_json(configuration: neutral.Configuration) -> JsonDict:
    """The ``configuration`` block as the API shows it (seed 001 names and shape).

    A workflow mapping without status pairs shows only its id, as in seed 001; ``markup``
    (issuesync's own, not Backbone's) shows only when it is not the default.
    """
    sync, advanced = configuration.sync, configuration.advanced
    workflows: list[JsonDict] = []
    for workflow in configuration.workflow_mappings:
        shown: JsonDict = {"id": workflow.id}
        if workflow.status_mappings:
            shown["statusMappings"] = _pairs(workflow.status_mappings)
        workflows.append(shown)
    block: JsonDict = {
        "sync": {
            "outgoingJqls": list(sync.outgoing_jqls),
            "outgoingInterval": sync.outgoing_interval,
            "incomingInterval": sync.incoming_interval,
            "automaticConflictResolution": sync.automatic_conflict_resolution,
        },
        "advanced": {
            "archivedMessagesPerIssue": advanced.archived_messages_per_issue,
            "discardedMessagesPerIssue": advanced.discarded_messages_per_issue,
            "sequenceErrorRetries": advanced.sequence_error_retries,
        },
        "fieldDefaults": [
            {"field": d.field, "value": d.value, "issueType": d.issue_type}
            for d in configuration.field_defaults
        ],
        "issueTypeMappings": {
            "incoming": _pairs(configuration.issue_type_mappings.incoming),
            "outgoing": _pairs(configuration.issue_type_mappings.outgoing),
        },
        "fieldMappings": [
            {
                "id": m.id,
                "localField": m.local_field,
                "remoteField": m.remote_field,
                "direction": m.direction.value,
                "valueMappings": [{"local": v.local, "remote": v.remote} for v in m.value_mappings],
            }
            for m in configuration.field_mappings
        ],
        "workflowMappings": workflows,
    }
    if configuration.markup != neutral.MarkupSettings():
        block["markup"] = {
            "dialect": configuration.markup.dialect,
            "convert": configuration.markup.convert,
        }
    return block
