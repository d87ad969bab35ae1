"""The counter of failed logins (``issuesync.throttle``), on a clock the test turns by hand."""

from __future__ import annotations

import pytest

from issuesync.api.backbone.errors import BACKBONE
from issuesync.api.jira.errors import JIRA
from issuesync.errors import ThrottledError
from issuesync.throttle import LoginThrottle


class Clock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: Clock, **limits: float) -> LoginThrottle:
    settings: dict[str, float] = {"per_user": 3, "per_address": 10, "window_s": 60.0}
    settings |= limits
    return LoginThrottle(
        per_user=int(settings["per_user"]),
        per_address=int(settings["per_address"]),
        window_s=settings["window_s"],
        max_lock_s=settings.get("max_lock_s", 240.0),
        max_keys=int(settings.get("max_keys", 10_000)),
        clock=clock,
    )


def retry_after(limiter: LoginThrottle, address: str | None, name: str | None = None) -> int:
    """The Retry-After of a refused attempt; 0 when the attempt may go ahead."""
    try:
        limiter.check(address, name)
    except ThrottledError as exc:
        refused = exc
    else:
        return 0
    assert JIRA.status(refused) == BACKBONE.status(refused) == 429
    assert refused.retry_after_s is not None
    return refused.retry_after_s


def test_the_limit_locks_a_name_for_a_window_then_lets_it_try_again() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(3):
        assert retry_after(limiter, "10.0.0.1", "admin") == 0
        limiter.failed("10.0.0.1", "admin")
    assert retry_after(limiter, "10.0.0.1", "admin") == 60
    assert retry_after(limiter, "10.0.0.2", "admin") == 60  # the name, from anywhere
    assert retry_after(limiter, "10.0.0.1", "bob") == 0  # another name is not locked
    clock.now += 59.5
    assert retry_after(limiter, "10.0.0.1", "admin") == 1
    clock.now += 1
    assert retry_after(limiter, "10.0.0.1", "admin") == 0


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(10):
        limiter.failed(None, "admin")
        limiter.failed(None, "admin")
        clock.now += 61  # two per window stay under the limit of three
        assert retry_after(limiter, None, "admin") == 0


def test_each_lock_lasts_twice_the_one_before_up_to_the_cap() -> None:
    clock = Clock()
    limiter = throttle(clock, max_lock_s=200)
    seen = []
    for _ in range(5):
        for _ in range(3):
            limiter.failed(None, "admin")
        wait = retry_after(limiter, None, "admin")
        seen.append(wait)
        clock.now += wait
    assert seen == [60, 120, 200, 200, 200]
    for _ in range(3):
        limiter.failed(None, "admin")
    clock.now += 100
    # Failures during a lock are not counted and do not lengthen it.
    for _ in range(3):
        limiter.failed(None, "admin")
    assert retry_after(limiter, None, "admin") == 100
    clock.now += 100
    # Quiet for a window and the longest lock after the last: the backoff is forgotten.
    clock.now += 60 + 200 + 1
    for _ in range(3):
        limiter.failed(None, "admin")
    assert retry_after(limiter, None, "admin") == 60


def test_a_success_forgets_the_names_failures_not_the_addresses() -> None:
    clock = Clock()
    limiter = throttle(clock, per_address=4)
    limiter.failed("10.0.0.1", "admin")
    limiter.failed("10.0.0.1", "admin")
    limiter.succeeded("admin")
    limiter.failed("10.0.0.1", "admin")
    limiter.failed("10.0.0.1", "admin")
    assert retry_after(limiter, "10.0.0.9", "admin") == 0  # two since the success: under 3
    assert retry_after(limiter, "10.0.0.1", "carol") == 60  # the address failed four times
    assert retry_after(limiter, "10.0.0.1") == 60  # tokens are counted per address too


def test_spraying_names_neither_grows_the_tables_nor_frees_a_locked_name() -> None:
    clock = Clock()
    limiter = throttle(clock, max_keys=100, per_address=10**9)
    for _ in range(3):
        limiter.failed("10.0.0.1", "admin")
    for number in range(5_000):
        limiter.failed("10.0.0.1", f"random-{number}")
        assert max(limiter.tracked()) <= 100
    assert retry_after(limiter, None, "admin") == 60


@pytest.mark.parametrize("name", ["", "é", "\ud800", "x" * 100_000, "a\x00b"])
def test_any_name_is_a_key(name: str) -> None:
    limiter = throttle(Clock())
    for _ in range(3):
        limiter.failed(name, name)
    assert retry_after(limiter, None, name) == 60


def test_a_success_keeps_the_backoff_so_a_guesser_gains_nothing_from_it() -> None:
    clock = Clock()
    limiter = throttle(clock)
    for _ in range(3):
        limiter.failed(None, "admin")
    clock.now += retry_after(limiter, None, "admin")
    limiter.succeeded("admin")  # the real user, between two bursts
    for _ in range(3):
        limiter.failed(None, "admin")
    assert retry_after(limiter, None, "admin") == 120
