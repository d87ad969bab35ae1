"""When a connection runs: its frequency and the time of its next job, and what a job says.

A connection that is not run by hand runs once per period *after the start of its last
job* (the anchor): an hourly connection whose job started at 10:17 runs next at 11:17,
one that has never run runs at once. A job missed while no engine ran (the server was
down for three hours) runs once when one starts, and the next is a period after that
run: slots are never caught up one by one. ``monthly`` is the same day and time of the
next month, or its last day when it has no such day (31 January, then 28 February).
Times are UTC epoch milliseconds.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

HOUR_MS: Final = 3_600_000
MAX_DETAILS: Final = 200  # issues a job's message names in debug mode


class Frequency(StrEnum):
    """How often a connection runs (SD Elements' values)."""

    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    MANUALLY = "manually"


PERIOD_MS: Final = {
    Frequency.HOURLY: HOUR_MS,
    Frequency.DAILY: 24 * HOUR_MS,
    Frequency.WEEKLY: 7 * 24 * HOUR_MS,
}


def next_run_ms(frequency: Frequency, anchor_ms: int) -> int | None:
    """When a connection whose last job started at ``anchor_ms`` runs next (None: only when
    asked, ``manually``)."""
    if frequency is Frequency.MANUALLY:
        return None
    if frequency is Frequency.MONTHLY:
        return _next_month(anchor_ms)
    return anchor_ms + PERIOD_MS[frequency]


def _next_month(anchor_ms: int) -> int:
    at = datetime.fromtimestamp(anchor_ms / 1000, tz=UTC)
    year, month = (at.year + 1, 1) if at.month == 12 else (at.year, at.month + 1)  # noqa: PLR2004 - December
    day = min(at.day, calendar.monthrange(year, month)[1])
    return int(at.replace(year=year, month=month, day=day).timestamp() * 1000)


@dataclass
class JobReport:
    """What one job did, counted from the messages it moved (``engine/runtime/jobs.py``).

    ``created`` and ``updated``: issues created and updated in the tracker; ``statuses``:
    the tracker statuses set by the job (name: how many); ``returned``: changes of the
    tracker's issues written back into the project, with ``returned_statuses`` likewise;
    ``failures``: issue and reason of each change that could not be applied (waiting
    in the connection's queues, retried by the next job); ``fatal``: why the job could
    not run at all (the tracker unreachable, the login refused).
    """

    tracker: str
    created: int = 0
    updated: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    returned: int = 0
    returned_statuses: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    fatal: str | None = None
    details: list[str] | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the job ran and every change was applied."""
        return self.fatal is None and not self.failures

    def message(self, max_failures: int = 10) -> str:
        """The job's ``result_message``: what it did, in one paragraph."""
        if self.fatal is not None:
            return f"Failed: {self.fatal}"
        parts = [
            f"{self.tracker}: {self.created} created, {self.updated} updated"
            + _statuses(self.statuses),
            f"back: {self.returned} updated" + _statuses(self.returned_statuses),
        ]
        said = "; ".join(parts) + "."
        if self.details:
            shown_details = "; ".join(self.details[:MAX_DETAILS])
            more_details = len(self.details) - MAX_DETAILS
            extra = f" (and {more_details} more)" if more_details > 0 else ""
            said += f" Details: {shown_details}{extra}."
        if not self.failures:
            return said if self.created or self.updated or self.returned else "No changes."
        shown = "; ".join(f"{issue}: {reason}" for issue, reason in self.failures[:max_failures])
        more = len(self.failures) - max_failures
        tail = f" (and {more} more)" if more > 0 else ""
        return f"{said} {len(self.failures)} failed: {shown}{tail}"


def _statuses(counts: dict[str, int]) -> str:
    if not counts:
        return ""
    return " (" + ", ".join(f"{n} now {name}" for name, n in sorted(counts.items())) + ")"
