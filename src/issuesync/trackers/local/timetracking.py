"""Time tracking of the built-in tracker: an issue's estimates, and how logged work moves them.

Jira keeps an original and a remaining estimate per issue (the ``timetracking`` field)
and the time spent, the sum of the work logs. Logging, editing or deleting work moves
the remaining estimate as the request's ``adjustEstimate`` says (Jira Server 8.20's
``issue/{key}/worklog`` resources):

======== ==================================== =====================================
value    add or update                        delete
======== ==================================== =====================================
auto     remaining minus the time logged (or  remaining plus the time the log had
         the change of it), never below zero  (the default)
         (the default)
new      remaining becomes ``newEstimate``    remaining becomes ``newEstimate``
leave    unchanged                            unchanged
manual   add: remaining minus ``reduceBy``    remaining plus ``increaseBy``
         (an update takes no ``manual``)
======== ==================================== =====================================

``new`` without ``newEstimate``, ``manual`` without its amount, an amount that is not
a duration, or any other value is refused with a 400, as Jira does. An issue with no
remaining estimate keeps none under ``auto`` and ``manual``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from issuesync.errors import InvalidInputError
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.jiratime import MAX_DURATION_SECONDS, parse_duration
from issuesync.trackers.local.models import TimeTracking


class WorklogChange(StrEnum):
    """What a request does to a work log: the adjustments each allows differ."""

    ADD = "add"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Adjustment:
    """A checked ``adjustEstimate`` with its amount in seconds (None for auto and leave)."""

    mode: str
    seconds: int | None = None

    @classmethod
    def parse(cls, change: WorklogChange, params: Mapping[str, str | None]) -> Adjustment:
        """The adjustment the query parameters ask for, or Jira's 400."""
        raw = params.get("adjustEstimate")
        mode = (raw or "auto").strip().lower()
        allowed = (
            ("new", "leave", "auto")
            if change is WorklogChange.UPDATE
            else (
                "new",
                "leave",
                "manual",
                "auto",
            )
        )
        if mode not in allowed:
            raise InvalidInputError(
                f"Invalid value for adjustEstimate: '{raw}'.",
                field_errors={"adjustEstimate": f"use one of: {', '.join(allowed)}"},
            )
        if mode == "new":
            return cls(mode, _amount(params.get("newEstimate"), "newEstimate", allow_zero=True))
        if mode == "manual":
            name = "reduceBy" if change is WorklogChange.ADD else "increaseBy"
            return cls(mode, _amount(params.get(name), name, allow_zero=False))
        return cls(mode)


def _amount(raw: str | None, name: str, *, allow_zero: bool) -> int:
    if raw is None or not raw.strip():
        raise InvalidInputError(
            f"'{name}' is required with this adjustEstimate.",
            field_errors={name: f"You must supply a valid value for '{name}'."},
        )
    try:
        seconds = parse_duration(raw, name)
    except InvalidInputError:
        raise InvalidInputError(
            f"Invalid duration for '{name}': '{raw}'.",
            field_errors={name: "Use a duration like '1h 30m' or '2d'."},
        ) from None
    if seconds == 0 and not allow_zero:
        raise InvalidInputError(
            f"'{name}' must be more than nothing.",
            field_errors={name: "Use a duration like '1h 30m' or '2d'."},
        )
    return seconds


def adjust_remaining(
    op: Operation, issue_id: int, adjustment: Adjustment, change: WorklogChange, delta: int
) -> None:
    """Move the issue's remaining estimate; ``delta`` is the time logged by the change
    (the new time less the old one for an update; the log's time for a delete)."""
    if adjustment.mode == "leave":
        return
    row = op.session.get(TimeTracking, issue_id)
    if adjustment.mode == "new":
        if row is None:
            row = TimeTracking(issue_id=issue_id)
            op.session.add(row)
        row.remaining_estimate_seconds = adjustment.seconds
        return
    if row is None or row.remaining_estimate_seconds is None:
        return  # no estimate to move, as in Jira
    if adjustment.mode == "manual":
        amount = adjustment.seconds or 0
        delta = -amount if change is WorklogChange.DELETE else amount
    elif change is WorklogChange.DELETE:
        delta = -delta
    remaining = row.remaining_estimate_seconds - delta
    row.remaining_estimate_seconds = min(max(remaining, 0), MAX_DURATION_SECONDS)
