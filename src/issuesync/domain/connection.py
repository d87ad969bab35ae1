"""Where a connector connects: its tracker (system, base URL, sync user, secret, proxy) and
its two queues. Dialect-neutral (Backbone's ``connection.application`` and
``connection.connector`` blocks translate to these in ``api/backbone/documents``).

Secrets are :class:`~pydantic.SecretStr`: they print as ``**********`` and no rendering
shows them. A URL never carries one: every URL passes
:func:`~issuesync.domain.urls.checked_url`. A change of a connection follows pydantic's
rule for partial input: what the caller did not set (``model_fields_set``) stays as stored.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, SecretStr, field_validator

from issuesync.domain.configuration import DelayMs, IntervalMs, Model
from issuesync.domain.urls import checked_url

TRACKER_CREDENTIALS: Final = "'user' and 'password' or 'token'"
PROXY_CREDENTIALS: Final = "'proxy.username' and 'proxy.password'"
LOCAL: Final = "local"  # the built-in tracker's system
JIRA: Final = "jira"  # the system of a connection that gives a base URL and no system

QueueType = Literal["vm", "file", "http"]


class Queue(Model):
    """A send or receive queue: ``vm`` (in-process, by name), ``file`` (a folder path) or
    ``http`` (a relation's partner node, by the relation's name: ``docs/issuehub.md``)."""

    type: QueueType = "vm"
    name: str | None = None
    path: str | None = None


class QueueSettings(Model):
    """A connector's queues and its internal polling delays (milliseconds)."""

    send_queue: Queue | None = None
    receive_queue: Queue | None = None
    initial_delay_ms: DelayMs = Field(default=1000, ge=0)
    polling_interval_ms: IntervalMs = Field(default=1000, ge=10)


class Proxy(Model):
    """An HTTP proxy for a remote tracker; the password is write-only."""

    uri: str = Field(min_length=1)
    username: str | None = None
    password: SecretStr | None = None

    @field_validator("uri")
    @classmethod
    def _plain_uri(cls, value: str) -> str:
        return checked_url(value, credentials=PROXY_CREDENTIALS)


def checked_base_url(value: str | None) -> str | None:
    """A tracker's base URL as :func:`~issuesync.domain.urls.checked_url` allows it."""
    return None if value is None else checked_url(value, credentials=TRACKER_CREDENTIALS)


def resolved_system(system: str | None, base_url: str | None) -> str:
    """The tracker's adapter name: ``local`` when no system and no base URL are given."""
    if system:
        return system.lower()
    return JIRA if base_url else LOCAL


class TrackerConnection(Model):
    """Which tracker, where, and as whom (the sync user, with a password or a token)."""

    system: str | None = None
    base_url: str | None = None
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
        """The tracker's adapter name (see :func:`resolved_system`)."""
        return resolved_system(self.system, self.base_url)
