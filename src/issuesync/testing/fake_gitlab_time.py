"""Time tracking of the fake GitLab: an issue's ``time_stats`` and the routes that change them.

As GitLab's issues API documents it (``POST /projects/:id/issues/:iid/add_spent_time`` with
``duration`` and an optional ``summary``, ``reset_spent_time``, ``GET .../time_stats``), an
issue keeps a *total* of time spent, no entries: each call answers the issue's
``time_stats`` (``time_estimate``, ``total_time_spent``, ``human_time_estimate``,
``human_total_time_spent``), which the issue's own JSON carries too. A duration is GitLab's
human format (``1h30m``, ``2d``, ``90s``; ``-30m`` subtracts), with GitLab's default units:
a month is 4 weeks, a week 5 days, a day 8 hours. The total never goes below zero: a
subtraction past it is refused (400). Each change leaves a system note
(``added 1h 30m of time spent``), which moves the issue's ``updated_at``.
"""

from __future__ import annotations

import re
from typing import Final

from issuesync.testing.fake_gitlab_wire import Json, Reply

UNITS: Final = {
    "mo": 4 * 5 * 8 * 3600,
    "w": 5 * 8 * 3600,
    "d": 8 * 3600,
    "h": 3600,
    "m": 60,
    "s": 1,
}
_PART = re.compile(r"(\d+)\s*(mo|w|d|h|m|s)")


def parse_duration(text: object) -> int:
    """Seconds of a GitLab duration (negative with a leading ``-``); 400 when it is not one."""
    raw = str(text or "").strip()
    sign = -1 if raw.startswith("-") else 1
    body = raw.lstrip("-").strip()
    parts = _PART.findall(body)
    if not parts or _PART.sub("", body).strip():
        raise Reply(400, {"error": "duration is invalid"})
    return sign * sum(int(n) * UNITS[unit] for n, unit in parts)


def human(seconds: int) -> str | None:
    """GitLab's ``human_*`` form: ``1h 30m`` (None for nothing)."""
    if seconds <= 0:
        return None
    parts: list[str] = []
    for unit, size in UNITS.items():
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts)


def new_time_stats() -> Json:
    """The ``time_stats`` of a new issue."""
    return {
        "time_estimate": 0,
        "total_time_spent": 0,
        "human_time_estimate": None,
        "human_total_time_spent": None,
    }


def spend(issue: Json, seconds: int) -> str:
    """Add ``seconds`` (negative: subtract) to the issue's total; returns the system note's text."""
    stats = issue.setdefault("time_stats", new_time_stats())
    total = int(stats["total_time_spent"]) + seconds
    if total < 0:
        raise Reply(400, {"message": {"time_spent": ["Time to subtract exceeds the total"]}})
    stats["total_time_spent"] = total
    stats["human_total_time_spent"] = human(total)
    action = "added" if seconds >= 0 else "subtracted"
    return f"{action} {human(abs(seconds)) or '0s'} of time spent"


def reset(issue: Json) -> str:
    """Set the issue's total to zero; returns the system note's text."""
    stats = issue.setdefault("time_stats", new_time_stats())
    stats["total_time_spent"] = 0
    stats["human_total_time_spent"] = None
    return "removed time spent"
