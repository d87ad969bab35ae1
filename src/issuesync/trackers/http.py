"""HTTP to a tracker's REST API: throttled, retried, and its errors translated at this edge.

Every remote adapter talks through one :class:`RestClient`. Whatever the tracker
answers that is not a success becomes one of ``issuesync.errors``, by this table::

    what happened                          raised                              retried
    connect error, timeout, broken stream  TrackerOfflineError                 no (1)
    429, 503, a rate-limit answer (4)      TrackerOfflineError, when spent     yes (2)
    500, 502, 504                          TrackerOfflineError, when spent     reads (2, 3)
    other 5xx                              TrackerOfflineError                 no
    3xx (a login page, http -> https)      ConfigurationError                  no
    401                                    AuthenticationError                 no
    407 (the proxy refused its login)      AuthenticationError                 no
    403                                    PermissionDeniedError               no
    404                                    NotFoundError                       no
    400, 409, 413, 422 and other 4xx       TrackerRejectedError, with the      no
                                           tracker's messages and field errors

(1) the engine's ``offline`` state is the retry: a tracker that is down stays
down for longer than a request should wait. (2) honouring ``Retry-After``, else
the rate-limit reset headers (``X-RateLimit-Reset``, ``RateLimit-Reset``), else
exponential back-off; all the waits of one request add up to at most
:data:`MAX_TOTAL_WAIT_S`, and a longer wait is reported as offline "until" then.
(3) a 500 may come after the tracker did the work, so a write is retried only on
answers that promise it was not done. (4) what the adapter's ``rate_limited``
recognises: GitHub, say, answers an exhausted limit with 403.

Before the tracker has to refuse, a :class:`RequestBudget` throttles: each
request waits until every :class:`Limit` allows it, and with ``serial_writes``
no two writes run at once. Conditional GETs (``ETag`` / ``Last-Modified``) let
an idle poll be answered ``304 Not Modified`` from the cache, which trackers
such as GitHub do not count against the limit.

The credentials live in the ``httpx`` auth object only: no error, ``repr`` or
log line here contains them (errors name the method, the path and the status).
Each request is one debug-level ``tracker request`` event (its ``vendor``, ``method``,
``path`` without the query string, ``status`` and ``duration_ms``; httpx's own INFO
line is silenced by ``logs.configure_logging``); a retry and a wait for a spent rate
limit are warnings.
A tracker's own words may (one that echoes the request's headers in an error,
or a proxy's error page): every error raised here is passed through
:func:`~issuesync.domain.redaction.redact` with the client's credentials
(:meth:`RestClient.known_secrets`) before it leaves, its body before it is read.

A connector's proxy (:class:`~issuesync.trackers.credentials.ProxySettings`) carries
all of the client's traffic, with the proxy's own login; a proxy that cannot be
reached makes the tracker offline, never a direct connection. The auth objects and
the base URL check are in :mod:`issuesync.trackers.credentials`.
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, NamedTuple

import httpx

from issuesync.domain.redaction import redact
from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    IssueSyncError,
    NotFoundError,
    PermissionDeniedError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.metrics import (
    RATE_LIMIT_REMAINING,
    RATE_LIMIT_WAIT_SECONDS,
    RATE_LIMIT_WAITS,
    TRACKER_LATENCY,
    TRACKER_REQUESTS,
    TRACKER_RETRIES,
    outcome_class,
)
from issuesync.trackers.credentials import ProxySettings, auth_secrets, httpx_proxy

DEFAULT_TIMEOUT_S: Final = 30.0
MAX_TOTAL_WAIT_S: Final = 10.0
MAX_ATTEMPTS: Final = 5
FIRST_BACKOFF_S: Final = 0.5
RETRIED_READS: Final = frozenset({429, 500, 502, 503, 504})
RETRIED_WRITES: Final = frozenset({429, 503})  # statuses that say the write was not done
READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_DETAIL: Final = 500  # characters of a non-JSON error body kept in a message
MAX_ERROR_BODY: Final = 256 * 1024  # characters of an error body read at all
CACHED_GETS: Final = 512  # conditional GETs remembered per client
BUDGET_WAIT_S: Final = 0.001  # a wait for the request budget this long counts as a wait

HTTP_NOT_MODIFIED: Final = 304
HTTP_UNAUTHORIZED: Final = 401
HTTP_FORBIDDEN: Final = 403
HTTP_NOT_FOUND: Final = 404
HTTP_PROXY_AUTHENTICATION: Final = 407
HTTP_TOO_MANY: Final = 429
HTTP_CLIENT_ERRORS: Final = range(400, 500)

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
Clock = Callable[[], float]


# -- throttling ----------------------------------------------------------------------------


class Limit(NamedTuple):
    """At most ``requests`` requests in any ``per_s`` seconds (writes only, if said)."""

    requests: int
    per_s: float
    writes_only: bool = False


class RequestBudget:
    """Throttles one tracker's requests to its published limits; shared by threads.

    :meth:`acquire` waits until every limit has room (a sliding window per
    limit), :meth:`release` ends a request (with ``serial_writes``, the next
    write may then start). :meth:`observe` takes what the tracker says is left:
    with nothing left, requests wait for the reset. ``spent`` counts requests.
    """

    def __init__(
        self,
        limits: Sequence[Limit],
        *,
        serial_writes: bool = False,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        wall_clock: Clock = time.time,
    ) -> None:
        self.limits = tuple(limits)
        self.serial_writes = serial_writes
        self.spent = 0
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._sent: list[collections.deque[float]] = [collections.deque() for _ in self.limits]
        self._blocked_until = 0.0  # monotonic time before which nothing is sent

    def __repr__(self) -> str:
        return f"RequestBudget(limits={self.limits!r}, serial_writes={self.serial_writes})"

    def acquire(self, method: str) -> None:
        """Wait until a request with ``method`` is allowed, then count it."""
        write = method.upper() not in READS
        if write and self.serial_writes:
            self._write_lock.acquire()
        while True:
            with self._lock:
                wait = self._wait_s(write)
                if wait <= 0:
                    now = self._clock()
                    for limit, sent in zip(self.limits, self._sent, strict=True):
                        if write or not limit.writes_only:
                            sent.append(now)
                    self.spent += 1
                    return
            self._sleep(wait)

    def release(self, method: str) -> None:
        """The request with ``method`` is over."""
        if self.serial_writes and method.upper() not in READS:
            self._write_lock.release()

    def observe(self, remaining: int | None, reset_epoch_s: float | None) -> None:
        """What the tracker's headers said is left; none left means wait for the reset."""
        if remaining is None or remaining > 0 or reset_epoch_s is None:
            return
        delay = reset_epoch_s - self._wall_clock()
        if delay > 0:
            with self._lock:
                now = self._clock()
                blocked = self._blocked_until > now
                self._blocked_until = max(self._blocked_until, now + delay)
            if not blocked:  # once per spent limit, not for every request that waits
                log.warning(
                    "the rate limit is spent: requests wait %.1f s for its reset",
                    delay,
                    extra={"wait_s": round(delay, 1)},
                )

    def _wait_s(self, write: bool) -> float:
        now = self._clock()
        wait = self._blocked_until - now
        for limit, sent in zip(self.limits, self._sent, strict=True):
            while sent and sent[0] <= now - limit.per_s:
                sent.popleft()
            if (write or not limit.writes_only) and len(sent) >= limit.requests:
                wait = max(wait, sent[0] + limit.per_s - now)
        return wait


# -- errors ---------------------------------------------------------------------------------


class ErrorText(NamedTuple):
    """A tracker's error answer as one message and its per-field errors."""

    message: str
    field_errors: dict[str, str]


def generic_error_text(response: httpx.Response) -> ErrorText:
    """The common shapes: ``{"message"}``, ``{"error"}``, ``{"errors": [...] | {...}}``,
    Jira's ``{"errorMessages", "errors"}``; a short plain-text body; else nothing."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return ErrorText(text[:MAX_DETAIL] if text and not text.startswith("<") else "", {})
    if not isinstance(body, Mapping):
        return ErrorText("", {})
    messages: list[str] = []
    for name in ("errorMessages", "message", "error", "error_description"):
        value = body.get(name)
        if isinstance(value, str) and value:
            messages.append(value)
        elif isinstance(value, list):
            messages.extend(str(item) for item in value if item)
    field_errors: dict[str, str] = {}
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        field_errors = {str(k): _one_line(v) for k, v in errors.items()}
    elif isinstance(errors, list):
        messages.extend(_one_line(item) for item in errors if item)
    parts = messages + [f"{name}: {text}" for name, text in field_errors.items()]
    return ErrorText("; ".join(parts)[:MAX_DETAIL], field_errors)


def _one_line(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_one_line(item) for item in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_one_line(v)}" for k, v in value.items())
    return str(value)


def retry_after_s(response: httpx.Response, now_epoch_s: float | None = None) -> float | None:
    """Seconds the tracker asks to wait: ``Retry-After``, else a rate-limit reset header."""
    now = time.time() if now_epoch_s is None else now_epoch_s
    header = response.headers.get("Retry-After", "").strip()
    if header:
        if header.isdigit():
            return float(header)
        when = http_date(header)
        if when is not None:
            return max(when - now, 0.0)
    reset = reset_epoch_s(response)
    if reset is not None and remaining(response) == 0:
        return max(reset - now, 0.0)
    return None


def remaining(response: httpx.Response) -> int | None:
    """``X-RateLimit-Remaining`` / ``RateLimit-Remaining``, when the tracker sends one."""
    for name in ("X-RateLimit-Remaining", "RateLimit-Remaining"):
        value = response.headers.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return None


def reset_epoch_s(response: httpx.Response) -> float | None:
    """When the rate limit resets, in epoch seconds (epoch or ISO headers)."""
    for name in ("X-RateLimit-Reset", "RateLimit-Reset"):
        value = response.headers.get(name, "").strip()
        if not value:
            continue
        if value.isdigit():
            return float(value)
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            continue
        return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()
    return None


def _too_many(response: httpx.Response) -> bool:
    return response.status_code == HTTP_TOO_MANY


# -- the tracker's clock ----------------------------------------------------------------------


CLOCK_TTL_S: Final = 600.0


class ServerClock:
    """A tracker's "now", for a poll's signpost: this host's clock plus the offset of the
    ``Date`` header of an answer (``probe``), read again every ``ttl_s``.

    ``Date`` keeps whole seconds, rounded down: when it agrees with this host's
    clock to within that second, the clocks are taken as equal (this host's
    milliseconds are the best estimate there is); otherwise the offset is to the
    middle of that second. The engine's look-back covers what is left of the
    error. It never goes back.
    """

    def __init__(
        self,
        probe: Callable[[], httpx.Response],
        *,
        ttl_s: float = CLOCK_TTL_S,
        wall_clock: Clock = time.time,
        clock: Clock = time.monotonic,
    ) -> None:
        self._probe = probe
        self._ttl_s = ttl_s
        self._wall_clock = wall_clock
        self._clock = clock
        self._offset: tuple[float, int] | None = None  # (when read, offset in ms)
        self._last = 0

    def now_ms(self) -> int:
        """The tracker's time in epoch ms."""
        now = self._clock()
        if self._offset is None or now - self._offset[0] > self._ttl_s:
            before = self._wall_clock()
            response = self._probe()
            after = self._wall_clock()
            # The first Date that parses: a proxy on the way may add its own.
            dates = (http_date(value) for value in response.headers.get_list("Date"))
            served = next((date for date in dates if date is not None), None)
            offset = 0
            if served is not None and not int(before) - 1 <= served <= after:
                offset = int((served + 0.5 - (before + after) / 2) * 1000)
            self._offset = (now, offset)
        self._last = max(self._last, int(self._wall_clock() * 1000) + self._offset[1])
        return self._last


def http_date(value: str | None) -> float | None:
    """An HTTP date in epoch seconds; None when absent or not a date."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()


# -- the client ------------------------------------------------------------------------------


class _Cached(NamedTuple):
    validators: dict[str, str]  # If-None-Match / If-Modified-Since
    status_code: int
    headers: httpx.Headers
    content: bytes


class RestClient:
    """Requests to one tracker's REST API, throttled, retried and translated as the module says."""

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth | None,
        *,
        vendor: str,
        api_prefix: str = "",
        user: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = time.sleep,
        budget: RequestBudget | None = None,
        headers: Mapping[str, str] | None = None,
        error_text: Callable[[httpx.Response], ErrorText] = generic_error_text,
        rate_limited: Callable[[httpx.Response], bool] = _too_many,
        conditional_gets: bool = False,
        proxy: ProxySettings | None = None,
    ) -> None:
        """``proxy``: every request goes through it (with ``transport``, a test's, the
        proxy is not used)."""
        self.base_url = httpx.URL(base_url.rstrip("/") + "/")
        self.vendor = vendor
        self.system = vendor.lower()  # the metrics' label: one per adapter
        self.api_prefix = api_prefix.strip("/")
        self.user = user
        self.budget = budget
        self._sleep = sleep
        self._error_text = error_text
        self._rate_limited = rate_limited
        self._conditional = conditional_gets
        self._cache: collections.OrderedDict[str, _Cached] = collections.OrderedDict()
        self._cache_lock = threading.Lock()
        self.proxy = proxy if transport is None else None
        self._secrets = auth_secrets(auth) | (self.proxy.secrets if self.proxy else frozenset())
        self._http = httpx.Client(
            base_url=str(self.base_url),
            auth=auth,
            transport=transport,
            # An explicit proxy carries everything (the environment's NO_PROXY included).
            proxy=httpx_proxy(self.proxy),
            timeout=timeout_s,
            headers={"Accept": "application/json", **(headers or {})},
            follow_redirects=False,  # a redirect to a login page must not pass for an answer
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self.base_url)!r}, user={self.user!r})"

    def known_secrets(self) -> frozenset[str]:
        """The secrets this client sends (its auth's and its proxy's), in their sent forms."""
        return self._secrets

    def redacted(self, text: str, *, limit: int | None = None) -> str:
        """``text`` without this client's secrets or anything that looks like a credential."""
        return redact(text, self._secrets, limit=limit)

    # -- requests ----------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:  # noqa: ANN401 - JSON
        """GET ``path`` under the API prefix and return its JSON."""
        return self.get_response(path, params).json()

    def get_response(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        """GET ``path``; with conditional GETs, a 304 gives back the earlier answer."""
        if not self._conditional:
            return self.request("GET", path, params=params)
        url = self._url(path, absolute=False)
        key = str(self._http.build_request("GET", url, params=params).url)
        with self._cache_lock:
            cached = self._cache.get(key)
        response = self.request(
            "GET", path, params=params, headers=cached.validators if cached else None
        )
        if response.status_code == HTTP_NOT_MODIFIED and cached is not None:
            with self._cache_lock:
                self._cache.move_to_end(key)
            return httpx.Response(
                cached.status_code,
                headers=cached.headers,
                content=cached.content,
                request=response.request,
            )
        validators = {}
        if etag := response.headers.get("ETag"):
            validators["If-None-Match"] = etag
        if modified := response.headers.get("Last-Modified"):
            validators["If-Modified-Since"] = modified
        if validators:
            entry = _Cached(validators, response.status_code, response.headers, response.content)
            with self._cache_lock:
                self._cache[key] = entry
                self._cache.move_to_end(key)
                while len(self._cache) > CACHED_GETS:
                    self._cache.popitem(last=False)
        return response

    def post(self, path: str, body: object) -> Any:  # noqa: ANN401 - JSON
        """POST JSON to ``path``; its JSON, or None for an empty answer."""
        return json_or_none(self.request("POST", path, json=body))

    def put(self, path: str, body: object) -> Any:  # noqa: ANN401 - JSON
        """PUT JSON to ``path``; its JSON, or None for an empty answer."""
        return json_or_none(self.request("PUT", path, json=body))

    def patch(self, path: str, body: object) -> Any:  # noqa: ANN401 - JSON
        """PATCH JSON to ``path``; its JSON, or None for an empty answer."""
        return json_or_none(self.request("PATCH", path, json=body))

    def delete(self, path: str, *, missing_ok: bool = False) -> None:
        """DELETE ``path``; with ``missing_ok``, a 404 is success."""
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
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        absolute: bool = False,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        """One request, throttled, retried as the module says, errors translated.

        ``path`` is under the API prefix unless ``absolute`` (then a URL or a path
        from the server's root, as an attachment's content link is). Redirects are
        followed only when asked (httpx drops the credentials on a redirect elsewhere).
        A 304 is returned as it is (for :meth:`get_response`).
        """
        request = self._http.build_request(
            method,
            self._url(path, absolute=absolute),
            params=params,
            json=json,
            content=content,
            files=files,
            headers=headers,
        )
        retried = RETRIED_READS if method in READS else RETRIED_WRITES
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            response = self._send(request, path, follow_redirects=follow_redirects)
            if response.is_success or response.status_code == HTTP_NOT_MODIFIED:
                return response
            limited = self._rate_limited(response)
            if limited or response.status_code in retried:
                pause = self._pause(response, attempt)
                if attempt < MAX_ATTEMPTS and waited + pause <= MAX_TOTAL_WAIT_S:
                    log.warning(
                        "%s %s %s answered %s%s: trying again in %.1f s",
                        self.vendor,
                        method,
                        request.url.path,
                        response.status_code,
                        " (rate-limited)" if limited else "",
                        pause,
                        extra={
                            "vendor": self.vendor,
                            "method": method,
                            "path": request.url.path,
                            "status": response.status_code,
                            "attempt": attempt,
                            "wait_s": round(pause, 1),
                            "rate_limited": limited,
                        },
                    )
                    response.close()
                    TRACKER_RETRIES.labels(self.system).inc()
                    if limited or response.status_code == HTTP_TOO_MANY:
                        self._count_wait(pause)
                    self._sleep(pause)
                    waited += pause
                    continue
                if limited or response.status_code == HTTP_TOO_MANY:
                    raise self._limited_error(method, path, response, pause)
            error = self._proxy_refused(method, path, response) or self._error(
                method, path, self._scrubbed(response)
            )
            raise self._cleaned(error)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    # -- internals ---------------------------------------------------------------------------

    def _url(self, path: str, *, absolute: bool) -> str:
        if absolute or not self.api_prefix:
            return path if absolute else path.lstrip("/")
        return f"{self.api_prefix}/{path.lstrip('/')}"

    def _count_wait(self, seconds: float) -> None:
        RATE_LIMIT_WAITS.labels(self.system).inc()
        RATE_LIMIT_WAIT_SECONDS.labels(self.system).inc(seconds)

    def _send(self, request: httpx.Request, path: str, *, follow_redirects: bool) -> httpx.Response:
        method = request.method
        if self.budget is not None:
            queued = time.perf_counter()
            self.budget.acquire(method)
            if (waited := time.perf_counter() - queued) >= BUDGET_WAIT_S:
                self._count_wait(waited)
        started = time.perf_counter()
        status: int | None = None
        try:
            response = self._http.send(request, follow_redirects=follow_redirects)
            status = response.status_code
            self._sent(request, status, started)
        except httpx.TimeoutException as exc:
            self._sent(request, None, started, failure=type(exc).__name__)
            raise TrackerOfflineError(
                f"{self.vendor} at {self.base_url} did not answer {method} {shown(path)} in time."
            ) from exc
        except httpx.TransportError as exc:
            self._sent(request, None, started, failure=type(exc).__name__)
            # The type only: the text may repeat the URL, never more, but keep it plain.
            via = f" through the proxy {self.proxy.uri}" if self.proxy else ""
            raise TrackerOfflineError(
                f"{self.vendor} at {self.base_url} cannot be reached{via} ({type(exc).__name__})."
            ) from exc
        finally:
            if self.budget is not None:
                self.budget.release(method)
            TRACKER_LATENCY.labels(self.system, method).observe(time.perf_counter() - started)
            TRACKER_REQUESTS.labels(
                self.system, method, outcome_class(status), str(status or "none")
            ).inc()
        left = remaining(response)
        if left is not None:
            RATE_LIMIT_REMAINING.labels(self.system).set(left)
        if self.budget is not None:
            self.budget.observe(left, reset_epoch_s(response))
        return response

    def _sent(
        self, request: httpx.Request, status: int | None, started: float, failure: str = ""
    ) -> None:
        """The request's debug event: the path only (no host, query or credentials)."""
        if not log.isEnabledFor(logging.DEBUG):
            return
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = request.url.path
        log.debug(
            "tracker request %s %s: %s in %s ms",
            request.method,
            path,
            status or failure,
            duration_ms,
            extra={
                "vendor": self.vendor,
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                **({"failure": failure} if failure else {}),
            },
        )

    def _pause(self, response: httpx.Response, attempt: int) -> float:
        """Seconds to wait before the next attempt: what the tracker asks, else doubling."""
        asked = retry_after_s(response)
        return FIRST_BACKOFF_S * 2.0 ** (attempt - 1) if asked is None else asked

    def _limited_error(
        self, method: str, path: str, response: httpx.Response, pause: float
    ) -> TrackerOfflineError:
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=pause)
        return TrackerOfflineError(
            f"{self.vendor} rate-limited {method} {shown(path)} ({response.status_code}); "
            f"requests resume after {until:%Y-%m-%d %H:%M:%S} UTC."
        )

    def authentication_hint(self, response: httpx.Response) -> str:  # noqa: ARG002 - a hook
        """More to say on a 401 (a subclass knows its tracker's headers)."""
        return ""

    def _scrubbed(self, response: httpx.Response) -> httpx.Response:
        """The error answer with its body cut to :data:`MAX_ERROR_BODY` and redacted,
        before any of it is read into a message (a cut secret would no longer match)."""
        text = self.redacted(response.text[:MAX_ERROR_BODY])
        headers = [
            (name, self.redacted(value))
            for name, value in response.headers.multi_items()
            if name.lower() not in {"content-encoding", "content-length", "transfer-encoding"}
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=text.encode(response.encoding or "utf-8", errors="replace"),
            request=response.request,
        )

    def _cleaned(self, error: IssueSyncError) -> IssueSyncError:
        """The error with its message and field errors redacted (what a subclass's
        ``_error`` or hint decoded from JSON escapes, say), capped at
        :data:`~issuesync.domain.redaction.MAX_SHOWN_TEXT`."""
        error.message = redact(error.message, self._secrets)
        error.args = (error.message,)
        error.field_errors = {
            redact(name, self._secrets): redact(text, self._secrets)
            for name, text in error.field_errors.items()
        }
        return error

    def _proxy_refused(
        self, method: str, path: str, response: httpx.Response
    ) -> IssueSyncError | None:
        """A 407 from the connector's proxy: its login, not the tracker's, is wrong."""
        if response.status_code != HTTP_PROXY_AUTHENTICATION or self.proxy is None:
            return None
        return AuthenticationError(
            f"The proxy {self.proxy.uri} refused the login of '{self.proxy.username or ''}' "
            f"(407) for {method} {shown(path)}: check the connector's proxy.username and "
            "proxy.password."
        )

    def _error(self, method: str, path: str, response: httpx.Response) -> IssueSyncError:
        status = response.status_code
        text = self._error_text(response)
        what = f"{self.vendor} answered {method} {shown(path)} with {status}"
        detail = f"{what}: {text.message}" if text.message else what
        who = self.user or "(token)"
        if response.is_redirect:
            return ConfigurationError(
                f"{what}, a redirect to {shown(response.headers.get('Location', '?'))}: "
                f"set the connector's base URL to the address {self.vendor} answers on."
            )
        if status == HTTP_UNAUTHORIZED:
            return AuthenticationError(
                f"{self.vendor} refused the credentials of the sync user '{who}' "
                f"(401).{self.authentication_hint(response)} Check the connector's user and secret."
            )
        if status == HTTP_FORBIDDEN:
            return PermissionDeniedError(
                f"{detail}. The sync user '{who}' lacks a permission.",
                field_errors=text.field_errors,
            )
        if status == HTTP_NOT_FOUND:
            return NotFoundError(detail, field_errors=text.field_errors)
        if status in HTTP_CLIENT_ERRORS:
            return TrackerRejectedError(detail, field_errors=text.field_errors)
        return TrackerOfflineError(f"{detail}; try again later.")


def shown(path: str) -> str:
    """A path as errors show it: without a query string (it may hold a query full of data)."""
    return path.split("?", 1)[0]


def json_or_none(response: httpx.Response) -> Any:  # noqa: ANN401 - JSON
    """The answer's JSON, or None for an empty body."""
    return response.json() if response.content.strip() else None
