"""The rate limits of :class:`~issuesync.testing.fake_github.FakeGitHub`, per token.

- the primary limit: ``limit`` requests per ``window_s``, the window resetting on
  a whole epoch second (``x-ratelimit-reset`` says exactly when); once spent,
  ``primary_status`` (GitHub sends ``403`` or ``429``) with
  ``x-ratelimit-remaining: 0`` and "API rate limit exceeded for user ID ...";
  a ``304`` is given back (:meth:`RateLimits.refund`), as GitHub does not count it;
- optionally the secondary limit on content creation: more than
  ``secondary_writes_per_minute`` writes in a minute answer ``403`` "You have
  exceeded a secondary rate limit" and block writes for ``secondary_retry_after_s``
  (then sent as ``Retry-After``), else for a minute.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from issuesync.testing.fake_github_state import Reply

WRITES: Final = frozenset({"POST", "PATCH", "PUT", "DELETE"})
SECONDARY_MESSAGE: Final = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
MINUTE_S: Final = 60.0


@dataclass
class _Window:
    """One token's primary limit: ``used`` requests until ``reset`` (epoch seconds)."""

    reset: float
    used: int = 0


@dataclass
class RateLimits:
    """Every token's limits; ``clock`` gives epoch seconds. Not locked: the fake locks."""

    clock: Callable[[], float]
    limit: int = 5000
    window_s: float = 3600.0
    primary_status: int = 403
    secondary_writes_per_minute: int | None = None
    secondary_retry_after_s: int | None = None
    _windows: dict[str, _Window] = field(default_factory=dict)
    _writes: dict[str, deque[float]] = field(default_factory=dict)
    _blocked: dict[str, float] = field(default_factory=dict)  # token -> when writes may go

    def used(self, token: str) -> int:
        """Requests counted against ``token``'s primary limit in its current window."""
        window = self._windows.get(token)
        return window.used if window is not None and self.clock() < window.reset else 0

    def spend(self, token: str, user_id: int, method: str) -> dict[str, str]:
        """Count a request; the ``x-ratelimit-*`` headers, or a :class:`Reply` once spent."""
        now = self.clock()
        window = self._windows.get(token)
        if window is None or now >= window.reset:
            window = self._windows[token] = _Window(math.ceil(now + self.window_s))
        headers = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-reset": str(int(window.reset)),
            "x-ratelimit-resource": "core",
        }
        if window.used >= self.limit:
            reply = Reply(self.primary_status, f"API rate limit exceeded for user ID {user_id}.")
            reply.headers = {
                **headers,
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": str(window.used),
            }
            raise reply
        window.used += 1
        headers["x-ratelimit-used"] = str(window.used)
        headers["x-ratelimit-remaining"] = str(self.limit - window.used)
        if method in WRITES and self.secondary_writes_per_minute is not None:
            self._secondary(token, now, headers)
        return headers

    def refund(self, token: str, headers: dict[str, str]) -> None:
        """Give back a request answered ``304``, and say so in its headers."""
        window = self._windows.get(token)
        if window is not None and "x-ratelimit-used" in headers:
            window.used -= 1
            headers["x-ratelimit-used"] = str(window.used)
            headers["x-ratelimit-remaining"] = str(self.limit - window.used)

    def _secondary(self, token: str, now: float, headers: Mapping[str, str]) -> None:
        assert self.secondary_writes_per_minute is not None
        writes = self._writes.setdefault(token, deque())
        blocked = self._blocked.get(token, 0.0)
        while writes and writes[0] <= now - MINUTE_S:
            writes.popleft()
        if now >= blocked and len(writes) < self.secondary_writes_per_minute:
            writes.append(now)
            return
        if now >= blocked:
            self._blocked[token] = now + (self.secondary_retry_after_s or MINUTE_S)
            writes.clear()
        reply = Reply(403, SECONDARY_MESSAGE)
        reply.headers = dict(headers)
        if self.secondary_retry_after_s is not None:
            reply.headers["retry-after"] = str(self.secondary_retry_after_s)
        raise reply
