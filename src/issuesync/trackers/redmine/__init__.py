"""The ``redmine`` tracker adapter: one Redmine project over the REST JSON API (see ``adapter``).

The connector's project key is the project's *identifier* (``my-project``); an
issue's key is its number. A ``token`` secret is the user's API key (sent as
``X-Redmine-API-Key``); a ``password`` with a user is HTTP Basic auth. The REST
web service must be enabled in Redmine (Administration > Settings > API).
"""

from __future__ import annotations

import httpx

from issuesync.errors import ConfigurationError
from issuesync.trackers.access import AdapterContext, TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.credentials import BasicAuth, HeaderAuth, checked_base_url
from issuesync.trackers.redmine.adapter import RedmineAdapter
from issuesync.trackers.redmine.client import API_KEY_HEADER, DEFAULT_TIMEOUT_S, RedmineClient

__all__ = ["RedmineAdapter", "RedmineClient", "open_redmine", "redmine_adapter_for"]


def redmine_adapter_for(
    access: TrackerAccess,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Tracker:
    """The adapter for ``access``'s Redmine project, authenticated as its secret says.

    Raises:
        ConfigurationError: no base URL, a URL that carries credentials, a
            password without a user, or no project identifier.
    """
    if not access.base_url:
        raise ConfigurationError(
            f"The Redmine connector of project {access.project_key} needs a base URL "
            "(https://redmine.example.com)."
        )
    url = checked_base_url(access.base_url, "Redmine")
    identifier = access.project_key.strip()
    if not identifier or "/" in identifier or "?" in identifier:
        raise ConfigurationError(
            f"'{access.project_key}' is not a Redmine project identifier (like 'my-project')."
        )
    auth: httpx.Auth | None = None
    if access.secret is not None:
        kind, value = access.secret
        if kind == "token":
            auth = HeaderAuth(API_KEY_HEADER, value)
        elif access.user:
            auth = BasicAuth(access.user, value)
        else:
            raise ConfigurationError(
                f"The Redmine connector of project {identifier} has a password but no user."
            )
    client = RedmineClient(
        str(url),
        auth,
        user=access.user,
        transport=transport,
        timeout_s=timeout_s,
        proxy=access.proxy,
    )
    return RedmineAdapter(client, identifier)


def open_redmine(context: AdapterContext) -> Tracker:
    """The Redmine adapter's factory (entry point ``redmine``): a remote project.

    Raises:
        ConfigurationError: the connector's base URL or credentials cannot work.
    """
    return redmine_adapter_for(context.access)
