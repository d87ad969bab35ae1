"""The tracker edge's metrics: each request, retry, rate-limit wait and the budget left.

A tracker of its own name (``vendor``) per test keeps the counts apart from other tests'
in the same process (the metrics are the process's).
"""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY

from issuesync.errors import NotFoundError, TrackerOfflineError
from issuesync.trackers.http import RestClient


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def client(system: str, answers: list[httpx.Response], slept: list[float]) -> RestClient:
    def handler(_request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if answer.status_code == 599:  # no answer at all
            raise httpx.ConnectError("refused")
        return answer

    return RestClient(
        "https://tracker.example.test",
        None,
        vendor=system,
        transport=httpx.MockTransport(handler),
        sleep=slept.append,
    )


def test_requests_retries_waits_and_the_budget_left_are_counted() -> None:
    slept: list[float] = []
    tracker = client(
        "MetricsOne",
        [
            httpx.Response(429, headers={"Retry-After": "2", "X-RateLimit-Remaining": "0"}),
            httpx.Response(200, json={}, headers={"X-RateLimit-Remaining": "41"}),
            httpx.Response(404, json={}),
            httpx.Response(599),
        ],
        slept,
    )
    system = {"system": "metricsone"}
    assert tracker.get("a") == {}
    with pytest.raises(NotFoundError):
        tracker.get("b")
    with pytest.raises(TrackerOfflineError):
        tracker.get("c")

    def requests(outcome: str, status: str) -> float:
        labels = {**system, "method": "GET", "outcome": outcome, "status": status}
        return sample("issuesync_tracker_requests_total", **labels)

    assert requests("4xx", "429") == 1
    assert requests("2xx", "200") == 1
    assert requests("4xx", "404") == 1
    assert requests("error", "none") == 1
    duration = "issuesync_tracker_request_duration_seconds_count"
    assert sample(duration, **system, method="GET") == 4
    assert sample("issuesync_tracker_retries_total", **system) == 1
    assert sample("issuesync_tracker_rate_limit_waits_total", **system) == 1
    assert sample("issuesync_tracker_rate_limit_wait_seconds_total", **system) == 2.0
    assert slept == [2.0]
    assert sample("issuesync_tracker_rate_limit_remaining", **system) == 41
