"""The shared tracker HTTP client: its error table, retries, budget and conditional GETs.

The tracker is an ``httpx.MockTransport`` handler (and once a real loopback
server, through :class:`HandlerServer`); time is a fake clock, so waits are
asserted, not slept.
"""

from __future__ import annotations

import email.utils
import logging
import threading
from collections.abc import Callable
from typing import TypedDict, Unpack

import httpx
import pytest

from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.testing.handler_server import HandlerServer
from issuesync.trackers.credentials import HeaderAuth
from issuesync.trackers.http import (
    ErrorText,
    Limit,
    RequestBudget,
    RestClient,
    ServerClock,
    generic_error_text,
    retry_after_s,
)

SECRET = "s3cr3t-token-value"


class FakeTime:
    """A monotonic and a wall clock that only move when slept on."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class ClientOptions(TypedDict, total=False):
    """RestClient's settings a test may change."""

    conditional_gets: bool
    rate_limited: Callable[[httpx.Response], bool]
    budget: RequestBudget


def client_for(
    answers: list[httpx.Response] | Callable[[httpx.Request], httpx.Response],
    time: FakeTime | None = None,
    **options: Unpack[ClientOptions],
) -> tuple[RestClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if callable(answers):
            return answers(request)
        return answers.pop(0)

    client = RestClient(
        "https://tracker.example.test",
        HeaderAuth("PRIVATE-TOKEN", SECRET),
        vendor="Tracker",
        api_prefix="/api/v4",
        user="sync",
        transport=httpx.MockTransport(handler),
        sleep=(time or FakeTime()).sleep,
        **options,
    )
    return client, seen


def test_paths_go_under_the_api_prefix_with_the_secret_in_its_header() -> None:
    client, seen = client_for([httpx.Response(200, json={"ok": True})])
    assert client.get("projects/1", {"a": "b"}) == {"ok": True}
    assert str(seen[0].url) == "https://tracker.example.test/api/v4/projects/1?a=b"
    assert seen[0].headers["PRIVATE-TOKEN"] == SECRET
    assert SECRET not in repr(client)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (301, ConfigurationError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (400, TrackerRejectedError),
        (409, TrackerRejectedError),
        (422, TrackerRejectedError),
        (501, TrackerOfflineError),
    ],
)
def test_each_status_becomes_its_error_without_the_secret(
    status: int, error: type[Exception]
) -> None:
    body = {"message": "Title is too long", "errors": {"title": ["too long"]}}
    headers = {"Location": "https://login.example.test/?next=x"} if status == 301 else {}
    client, _ = client_for([httpx.Response(status, json=body, headers=headers)])
    with pytest.raises(error) as raised:
        client.post("projects/1/issues?private=1", {"title": "x"})
    text = str(raised.value)
    assert "Tracker" in text
    assert SECRET not in text
    assert "private=1" not in text  # the query string is not repeated
    if error is TrackerRejectedError:
        assert "Title is too long" in text
        assert isinstance(raised.value, TrackerRejectedError)
        assert raised.value.field_errors == {"title": "too long"}


def test_unreachable_and_slow_trackers_are_offline() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, _ = client_for(refuse)
    with pytest.raises(TrackerOfflineError, match="cannot be reached"):
        client.get("x")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = client_for(slow)
    with pytest.raises(TrackerOfflineError, match="in time"):
        client.get("x")


def test_a_429_is_retried_after_what_the_tracker_asks() -> None:
    time = FakeTime()
    client, seen = client_for(
        [
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(201, json={"id": 1}),
        ],
        time,
    )
    assert client.post("issues", {"title": "x"}) == {"id": 1}
    assert time.slept == [3.0]
    assert len(seen) == 2


def test_a_500_is_retried_for_reads_but_not_for_writes() -> None:
    time = FakeTime()
    client, seen = client_for([httpx.Response(500), httpx.Response(200, json=[])], time)
    assert client.get("issues") == []
    assert time.slept == [0.5]
    client, seen = client_for([httpx.Response(500), httpx.Response(201, json={})], time)
    with pytest.raises(TrackerOfflineError, match="500"):
        client.post("issues", {})
    assert len(seen) == 1  # the write may have been done: not sent twice


def test_a_rate_limit_that_lasts_longer_than_the_wait_budget_is_offline_until_the_reset() -> None:
    time = FakeTime()

    def limited(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            json={"message": "API rate limit exceeded"},
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(2_000_000_000)},
        )

    client, seen = client_for(
        limited,
        time,
        rate_limited=lambda r: r.status_code == 403 and r.headers["X-RateLimit-Remaining"] == "0",
    )
    with pytest.raises(TrackerOfflineError, match=r"rate-limited GET issues \(403\).*resume"):
        client.get("issues")
    assert len(seen) == 1
    assert time.slept == []


def test_retry_after_as_a_date_and_reset_headers() -> None:
    request = httpx.Request("GET", "https://x.test")
    dated = httpx.Response(
        429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:05 GMT"}, request=request
    )
    assert retry_after_s(dated, now_epoch_s=1445412480.0) == 5.0
    reset = httpx.Response(
        429, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "1000060"}, request=request
    )
    assert retry_after_s(reset, now_epoch_s=1_000_000.0) == 60.0
    left = httpx.Response(429, headers={"RateLimit-Remaining": "5", "RateLimit-Reset": "1000060"})
    assert retry_after_s(left, now_epoch_s=1_000_000.0) is None


def test_error_texts_of_the_common_shapes() -> None:
    def text(body: object) -> ErrorText:
        return generic_error_text(httpx.Response(422, json=body))

    assert text({"errors": ["Subject cannot be blank", "Tracker is invalid"]}).message == (
        "Subject cannot be blank; Tracker is invalid"
    )
    jira = text({"errorMessages": ["No"], "errors": {"summary": "required"}})
    assert jira == ErrorText("No; summary: required", {"summary": "required"})
    assert text({"message": {"title": ["is too long"]}}).message == ""  # not a string: skipped
    assert generic_error_text(httpx.Response(502, text="<html>proxy</html>")).message == ""
    assert generic_error_text(httpx.Response(502, text="Bad gateway")).message == "Bad gateway"


def test_the_budget_holds_requests_to_each_window() -> None:
    time = FakeTime()
    budget = RequestBudget(
        [Limit(3, 60.0), Limit(1, 10.0, writes_only=True)],
        clock=time.clock,
        sleep=time.sleep,
        wall_clock=time.clock,
    )
    for _ in range(2):
        budget.acquire("GET")
    budget.acquire("POST")
    assert time.slept == []
    budget.acquire("GET")  # the fourth request in a minute waits for the first to leave
    assert time.now == pytest.approx(1_000_060.0)
    budget.acquire("PATCH")  # the write window left long ago: only the minute counts
    assert budget.spent == 5


def test_the_budget_waits_for_the_reset_when_nothing_is_left() -> None:
    time = FakeTime()
    budget = RequestBudget([], clock=time.clock, sleep=time.sleep, wall_clock=time.clock)
    budget.observe(remaining=0, reset_epoch_s=time.now + 42)
    budget.acquire("GET")
    assert sum(time.slept) == pytest.approx(42.0)
    budget.observe(remaining=10, reset_epoch_s=time.now + 1000)
    budget.acquire("GET")
    assert sum(time.slept) == pytest.approx(42.0)


def test_serial_writes_never_overlap() -> None:
    budget = RequestBudget([], serial_writes=True)
    inside = 0
    most = 0
    lock = threading.Lock()

    def write() -> None:
        nonlocal inside, most
        budget.acquire("POST")
        try:
            with lock:
                inside += 1
                most = max(most, inside)
            threading.Event().wait(0.01)
            with lock:
                inside -= 1
        finally:
            budget.release("POST")

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert most == 1
    assert budget.spent == 6


def test_a_304_answers_from_the_cache_and_costs_nothing_more() -> None:
    bodies = {"v": 1}

    def tracker(request: httpx.Request) -> httpx.Response:
        etag = f'"v{bodies["v"]}"'
        if request.headers.get("If-None-Match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, json={"version": bodies["v"]}, headers={"ETag": etag})

    client, seen = client_for(tracker, conditional_gets=True)
    assert client.get("issues", {"since": "t"}) == {"version": 1}
    assert client.get("issues", {"since": "t"}) == {"version": 1}
    assert seen[1].headers["If-None-Match"] == '"v1"'
    bodies["v"] = 2
    assert client.get("issues", {"since": "t"}) == {"version": 2}
    assert "If-None-Match" not in client_for(tracker)[0].get_response("issues").request.headers


def test_a_handler_served_over_real_http() -> None:
    def tracker(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201, json={"method": request.method, "body": request.content.decode()}
        )

    with HandlerServer(tracker) as server:
        assert server.url.startswith("http://127.0.0.1:")
        client = RestClient(server.url, None, vendor="Fake")
        try:
            assert client.post("things", {"a": 1}) == {"method": "POST", "body": '{"a":1}'}
        finally:
            client.close()


def test_the_server_clock_follows_the_date_header_and_never_goes_back() -> None:
    time = FakeTime()
    served = {"ahead": 120.0}  # the tracker runs two minutes ahead
    probes: list[float] = []

    def probe() -> httpx.Response:
        probes.append(time.now)
        date = email.utils.formatdate(time.now + served["ahead"], usegmt=True)
        return httpx.Response(200, headers=[("Date", "not a date"), ("Date", date)])

    clock = ServerClock(probe, ttl_s=60, wall_clock=time.clock, clock=time.clock)
    assert clock.now_ms() == int((time.now + 120.5) * 1000)  # the middle of Date's second
    time.now += 10
    last = clock.now_ms()
    assert last == int((time.now + 120.5) * 1000)
    assert len(probes) == 1  # read again only after the TTL

    time.now += 61
    served["ahead"] = -0.3  # now in agreement, within the header's whole second
    assert clock.now_ms() == last  # read again, and it did not go back
    assert len(probes) == 2
    time.now += 200
    assert clock.now_ms() == int(time.now * 1000)  # then it follows this host's ms


def test_each_request_is_a_debug_event_and_a_retry_or_a_spent_limit_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="issuesync.trackers.http")
    time = FakeTime()
    client, _ = client_for(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200, json={}, headers={"X-RateLimit-Remaining": "0"}),
        ],
        time,
        budget=RequestBudget([], clock=time.clock, sleep=time.sleep, wall_clock=time.clock),
    )
    client.budget.observe(remaining=0, reset_epoch_s=time.now + 30)  # type: ignore[union-attr]
    client.get("issues", {"private_token": SECRET})
    sent = [r for r in caplog.records if r.getMessage().startswith("tracker request")]
    assert [(r.levelname, r.method, r.path, r.status) for r in sent] == [  # type: ignore[attr-defined]
        ("DEBUG", "GET", "/api/v4/issues", 429),
        ("DEBUG", "GET", "/api/v4/issues", 200),
    ]
    assert all(isinstance(r.duration_ms, float) for r in sent)  # type: ignore[attr-defined]
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warned] == [
        "the rate limit is spent: requests wait 30.0 s for its reset",
        "Tracker GET /api/v4/issues answered 429 (rate-limited): trying again in 2.0 s",
    ]
    assert (warned[1].status, warned[1].attempt, warned[1].wait_s) == (429, 1, 2.0)  # type: ignore[attr-defined]
    assert SECRET not in caplog.text
