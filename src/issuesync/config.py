"""Settings, read from the environment in one place (``ISSUESYNC_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        default=None, description="public URL used in `self` links; default http://HOST:PORT"
    )
    admin_user: str = "admin"
    admin_password: SecretStr | None = None
    secret_key: SecretStr | None = None
    max_attachment_size: int = Field(default=10 * 1024 * 1024, ge=1)
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
    log_level: str = "info"
    engine_enabled: bool = Field(default=True, description="run the sync engine in `serve`")
    engine_lease_ms: int = Field(default=30_000, ge=1000, description="connector lease length")

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
    def transit_dir(self) -> Path:
        """Where attachment content in transit between connectors lives (by sha256)."""
        return self.home / "data" / "blobs"


def normalize_database_url(url: str) -> str:
    """Let users write plain ``postgresql://`` URLs; use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
