"""Settings, read from the environment in one place (``ISSUESYNC_*``).

Every number has a range and every URL is checked as a tracker's is
(:func:`~issuesync.domain.urls.checked_url`); a value outside is refused at start,
naming the variable (the README's configuration table lists the ranges).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from issuesync.domain.urls import checked_url

MAX_ATTACHMENT_SIZE: Final = 2 * 1024**3  # 2 GiB: Jira's own ceiling for one attachment
MAX_LEASE_MS: Final = 3_600_000  # an hour


class Settings(BaseSettings):
    """Everything issuesync can be told from outside; see the README for each variable."""

    model_config = SettingsConfigDict(env_prefix="ISSUESYNC_", extra="ignore")

    home: Path = Field(default=Path(".issuesync"), description="data directory")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the home"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    base_url: str | None = Field(
        default=None,
        description="public URL used in `self` links; default http://HOST:PORT; http(s), "
        "no credentials, no query",
    )
    admin_user: str = "admin"
    admin_password: SecretStr | None = None
    secret_key: SecretStr | None = None
    # A bearer token that GET /metrics asks for; without one, /metrics is open (as /healthz).
    metrics_token: SecretStr | None = None
    metrics_enabled: bool = Field(
        default=True,
        description="count events and serve GET /metrics (false: recording is a no-op, "
        "/metrics answers 404)",
    )
    max_attachment_size: int = Field(
        default=10 * 1024 * 1024,
        ge=1,
        le=MAX_ATTACHMENT_SIZE,
        description="largest attachment in bytes, 1 to 2 GiB",
    )
    max_request_size: int = Field(
        default=10 * 1024 * 1024,
        ge=64 * 1024,
        le=1024 * 1024 * 1024,
        description="largest request body of any API call but an attachment upload, in bytes",
    )
    text_field_limit: int = Field(
        default=32_767,
        ge=255,
        le=1_000_000,
        description="most characters in a text field of the built-in tracker (Jira's "
        "jira.text.field.character.limit): description, comments, text custom fields",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    log_format: Literal["json", "console"] | None = Field(
        default=None,
        description="log lines as JSON objects or readable text; unset: console on a "
        "terminal, json otherwise",
    )
    engine_enabled: bool = Field(default=True, description="run the sync engine in `serve`")
    engine_lease_ms: int = Field(
        default=30_000,
        ge=1000,
        le=MAX_LEASE_MS,
        description="connector lease length in ms, 1000 (a second) to 3600000 (an hour)",
    )
    write_wait_ms: int = Field(
        default=10_000,
        ge=100,
        le=300_000,
        description="how long a request or the engine waits for the database (the write "
        "turn, a lock, a connection) before it fails with 503 busy",
    )
    # -- guessing and privacy (see the README, "Logins" and "E-mail addresses") --
    login_failures_per_user: int = Field(
        default=5, ge=1, le=1000, description="failed passwords per user name per window"
    )
    login_failures_per_address: int = Field(
        default=20, ge=1, le=100_000, description="failed logins per client address per window"
    )
    login_failure_window_s: int = Field(
        default=300, ge=1, le=86_400, description="window of the counts; the first lock's length"
    )
    login_lockout_max_s: int = Field(
        default=900, ge=1, le=86_400, description="longest lock, however often the limit is hit"
    )
    trusted_proxies: str = Field(
        default="",
        max_length=4096,
        description="addresses (or CIDRs) of reverse proxies whose X-Forwarded-For is believed",
    )
    show_email_addresses: bool = Field(
        default=False, description="show every user's e-mail to every user (else admins only)"
    )
    queue_roots: str = Field(
        default="",
        max_length=4096,
        description=(
            "the folders a file queue's folder must resolve under (symlinks followed), "
            "absolute, separated by os.pathsep (':'); empty: the home's data/default"
        ),
    )

    @field_validator("queue_roots")
    @classmethod
    def _absolute_roots(cls, value: str) -> str:
        for root in _split_roots(value):
            if not Path(root).is_absolute():
                raise ValueError(f"'{root}' is not an absolute path")
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return (value.strip().lower() or None) if isinstance(value, str) else value

    @field_validator("base_url")
    @classmethod
    def _plain_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return checked_url(value, credentials="nothing: issuesync's own URL needs none")

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the home."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.home / 'issuesync.db').resolve()}"

    @property
    def resolved_base_url(self) -> str:
        """The URL that `self` links start with, without a trailing slash."""
        if self.base_url:
            return self.base_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def attachments_dir(self) -> Path:
        """Where attachment content lives, addressed by its sha256."""
        return self.home / "attachments"

    @property
    def queue_root_paths(self) -> tuple[Path, ...]:
        """The folders ``queue_roots`` names; none: the engine's default (``data/default``)."""
        return tuple(Path(root) for root in _split_roots(self.queue_roots))

    @property
    def transit_dir(self) -> Path:
        """Where attachment content in transit between connectors lives (by sha256)."""
        return self.home / "data" / "blobs"


def _split_roots(text: str) -> list[str]:
    return [root.strip() for root in text.split(os.pathsep) if root.strip()]


def normalize_database_url(url: str) -> str:
    """Let users write plain ``postgresql://`` URLs; use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
