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


MAX_DURATION_SECONDS = 2**31 - 1  # durations are 32-bit integer columns, as Jira's are
_DURATION_UNITS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}
_MAX_DURATION_DIGITS = 10  # more digits than any duration that fits the columns


def parse_duration(text: str, field_id: str = "timeLogged") -> int:
    """Seconds in Jira's duration text ("1w 2d 3h 30m"; 8-hour days, 5-day weeks), at most
    :data:`MAX_DURATION_SECONDS`; a 400 naming ``field_id`` otherwise."""
    total = 0
    for part in text.split():
        number, unit = part[:-1], part[-1:].lower()
        if (
            unit not in _DURATION_UNITS
            or not (number.isascii() and number.isdigit())
            or len(number) > _MAX_DURATION_DIGITS
        ):
            raise InvalidInputError(
                f"Invalid time duration '{text}'.",
                field_errors={field_id: "Use a duration like '1h 30m'."},
            )
        total += int(number) * _DURATION_UNITS[unit]
    if total > MAX_DURATION_SECONDS:
        raise InvalidInputError(
            f"The time duration '{text}' is too long.",
            field_errors={field_id: f"A duration is at most {MAX_DURATION_SECONDS} seconds."},
        )
    return total
