"""Connections run by jobs, dialect-neutral: a tracker server to reach, and what a
connection between a built-in project and a project of that tracker syncs.

SD Elements' ``params`` (seed 004) translate to and from these in ``api/connections/``;
``docs/connections.md`` is the user's account. A **tracker server** (SD Elements'
*connector*) is a tracker and how to log in to it; its secret is write-only. A
**connection's settings** say which of the project's issues are created in the tracker
(``statuses``, ``min_priority``), under which title and parent, and who wins a status
both sides changed since the last job.

The priority rank: SD Elements ranks 1 (lowest) to 10 (highest). A built-in project's
priorities, listed highest first, are spread over that scale: with the shipped five,
Highest 10, High 8, Medium 5, Low 3, Lowest 1 (:func:`priority_ranks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Final, Literal

from pydantic import Field, JsonValue, SecretStr, field_validator

from issuesync.domain.configuration import Model, template_problem
from issuesync.domain.schedule import Frequency

MIN_RANK: Final = 1
MAX_RANK: Final = 10
DEFAULT_TITLE_FORMAT: Final = "$task_id $title"
MAX_EXTRAS: Final = 50  # params stored as given (no effect), per connection
MAX_NAME: Final = 255


class ConflictPolicy(StrEnum):
    """Which side's status wins when both changed it since the last job: the tracker's
    (``issue_tracker``, the default) or the built-in project's (``sde``)."""

    ISSUE_TRACKER = "issue_tracker"
    SDE = "sde"


class TrackerServer(Model):
    """A tracker and how to reach it and log in (SD Elements' connector)."""

    name: str = Field(min_length=1, max_length=MAX_NAME)
    system: str = Field(min_length=1, max_length=32)
    server: str = Field(min_length=1, max_length=1024)  # host[:port][/path], no scheme
    method: Literal["http", "https"] = "https"
    validate_cert: bool = True
    auth_mode: Literal["basic", "token"] = "basic"
    user: str | None = Field(default=None, max_length=MAX_NAME)
    secret: SecretStr | None = None

    @field_validator("server")
    @classmethod
    def _no_scheme_no_credentials(cls, value: str) -> str:
        server = value.strip().rstrip("/")
        if "://" in server:
            raise ValueError("Give the host (and port, path) without 'http://' or 'https://'.")
        if "@" in server.split("/")[0]:
            raise ValueError("The server must not carry credentials: give user and password.")
        if not server or any(c.isspace() for c in server):
            raise ValueError("The server must be a host name, without spaces.")
        return server

    @property
    def base_url(self) -> str:
        """The tracker's base URL."""
        return f"{self.method}://{self.server}"


class ConnectionSettings(Model):
    """What a connection syncs between its built-in project and its tracker project.

    ``statuses``: the statuses a project issue must have to be created in the tracker
    (empty: any); ``min_priority``: the lowest rank (1-10) it must have (None: any);
    an issue once created keeps syncing whatever its status and priority become.
    ``extras``: params of the dialect that issuesync stores and returns but does not
    act on.
    """

    tracker_project: str = Field(min_length=1, max_length=MAX_NAME)
    title_format: str = Field(default=DEFAULT_TITLE_FORMAT, min_length=1, max_length=255)
    parent_issue: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    statuses: list[str] = Field(default_factory=list, max_length=100)
    min_priority: int | None = Field(default=None, ge=MIN_RANK, le=MAX_RANK)
    conflict_policy: ConflictPolicy = ConflictPolicy.ISSUE_TRACKER
    extras: dict[str, JsonValue] = Field(default_factory=dict, max_length=MAX_EXTRAS)

    @field_validator("title_format")
    @classmethod
    def _valid_format(cls, value: str) -> str:
        if problem := template_problem(value):
            raise ValueError(problem)
        return value


class ConnectionDraft(Model):
    """A connection as a request gives it."""

    alias: str = Field(min_length=1, max_length=MAX_NAME)
    project_id: int = Field(ge=1, le=2**31 - 1)
    tracker_server_id: int = Field(ge=1, le=2**31 - 1)
    frequency: Frequency = Frequency.MANUALLY
    debug_mode: bool = False
    settings: ConnectionSettings


def priority_ranks(priorities: Sequence[str]) -> dict[str, int]:
    """Each priority's rank on the 1-10 scale, given the priorities highest first."""
    if not priorities:
        return {}
    if len(priorities) == 1:
        return {priorities[0]: MAX_RANK}
    step = (MAX_RANK - MIN_RANK) / (len(priorities) - 1)
    return {name: MAX_RANK - int(i * step + 0.5) for i, name in enumerate(priorities)}


def priorities_at_or_above(priorities: Sequence[str], min_rank: int | None) -> list[str]:
    """The priorities (given highest first) whose rank is ``min_rank`` or more; all of them
    when there is no minimum (an empty list: any priority)."""
    if min_rank is None:
        return []
    return [name for name, rank in priority_ranks(priorities).items() if rank >= min_rank]
