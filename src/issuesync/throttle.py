"""Failed logins counted per user name and per client address, to slow down guessing.

A :class:`LoginThrottle` keeps, for each key (a user name, a client address),
the failures of the last ``window_s`` seconds. When a key reaches its limit it
is *locked*: further attempts for it are answered "try again later" (HTTP 429
with ``Retry-After``) without checking the credentials, so that the answer
during a lock says nothing about whether a guess was right. The first lock lasts
one window; each further lock of the same key lasts twice the one before, up to
``max_lock_s``: a guesser slows down geometrically, and the right password works
again at the latest ``max_lock_s`` after the guessing stops. A successful login
clears the name's failures. A key that has been quiet for a window after its
last lock ended, plus ``max_lock_s``, is forgotten (and its backoff with it).

The counts live in the memory of one process: each server process counts on
its own (``serve --workers N`` lets a guesser N times as many tries). Their
memory is bounded: at most ``max_keys`` keys per table (names are kept as a
short digest); when a table is full the keys forgotten first are those that
hold no lock, least recently failed first, so a guesser cannot flood out the
lock of the name it is guessing by spraying other names.

Pure: no framework, no database; the clock is injectable for tests.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from issuesync.errors import ThrottledError

MAX_KEYS = 10_000
LOCK_STRIPES = 64


@dataclass
class _Entry:
    """The failures of one key and its lock."""

    failures: deque[float] = field(default_factory=deque)
    locked_until: float = 0.0
    lockouts: int = 0  # how many locks in a row; the next lasts longer
    last: float = 0.0  # the last failure or lock


class _Counter:
    """One table of keys: at most ``limit`` failures per window, then a growing lock."""

    def __init__(self, limit: int, window_s: float, max_lock_s: float, max_keys: int) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_lock_s = max_lock_s
        self.max_keys = max_keys
        self._entries: dict[bytes, _Entry] = {}
        self._lock = threading.Lock()

    def locked_for(self, key: bytes, now: float) -> float:
        """Seconds the key stays locked (0 when it is not)."""
        with self._lock:
            entry = self._entries.get(key)
            return max(0.0, entry.locked_until - now) if entry is not None else 0.0

    def fail(self, key: bytes, now: float) -> None:
        """Count a failure; the limit-th within the window locks the key."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._quiet(entry, now):
                if entry is None:
                    self._make_room(now)
                entry = self._entries[key] = _Entry()
            if entry.locked_until > now:
                return  # attempts during a lock are refused before they are checked
            while entry.failures and entry.failures[0] <= now - self.window_s:
                entry.failures.popleft()
            entry.failures.append(now)
            entry.last = now
            if len(entry.failures) >= self.limit:
                entry.lockouts += 1
                growth = 2.0 ** min(entry.lockouts - 1, 32)
                entry.locked_until = now + min(self.window_s * growth, self.max_lock_s)
                entry.failures.clear()

    def forgive(self, key: bytes) -> None:
        """A success: the key's failures are gone; its backoff stays until it is quiet."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.failures.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _quiet(self, entry: _Entry, now: float) -> bool:
        """Nothing of the entry matters any more: no recent failure, no lock, no backoff."""
        last_lock_end = max(entry.locked_until, entry.last + self.window_s)
        return now > last_lock_end + self.max_lock_s

    def _make_room(self, now: float) -> None:
        """Called under the lock before a key is added."""
        if len(self._entries) < self.max_keys:
            return
        for key in [k for k, e in self._entries.items() if self._quiet(e, now)]:
            del self._entries[key]
        if len(self._entries) < self.max_keys:
            return
        # Still full: forget a tenth, unlocked keys first (least recently failed), then
        # the locks that end soonest.
        ranked = sorted(
            self._entries.items(),
            key=lambda item: (item[1].locked_until > now, item[1].locked_until, item[1].last),
        )
        for key, _ in ranked[: max(1, self.max_keys // 10)]:
            del self._entries[key]


class LoginThrottle:
    """Counts failed logins per user name and per client address (see the module docstring)."""

    def __init__(
        self,
        *,
        per_user: int = 5,
        per_address: int = 20,
        window_s: float = 300.0,
        max_lock_s: float = 900.0,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = _Counter(per_user, window_s, max_lock_s, max_keys)
        self._addresses = _Counter(per_address, window_s, max_lock_s, max_keys)
        self._clock = clock
        # One password check at a time per user name (striped): concurrent guesses for a
        # name cannot all pass the lock check before any of them is counted.
        self._stripes = tuple(threading.Lock() for _ in range(LOCK_STRIPES))

    def user_turn(self, name: str) -> threading.Lock:
        """The lock to hold while checking a password of ``name`` (shared by a few names)."""
        return self._stripes[_digest(name)[0] % LOCK_STRIPES]

    def check(self, address: str | None, name: str | None = None) -> None:
        """Raise ThrottledError when the address, or the user name if given, is locked."""
        now = self._clock()
        waits = [self._addresses.locked_for(_digest(address), now)] if address else []
        if name is not None:
            waits.append(self._users.locked_for(_digest(name), now))
        wait = max(waits, default=0.0)
        if wait > 0:
            raise ThrottledError(
                "Too many failed logins: wait before trying again (see Retry-After).",
                retry_after_s=math.ceil(wait),
            )

    def failed(self, address: str | None, name: str | None = None) -> None:
        """Count a failed login from the address, and for the user name if given."""
        now = self._clock()
        if address:
            self._addresses.fail(_digest(address), now)
        if name is not None:
            self._users.fail(_digest(name), now)

    def succeeded(self, name: str) -> None:
        """The user logged in: their failures are forgotten (the address's stay).

        The backoff stays until the name is quiet, so that the user's own logins
        between a guesser's bursts do not give the guesser shorter locks.
        """
        self._users.forgive(_digest(name))

    def tracked(self) -> tuple[int, int]:
        """How many user names and addresses are counted now (for tests and metrics)."""
        return len(self._users), len(self._addresses)


def _digest(text: str) -> bytes:
    """A short fixed-size key: the memory per key does not grow with the name."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
