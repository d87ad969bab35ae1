"""The Backbone dialect's response shapes, for the OpenAPI document (seeds 000-002).

The routes build their answers as plain JSON (``documents/integrations.py``,
``documents/tasks.py``, ...), which is faster than validating a model per
response; these models describe exactly that JSON so that ``/openapi.json``
tells clients, and schemathesis, the truth. Names are the seeds' camelCase.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from issuesync.api.backbone.documents.configuration import Configuration


class Shape(BaseModel):
    """A documented response shape (not used to build responses)."""

    model_config = ConfigDict(populate_by_name=True)


class BackboneError(Shape):
    """Every error of this API: the HTTP status, a message, and per-field errors for a 400."""

    status_code: int = Field(alias="status-code", examples=[404])
    message: str = Field(examples=["No integration with key INT-9."])
    errors: dict[str, str] | None = Field(
        default=None, description="Per field of the body or query, what is wrong with it."
    )


class Audit(Shape):
    created_user: str = Field(alias="createdUser")
    last_modified_user: str = Field(alias="lastModifiedUser")
    created_date: str = Field(alias="createdDate", examples=["2017-05-17T08:01:37+0200"])
    last_modified_date: str = Field(alias="lastModifiedDate")


class ProxyOut(Shape):
    proxy_uri: str = Field(alias="proxyUri")
    username: str | None = None


class ApplicationOut(Shape):
    """The tracker a connector works on; passwords and tokens are never shown."""

    base_url: str | None = Field(alias="baseUrl")
    user: str | None
    system: str = Field(description="The tracker's adapter: local, jira, or partner.")
    proxy: ProxyOut | None = None


class QueueOut(Shape):
    type: Literal["vm", "file"] = Field(alias="@type")
    name: str | None = None
    path: str | None = None


class QueuesOut(Shape):
    send_queue: QueueOut = Field(alias="sendQueue")
    receive_queue: QueueOut = Field(alias="receiveQueue")
    initial_internal_polling_delay: int = Field(alias="initialInternalPollingDelay")
    internal_polling_interval: int = Field(alias="internalPollingInterval")


class ConnectionOut(Shape):
    application: ApplicationOut
    connector: QueuesOut


class ConnectorOut(Audit):
    """One side of an integration (seed 001)."""

    connector_key: str = Field(alias="connectorKey", examples=["PA-4"])
    project_key: str = Field(alias="projectKey")
    project_connector_key: str = Field(alias="projectConnectorKey")
    connection: ConnectionOut
    configuration: Configuration


RouteStatus = Literal["STARTED", "STOPPED"]
ProcessingStatus = Literal["IDLE", "PROCESSING"]


class ConnectorStatusOut(Shape):
    """One connector's routes, as the engine reports them (seed 002)."""

    connector_key: str = Field(alias="connectorKey")
    start_time: int | None = Field(
        default=None, alias="startTime", description="Epoch ms; only while it runs."
    )
    online: bool
    reconnecting: bool
    incoming_route_status: RouteStatus = Field(alias="incomingRouteStatus")
    incoming_processing_status: ProcessingStatus = Field(alias="incomingProcessingStatus")
    incoming_details: str = Field(alias="incomingDetails")
    outgoing_route_status: RouteStatus = Field(alias="outgoingRouteStatus")
    outgoing_processing_status: ProcessingStatus = Field(alias="outgoingProcessingStatus")
    outgoing_details: str = Field(alias="outgoingDetails")
    external_route_status: RouteStatus = Field(alias="externalRouteStatus")
    issues_in_error: int = Field(alias="issuesInError")


class StatusOut(Shape):
    """``GET /integrations/{key}/status`` (seed 002)."""

    status: Literal["RUNNING", "STOPPED"]
    first_connector: ConnectorStatusOut = Field(alias="firstConnector")
    second_connector: ConnectorStatusOut | None = Field(default=None, alias="secondConnector")


class IntegrationOut(Audit):
    """An integration (seed 001); in lists also its ``status`` (seed 002)."""

    integration_key: str = Field(alias="integrationKey", examples=["INT-3"])
    summary: str
    description: str
    distributed: bool | None = None
    status: StatusOut | None = None
    first_connector: ConnectorOut = Field(alias="firstConnector")
    second_connector: ConnectorOut = Field(alias="secondConnector")


class TaskOut(Shape):
    """An asynchronous task (seeds 000 and 001)."""

    id: str = Field(pattern="^[0-9A-F]{32}$", examples=["53A90124015DAC398C292BBD70979338"])
    start_timestamp: str = Field(alias="startTimestamp", examples=["Aug 04, 2017 -- 09:50 AM"])
    finished: bool
    cancelled: bool
    has_failed: bool = Field(alias="hasFailed")
    failure_message: str | None = Field(alias="failureMessage")
    progress: int = Field(ge=0, le=100)
    message: str
    resource_location: str | None = Field(alias="resourceLocation")


class SyncInfoOut(Shape):
    """Which local issue belongs to which remote one (seed 000); a date or sequence id that
    never happened is ``0``."""

    id: int
    connector_key: str = Field(alias="connectorKey")
    local_issue_key: str = Field(alias="localIssueKey")
    remote_issue_key: str = Field(alias="remoteIssueKey")
    first_sync_date: int = Field(alias="firstSyncDate")
    last_outgoing_change: int = Field(alias="lastOutgoingChange")
    last_change_seen: int = Field(alias="lastChangeSeen")
    outgoing_message_sequence_id: int = Field(alias="outgoingMessageSequenceId")
    last_incoming_change: int = Field(alias="lastIncomingChange")
    incoming_message_sequence_id: int = Field(alias="incomingMessageSequenceId")
    incoming_changes_ignored: bool = Field(alias="incomingChangesIgnored")


class CountOut(Shape):
    """How many things an import, a deletion, a retry or a discard touched."""

    count: int
    message: str


class MessageOut(Shape):
    """A message in a connector's send or receive queue."""

    id: int
    message_id: str = Field(alias="messageId")
    queue: Literal["send", "receive"]
    state: str = Field(description="The folder it is in: new, archive, error, issue-missing, ...")
    kind: str
    issue_key: str = Field(alias="issueKey")
    sequence_id: int = Field(alias="sequenceId")
    reason: str | None
    attempts: int
    created: int
    updated: int


class MessageDetailOut(Shape):
    """One message with its body, and its replica decoded."""

    state: str
    reason: str | None
    message: dict[str, Any] | None = None
    replica: dict[str, Any] | None = None
    invalid: str | None = Field(default=None, description="Why the stored body is not a message.")


class ConflictFieldOut(Shape):
    field: str
    local_value: Any = Field(alias="localValue")
    remote_value: Any = Field(alias="remoteValue")


class ConflictOut(Shape):
    """A validation conflict of the configuration, or a data conflict waiting for a person."""

    id: str
    category: Literal["validation", "data"]
    type: str = Field(examples=["unknownField", "unmappedStatus", "concurrentChange"])
    connector_key: str = Field(alias="connectorKey")
    project_key: str = Field(alias="projectKey")
    message: str
    resolution: str = Field(description="What to change, or which request settles it.")
    message_id: int | None = Field(default=None, alias="messageId")
    issue_key: str | None = Field(default=None, alias="issueKey")
    remote_issue_key: str | None = Field(default=None, alias="remoteIssueKey")
    fields: list[ConflictFieldOut] | None = None
    created_date: str | None = Field(default=None, alias="createdDate")
    severity: Literal["error", "warning"] = Field(
        default="error",
        description="error: blocks an issue or the integration; warning: a value that will "
        "not cross as it is (a proposed mapping's gap), nothing waits for it.",
    )


class ProposedPairOut(Shape):
    """A value of one project and the partner's value it is proposed to map to, and why."""

    kind: Literal["status", "issue type", "priority", "field"]
    project_key: str = Field(alias="projectKey")
    value: str
    partner_value: str = Field(alias="partnerValue")
    reason: str


class ProposalWarningOut(Shape):
    """A value that will not cross (or only approximately), and why."""

    kind: Literal["status", "issue type", "priority", "field"]
    project_key: str = Field(alias="projectKey")
    value: str
    reason: str


class ProposalDifferenceOut(Shape):
    """A value whose mapping the new proposal changes: the stored and the proposed partner."""

    kind: str
    project_key: str = Field(alias="projectKey")
    value: str
    stored: str | None
    proposed: str | None


class UnreadOut(Shape):
    """A project whose schema could not be read, and why."""

    project_key: str = Field(alias="projectKey")
    reason: str


class ProposedConnectorOut(Shape):
    """A connector's proposed configuration (the ``configuration`` block of seed 001)."""

    project_key: str = Field(alias="projectKey")
    configuration: dict[str, Any]


class ProposalOut(Shape):
    """Mappings proposed from both projects' schemas (docs/trackers.md, "Proposed mappings")."""

    state: Literal["proposed", "notProposed"]
    connectors: list[ProposedConnectorOut] | None = None
    pairs: list[ProposedPairOut] | None = None
    warnings: list[ProposalWarningOut] | None = None
    unread: list[UnreadOut] | None = None
    differences: list[ProposalDifferenceOut] | None = Field(
        default=None, description="Only for a stored integration: what storing it would change."
    )
