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
    DEFAULT_COMMENT_HEADER,
    GLOBAL_WORKFLOW,
    MAX_ATTACHMENT_BYTES,
    MAX_COMMENT_HEADER,
    MAX_KEPT_PER_ISSUE,
    MAX_PATTERNS,
    MAX_SEQUENCE_RETRIES,
    MAX_USER_MAPPINGS,
    MAX_USER_NAME,
    AttachmentBytes,
    Direction,
    KeptPerIssue,
    Pattern,
    Retries,
    check_one_partner_each,
    checked_comment_header,
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
    sync_restricted_comments: bool = Field(default=False, alias="syncRestrictedComments")

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


class AttachmentFilter(Model):
    """``configuration.attachmentFilter``: which of the partner's attachments this side takes.

    ``maxSize`` in bytes; ``excludedTypes`` MIME types (``video/*``), ``excludedNames`` file
    names (``*.exe``), shell patterns compared without regard to case. An attachment left
    out is skipped with a note in its message, never an error.
    """

    max_size: AttachmentBytes | None = Field(
        default=None, ge=1, le=MAX_ATTACHMENT_BYTES, alias="maxSize"
    )
    excluded_types: list[Pattern] = Field(
        default_factory=list, max_length=MAX_PATTERNS, alias="excludedTypes"
    )
    excluded_names: list[Pattern] = Field(
        default_factory=list, max_length=MAX_PATTERNS, alias="excludedNames"
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


class UserMapping(Model):
    """A local user and the partner's user who is the same person (a login name or e-mail)."""

    local: str = Field(min_length=1, max_length=MAX_USER_NAME)
    remote: str = Field(min_length=1, max_length=MAX_USER_NAME)


class MarkupSettings(Model):
    """``configuration.markup``: the markup this connector's tracker writes (``jira``,
    ``gfm``, ``gitlab``, ``textile``, ``commonmark``; none: the adapter's own, Textile for
    Redmine) and whether the partner's text is converted to it (``convert``)."""

    dialect: Markup | None = None
    convert: bool = True


class Configuration(Model):
    """One connector's ``configuration`` block (seed 001).

    ``userMappings`` and ``commentHeader`` are issuesync's: users that e-mail addresses do
    not pair, and the line a comment posted for someone else starts with (``{author}``,
    ``{key}``; empty for none).
    """

    sync: SyncSettings = Field(default_factory=SyncSettings)
    advanced: AdvancedSettings = Field(default_factory=AdvancedSettings)
    rewrite_references: bool = Field(default=True, alias="rewriteReferences")
    field_defaults: list[FieldDefault] = Field(default_factory=list, alias="fieldDefaults")
    issue_type_mappings: IssueTypeMappings = Field(
        default_factory=IssueTypeMappings, alias="issueTypeMappings"
    )
    field_mappings: list[FieldMapping] = Field(default_factory=list, alias="fieldMappings")
    workflow_mappings: list[WorkflowMapping] = Field(
        default_factory=lambda: [WorkflowMapping()], alias="workflowMappings"
    )
    attachment_filter: AttachmentFilter = Field(
        default_factory=AttachmentFilter, alias="attachmentFilter"
    )
    user_mappings: list[UserMapping] = Field(
        default_factory=list, max_length=MAX_USER_MAPPINGS, alias="userMappings"
    )
    comment_header: str = Field(
        default=DEFAULT_COMMENT_HEADER, max_length=MAX_COMMENT_HEADER, alias="commentHeader"
    )

    markup: MarkupSettings = Field(default_factory=MarkupSettings)

    @field_validator("comment_header")
    @classmethod
    def _valid_header(cls, value: str) -> str:
        return checked_comment_header(value)

    @field_validator("user_mappings")
    @classmethod
    def _one_partner_each(cls, value: list[UserMapping]) -> list[UserMapping]:
        check_one_partner_each(pair.remote for pair in value)
        return value


def neutral_configuration(body: Configuration) -> neutral.Configuration:
    """The core's configuration of a ``configuration`` block.

    Backbone's names are the neutral ones in camelCase, so the block's values carry over
    by name; what the body did not set stays unset (both sides must settle conflicts the
    same way: one side's ``automaticConflictResolution`` is the other's when it says none).
    """
    return neutral.Configuration.model_validate(body.model_dump(exclude_unset=True))


def _pairs(
    pairs: list[neutral.IssueTypeMapping] | list[neutral.StatusMapping] | list[neutral.UserMapping],
) -> list[JsonDict]:
    return [{"local": pair.local, "remote": pair.remote} for pair in pairs]


def configuration_json(configuration: neutral.Configuration) -> JsonDict:
    """The ``configuration`` block as the API shows it (seed 001 names and shape).

    A workflow mapping without status pairs shows only its id, as in seed 001; user
    mappings, the comment header and ``markup`` (issuesync's own, not Backbone's) only
    where they are set.
    """
    sync, advanced, only = (
        configuration.sync,
        configuration.advanced,
        configuration.attachment_filter,
    )
    workflows: list[JsonDict] = []
    for workflow in configuration.workflow_mappings:
        mapping: JsonDict = {"id": workflow.id}
        if workflow.status_mappings:
            mapping["statusMappings"] = _pairs(workflow.status_mappings)
        workflows.append(mapping)
    shown: JsonDict = {
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
        "rewriteReferences": configuration.rewrite_references,
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
    # Shown when set, so that a configuration without them keeps seed 001's shape.
    if sync.sync_restricted_comments:
        shown["sync"]["syncRestrictedComments"] = True
    if only != neutral.AttachmentFilter():
        shown["attachmentFilter"] = {
            "maxSize": only.max_size,
            "excludedTypes": list(only.excluded_types),
            "excludedNames": list(only.excluded_names),
        }
    if configuration.markup != neutral.MarkupSettings():
        shown["markup"] = {
            "dialect": configuration.markup.dialect,
            "convert": configuration.markup.convert,
        }
    return shown | _people_json(configuration)


def _people_json(configuration: neutral.Configuration) -> JsonDict:
    """``userMappings`` and ``commentHeader`` where they say more than the defaults: a
    configuration that sets neither keeps seed 001's shape exactly."""
    shown: JsonDict = {}
    if configuration.user_mappings:
        shown["userMappings"] = _pairs(configuration.user_mappings)
    if configuration.comment_header != DEFAULT_COMMENT_HEADER:
        shown["commentHeader"] = configuration.comment_header
    return shown
