"""Integrations and connectors as seed 001 describes them: the body of ``POST /integrations``.

An integration pairs two connectors; each connector names its tracker, the
connection (base URL, sync user, secret, proxy), its project, its queues and
its configuration. Each connector's configuration is written from its own
point of view: ``localField`` is a field of its project, ``remoteField`` one of
the partner's, ``OUTGOING`` means "from this project to the partner".

The models validate input (unknown keys are refused, naming the field) and are
also the engine's typed view of a stored configuration. Secrets are
:class:`~pydantic.SecretStr`: they print as ``**********``, and the API's
JSON (``engine/integration_json.py``) never contains them.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

GLOBAL_WORKFLOW = "##GLOBAL##"

_DURATION = re.compile(r"^\s*(\d+)\s*(ms|s|m|h)?\s*$")
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def duration_ms(text: str) -> int:
    """``"5s"`` → 5000. Accepts ms, s, m and h; a bare number is seconds."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"'{text}' is not a duration: write it like 500ms, 5s, 1m or 1h")
    return int(found.group(1)) * _UNITS_MS[found.group(2) or "s"]


class Model(BaseModel):
    """Input models: camelCase names as in the seeds, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class Direction(StrEnum):
    """Which way a field mapping carries changes, seen from the connector that holds it."""

    BOTH = "BOTH"
    OUTGOING = "OUTGOING"
    INCOMING = "INCOMING"

    @property
    def outgoing(self) -> bool:
        """Whether changes of the local field are sent to the partner."""
        return self in (Direction.BOTH, Direction.OUTGOING)

    @property
    def incoming(self) -> bool:
        """Whether the partner's changes are written into the local field."""
        return self in (Direction.BOTH, Direction.INCOMING)

    def mirrored(self) -> Direction:
        """The same mapping seen from the partner's side."""
        return {
            Direction.BOTH: Direction.BOTH,
            Direction.OUTGOING: Direction.INCOMING,
            Direction.INCOMING: Direction.OUTGOING,
        }[self]


class SyncSettings(Model):
    """``configuration.sync``: what is sent and how often."""

    outgoing_jqls: list[str] = Field(default_factory=list, alias="outgoingJqls")
    outgoing_interval: str = Field(default="5s", alias="outgoingInterval")
    incoming_interval: str = Field(default="5s", alias="incomingInterval")
    automatic_conflict_resolution: bool = Field(default=False, alias="automaticConflictResolution")

    @field_validator("outgoing_interval", "incoming_interval")
    @classmethod
    def _valid_interval(cls, value: str) -> str:
        if duration_ms(value) < 100:  # noqa: PLR2004 - the shortest interval that makes sense
            raise ValueError("an interval must be at least 100ms")
        return value

    @property
    def outgoing_interval_ms(self) -> int:
        """The outgoing interval in milliseconds."""
        return duration_ms(self.outgoing_interval)

    @property
    def incoming_interval_ms(self) -> int:
        """The incoming interval in milliseconds."""
        return duration_ms(self.incoming_interval)


class AdvancedSettings(Model):
    """``configuration.advanced``: retention and retries."""

    archived_messages_per_issue: int = Field(default=2, ge=0, alias="archivedMessagesPerIssue")
    discarded_messages_per_issue: int = Field(default=2, ge=0, alias="discardedMessagesPerIssue")
    sequence_error_retries: int = Field(default=5, ge=0, alias="sequenceErrorRetries")


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

    def mirrored(self) -> FieldMapping:
        """The same mapping as the partner's connector holds it."""
        return FieldMapping(
            id=self.id,
            local_field=self.remote_field,
            remote_field=self.local_field,
            direction=self.direction.mirrored(),
            value_mappings=[
                ValueMapping(local=v.remote, remote=v.local) for v in self.value_mappings
            ],
        )


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


# Fields synchronized both ways when an integration is created without field mappings.
DEFAULT_MAPPED_FIELDS = (
    "summary",
    "description",
    "priority",
    "labels",
    "duedate",
    "comment",
    "attachment",
)


def default_field_mappings() -> list[FieldMapping]:
    """The default set: summary, description, priority, labels, due date, comments, attachments."""
    return [FieldMapping(local_field=name, remote_field=name) for name in DEFAULT_MAPPED_FIELDS]


class Queue(Model):
    """A send or receive queue: ``vm`` (in-process, by name) or ``file`` (a folder path)."""

    type: Literal["vm", "file"] = Field(default="vm", alias="@type")
    name: str | None = None
    path: str | None = None


class QueueSettings(Model):
    """``connection.connector``: the queues and the internal polling delays (ms)."""

    send_queue: Queue | None = Field(default=None, alias="sendQueue")
    receive_queue: Queue | None = Field(default=None, alias="receiveQueue")
    initial_internal_polling_delay: int = Field(
        default=1000, ge=0, alias="initialInternalPollingDelay"
    )
    internal_polling_interval: int = Field(default=1000, ge=10, alias="internalPollingInterval")


class Proxy(Model):
    """An HTTP proxy for a remote tracker; the password is write-only."""

    proxy_uri: str = Field(alias="proxyUri", min_length=1)
    username: str | None = None
    password: SecretStr | None = None


class Application(Model):
    """``connection.application``: which tracker, where, and as whom."""

    system: str | None = None
    base_url: str | None = Field(default=None, alias="baseUrl")
    user: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    proxy: Proxy | None = None

    @property
    def resolved_system(self) -> str:
        """The tracker's adapter name: ``local`` when no system and no base URL are given."""
        if self.system:
            return self.system.lower()
        return "jira" if self.base_url else "local"


class ConnectionChange(Model):
    """One side of ``PUT /integrations/{key}/applicationConnection``: where and with what.

    The sync user's name cannot change here (seed 001); it may be repeated.
    """

    base_url: str | None = Field(default=None, alias="baseUrl")
    user: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    proxy: Proxy | None = None


class ConnectionUpdate(Model):
    """The body of ``PUT /integrations/{key}/applicationConnection`` (seed 001)."""

    first_connector: ConnectionChange | None = Field(default=None, alias="firstConnector")
    second_connector: ConnectionChange | None = Field(default=None, alias="secondConnector")


class Connection(Model):
    """A connector's ``connection``."""

    application: Application = Field(default_factory=Application)
    connector: QueueSettings | None = None


# Keys the API returns that a client may send back unchanged: accepted and ignored.
_READ_ONLY = (
    "createdUser",
    "lastModifiedUser",
    "createdDate",
    "lastModifiedDate",
    "connectorKey",
    "projectConnectorKey",
)


PROJECT_KEY_LENGTH = 255
# Systems whose project keys are upper case (Jira's rule); others keep the tracker's spelling.
UPPER_CASE_KEYS = frozenset({"local", "jira"})
CONNECTOR_KEY_BASE_LENGTH = 48


def connector_key_base(project_key: str) -> str:
    """What a connector's key starts with: its project key, upper case, made safe for a URL.

    ``PB`` gives ``PB`` (the key ``PB-2``); ``octo/web-shop`` gives ``OCTO_WEB_SHOP``.
    """
    safe = re.sub(r"[^A-Z0-9_]+", "_", project_key.upper()).strip("_")
    return safe[:CONNECTOR_KEY_BASE_LENGTH] or "PROJECT"


class ConnectorSpec(Model):
    """One side of an integration, as given to ``POST /integrations``."""

    # A Jira or built-in key (upper case), a Redmine identifier, a GitHub owner/repo, a
    # GitLab group/project path: as the tracker spells it.
    project_key: str = Field(alias="projectKey", min_length=1, max_length=PROJECT_KEY_LENGTH)
    connection: Connection = Field(default_factory=Connection)
    configuration: Configuration | None = None
    created_user: Any = Field(default=None, alias="createdUser", exclude=True)
    last_modified_user: Any = Field(default=None, alias="lastModifiedUser", exclude=True)
    created_date: Any = Field(default=None, alias="createdDate", exclude=True)
    last_modified_date: Any = Field(default=None, alias="lastModifiedDate", exclude=True)
    connector_key: Any = Field(default=None, alias="connectorKey", exclude=True)
    project_connector_key: Any = Field(default=None, alias="projectConnectorKey", exclude=True)

    @field_validator("project_key")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _jira_keys_in_upper_case(self) -> ConnectorSpec:
        if self.connection.application.resolved_system in UPPER_CASE_KEYS:
            self.project_key = self.project_key.upper()
        return self


class IntegrationSpec(Model):
    """The body of ``POST /integrations`` (seed 001)."""

    summary: str | None = Field(default=None, max_length=255)
    description: str | None = None
    first_connector: ConnectorSpec = Field(alias="firstConnector")
    second_connector: ConnectorSpec = Field(alias="secondConnector")
    integration_key: Any = Field(default=None, alias="integrationKey", exclude=True)
    created_user: Any = Field(default=None, alias="createdUser", exclude=True)
    last_modified_user: Any = Field(default=None, alias="lastModifiedUser", exclude=True)
    created_date: Any = Field(default=None, alias="createdDate", exclude=True)
    last_modified_date: Any = Field(default=None, alias="lastModifiedDate", exclude=True)
    status: Any = Field(default=None, exclude=True)
    distributed: bool = False
    master: bool | None = None
    partner_project_type: str | None = Field(default=None, alias="partnerProjectType")


def complete_configurations(
    first: Configuration | None, second: Configuration | None
) -> tuple[Configuration, Configuration]:
    """Fill in what the user left out, so that the stored configuration says what runs.

    A side without field mappings gets the partner's, mirrored; when neither
    side has any, both get the default set. The same for issue-type mappings
    (incoming of one side is outgoing of the other) and workflow mappings.
    """
    one = first.model_copy(deep=True) if first else Configuration()
    two = second.model_copy(deep=True) if second else Configuration()
    policy = "automatic_conflict_resolution"
    for a, b in ((one, two), (two, one)):
        # Both sides must settle a conflict the same way: one side's choice is both's.
        if policy not in a.sync.model_fields_set and policy in b.sync.model_fields_set:
            a.sync.automatic_conflict_resolution = b.sync.automatic_conflict_resolution
    if not one.field_mappings and not two.field_mappings:
        one.field_mappings = default_field_mappings()
    if not one.field_mappings:
        one.field_mappings = [m.mirrored() for m in two.field_mappings]
    if not two.field_mappings:
        two.field_mappings = [m.mirrored() for m in one.field_mappings]
    for a, b in ((one, two), (two, one)):
        if not a.issue_type_mappings.incoming and b.issue_type_mappings.outgoing:
            a.issue_type_mappings.incoming = [
                IssueTypeMapping(local=m.remote, remote=m.local)
                for m in b.issue_type_mappings.outgoing
            ]
        if not a.issue_type_mappings.outgoing and b.issue_type_mappings.incoming:
            a.issue_type_mappings.outgoing = [
                IssueTypeMapping(local=m.remote, remote=m.local)
                for m in b.issue_type_mappings.incoming
            ]
        if not any(w.status_mappings for w in a.workflow_mappings):
            mirrored = [
                WorkflowMapping(
                    id=w.id,
                    status_mappings=[
                        StatusMapping(local=s.remote, remote=s.local) for s in w.status_mappings
                    ],
                )
                for w in b.workflow_mappings
                if w.status_mappings
            ]
            if mirrored:
                a.workflow_mappings = mirrored
        if not any(w.id == GLOBAL_WORKFLOW for w in a.workflow_mappings):
            a.workflow_mappings.insert(0, WorkflowMapping())
    return one, two


def configuration_json(configuration: Configuration) -> dict[str, Any]:
    """The ``configuration`` block as the API shows it (seed 001 names and shape).

    A workflow mapping without status pairs shows only its id, as in seed 001.
    """
    body = configuration.model_dump(mode="json", by_alias=True)
    for workflow in body["workflowMappings"]:
        if not workflow["statusMappings"]:
            del workflow["statusMappings"]
    return body
