"""HTTP to one Redmine's REST API (JSON): the shared :class:`RestClient`, for Redmine.

Paths are Redmine's own, with their ``.json`` suffix (``issues.json``). Errors are
translated as :mod:`issuesync.trackers.http` tables them; Redmine's 422 answer is
``{"errors": ["Subject cannot be blank", ...]}``, which the generic reader turns
into the message. Redmine publishes no rate limits (it is self-hosted): the
budget only smooths bursts, so that a sync never floods a small server.
"""

from __future__ import annotations

import time
from typing import Final

import httpx

from issuesync.trackers.credentials import ProxySettings
from issuesync.trackers.http import (
    DEFAULT_TIMEOUT_S,
    Limit,
    RequestBudget,
    RestClient,
    Sleep,
)

API_KEY_HEADER: Final = "X-Redmine-API-Key"
BURST: Final = Limit(requests=100, per_s=1.0)  # far above what one WEBrick or Puma serves

__all__ = ["API_KEY_HEADER", "DEFAULT_TIMEOUT_S", "RedmineClient"]


class RedmineClient(RestClient):
    """Requests to one Redmine (paths relative to its base URL, e.g. ``issues.json``)."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        user: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = time.sleep,
        proxy: ProxySettings | None = None,
    ) -> None:
        super().__init__(
            base_url,
            auth,
            vendor="Redmine",
            user=user,
            transport=transport,
            timeout_s=timeout_s,
            sleep=sleep,
            budget=RequestBudget([BURST], sleep=sleep),
            # No conditional GETs: Redmine renders the whole answer to compute its ETag (a 304
            # saves it nothing), and the adapter needs each answer's own Date (see adapter).
            conditional_gets=False,
            proxy=proxy,
        )

    def authentication_hint(self, response: httpx.Response) -> str:
        """Redmine refuses API keys when its REST web service is disabled."""
        del response
        return " Is 'Enable REST web service' on (Administration > Settings > API)?"
