"""Integrations and connectors as seed 001 describes them: the body of ``POST /integrations``.

An integration pairs two connectors; each connector names its tracker, the
connection (base URL, sync user, secret, proxy), its project, its queues and
its configuration. Each connector's configuration is written from its own
point of view: ``localField`` is a field of its project, ``remoteField`` one of
the partner's, ``OUTGOING`` means "from this project to the partner".

The models validate input (unknown keys are refused, naming the field) and are
also the engine's typed view of a stored configuration. Secrets are
:class:`~pydantic.SecretStr`: they print as ``**********``, and the API's
JSON (``application/integration_json.py``) never contains them. A URL never carries
one: every URL a body can give passes :func:`~issuesync.domain.urls.checked_url`.

Every number has a range, refused outside it with the range named (the README
lists them): intervals and delays up to a day (:data:`MAX_DELAY_MS`), retention up
to :data:`MAX_KEPT_PER_ISSUE` messages per issue. A configuration read back from
the store (validated with the context :data:`~issuesync.domain.ranges.STORED`) is
brought into the ranges instead, so that a value saved before they were checked
cannot stop the engine.
"""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from issuesync.domain.ranges import stored, whole_number, within_ranges
from issuesync.domain.urls import checked_url

GLOBAL_WORKFLOW = "##GLOBAL##"

MAX_DELAY_MS: Final = 86_400_000  # a day: intervals, delays
MIN_INTERVAL_MS: Final = 100
MAX_KEPT_PER_ISSUE: Final = 10_000  # archived or discarded messages kept per issue
MAX_SEQUENCE_RETRIES: Final = 1_000

_DURATION = re.compile(r"^\s*(\d{1,15})\s*(ms|s|m|h)?\s*$")
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
TRACKER_CREDENTIALS: Final = "'user' and 'password' or 'token'"
PROXY_CREDENTIALS: Final = "'proxy.username' and 'proxy.password'"


def duration_ms(text: str) -> int:
    """``"5s"`` → 5000. Accepts ms, s, m and h; a bare number is seconds."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"'{text[:40]}' is not a duration: write it like 500ms, 5s, 1m or 1h")
    return int(found.group(1)) * _UNITS_MS[found.group(2) or "s"]


DelayMs = Annotated[int, whole_number(0, MAX_DELAY_MS, " (milliseconds: up to a day)")]
IntervalMs = Annotated[int, whole_number(10, MAX_DELAY_MS, " (milliseconds: up to a day)")]
KeptPerIssue = Annotated[int, whole_number(0, MAX_KEPT_PER_ISSUE, " (messages per issue)")]
Retries = Annotated[int, whole_number(0, MAX_SEQUENCE_RETRIES, " (runs)")]


class Model(BaseModel):
    """Input models: camelCase names as in the seeds, unknown keys refused."""

    # hide_input_in_errors: an error's text must not repeat a refused URL or a secret.
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, str_strip_whitespace=True, hide_input_in_errors=True
    )

    @model_validator(mode="before")
    @classmethod
    def _stored_numbers_within_range(cls, data: Any, info: ValidationInfo) -> Any:  # noqa: ANN401 - any JSON
        """A stored number outside its range is brought to the nearest end of it."""
        return within_ranges(cls.model_fields, data) if stored(info) else data


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
    def _valid_interval(cls, value: str, info: ValidationInfo) -> str:
        try:
            ms = duration_ms(value)
        except ValueError:
            if stored(info):
                return "5s"
            raise
        if MIN_INTERVAL_MS <= ms <= MAX_DELAY_MS:
            return value
        if stored(info):
            return "100ms" if ms < MIN_INTERVAL_MS else "24h"
        raise ValueError("an interval must be between 100ms and 24h (a day)")

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
    initial_internal_polling_delay: DelayMs = Field(
        default=1000, ge=0, le=MAX_DELAY_MS, alias="initialInternalPollingDelay"
    )
    internal_polling_interval: IntervalMs = Field(
        default=1000, ge=10, le=MAX_DELAY_MS, alias="internalPollingInterval"
    )


class Proxy(Model):
    """An HTTP proxy for a remote tracker; the password is write-only."""

    proxy_uri: str = Field(alias="proxyUri", min_length=1)
    username: str | None = None
    password: SecretStr | None = None

    @field_validator("proxy_uri")
    @classmethod
    def _plain_proxy_uri(cls, value: str) -> str:
        return checked_url(value, credentials=PROXY_CREDENTIALS)


def _plain_base_url(value: str | None) -> str | None:
    return None if value is None else checked_url(value, credentials=TRACKER_CREDENTIALS)


class Application(Model):
    """``connection.application``: which tracker, where, and as whom."""

    system: str | None = None
    base_url: str | None = Field(default=None, alias="baseUrl")
    user: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    proxy: Proxy | None = None

    @field_validator("base_url")
    @classmethod
    def _plain_base_url(cls, value: str | None) -> str | None:
        return _plain_base_url(value)

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

    @field_validator("base_url")
    @classmethod
    def _plain_base_url(cls, value: str | None) -> str | None:
        return _plain_base_url(value)


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
