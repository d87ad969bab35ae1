"""Which adapter serves which tracker system, and how one is opened for a connector."""

from __future__ import annotations

from dataclasses import dataclass

from issuesync.errors import ConfigurationError
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.local.tracker import LocalTracker

KNOWN_SYSTEMS = ("local", "jira")


@dataclass(frozen=True)
class TrackerAccess:
    """Everything needed to open a connector's tracker; the secret never leaves this object."""

    system: str
    project_key: str
    base_url: str | None
    user: str | None
    secret: tuple[str, str] | None  # (kind, value); kind is "password" or "token"

    def __repr__(self) -> str:
        return (
            f"TrackerAccess(system={self.system!r}, project_key={self.project_key!r}, "
            f"base_url={self.base_url!r}, user={self.user!r}, secret=***)"
        )


def open_tracker(access: TrackerAccess, local: LocalTracker, default_user: str) -> Tracker:
    """The adapter for a connector's tracker, working as its sync user."""
    if access.system == "local":
        from issuesync.trackers.local.adapter import local_adapter_for  # noqa: PLC0415

        return local_adapter_for(local, access.project_key, access.user or default_user)
    if access.system in KNOWN_SYSTEMS:
        raise ConfigurationError(
            f"The '{access.system}' tracker adapter is not part of this version yet; "
            "pair built-in (local) projects for now."
        )
    raise ConfigurationError(
        f"Unknown tracker system '{access.system}': use one of {', '.join(KNOWN_SYSTEMS)}."
    )
