"""Jira's text formats for dates and times; every time is UTC in the built-in tracker."""

from __future__ import annotations

import datetime as dt

from issuesync.errors import InvalidInputError

ISO_DATE_LENGTH = len("2024-01-31")
OFFSET_LENGTH = len("+0000")


def format_ms(ms: int | None) -> str | None:
    """Epoch ms as Jira formats them: ``2026-11-22T21:40:11.123+0000``."""
    if ms is None:
        return None
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def format_date(day: dt.date | None) -> str | None:
    """A date as ``YYYY-MM-DD``."""
    return day.isoformat() if day else None


def parse_date(value: object, field_id: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` value (or null) of a date field."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:ISO_DATE_LENGTH])
        except ValueError:
            pass
    return _bad_date(field_id)


def _bad_date(field_id: str) -> dt.date:
    raise InvalidInputError(
        f"Invalid date format for '{field_id}'",
        field_errors={field_id: "Error parsing date string. Please use the format YYYY-MM-DD."},
    )


def parse_datetime_ms(value: object, field_id: str) -> int | None:
    """An ISO-8601 date-time (Jira's ``...+0000`` included) as epoch ms; naive means UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        # Python wants +00:00 where Jira writes +0000.
        if len(text) > OFFSET_LENGTH and text[-OFFSET_LENGTH] in "+-" and text[-4:].isdigit():
            text = text[:-2] + ":" + text[-2:]
        try:
            moment = dt.datetime.fromisoformat(text)  # 3.11 reads "Z" too
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return int(moment.timestamp() * 1000)
    raise InvalidInputError(
        f"Invalid date-time format for '{field_id}'",
        field_errors={
            field_id: "Error parsing date-time. Use ISO 8601, e.g. 2024-01-31T10:00:00.000+0000."
        },
    )
