"""HTTP to one Jira Server / Data Center over REST v2: the shared :class:`RestClient`, for Jira.

Errors are translated as :mod:`issuesync.trackers.http` tables them, with Jira's
``{"errorMessages": [...], "errors": {field: text}}`` as the message, and a 401
that carries ``X-Seraph-LoginReason: AUTHENTICATION_DENIED`` explained (Jira
wants a CAPTCHA solved in a browser). Retries honour ``Retry-After``.
"""

from __future__ import annotations

import time
from typing import Final

import httpx

from issuesync.trackers.http import DEFAULT_TIMEOUT_S, BearerAuth, RestClient, Sleep

API: Final = "/rest/api/2"

__all__ = ["API", "DEFAULT_TIMEOUT_S", "BearerAuth", "JiraClient"]


class JiraClient(RestClient):
    """Requests to one Jira's REST v2 API (paths are under ``/rest/api/2``)."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        user: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = time.sleep,
    ) -> None:
        super().__init__(
            base_url,
            auth,
            vendor="Jira",
            api_prefix=API,
            user=user,
            transport=transport,
            timeout_s=timeout_s,
            sleep=sleep,
        )

    def authentication_hint(self, response: httpx.Response) -> str:
        """Jira's CAPTCHA after failed log-ins, which only a browser can clear."""
        if "AUTHENTICATION_DENIED" in response.headers.get("X-Seraph-LoginReason", ""):
            return " Jira asks for a CAPTCHA: log in once in a browser as this user."
        return ""
