"""An issue's estimates as Jira's fields show and set them: ``timetracking`` (original and
remaining estimate, time spent), ``timeoriginalestimate``, ``timeestimate``, ``timespent``.

Durations are Jira's text (``1w 2d 3h 30m``: 8-hour days, 5-day weeks) or seconds. The
time spent is the sum of an issue's work logs; how work logs move the remaining
estimate is ``timetracking.py``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from issuesync.errors import InvalidInputError
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.jiratime import MAX_DURATION_SECONDS, parse_duration
from issuesync.trackers.local.models import TimeTracking, Worklog
from issuesync.trackers.local.shapes import format_duration

TIME_FIELDS: Final = frozenset(
    {"timetracking", "timeoriginalestimate", "timeestimate", "timespent"}
)
_PARTS: Final = frozenset(
    {
        "originalEstimate",
        "remainingEstimate",
        "originalEstimateSeconds",
        "remainingEstimateSeconds",
    }
)

Estimates = tuple[int | None, int | None]
"""(original estimate, remaining estimate) in seconds; None where there is none."""


def stored_estimates(session: Session, issue_id: int | None) -> Estimates:
    """An issue's estimates as stored (none for an issue not written yet)."""
    row = session.get(TimeTracking, issue_id) if issue_id is not None else None
    if row is None:
        return None, None
    return row.original_estimate_seconds, row.remaining_estimate_seconds


def parse_estimates(value: object, current: Estimates) -> Estimates:
    """The estimates Jira's ``timetracking`` value sets: ``{"originalEstimate": "1d",
    "remainingEstimate": "4h"}`` (or the ``...Seconds`` forms); a part left out is kept."""
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            "timetracking",
            field_errors={
                "timetracking": 'Expected {"originalEstimate": "1d", "remainingEstimate": "4h"}.'
            },
        )
    unknown = set(value) - _PARTS
    if unknown:
        raise InvalidInputError(
            "timetracking",
            field_errors={"timetracking": f"Unknown part(s): {', '.join(sorted(unknown))}."},
        )
    original = _estimate(value, "originalEstimate", current[0])
    remaining = _estimate(value, "remainingEstimate", current[1])
    if remaining is None and original is not None and current[1] is None:
        remaining = original  # as Jira: a first original estimate is also what remains
    return original, remaining


def _estimate(value: Mapping[str, object], name: str, current: int | None) -> int | None:
    if f"{name}Seconds" in value:
        seconds = value[f"{name}Seconds"]
        if seconds is None:
            return None
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not 0 <= seconds <= MAX_DURATION_SECONDS
        ):
            raise InvalidInputError(
                name, field_errors={name: "Give a number of seconds, 0 or more."}
            )
        return seconds
    if name not in value:
        return current
    text = value[name]
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise InvalidInputError(name, field_errors={name: "Use a duration like '1h 30m'."})
    return parse_duration(text, name)


def load_estimates(
    session: Session, ids: Iterable[int]
) -> dict[int, tuple[int | None, int | None, int]]:
    """Per issue: (original estimate, remaining estimate, time spent), one query each."""
    wanted = list(ids)
    found: dict[int, tuple[int | None, int | None, int]] = {}
    if not wanted:
        return found
    spent = dict(
        session.execute(
            select(Worklog.issue_id, func.sum(Worklog.time_spent_seconds))
            .where(Worklog.issue_id.in_(wanted))
            .group_by(Worklog.issue_id)
        ).all()
    )
    rows = session.execute(
        select(
            TimeTracking.issue_id,
            TimeTracking.original_estimate_seconds,
            TimeTracking.remaining_estimate_seconds,
        ).where(TimeTracking.issue_id.in_(wanted))
    ).all()
    for issue_id, original, remaining in rows:
        found[issue_id] = (original, remaining, int(spent.get(issue_id) or 0))
    for issue_id, total in spent.items():
        found.setdefault(issue_id, (None, None, int(total or 0)))
    return found


def time_fields(estimates: tuple[int | None, int | None, int] | None) -> JsonDict:
    """Jira's ``timetracking``, ``timeoriginalestimate``, ``timeestimate``, ``timespent``."""
    original, remaining, spent = estimates or (None, None, 0)
    tracking: JsonDict = {}
    if original is not None:
        tracking["originalEstimate"] = format_duration(original)
    if remaining is not None:
        tracking["remainingEstimate"] = format_duration(remaining)
    if spent:
        tracking["timeSpent"] = format_duration(spent)
    if original is not None:
        tracking["originalEstimateSeconds"] = original
    if remaining is not None:
        tracking["remainingEstimateSeconds"] = remaining
    if spent:
        tracking["timeSpentSeconds"] = spent
    return {
        "timetracking": tracking,
        "timeoriginalestimate": original,
        "timeestimate": remaining,
        "timespent": spent or None,
    }
