"""The built-in tracker: a small real tracker with a Jira-compatible REST API.

To the engine it is one adapter among others, opened through its entry point
``local`` (:func:`open_local`); its Jira REST routes are a surface (``api/jira``).
"""

from __future__ import annotations

from issuesync.errors import ConfigurationError
from issuesync.trackers.access import AdapterContext
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.local.adapter import local_adapter_for
from issuesync.trackers.local.tracker import LocalTracker

__all__ = ["LocalTracker", "local_adapter_for", "open_local"]


def open_local(context: AdapterContext) -> Tracker:
    """The built-in tracker's factory (entry point ``local``): one of its projects, in-process.

    The adapter works as the connector's own sync user, with exactly that user's
    permissions; it never falls back to ``default_user`` (the administrator), which
    would let whoever left the user out act as the administrator.

    Raises:
        ConfigurationError: the connector names no sync user, or one that does
            not exist in the built-in tracker; or this process runs no built-in
            tracker (``context.local`` is not one).
    """
    if not context.access.user:
        raise ConfigurationError(
            f"The connector of the built-in project {context.access.project_key} names no "
            "sync user: name one (connection.application.user)."
        )
    if not isinstance(context.local, LocalTracker):
        raise ConfigurationError(
            f"The built-in tracker does not run here, so project {context.access.project_key} "
            "cannot be opened."
        )
    return local_adapter_for(context.local, context.access.project_key, context.access.user)
