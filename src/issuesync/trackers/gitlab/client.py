"""HTTP to one GitLab's REST v4 API: the shared :class:`RestClient`, for GitLab.

Errors are translated as :mod:`issuesync.trackers.http` tables them, with
GitLab's three error shapes as the message: ``{"message": "404 Not Found"}``,
``{"message": {"title": ["can't be blank"]}}`` (per-field) and Grape's
``{"error": "title is missing"}``.

The budget is GitLab.com's published limits: 2,000 API requests per minute and
user, and content creation kept under 200 writes per minute (GitLab.com limits
issue and note creation per user and minute; self-managed instances default to
300, or none). GitLab's ``RateLimit-Remaining``/``RateLimit-Reset`` headers feed
the budget, and a ``429`` is retried after its ``Retry-After``.

No conditional GETs: GitLab's API sends weak ``ETag``\\ s but answers
``If-None-Match`` with the whole body (gitlab-org/gitlab#14357), and a request
answered 304 would count against the limit anyway.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

import httpx

from issuesync.trackers.credentials import ProxySettings
from issuesync.trackers.http import (
    DEFAULT_TIMEOUT_S,
    MAX_DETAIL,
    Clock,
    ErrorText,
    Limit,
    RequestBudget,
    RestClient,
    Sleep,
    generic_error_text,
)

API: Final = "/api/v4"
PER_PAGE_MAX: Final = 100  # GitLab's largest ``per_page``
MAX_PAGES: Final = 1000  # a bound on any one listing (100,000 items)
REQUESTS_PER_MINUTE: Final = 2000
WRITES_PER_MINUTE: Final = 200

Json = dict[str, Any]

__all__ = ["API", "DEFAULT_TIMEOUT_S", "GitLabClient", "gitlab_budget", "gitlab_error_text"]


def gitlab_budget(
    *, sleep: Sleep = time.sleep, clock: Clock = time.monotonic, wall_clock: Clock = time.time
) -> RequestBudget:
    """GitLab.com's limits for one user: 2,000 requests and 200 writes a minute."""
    return RequestBudget(
        [Limit(REQUESTS_PER_MINUTE, 60.0), Limit(WRITES_PER_MINUTE, 60.0, writes_only=True)],
        sleep=sleep,
        clock=clock,
        wall_clock=wall_clock,
    )


def gitlab_error_text(response: httpx.Response) -> ErrorText:
    """GitLab's ``{"message": {field: [texts]}}`` as field errors, else the common shapes."""
    try:
        body = response.json()
    except ValueError:
        return generic_error_text(response)
    message = body.get("message") if isinstance(body, Mapping) else None
    if not isinstance(message, Mapping):
        return generic_error_text(response)
    fields = {
        str(name): ", ".join(map(str, texts)) if isinstance(texts, list) else str(texts)
        for name, texts in message.items()
    }
    text = "; ".join(f"{name} {texts}" for name, texts in fields.items())
    return ErrorText(text[:MAX_DETAIL], fields)


class GitLabClient(RestClient):
    """Requests to one GitLab's REST v4 API (paths are under ``/api/v4``)."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = time.sleep,
        budget: RequestBudget | None = None,
        proxy: ProxySettings | None = None,
    ) -> None:
        super().__init__(
            base_url,
            auth,
            vendor="GitLab",
            api_prefix=API,
            transport=transport,
            timeout_s=timeout_s,
            sleep=sleep,
            budget=budget if budget is not None else gitlab_budget(sleep=sleep),
            error_text=gitlab_error_text,
            proxy=proxy,
        )

    def pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list[Json]]:
        """The pages of a listing, following ``X-Next-Page`` (at most :data:`MAX_PAGES`)."""
        page = 1
        for _ in range(MAX_PAGES):
            response = self.get_response(path, {**params, "page": page})
            items = response.json()
            yield items if isinstance(items, list) else []
            following = response.headers.get("X-Next-Page", "").strip()
            if not following.isdigit():
                return
            page = int(following)

    def everything(self, path: str, params: Mapping[str, Any]) -> list[Json]:
        """Every item of a listing, read in pages of 100."""
        return [
            item for page in self.pages(path, {**params, "per_page": PER_PAGE_MAX}) for item in page
        ]

    def authentication_hint(self, response: httpx.Response) -> str:
        """GitLab's reason for a refused token, when it gives one (expired, revoked)."""
        text = gitlab_error_text(response).message
        return f" GitLab says: {text}." if text and text != "401 Unauthorized" else ""
