"""HTTP to one Jira over REST v2 (Server / Data Center) or v3 (Cloud): the shared
:class:`RestClient`, for Jira.

Errors are translated as :mod:`issuesync.trackers.http` tables them, with Jira's
``{"errorMessages": [...], "errors": {field: text}}`` as the message, and a 401
that carries ``X-Seraph-LoginReason: AUTHENTICATION_DENIED`` explained (Jira
wants a CAPTCHA solved in a browser). Retries honour ``Retry-After`` and
``X-RateLimit-Reset``.

Which Jira it is: a base URL on ``*.atlassian.net`` is Jira Cloud; any other is
asked once, before its first other request, with ``GET /rest/api/2/serverInfo``
(every Jira answers it, Cloud too): ``deploymentType == "Cloud"`` means Cloud.
From then on a Cloud client's paths are under ``/rest/api/3`` and its requests
are throttled by :data:`CLOUD_LIMITS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Final

import httpx

from issuesync.trackers.credentials import BearerAuth, ProxySettings
from issuesync.trackers.http import (
    DEFAULT_TIMEOUT_S,
    Limit,
    RequestBudget,
    RestClient,
    Sleep,
)

API: Final = "/rest/api/2"
API_V3: Final = "/rest/api/3"
CLOUD_HOST_SUFFIX: Final = ".atlassian.net"
# Jira Cloud's API-token traffic is held to burst limits per second (per endpoint
# and method) and per-issue write limits; it publishes no fixed figures, so the
# budget stays well inside them: 10 requests a second, one write at a time.
CLOUD_LIMITS: Final = (Limit(10, 1.0), Limit(300, 60.0))

__all__ = [
    "API",
    "API_V3",
    "CLOUD_LIMITS",
    "DEFAULT_TIMEOUT_S",
    "BearerAuth",
    "JiraClient",
    "cloud_budget",
]


def cloud_budget(sleep: Sleep = time.sleep) -> RequestBudget:
    """The request budget of one Jira Cloud site."""
    return RequestBudget(CLOUD_LIMITS, serial_writes=True, sleep=sleep)


class JiraClient(RestClient):
    """Requests to one Jira's REST API (paths are under ``/rest/api/2``, or ``3`` on Cloud)."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        user: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = time.sleep,
        cloud: bool | None = None,
        cloud_budget: RequestBudget | None = None,
        proxy: ProxySettings | None = None,
    ) -> None:
        """``cloud`` None: decided as the module says; ``cloud_budget`` replaces
        :func:`cloud_budget`'s (a test's, on a simulated clock)."""
        super().__init__(
            base_url,
            auth,
            vendor="Jira",
            api_prefix=API,
            user=user,
            transport=transport,
            timeout_s=timeout_s,
            sleep=sleep,
            proxy=proxy,
        )
        self._budget_sleep = sleep
        self._cloud_budget = cloud_budget
        self._cloud: bool | None = None
        self._detect_lock = threading.Lock()
        if cloud is None and (self.base_url.host or "").endswith(CLOUD_HOST_SUFFIX):
            cloud = True
        if cloud is not None:
            self._settle(cloud=cloud)

    def is_cloud(self) -> bool:
        """Whether this is Jira Cloud (asked once, see the module)."""
        if self._cloud is None:
            self.get("serverInfo")
        return bool(self._cloud)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = None,
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        absolute: bool = False,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        """:meth:`RestClient.request`, after learning which Jira this is."""
        asking = self._cloud is None and not absolute and path.strip("/") == "serverInfo"
        if self._cloud is None and not absolute and not asking:
            self.is_cloud()
        response = super().request(
            method,
            path,
            params=params,
            json=json,
            content=content,
            files=files,
            headers=headers,
            absolute=absolute,
            follow_redirects=follow_redirects,
        )
        if asking and response.is_success:
            info = response.json()
            deployment = info.get("deploymentType") if isinstance(info, Mapping) else None
            self._settle(cloud=deployment == "Cloud")
        return response

    def _settle(self, *, cloud: bool) -> None:
        with self._detect_lock:
            if self._cloud is not None:
                return
            self._cloud = cloud
            if cloud:
                self.api_prefix = API_V3.strip("/")
                self.budget = self._cloud_budget or cloud_budget(self._budget_sleep)

    def authentication_hint(self, response: httpx.Response) -> str:
        """Jira's CAPTCHA after failed log-ins, which only a browser can clear."""
        if "AUTHENTICATION_DENIED" in response.headers.get("X-Seraph-LoginReason", ""):
            return " Jira asks for a CAPTCHA: log in once in a browser as this user."
        return ""
