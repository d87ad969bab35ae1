"""HTTP to GitHub's REST API (version 2022-11-28): the shared :class:`RestClient`, for GitHub.

What GitHub adds to :mod:`issuesync.trackers.http`'s table:

- its limits as a :class:`RequestBudget` (:func:`github_budget`): 5,000 requests
  an hour per token, at most 80 content-creating requests a minute and 500 an
  hour, one write at a time (GitHub's advice against secondary limits);
- its rate-limit answers, which are ``403`` as often as ``429``
  (:func:`rate_limited`): the primary limit says ``x-ratelimit-remaining: 0``
  and when it resets; a secondary limit says so in its message, with or without
  ``Retry-After``. Without one, GitHub asks for at least a minute's wait, which
  the client reports as offline until then rather than retrying sooner;
- its error body ``{"message", "errors": [{"resource", "field", "code"}]}``
  (:func:`github_error_text`), whose ``errors`` become field errors;
- conditional GETs: an unchanged answer is a ``304`` that GitHub does not count.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any, Final

import httpx

from issuesync.errors import IssueSyncError, NotFoundError
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
    remaining,
    shown,
)

__all__ = [
    "API_VERSION",
    "DEFAULT_TIMEOUT_S",
    "GitHubClient",
    "each_page",
    "github_budget",
    "github_error_text",
    "next_page",
    "rate_limited",
]

API_VERSION: Final = "2022-11-28"
HEADERS: Final = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": API_VERSION,
    "User-Agent": "issuesync",
}
LIMITS: Final = (
    Limit(5000, 3600.0),  # the primary limit of a personal access token
    Limit(80, 60.0, writes_only=True),  # secondary: content-creating requests a minute
    Limit(500, 3600.0, writes_only=True),  # secondary: ... and an hour
)
MAX_PAGES: Final = 10_000  # a bound on any one listing: a million items
SECONDARY_WAIT_S: Final = 60.0  # "wait for at least one minute" without Retry-After
HTTP_MOVED: Final = 301
HTTP_GONE: Final = 410
LIMIT_STATUSES: Final = frozenset({403, 429})


def github_budget(
    *,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    wall_clock: Clock = time.time,
) -> RequestBudget:
    """GitHub's published limits, one write at a time."""
    return RequestBudget(
        LIMITS, serial_writes=True, sleep=sleep, clock=clock, wall_clock=wall_clock
    )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message") or "") if isinstance(body, Mapping) else ""


def secondary_limited(response: httpx.Response) -> bool:
    """Whether the answer is one of GitHub's secondary rate limits."""
    return (
        response.status_code in LIMIT_STATUSES
        and "secondary rate limit" in _message(response).lower()
    )


def rate_limited(response: httpx.Response) -> bool:
    """GitHub's primary or secondary rate-limit answer (``403`` or ``429``)."""
    if response.status_code not in LIMIT_STATUSES:
        return False
    return (
        remaining(response) == 0 or "Retry-After" in response.headers or secondary_limited(response)
    )


def github_error_text(response: httpx.Response) -> ErrorText:
    """GitHub's ``message`` and its ``errors`` (by field: the code or the message)."""
    try:
        body = response.json()
    except ValueError:
        return generic_error_text(response)  # a proxy's page, say
    if not isinstance(body, Mapping):
        return ErrorText("", {})
    message = str(body.get("message") or "")
    fields: dict[str, str] = {}
    others: list[str] = []
    for error in body.get("errors") or []:
        if isinstance(error, Mapping):
            said = str(error.get("message") or error.get("code") or "invalid")
            value = error.get("value")
            if value is not None:
                said = f"{said} ({value})"
            if error.get("field"):
                fields[str(error["field"])] = said
            else:
                others.append(said)
        elif error:
            others.append(str(error))
    details = [f"{name}: {text}" for name, text in fields.items()] + others
    text = f"{message}: {'; '.join(details)}" if details else message
    return ErrorText(text[:MAX_DETAIL], fields)


def next_page(response: httpx.Response) -> dict[str, str] | None:
    """The query parameters of the ``Link: <...>; rel="next"`` page, or None on the last.

    The adapter asks for the next page on its own path with these parameters: a
    link may name another host (a proxy's idea of GitHub), and the credentials
    go to the configured base URL only.
    """
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    return dict(httpx.URL(link["url"]).params)


def each_page(
    client: RestClient, path: str, params: Mapping[str, str], max_pages: int = MAX_PAGES
) -> Iterator[list[Any]]:
    """The pages of a list, first to last by ``Link: rel="next"`` (at most ``max_pages``)."""
    query = dict(params)
    for _ in range(max_pages):
        response = client.get_response(path, query)
        yield response.json()
        following = next_page(response)
        if following is None or "page" not in following:
            return
        query = {**query, "page": following["page"]}


def _moved_away(path: str, response: httpx.Response) -> bool:
    """Whether a ``301`` sends an issue to another one (not the same path on another URL)."""
    location = httpx.URL(response.headers.get("Location", ""))
    return "/issues/" in f"/{path}" and not location.path.endswith(f"/{shown(path).lstrip('/')}")


class GitHubClient(RestClient):
    """Requests to one GitHub's REST API (``https://api.github.com`` or ``https://host/api/v3``)."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        user: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = time.sleep,
        budget: RequestBudget | None = None,
        proxy: ProxySettings | None = None,
    ) -> None:
        super().__init__(
            base_url,
            auth,
            vendor="GitHub",
            user=user,
            transport=transport,
            timeout_s=timeout_s,
            sleep=sleep,
            budget=budget if budget is not None else github_budget(sleep=sleep),
            headers=HEADERS,
            error_text=github_error_text,
            rate_limited=rate_limited,
            conditional_gets=True,
            proxy=proxy,
        )

    def _pause(self, response: httpx.Response, attempt: int) -> float:
        """A secondary limit without ``Retry-After`` waits a minute, as GitHub asks."""
        if secondary_limited(response) and "Retry-After" not in response.headers:
            return SECONDARY_WAIT_S
        return super()._pause(response, attempt)

    def _error(self, method: str, path: str, response: httpx.Response) -> IssueSyncError:
        """GitHub's ``410 Gone`` (a deleted issue, issues turned off) and the ``301`` of an
        issue transferred to another repository say the thing is not here: not found. A
        redirect to the same path elsewhere (``http`` to ``https``) is the base URL's fault."""
        status = response.status_code
        if status == HTTP_GONE or (status == HTTP_MOVED and _moved_away(path, response)):
            return NotFoundError(
                f"GitHub answered {method} {shown(path)} with {status}: "
                f"{github_error_text(response).message or 'gone from this repository'}"
            )
        return super()._error(method, path, response)

    def authentication_hint(self, response: httpx.Response) -> str:
        """GitHub's word on a refused token."""
        said = _message(response)
        return f" GitHub says: {said}." if said else ""
