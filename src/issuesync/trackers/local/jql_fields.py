"""The parts JQL fields of the built-in tracker are made of.

A ``Field`` is a *holder* (where its values live: a column of the issue, or rows
of another table reached with a correlated ``EXISTS``) and a *family* (how
values compare: looked-up ids, text, numbers, instants, calendar days). The
field turns one condition into SQL with Jira's rules for emptiness: ``=`` and
``IN`` match the values given (``EMPTY`` in a list also matches issues without
a value); ``!=``, ``NOT IN`` and ``!~`` match only issues that have a value.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Boolean, ColumnElement, and_, exists, false, literal, not_, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlalchemy.sql.functions import FunctionElement

from issuesync.domain.jql import Empty, FunctionCall, Operand, Value
from issuesync.errors import QueryError
from issuesync.trackers.local.jql_values import (
    DAY_MS,
    JqlContext,
    matches_name,
    operand_items,
    parse_instant,
    parse_number,
    plain_values,
)
from issuesync.trackers.local.models import Issue

Target = SQLCoreOperations[Any]
Items = Sequence[Value | FunctionCall]
Condition = ColumnElement[bool]

EQUALITY: Final = frozenset({"=", "!=", "IN", "NOT IN", "IS", "IS NOT"})
RANGE: Final = frozenset({">", ">=", "<", "<="})
LIKE: Final = frozenset({"~", "!~"})
EMPTINESS: Final = frozenset({"IS", "IS NOT"})

_COMPARE: Final[dict[str, Callable[[Any, Any], Condition]]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def compare(op: str, target: Target, value: object) -> Condition:
    """``target op value`` for one of the range operators."""
    return _COMPARE[op](target, value)


def unsupported(op: str, label: str) -> QueryError:
    """Jira's error for an operator the field does not take."""
    return QueryError(f"The operator '{op}' is not supported by the '{label}' field.")


class Family:
    """How the values of one kind match a column; each family overrides what it supports."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        """Whether the target holds any of the items."""
        del target, items, ctx
        raise unsupported("=", label)

    def like(self, target: Target, item: Value | FunctionCall, label: str) -> Condition:
        """Whether the target contains the words of the item."""
        del target, item
        raise unsupported("~", label)

    def compare(
        self, target: Target, op: str, item: Value | FunctionCall, ctx: JqlContext, label: str
    ) -> Condition:
        """Whether the target is greater or less than the item."""
        del target, item, ctx
        raise unsupported(op, label)


Resolver = Callable[[Items, JqlContext, str], set[int]]


class Lookup(Family):
    """Values that name rows (a status, a user, ...), compared as ids."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        return in_ids(target, self.resolve(items, ctx, label))


def in_ids(target: Target, ids: set[int]) -> Condition:
    """``target IN ids``, spelled as ``=`` for one id and as false for none."""
    if not ids:
        return false()
    if len(ids) == 1:
        return target == next(iter(ids))
    return target.in_(sorted(ids))


class Strings(Family):
    """Short strings (labels, string custom fields): equal ignoring case, or containing words."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        del ctx
        return or_(*(matches_name(target, v.text) for v in plain_values(items, label)))

    def like(self, target: Target, item: Value | FunctionCall, label: str) -> Condition:
        return contains_words(target, item, label)


class Text(Strings):
    """Long text (summary, description, comments): only ``~`` and ``!~``, as in Jira."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        del target, items, ctx
        raise unsupported("=", label)


class Numbers(Family):
    """Numbers, compared as floats."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        del ctx
        return target.in_([parse_number(item, label) for item in items])

    def compare(
        self, target: Target, op: str, item: Value | FunctionCall, ctx: JqlContext, label: str
    ) -> Condition:
        del ctx
        return compare(op, target, parse_number(item, label))


class Instants(Family):
    """Epoch-ms timestamps. A bare date such as 2024-01-31 stands for that whole UTC day."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        conditions: list[Condition] = []
        for item in items:
            instant = parse_instant(item, label, ctx.now_ms)
            if instant.whole_day:
                conditions.append(target.between(instant.ms, instant.ms + DAY_MS - 1))
            else:
                conditions.append(target == instant.ms)
        return or_(*conditions)

    def compare(
        self, target: Target, op: str, item: Value | FunctionCall, ctx: JqlContext, label: str
    ) -> Condition:
        instant = parse_instant(item, label, ctx.now_ms)
        if not instant.whole_day:
            return compare(op, target, instant.ms)
        # A whole day: "> day" is after its last millisecond, "<= day" up to it.
        last = instant.ms + DAY_MS - 1
        bound = last if op in (">", "<=") else instant.ms
        return compare(op, target, bound)


class Days(Family):
    """Calendar dates (due date, date custom fields), compared by UTC day."""

    def equals(self, target: Target, items: Items, ctx: JqlContext, label: str) -> Condition:
        return target.in_(sorted({parse_instant(i, label, ctx.now_ms).day for i in items}))

    def compare(
        self, target: Target, op: str, item: Value | FunctionCall, ctx: JqlContext, label: str
    ) -> Condition:
        return compare(op, target, parse_instant(item, label, ctx.now_ms).day)


def contains_words(target: Target, item: Value | FunctionCall, label: str) -> Condition:
    """Case-insensitive: the target contains every word of the item.

    Jira's ``~`` is a full-text search; word containment is its closest plain-SQL
    relative. ``*`` and ``?`` keep their Jira meaning of any characters / one character.
    """
    return and_(*(ci_like(target, literal(p)) for p in like_patterns(item, label)))


class ci_like(FunctionElement[bool]):  # noqa: N801 - a SQL function's name
    """Case-insensitive ``LIKE`` with ``\\`` as the escape character.

    SQLite's ``LIKE`` already ignores ASCII case (and its ``lower()`` folds only
    ASCII), so there it is a plain ``LIKE``: the same matches as the
    ``lower(x) LIKE lower(y)`` that ``ilike`` renders, at half the cost on a scan.
    PostgreSQL gets ``ILIKE``; other databases ``lower() LIKE lower()``. Each is
    parenthesised, so that SQLite's ``= 1`` boolean test cannot bind to the ESCAPE.
    """

    type = Boolean()
    name = "ci_like"
    inherit_cache = True


@compiles(ci_like)
def _ci_like_default(element: ci_like, compiler: SQLCompiler, **kw: object) -> str:
    target, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"(lower({target}) LIKE lower({pattern}) ESCAPE '\\')"


@compiles(ci_like, "sqlite")
def _ci_like_sqlite(element: ci_like, compiler: SQLCompiler, **kw: object) -> str:
    target, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"({target} LIKE {pattern} ESCAPE '\\')"


@compiles(ci_like, "postgresql")
def _ci_like_postgresql(element: ci_like, compiler: SQLCompiler, **kw: object) -> str:
    target, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"({target} ILIKE {pattern} ESCAPE '\\')"


_LIKE_SPECIAL: Final = re.compile(r"([\\%_])")


def like_patterns(item: Value | FunctionCall, label: str) -> list[str]:
    """One ``LIKE`` pattern per word of a ``~`` search term."""
    if isinstance(item, FunctionCall):
        raise QueryError(f"The function '{item.name}()' is not supported by the '{label}' field.")
    words = item.text.split()
    if not words:
        raise QueryError(f"The field '{label}' does not support searching for an empty string.")
    patterns = []
    for word in words:
        escaped = _LIKE_SPECIAL.sub(r"\\\1", word).replace("*", "%").replace("?", "_")
        patterns.append(f"%{escaped}%")
    return patterns


@dataclass(frozen=True, slots=True)
class OnIssue:
    """Values in a column of the issue itself."""

    target: Target
    nullable: bool = False
    blank_is_empty: bool = False

    def wrap(self, condition: Condition) -> Condition:
        """The condition, as it already speaks of the issue's column."""
        return condition

    def has_value(self) -> Condition:
        """Whether the issue has a value in this column."""
        if not self.nullable:
            return true()
        if self.blank_is_empty:
            return and_(self.target.is_not(None), self.target != "")
        return self.target.is_not(None)


@dataclass(frozen=True, slots=True)
class InRows:
    """Values in rows of another table that point at the issue (labels, custom values...)."""

    issue_id: Target
    target: Target
    scope: tuple[Condition, ...] = ()

    def wrap(self, condition: Condition) -> Condition:
        """Whether one of the issue's rows meets the condition."""
        return exists().where(self.issue_id == Issue.id, *self.scope, condition)

    def has_value(self) -> Condition:
        """Whether the issue has any row with a value."""
        return exists().where(self.issue_id == Issue.id, *self.scope, self.target.is_not(None))


@dataclass(frozen=True, slots=True)
class SortKey:
    """How a field sorts: expressions, and the direction used when none is written.

    ``inverted`` flips the written direction (priority: "DESC" is highest first,
    which is the lowest position).
    """

    expressions: tuple[Target, ...]
    nullable: bool = False
    default_descending: bool = False
    inverted: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    """One JQL field: the operators it takes, where its values live and how they compare."""

    name: str
    operators: frozenset[str]
    holder: OnIssue | InRows
    family: Family
    sort: SortKey | None = None

    def condition(self, op: str, operand: Operand, ctx: JqlContext, label: str) -> Condition:
        """SQL for ``field op operand``; ``op`` may be the negation of what was written."""
        holder, family = self.holder, self.family
        items, with_empty = operand_items(operand)
        if isinstance(operand, Empty) or op in EMPTINESS:
            return self._emptiness(op, label)
        if op in ("=", "IN"):
            matched = holder.wrap(family.equals(holder.target, items, ctx, label))
            return or_(matched, not_(holder.has_value())) if with_empty else matched
        if op in ("!=", "NOT IN"):
            if not items:
                return holder.has_value()
            matched = holder.wrap(family.equals(holder.target, items, ctx, label))
            return and_(holder.has_value(), not_(matched))
        (item,) = items
        if op in ("~", "!~"):
            matched = holder.wrap(family.like(holder.target, item, label))
            return matched if op == "~" else and_(holder.has_value(), not_(matched))
        return holder.wrap(family.compare(holder.target, op, item, ctx, label))

    def _emptiness(self, op: str, label: str) -> Condition:
        if op in ("IS", "="):
            return not_(self.holder.has_value())
        if op in ("IS NOT", "!="):
            return self.holder.has_value()
        raise QueryError(f"The operator '{op}' cannot be used with EMPTY ('{label}').")
