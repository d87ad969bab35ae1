"""HTTP to one Jira Server / Data Center over REST v2, with Jira's errors translated at this edge.

Every answer that is not a success becomes one of ``issuesync.errors``, by this table::

    what happened                          raised                              retried
    connect error, timeout, broken stream  TrackerOfflineError                 no (1)
    429, 503                               TrackerOfflineError, when spent     yes (2)
    500, 502, 504                          TrackerOfflineError, when spent     reads (2, 3)
    other 5xx                              TrackerOfflineError                 no
    3xx (a login page, http -> https)      ConfigurationError                  no
    401                                    AuthenticationError                 no
    403                                    PermissionDeniedError               no
    404                                    NotFoundError                       no
    400, 409, 413, 422 and other 4xx       TrackerRejectedError, with Jira's   no
                                           errorMessages and errors

(1) the engine's ``offline`` state is the retry: a tracker that is down stays
down for longer than a request should wait. (2) honouring ``Retry-After``, with
exponential back-off otherwise; all the waits of one request add up to at most
:data:`MAX_TOTAL_WAIT_S`. (3) a 500 may come after Jira did the work, so a write
(POST, PUT, DELETE) is only retried on 429 and 503, which promise it did not.

The credentials live in the ``httpx`` auth object only: no error, ``repr`` or
log line here contains them (errors name the method, the path and the status).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, Final

import httpx

from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    IssueSyncError,
    NotFoundError,
    PermissionDeniedError,
    TrackerOfflineError,
    TrackerRejectedError,
)

API: Final = "/rest/api/2"
DEFAULT_TIMEOUT_S: Final = 30.0
MAX_TOTAL_WAIT_S: Final = 10.0
MAX_ATTEMPTS: Final = 5
FIRST_BACKOFF_S: Final = 0.5
RETRIED_READS: Final = frozenset({429, 500, 502, 503, 504})
RETRIED_WRITES: Final = frozenset({429, 503})  # statuses that say the write was not done
READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_DETAIL: Final = 500  # characters of a non-JSON error body kept in a message

HTTP_UNAUTHORIZED: Final = 401
HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_CLIENT_ERRORS: Final = range(400, 500)

Sleep = Callable[[float], None]


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``: a Jira Data Center personal access token."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header to every request."""
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


class JiraClient:
    """Requests to one Jira's REST v2 API, retried and translated as the module says."""

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
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self.user = user
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=str(self.base_url),
            auth=auth,
            transport=transport,
            timeout=timeout_s,
            headers={"Accept": "application/json"},
            follow_redirects=False,  # a redirect to a login page must not pass for an answer
        )

    def __repr__(self) -> str:
        return f"JiraClient(base_url={str(self.base_url)!r}, user={self.user!r})"

    # -- requests ----------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:  # noqa: ANN401 - JSON
        """GET ``/rest/api/2/<path>`` and return its JSON."""
        return self.request("GET", path, params=params).json()

    def post(self, path: str, body: object) -> Any:  # noqa: ANN401 - JSON
        """POST JSON to ``/rest/api/2/<path>``; its JSON, or None for an empty answer."""
        return _json_or_none(self.request("POST", path, json=body))

    def put(self, path: str, body: object) -> Any:  # noqa: ANN401 - JSON
        """PUT JSON to ``/rest/api/2/<path>``; its JSON, or None for an empty answer."""
        return _json_or_none(self.request("PUT", path, json=body))

    def delete(self, path: str, *, missing_ok: bool = False) -> None:
        """DELETE ``/rest/api/2/<path>``; with ``missing_ok``, a 404 is success."""
        try:
            self.request("DELETE", path)
        except NotFoundError:
            if not missing_ok:
                raise

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: object = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        absolute: bool = False,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        """One request, retried on 429/5xx within :data:`MAX_TOTAL_WAIT_S`, errors translated.

        ``path`` is under ``/rest/api/2`` unless ``absolute`` (then a URL or a path
        from the server's root, as an attachment's ``content`` link is). Redirects are
        followed only when asked (httpx drops the credentials on a redirect elsewhere).
        """
        url = path if absolute else f"{API.lstrip('/')}/{path.lstrip('/')}"
        retried = RETRIED_READS if method in READS else RETRIED_WRITES
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    files=files,
                    headers=headers,
                    follow_redirects=follow_redirects,
                )
            except httpx.TimeoutException as exc:
                raise TrackerOfflineError(
                    f"Jira at {self.base_url} did not answer {method} {_shown(path)} in time."
                ) from exc
            except httpx.TransportError as exc:
                # The type only: the text may repeat the URL, never more, but keep it plain.
                raise TrackerOfflineError(
                    f"Jira at {self.base_url} cannot be reached ({type(exc).__name__})."
                ) from exc
            if response.is_success:
                return response
            if response.status_code in retried and attempt < MAX_ATTEMPTS:
                pause = _pause(response, attempt)
                if waited + pause <= MAX_TOTAL_WAIT_S:
                    response.close()
                    self._sleep(pause)
                    waited += pause
                    continue
            raise self._error(method, path, response)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # -- translation -------------------------------------------------------------------------

    def _error(self, method: str, path: str, response: httpx.Response) -> IssueSyncError:
        status = response.status_code
        messages, field_errors = _jira_errors(response)
        what = f"Jira answered {method} {_shown(path)} with {status}"
        detail = f"{what}: {messages}" if messages else what
        if response.is_redirect:
            return ConfigurationError(
                f"{what}, a redirect to {_shown(response.headers.get('Location', '?'))}: "
                "set the connector's base URL to the address Jira answers on."
            )
        if status == HTTP_UNAUTHORIZED:
            reason = response.headers.get("X-Seraph-LoginReason", "")
            hint = (
                " Jira asks for a CAPTCHA: log in once in a browser as this user."
                if "AUTHENTICATION_DENIED" in reason
                else ""
            )
            return AuthenticationError(
                f"Jira refused the credentials of the sync user '{self.user or '(token)'}' "
                f"(401).{hint} Check the connector's user and secret."
            )
        if status == HTTP_FORBIDDEN:
            return PermissionDeniedError(
                f"{detail}. The sync user '{self.user or '(token)'}' lacks a permission.",
                field_errors=field_errors,
            )
        if status == HTTP_NOT_FOUND:
            return NotFoundError(detail, field_errors=field_errors)
        if status in HTTP_CLIENT_ERRORS:
            return TrackerRejectedError(detail, field_errors=field_errors)
        return TrackerOfflineError(f"{detail}; try again later.")


def _shown(path: str) -> str:
    """A path as errors show it: without a query string (it may hold a JQL full of data)."""
    return path.split("?", 1)[0]


def _json_or_none(response: httpx.Response) -> Any:  # noqa: ANN401 - JSON
    return response.json() if response.content.strip() else None


def _jira_errors(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """Jira's ``{"errorMessages": [...], "errors": {field: text}}`` as one text and a dict."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:MAX_DETAIL] if text and not text.startswith("<") else ""), {}
    if not isinstance(body, Mapping):
        return "", {}
    raw_messages = body.get("errorMessages") or []
    messages = [str(m) for m in raw_messages] if isinstance(raw_messages, list) else []
    raw_errors = body.get("errors") or {}
    errors = (
        {str(k): str(v) for k, v in raw_errors.items()} if isinstance(raw_errors, Mapping) else {}
    )
    parts = messages + [f"{name}: {text}" for name, text in errors.items()]
    if not parts and isinstance(body.get("message"), str):
        parts = [body["message"]]
    return "; ".join(parts), errors


def _pause(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before the next attempt: ``Retry-After`` when given, else doubling."""
    backoff: float = FIRST_BACKOFF_S * 2.0 ** (attempt - 1)
    header = response.headers.get("Retry-After")
    if not header:
        return backoff
    if header.strip().isdigit():
        return float(header.strip())
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)
