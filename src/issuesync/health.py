"""What is wrong with this process now: the record ``/healthz`` and the status readings show.

A process (``serve``, ``worker``, a CLI command) keeps one :class:`Health`,
built by the composition root. The store and the engine report into it as
things fail and recover::

    area        failing while                                  cleared by
    database    the database cannot be reached or read         any unit of work that works
    writes      writes fail: disk full, I/O errors, a lock or   a committed write
                the write turn held too long by another process
    engine      the engine's scheduler cannot refresh its       a refresh that works
                connectors (it runs nothing new meanwhile)

Each problem says since when, in issuesync's own words (``reason``, safe for
anyone: ``/healthz`` needs no login), and with the driver's message
(``detail``, which may name a database host: shown only to authenticated
readers). Everything here is in memory, so reading it never waits for the
database or a thread: ``/healthz`` answers even while the store hangs.

This module sits beside ``errors.py``: every layer reports into it, so it
imports nothing of issuesync.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

DATABASE = "database"
WRITES = "writes"
ENGINE = "engine"

MAX_TEXT = 300  # a reason or detail longer than this is cut: the readings stay small


@dataclass(frozen=True)
class Problem:
    """One thing that is failing in this process, since ``since_ms`` (epoch ms)."""

    area: str
    reason: str
    detail: str
    since_ms: int

    def describe(self, *, detail: bool = True) -> str:
        """One line: the reason, and the driver's message when ``detail``."""
        if detail and self.detail and self.detail not in self.reason:
            return f"{self.reason} ({self.detail})"
        return self.reason


class Health:
    """The current problems of this process, one per area; thread-safe.

    ``version`` moves with every change, so a reader that renders the problems
    (the status board) knows when to render them again.
    """

    def __init__(self) -> None:
        self._problems: dict[str, Problem] = {}
        self._lock = threading.Lock()
        self.version = 0

    def fail(self, area: str, reason: str, detail: str = "") -> bool:
        """Record that ``area`` fails; returns whether this is news (a new problem or
        another reason), so that callers log a failure once, not every second."""
        reason, detail = _short(reason), _short(detail)
        with self._lock:
            known = self._problems.get(area)
            if known is not None and known.reason == reason and known.detail == detail:
                return False
            since = known.since_ms if known is not None else int(time.time() * 1000)
            self._problems[area] = Problem(area, reason, detail, since)
            self.version += 1
            return known is None or known.reason != reason

    def recover(self, area: str) -> Problem | None:
        """``area`` works again; returns the problem it had, if any (costs no lock when
        there was none: it is called after every unit of work)."""
        if area not in self._problems:
            return None
        with self._lock:
            gone = self._problems.pop(area, None)
            if gone is not None:
                self.version += 1
            return gone

    def problems(self) -> tuple[Problem, ...]:
        """The current problems, oldest first."""
        with self._lock:
            return tuple(sorted(self._problems.values(), key=lambda p: (p.since_ms, p.area)))

    @property
    def healthy(self) -> bool:
        """Whether nothing fails."""
        return not self._problems


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_TEXT else line[: MAX_TEXT - 1] + "…"
