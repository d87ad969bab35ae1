"""The ``jira`` tracker adapter: Jira Server / Data Center over REST v2, Jira Cloud over v3."""

from __future__ import annotations

import httpx

from issuesync.errors import ConfigurationError
from issuesync.trackers.access import AdapterContext, TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.credentials import BasicAuth, checked_base_url
from issuesync.trackers.jira.adapter import JiraAdapter
from issuesync.trackers.jira.client import DEFAULT_TIMEOUT_S, BearerAuth, JiraClient

__all__ = ["JiraAdapter", "JiraClient", "jira_adapter_for", "open_jira"]


def jira_adapter_for(
    access: TrackerAccess,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Tracker:
    """The adapter for ``access``'s Jira project, authenticated as its secret says.

    A ``password`` secret, or a ``token`` with a user (a Cloud API token, with the
    account's e-mail as the user), is sent as Basic auth; a ``token`` without a
    user is a personal access token, sent as ``Authorization: Bearer``. No secret
    means anonymous access. Whether it is Jira Cloud is decided by the client.

    Raises:
        ConfigurationError: no base URL, a URL that carries credentials, or a
            password without a user.
    """
    if not access.base_url:
        raise ConfigurationError(
            f"The Jira connector of project {access.project_key} needs a base URL "
            "(https://jira.example.com)."
        )
    url = checked_base_url(access.base_url, "Jira")
    auth: httpx.Auth | None = None
    if access.secret is not None:
        kind, value = access.secret
        if access.user:
            auth = BasicAuth(access.user, value)
        elif kind == "token":
            auth = BearerAuth(value)
        else:
            raise ConfigurationError(
                f"The Jira connector of project {access.project_key} has a password but no user."
            )
    client = JiraClient(
        str(url),
        auth,
        user=access.user,
        transport=transport,
        timeout_s=timeout_s,
        proxy=access.proxy,
    )
    return JiraAdapter(client, access.project_key)


def open_jira(context: AdapterContext) -> Tracker:
    """The Jira adapter's factory (entry point ``jira``): a remote project, by ``context.access``.

    Raises:
        ConfigurationError: the connector's base URL or credentials cannot work.
    """
    return jira_adapter_for(context.access)
