"""Values of JQL operands for the built-in tracker: dates, numbers and names looked up by id.

Dates are UTC. An absolute date is ``yyyy-MM-dd`` or ``yyyy/MM/dd``, optionally
followed by `` HH:mm``; a relative one is a signed period of weeks, days, hours
and minutes from now (``-5m``, ``-2d``, ``4h``, ``"-1w 2d"``); the functions
``now()``, ``startOfDay()``, ``endOfDay()`` and the week, month and year
variants take an optional increment such as ``-1`` or ``"+2d"``. A whole number, quoted
or not, is an instant in epoch milliseconds, as Jira reads one (``updated >
1796589816675``: the open-source sync tool jirahub sends these on every incremental
pass). Every date, however written, lies in the years 1 to 9999: one beyond is refused
as a ``QueryError``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import SQLCoreOperations

from issuesync.domain.jql import Empty, FunctionCall, Operand, Value, ValueList
from issuesync.errors import QueryError
from issuesync.store.users import User
from issuesync.trackers.local.models import row_id

DAY_MS: Final = 86_400_000
# The instants a query may name: the years 1 to 9999, Python's (and Jira's) calendar.
EARLIEST_MS: Final = int(dt.datetime.min.replace(tzinfo=dt.UTC).timestamp() * 1000)
LATEST_MS: Final = int(dt.datetime.max.replace(tzinfo=dt.UTC).timestamp() * 1000)
_UNIT_MS: Final = {"m": 60_000, "h": 3_600_000, "d": DAY_MS, "w": 7 * DAY_MS}
_ABSOLUTE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?")
_PERIOD = re.compile(r"([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)")
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])")
_INCREMENT = re.compile(r"([+-]?)(\d+)([yMwdhm]?)")
_EPOCH_MS = re.compile(r"-?[0-9]+")
# More digits than any instant of the years 1 to 9999 has (in ms, 15): refused unread,
# before int() meets a number of thousands of digits.
_EPOCH_DIGITS: Final = 16

DATE_FUNCTIONS: Final = frozenset(
    {
        "now",
        "startofday",
        "endofday",
        "startofweek",
        "endofweek",
        "startofmonth",
        "endofmonth",
        "startofyear",
        "endofyear",
    }
)
USER_FUNCTIONS: Final = frozenset({"currentuser"})
ISSUE_TYPE_FUNCTIONS: Final = frozenset({"standardissuetypes", "subtaskissuetypes"})
KNOWN_FUNCTIONS: Final = DATE_FUNCTIONS | USER_FUNCTIONS | ISSUE_TYPE_FUNCTIONS


@dataclass(frozen=True, slots=True)
class JqlContext:
    """What a query is evaluated against: the session that looks names up, who asks, and when.

    ``session`` resolves names (statuses, users, custom fields, ...) to ids while
    compiling, so unknown names fail with Jira's messages and the issue query
    itself compares indexed integer columns. ``now_ms`` anchors relative dates
    and date functions; ``current_user_id`` is ``currentUser()`` (None: anonymous).
    ``all_emails``: users may be named by e-mail address (only a caller who sees
    every address, see ``users.EmailVisibility``; else a query would tell which
    addresses exist). ``validate``: as Jira's ``validateQuery``; when false, an issue key
    that names no issue matches nothing and is noted in ``warnings`` instead of failing
    the query (a script searching keys of which some were deleted meanwhile).
    """

    session: Session
    now_ms: int
    current_user_id: int | None = None
    all_emails: bool = False
    validate: bool = True
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Instant:
    """A point in time in epoch ms; ``whole_day`` when it was written as a bare date."""

    ms: int
    whole_day: bool = False

    @property
    def day(self) -> dt.date:
        """The UTC calendar day this instant falls on."""
        first = dt.datetime.min.replace(tzinfo=dt.UTC)
        return (first + dt.timedelta(milliseconds=self.ms - EARLIEST_MS)).date()


def operand_items(operand: Operand) -> tuple[list[Value | FunctionCall], bool]:
    """The values of an operand, and whether it includes ``EMPTY``."""
    if isinstance(operand, Empty):
        return [], True
    if isinstance(operand, ValueList):
        values = [item for item in operand.items if not isinstance(item, Empty)]
        return values, len(values) < len(operand.items)
    return [operand], False


def check_function(call: FunctionCall, field: str, allowed: frozenset[str]) -> str:
    """The lower-case name of a function this field accepts, or a QueryError."""
    name = call.name.lower()
    if name not in KNOWN_FUNCTIONS:
        raise QueryError(f"Unable to find JQL function '{call.name}()'.")
    if name not in allowed:
        raise QueryError(f"The function '{call.name}()' is not supported by the '{field}' field.")
    return name


def parse_instant(item: Value | FunctionCall, field: str, now_ms: int) -> Instant:
    """The instant a date operand means at ``now_ms``, in the years 1 to 9999."""
    instant = _instant(item, field, now_ms)
    if not EARLIEST_MS <= instant.ms <= LATEST_MS:
        raise _out_of_range(item, field)
    return instant


def _out_of_range(item: Value | FunctionCall, field: str) -> QueryError:
    shown = f"{item.name}()" if isinstance(item, FunctionCall) else item.text
    return QueryError(
        f"Date value '{shown}' for field '{field}' is out of range: dates are in the "
        "years 1 to 9999."
    )


def _instant(item: Value | FunctionCall, field: str, now_ms: int) -> Instant:
    if isinstance(item, FunctionCall):
        return Instant(_date_function(item, field, now_ms))
    text = item.text.strip()
    if match := _ABSOLUTE.fullmatch(text):
        year, _, month, day, hour, minute = match.groups()
        try:
            moment = dt.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=dt.UTC
            )
        except ValueError:
            raise _bad_date(item.text, field) from None
        return Instant(int(moment.timestamp() * 1000), whole_day=hour is None)
    if _EPOCH_MS.fullmatch(text):
        if len(text.lstrip("-")) > _EPOCH_DIGITS:
            raise _out_of_range(item, field)
        return Instant(int(text))
    if match := _PERIOD.fullmatch(text):
        sign, body = match.groups()
        period = sum(int(n) * _UNIT_MS[unit] for n, unit in _PERIOD_PART.findall(body))
        return Instant(now_ms - period if sign == "-" else now_ms + period)
    raise _bad_date(item.text, field)


def parse_number(item: Value | FunctionCall, field: str) -> float:
    """A finite number, or a QueryError naming the field."""
    shown = f"{item.name}()" if isinstance(item, FunctionCall) else item.text
    try:
        number = float(shown)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise QueryError(f"The value '{shown}' is not a valid number for the field '{field}'.")
    return number


def _bad_date(text: str, field: str) -> QueryError:
    return QueryError(
        f"Date value '{text}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
        "or a period format e.g. '-5d', '4w 2d'."
    )


def _date_function(call: FunctionCall, field: str, now_ms: int) -> int:
    name = check_function(call, field, DATE_FUNCTIONS)
    now = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
    if name == "now":
        if call.args:
            raise QueryError("The function 'now()' takes no arguments.")
        return now_ms
    unit = {"day": "d", "week": "w", "month": "M", "year": "y"}[
        name.removeprefix("start").removeprefix("end").removeprefix("of")
    ]
    if len(call.args) > 1:
        raise QueryError(f"The function '{call.name}()' takes at most one argument.")
    if call.args:
        match = _INCREMENT.fullmatch(call.args[0].text.strip())
        if match is None:
            raise QueryError(
                f"The increment '{call.args[0].text}' of '{call.name}()' is invalid; "
                "write it as (+/-)nn(y|M|w|d|h|m), e.g. -1 or +2d."
            )
        sign, amount, inc_unit = match.groups()
    else:
        sign, amount, inc_unit = "", "0", unit
    try:
        moment = _shift(now, -int(amount) if sign == "-" else int(amount), inc_unit or unit)
        start = _start_of(moment, unit)
        if name.startswith("start"):
            return int(start.timestamp() * 1000)
        return int(_shift(start, 1, unit).timestamp() * 1000) - 1
    except (OverflowError, ValueError):  # beyond the calendar's years 1 to 9999
        increment = call.args[0].text if call.args else ""
        raise QueryError(
            f"The increment '{increment}' of '{call.name}()' reaches beyond the years 1 to 9999."
        ) from None


def _start_of(moment: dt.datetime, unit: str) -> dt.datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":  # ISO weeks start on Monday
        return day - dt.timedelta(days=day.weekday())
    if unit == "M":
        return day.replace(day=1)
    if unit == "y":
        return day.replace(month=1, day=1)
    return day


def _shift(moment: dt.datetime, amount: int, unit: str) -> dt.datetime:
    if unit in _UNIT_MS:
        return moment + dt.timedelta(milliseconds=amount * _UNIT_MS[unit])
    months = amount * (12 if unit == "y" else 1)
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def matches_name(column: SQLCoreOperations[Any], text: str) -> ColumnElement[bool]:
    """Case-insensitive equality that also matches non-ASCII names exactly on SQLite.

    SQLite's ``lower`` folds ASCII only, so the exact spelling is tried as well.
    """
    return or_(column == text, func.lower(column) == text.lower())


LOOKUP_CHUNK: Final = 500  # values looked up per query


def ids_by_name(
    session: Session,
    query: Select[int],
    texts: Sequence[str],
    names: Sequence[QueryableAttribute[Any]],
) -> dict[str, set[int]]:
    """The ids of the rows that each text names by any of ``names`` (per :func:`matches_name`).

    One query per :data:`LOOKUP_CHUNK` distinct texts, however many there are: the
    database's own ``lower`` is read back, so a text matches exactly the rows that
    ``matches_name`` would find for it alone.
    """
    found: dict[str, set[int]] = {text: set() for text in texts}
    distinct = list(found)
    width = len(names)
    for start in range(0, len(distinct), LOOKUP_CHUNK):
        chunk = distinct[start : start + LOOKUP_CHUNK]
        by_lower: dict[str, list[str]] = {}
        for text in chunk:
            by_lower.setdefault(text.lower(), []).append(text)
        folded = [func.lower(column) for column in names]
        matching = or_(
            *(column.in_(chunk) for column in names),
            *(lower.in_(sorted(by_lower)) for lower in folded),
        )
        for row in session.execute(query.add_columns(*names, *folded).where(matching)):
            row_id_, values = row[0], row[1:]
            for value in values[:width]:
                if value in found:
                    found[value].add(row_id_)
            for value in values[width:]:
                for text in by_lower.get(value, ()) if value is not None else ():
                    found[text].add(row_id_)
    return found


def lookup_ids(
    session: Session,
    query: Select[int],
    items: Sequence[Value],
    *,
    names: Sequence[QueryableAttribute[Any]],
    by_id: QueryableAttribute[int],
    field: str,
) -> set[int]:
    """Ids of the rows each value names (by any of ``names``, else a numeric id); unknown fail.

    Names win over ids, as in Jira: a status called "3" is found by its name. A few
    queries, however many values: see :func:`ids_by_name`.
    """
    found = ids_by_name(session, query, [item.text for item in items], names)
    by_row = {text: row_id(text) for text, ids in found.items() if not ids}
    wanted = sorted({rid for rid in by_row.values() if rid is not None})
    existing: set[int] = set()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        existing |= set(session.scalars(query.where(by_id.in_(chunk))))
    ids: set[int] = set()
    for item in items:
        named = found[item.text]
        if not named:
            rid = by_row[item.text]
            if rid is None or rid not in existing:
                raise unknown_value(item.text, field)
            named = {rid}
        ids |= named
    return ids


def unknown_value(text: str, field: str) -> QueryError:
    """Jira's error for a value that names nothing."""
    return QueryError(f"The value '{text}' does not exist for the field '{field}'.")


def user_ids(
    session: Session,
    items: Sequence[Value | FunctionCall],
    field: str,
    current_user_id: int | None,
    *,
    by_email: bool,
) -> set[int]:
    """Users named by user name, display name or (``by_email``) e-mail (any case), or
    ``currentUser()``.

    ``currentUser()`` for an anonymous caller names nobody, so it matches nothing.
    """
    names = (
        (User.name, User.email, User.display_name) if by_email else (User.name, User.display_name)
    )
    ids: set[int] = set()
    values: list[Value] = []
    for item in items:
        if isinstance(item, FunctionCall):
            check_function(item, field, USER_FUNCTIONS)
            if current_user_id is not None:
                ids.add(current_user_id)
        else:
            values.append(item)
    return ids | lookup_ids(
        session,
        select(User.id),
        values,
        names=names,
        by_id=User.id,
        field=field,
    )


def plain_values(items: Sequence[Value | FunctionCall], field: str) -> list[Value]:
    """The items as values, refusing functions (the field accepts none)."""
    values: list[Value] = []
    for item in items:
        if isinstance(item, FunctionCall):
            check_function(item, field, frozenset())
        else:
            values.append(item)
    return values
