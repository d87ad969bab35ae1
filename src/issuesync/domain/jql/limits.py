"""How large a JQL query may be: what a person or a tool writes, and what stays cheap to run.

Every query is checked against these limits, whoever evaluates it, and a query over
one is refused with a :class:`~issuesync.errors.QueryError` that names the limit.
Each limit keeps the whole work of a query (parsing, resolving names, compiling to
SQL, running it) well within a second, and every query clear of what the databases
refuse (SQLite's expression depth of 1,000 and its parser stack, its LIKE patterns
of 50,000 bytes, its ORDER BY terms):

==========================  ========  =====================================================
limit                       value     why
==========================  ========  =====================================================
``MAX_QUERY_LENGTH``        10,000    characters of the query; checked before parsing,
                                      which costs ~5 µs a character (Jira Server's own
                                      URLs stop at 8 KB); a ``key IN`` list of ~800 keys
``MAX_DEPTH``               20        levels of ``AND``/``OR``/``NOT`` nesting; SQLite's
                                      parser overflows past ~35 levels of such SQL
``MAX_CLAUSES``             100       conditions (``field op value``); compiling each to
                                      SQL costs milliseconds
``MAX_VALUES``              1,000     values: operands, items of lists and arguments of
                                      functions, each looked up (a status, a user...)
``MAX_SEARCH_WORDS``        100       words of the ``~``/``!~`` text searches together;
                                      each word is one ``LIKE`` on every issue
``MAX_ORDER_BY``            10        sort keys (Jira Cloud allows 7 in some APIs)
``MAX_VALUE_LENGTH``        1,000     characters of one value, function or field name
``MAX_CUSTOM_FIELD_ID``     2^63 - 1  the ``N`` of ``cf[N]``: a 64-bit row id
==========================  ========  =====================================================

Dates and periods are bounded where they are evaluated (years 1 to 9999).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from issuesync.domain.jql.ast import (
    And,
    Clause,
    FunctionCall,
    Not,
    Or,
    Query,
    Terminal,
    Value,
    ValueList,
)
from issuesync.errors import QueryError

MAX_QUERY_LENGTH: Final = 10_000
MAX_DEPTH: Final = 20
MAX_CLAUSES: Final = 100
MAX_VALUES: Final = 1_000
MAX_SEARCH_WORDS: Final = 100
MAX_ORDER_BY: Final = 10
MAX_VALUE_LENGTH: Final = 1_000
MAX_CUSTOM_FIELD_ID: Final = 2**63 - 1

_TEXT_SEARCH: Final = frozenset({"~", "!~"})


@dataclass(frozen=True, slots=True)
class QuerySize:
    """What a query is made of, counted against the limits."""

    depth: int = 0
    clauses: int = 0
    values: int = 0
    search_words: int = 0
    order_by: int = 0

    def __add__(self, other: QuerySize) -> QuerySize:
        """Two queries evaluated together (alternatives): deeper of the two, the rest summed."""
        return QuerySize(
            depth=max(self.depth, other.depth),
            clauses=self.clauses + other.clauses,
            values=self.values + other.values,
            search_words=self.search_words + other.search_words,
            order_by=max(self.order_by, other.order_by),
        )


def check_length(text: str) -> None:
    """Refuse a query text over :data:`MAX_QUERY_LENGTH` (before anything parses it)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"Error in the JQL Query: the query has {len(text):,} characters; "
            f"at most {MAX_QUERY_LENGTH:,} are allowed.",
            position=MAX_QUERY_LENGTH,
        )


def check_text(text: str, what: str, position: int | None = None) -> None:
    """Refuse a value, function or field name over :data:`MAX_VALUE_LENGTH` characters."""
    if len(text) > MAX_VALUE_LENGTH:
        raise QueryError(
            f"Error in the JQL Query: {what} has {len(text):,} characters; "
            f"at most {MAX_VALUE_LENGTH:,} are allowed.",
            position=position,
        )


def abbreviated(text: str, length: int = 200) -> str:
    """A query as an error message or a log line quotes it: never the whole of a long one."""
    return text if len(text) <= length else f"{text[:length]}... ({len(text):,} characters)"


def size_of(query: Query) -> QuerySize:
    """Count a parsed query's parts (without recursion: a tree may be deep)."""
    depth = clauses = values = words = 0
    stack: list[tuple[Clause, int]] = [(query.where, 1)] if query.where is not None else []
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        if isinstance(node, And | Or):
            stack.extend((child, level + 1) for child in node.clauses)
        elif isinstance(node, Not):
            stack.append((node.clause, level + 1))
        else:
            clauses += 1
            values += _values(node)
            if node.operator in _TEXT_SEARCH and isinstance(node.operand, Value):
                words += len(node.operand.text.split())
    return QuerySize(depth, clauses, values, words, len(query.order_by))


def check_size(size: QuerySize) -> None:
    """Refuse a query (or queries run together) over any limit but the length."""
    for count, limit, what in (
        (size.depth, MAX_DEPTH, "levels of nesting (AND, OR, NOT and brackets)"),
        (size.clauses, MAX_CLAUSES, "conditions"),
        (size.values, MAX_VALUES, "values (list items and function arguments count)"),
        (size.search_words, MAX_SEARCH_WORDS, "words in text searches (~ and !~)"),
        (size.order_by, MAX_ORDER_BY, "ORDER BY fields"),
    ):
        if count > limit:
            raise QueryError(
                f"Error in the JQL Query: the query has {count:,} {what}; "
                f"at most {limit:,} are allowed.",
                position=0,
            )


def _values(terminal: Terminal) -> int:
    operand = terminal.operand
    items = operand.items if isinstance(operand, ValueList) else (operand,)
    return sum(1 + len(item.args) if isinstance(item, FunctionCall) else 1 for item in items)
