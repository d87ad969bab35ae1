"""Integrations and their connectors, dialect-neutral.

An integration pairs two connectors; each connector names its project on a tracker, the
connection to that tracker (``domain/connection.py``), its queues and its configuration
(``domain/configuration.py``). What a dialect's request asks for is an
:class:`IntegrationDraft`; what the core shows back is an :class:`IntegrationView`
(no secrets in it). Every API dialect translates to and from these: Backbone's bodies in
``api/backbone/documents``.

Keys: an integration is ``INT-n``; a connector is ``<PROJECT>-n`` (:func:`connector_key_base`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from pydantic import Field, field_validator, model_validator

from issuesync.domain.configuration import Configuration, Model
from issuesync.domain.connection import QueueSettings, TrackerConnection

PROJECT_KEY_LENGTH: Final = 255
# Systems whose project keys are upper case (Jira's rule); others keep the tracker's spelling.
UPPER_CASE_KEYS: Final = frozenset({"local", "jira"})
CONNECTOR_KEY_BASE_LENGTH: Final = 48


def project_key_as_spelled(system: str, project_key: str) -> str:
    """A project key as the tracker spells it: trimmed; upper case for Jira and the built-in one.

    A Jira or built-in key is upper case; a Redmine identifier, a GitHub owner/repo or a
    GitLab group/project path is kept as written.
    """
    key = project_key.strip()
    return key.upper() if system in UPPER_CASE_KEYS else key


def connector_key_base(project_key: str) -> str:
    """What a connector's key starts with: its project key, upper case, made safe for a URL.

    ``PB`` gives ``PB`` (the key ``PB-2``); ``octo/web-shop`` gives ``OCTO_WEB_SHOP``.
    """
    safe = re.sub(r"[^A-Z0-9_]+", "_", project_key.upper()).strip("_")
    return safe[:CONNECTOR_KEY_BASE_LENGTH] or "PROJECT"


class ConnectorDraft(Model):
    """One side of an integration as a request gives it.

    ``queues`` and ``configuration`` may be left out (None): on creation the defaults are
    filled in, on a change the stored ones stay.
    """

    project_key: str = Field(min_length=1, max_length=PROJECT_KEY_LENGTH)
    connection: TrackerConnection = Field(default_factory=TrackerConnection)
    queues: QueueSettings | None = None
    configuration: Configuration | None = None

    @field_validator("project_key")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _as_spelled(self) -> ConnectorDraft:
        self.project_key = project_key_as_spelled(self.connection.resolved_system, self.project_key)
        return self


class IntegrationDraft(Model):
    """An integration as a request to create or change one gives it.

    On a change, ``summary`` and ``description`` left out (None) stay as they are.
    ``distributed``: the second connector runs on the partner node (file queues shared
    with it); only this node's side is checked and run here.
    """

    summary: str | None = Field(default=None, max_length=255)
    description: str | None = None
    first: ConnectorDraft
    second: ConnectorDraft
    distributed: bool = False

    @property
    def connectors(self) -> tuple[ConnectorDraft, ConnectorDraft]:
        """The first and the second connector."""
        return self.first, self.second


class ConnectionChanges(Model):
    """A change of where the connectors connect (base URLs, secrets, proxies), per side.

    A side left out (None) stays as it is; within a side, what is not set stays. The
    sync user's name is not changed this way (a change of the integration changes it).
    """

    first: TrackerConnection | None = None
    second: TrackerConnection | None = None

    @property
    def sides(self) -> tuple[TrackerConnection | None, TrackerConnection | None]:
        """The first and the second side's change."""
        return self.first, self.second


# --- what the core shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Audit:
    """Who created and last changed something, and when (epoch milliseconds)."""

    created_user: str
    created_ms: int
    modified_user: str
    modified_ms: int


@dataclass(frozen=True)
class ProxyView:
    """A connector's proxy, without its password."""

    uri: str
    username: str | None


@dataclass(frozen=True)
class ConnectorView:
    """One connector as it is stored, without secrets.

    ``base_url`` and the proxy's ``uri`` are shown without credentials, also those stored
    before URLs with credentials were refused.
    """

    id: int
    key: str
    audit: Audit
    project_key: str
    project_connector_key: str
    system: str
    base_url: str | None
    user: str | None
    proxy: ProxyView | None
    queues: QueueSettings  # both queues filled in
    configuration: Configuration


@dataclass(frozen=True)
class IntegrationView:
    """An integration with its two connectors, as it is stored."""

    id: int
    key: str
    audit: Audit
    summary: str
    description: str
    running: bool
    distributed: bool
    first: ConnectorView
    second: ConnectorView
