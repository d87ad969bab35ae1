"""The ``gitlab`` tracker adapter: one GitLab project's issues over REST v4 (see ``adapter``)."""

from __future__ import annotations

import httpx

from issuesync.errors import ConfigurationError
from issuesync.trackers.access import AdapterContext, TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.credentials import BearerAuth, HeaderAuth, checked_base_url
from issuesync.trackers.gitlab.adapter import GitLabAdapter
from issuesync.trackers.gitlab.client import DEFAULT_TIMEOUT_S, GitLabClient

__all__ = ["GitLabAdapter", "GitLabClient", "gitlab_adapter_for", "open_gitlab"]

DEFAULT_BASE_URL = "https://gitlab.com"


def gitlab_adapter_for(
    access: TrackerAccess,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Tracker:
    """The adapter for ``access``'s GitLab project (``group/project`` or its numeric id).

    The base URL defaults to ``https://gitlab.com``. A ``token`` secret (a
    personal, group or project access token) is sent as ``PRIVATE-TOKEN``; with
    the user ``oauth2`` it is an OAuth token, sent as ``Authorization: Bearer``.

    Raises:
        ConfigurationError: a URL that is not one or carries credentials, no
            project, or a password instead of a token.
    """
    url = checked_base_url(access.base_url or DEFAULT_BASE_URL, "GitLab")
    project = access.project_key.strip().strip("/")
    if not project:
        raise ConfigurationError("The GitLab connector needs a project: 'group/project' or its id.")
    auth: httpx.Auth | None = None
    if access.secret is not None:
        kind, value = access.secret
        if kind != "token":
            raise ConfigurationError(
                f"The GitLab connector of project {project} needs an access token, not a password."
            )
        auth = BearerAuth(value) if access.user == "oauth2" else HeaderAuth("PRIVATE-TOKEN", value)
    client = GitLabClient(
        str(url), auth, transport=transport, timeout_s=timeout_s, proxy=access.proxy
    )
    return GitLabAdapter(client, project)


def open_gitlab(context: AdapterContext) -> Tracker:
    """The GitLab adapter's factory (entry point ``gitlab``): the project ``context.access`` names.

    Raises:
        ConfigurationError: the connector's base URL or credentials cannot work.
    """
    return gitlab_adapter_for(context.access)
