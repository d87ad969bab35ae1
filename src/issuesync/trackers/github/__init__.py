"""The ``github`` tracker adapter: one repository's issues on GitHub or GitHub Enterprise (REST).

See ``adapter`` for what it does and costs, ``shape`` for the field mapping,
``listing`` for polls and queries and ``receipts`` for idempotent creates.
"""

from __future__ import annotations

import time
from typing import Final

import httpx

from issuesync.errors import ConfigurationError
from issuesync.trackers.access import AdapterContext, TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.credentials import BasicAuth, BearerAuth, checked_base_url
from issuesync.trackers.github.adapter import GitHubAdapter
from issuesync.trackers.github.client import DEFAULT_TIMEOUT_S, GitHubClient, github_budget
from issuesync.trackers.http import RequestBudget, Sleep

__all__ = ["GitHubAdapter", "GitHubClient", "github_adapter_for", "github_budget", "open_github"]

PUBLIC_API: Final = "https://api.github.com"


def github_adapter_for(
    access: TrackerAccess,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    sleep: Sleep = time.sleep,
    budget: RequestBudget | None = None,
) -> Tracker:
    """The adapter for ``access``'s repository (``project_key`` = ``owner/repo``).

    The base URL defaults to ``https://api.github.com``; GitHub Enterprise Server
    answers on ``https://<host>/api/v3``. A ``token`` secret is sent as
    ``Authorization: Bearer``; a ``password`` secret with a user as Basic auth
    (GitHub takes a personal access token as the password). No secret means
    anonymous access: reading public repositories, 60 requests an hour.
    ``transport``, ``sleep`` and ``budget`` are for tests and benchmarks.

    Raises:
        ConfigurationError: a base URL that is not one or carries credentials, a
            project key that is not ``owner/repo``, or a password without a user.
    """
    url = checked_base_url(
        access.base_url or PUBLIC_API,
        "GitHub",
        hint=f" (GitHub: {PUBLIC_API}; GitHub Enterprise: https://<host>/api/v3)",
    )
    auth: httpx.Auth | None = None
    if access.secret is not None:
        kind, value = access.secret
        if kind == "token":
            auth = BearerAuth(value)
        elif access.user:
            auth = BasicAuth(access.user, value)
        else:
            raise ConfigurationError(
                f"The GitHub connector of {access.project_key} has a password but no user: "
                "give a personal access token as the token instead."
            )
    client = GitHubClient(
        str(url),
        auth,
        user=access.user,
        transport=transport,
        timeout_s=timeout_s,
        sleep=sleep,
        budget=budget,
        proxy=access.proxy,
    )
    try:
        return GitHubAdapter(client, access.project_key)
    except ConfigurationError:
        client.close()
        raise


def open_github(context: AdapterContext) -> Tracker:
    """The GitHub adapter's factory (entry point ``github``): a repository, by ``context.access``.

    Raises:
        ConfigurationError: the connector's base URL, project key or credentials cannot work.
    """
    return github_adapter_for(context.access)
