"""The bodies of ``POST``/``PUT /integrations`` and ``PUT …/applicationConnection`` (seed 001).

The models validate a body: unknown keys are refused, naming the field; every URL passes
:func:`~issuesync.domain.urls.checked_url`; every number is within its range. Keys the API
returns that a client may send back unchanged (``createdUser``, ``connectorKey``, …) are
accepted and ignored. :func:`draft_of` and :func:`changes_of` make the core's neutral
models of them, keeping what a body did not set unset (a change leaves it as it is).
Secrets are :class:`~pydantic.SecretStr`: they print as ``**********``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator

from issuesync.api.backbone.documents.configuration import (
    Configuration,
    Model,
    neutral_configuration,
)
from issuesync.api.backbone.documents.fields import validation_field_errors
from issuesync.domain import connection as neutral
from issuesync.domain.configuration import MAX_DELAY_MS, DelayMs, IntervalMs
from issuesync.domain.connection import PROXY_CREDENTIALS, checked_base_url, resolved_system
from issuesync.domain.integration import (
    PROJECT_KEY_LENGTH,
    ConnectionChanges,
    ConnectorDraft,
    IntegrationDraft,
    project_key_as_spelled,
)
from issuesync.domain.urls import checked_url
from issuesync.errors import InvalidInputError


class Queue(Model):
    """A send or receive queue: ``vm`` (in-process, by name), ``file`` (a folder path) or
    ``http`` (a relation's, as pairing made it: shown, and accepted back unchanged)."""

    type: Literal["vm", "file", "http"] = Field(default="vm", alias="@type")
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
        return checked_base_url(value)

    @property
    def resolved_system(self) -> str:
        """The tracker's adapter name: ``local`` when no system and no base URL are given."""
        return resolved_system(self.system, self.base_url)


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
        return checked_base_url(value)


class ConnectionUpdate(Model):
    """The body of ``PUT /integrations/{key}/applicationConnection`` (seed 001)."""

    first_connector: ConnectionChange | None = Field(default=None, alias="firstConnector")
    second_connector: ConnectionChange | None = Field(default=None, alias="secondConnector")


class Connection(Model):
    """A connector's ``connection``."""

    application: Application = Field(default_factory=Application)
    connector: QueueSettings | None = None


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
        system = self.connection.application.resolved_system
        self.project_key = project_key_as_spelled(system, self.project_key)
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

    @property
    def connectors(self) -> tuple[ConnectorSpec, ConnectorSpec]:
        """``firstConnector`` and ``secondConnector``."""
        return self.first_connector, self.second_connector


def parse_integration_spec(body: object) -> IntegrationSpec:
    """The body of ``POST``/``PUT /integrations`` as a spec; a wrong body names its fields."""
    if not isinstance(body, dict):
        raise InvalidInputError("The body must be a JSON object describing an integration.")
    try:
        return IntegrationSpec.model_validate(body)
    except ValidationError as exc:
        raise InvalidInputError(
            "The integration is not valid.", field_errors=validation_field_errors(exc)
        ) from exc


# --- into the core's models ------------------------------------------------------------------


def _given(model: Model, names: dict[str, str]) -> dict[str, Any]:
    """The fields the body set, by their neutral names (``names``: body's → neutral)."""
    return {
        neutral_name: getattr(model, name)
        for name, neutral_name in names.items()
        if name in model.model_fields_set
    }


def _proxy(proxy: Proxy | None) -> neutral.Proxy | None:
    if proxy is None:
        return None
    return neutral.Proxy.model_validate(
        _given(proxy, {"proxy_uri": "uri", "username": "username", "password": "password"})
    )


_CONNECTION = {"base_url": "base_url", "user": "user", "password": "password", "token": "token"}


def tracker_connection(given: Application | ConnectionChange) -> neutral.TrackerConnection:
    """The core's connection of an ``application`` block or a side of a connection change."""
    names = {"system": "system", **_CONNECTION} if isinstance(given, Application) else _CONNECTION
    values = _given(given, names)
    if "proxy" in given.model_fields_set:
        values["proxy"] = _proxy(given.proxy)
    return neutral.TrackerConnection.model_validate(values)


def _queue(queue: Queue | None) -> neutral.Queue | None:
    if queue is None:
        return None
    return neutral.Queue.model_validate(
        _given(queue, {"type": "type", "name": "name", "path": "path"})
    )


def queue_settings(settings: QueueSettings | None) -> neutral.QueueSettings | None:
    """The core's queues of a ``connection.connector`` block."""
    if settings is None:
        return None
    return neutral.QueueSettings(
        send_queue=_queue(settings.send_queue),
        receive_queue=_queue(settings.receive_queue),
        initial_delay_ms=settings.initial_internal_polling_delay,
        polling_interval_ms=settings.internal_polling_interval,
    )


def connector_draft(spec: ConnectorSpec) -> ConnectorDraft:
    """The core's draft of one side."""
    configuration = spec.configuration
    return ConnectorDraft(
        project_key=spec.project_key,
        connection=tracker_connection(spec.connection.application),
        queues=queue_settings(spec.connection.connector),
        configuration=neutral_configuration(configuration) if configuration else None,
    )


def draft_of(spec: IntegrationSpec) -> IntegrationDraft:
    """The core's draft of a ``POST``/``PUT /integrations`` body."""
    return IntegrationDraft(
        summary=spec.summary,
        description=spec.description,
        first=connector_draft(spec.first_connector),
        second=connector_draft(spec.second_connector),
        distributed=spec.distributed,
    )


def changes_of(update: ConnectionUpdate) -> ConnectionChanges:
    """The core's change of the connections of an ``applicationConnection`` body."""
    first, second = update.first_connector, update.second_connector
    return ConnectionChanges(
        first=tracker_connection(first) if first is not None else None,
        second=tracker_connection(second) if second is not None else None,
    )
