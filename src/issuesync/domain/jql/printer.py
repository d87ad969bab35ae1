"""Syntax tree to text: the canonical spelling of a query.

``parse_jql(format_jql(query)) == query`` for every query: keywords are upper
case, strings are quoted when a bare word would not read back the same, and
parentheses appear exactly where precedence needs them (an OR inside an AND, a
group inside a group of the same kind, anything but a single condition under NOT).
"""

from __future__ import annotations

import re
from typing import Final

from issuesync.domain.jql.ast import (
    And,
    Clause,
    Empty,
    FieldRef,
    FunctionCall,
    Not,
    Operand,
    Or,
    OrderItem,
    Query,
    Terminal,
    Value,
)

RESERVED_WORDS: Final = frozenset(
    {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
)

# The same character class as WORD in grammar.lark.
_BARE_WORD: Final = re.compile(r"[^\s\"'=!<>~(),\[\]{}&|]+")
_CUSTOM_FIELD: Final = re.compile(r"cf\[\d+\]")
_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def format_jql(query: Query) -> str:
    """The canonical JQL text of a query (the empty string for the empty query)."""
    parts: list[str] = []
    if query.where is not None:
        parts.append(format_clause(query.where))
    if query.order_by:
        parts.append("ORDER BY " + ", ".join(_order_item(item) for item in query.order_by))
    return " ".join(parts)


def format_clause(clause: Clause) -> str:
    """The canonical JQL text of one clause."""
    if isinstance(clause, Terminal):
        return f"{_field(clause.field)} {clause.operator} {_operand(clause.operand)}"
    if isinstance(clause, Not):
        inner = format_clause(clause.clause)
        return f"NOT {inner}" if isinstance(clause.clause, Terminal | Not) else f"NOT ({inner})"
    if isinstance(clause, And):
        # OR binds looser than AND, and a nested AND must stay a separate group.
        return " AND ".join(_grouped(c, wrap=(And, Or)) for c in clause.clauses)
    return " OR ".join(_grouped(c, wrap=(Or,)) for c in clause.clauses)


def _grouped(clause: Clause, *, wrap: tuple[type[And | Or], ...]) -> str:
    text = format_clause(clause)
    return f"({text})" if isinstance(clause, wrap) else text


def _order_item(item: OrderItem) -> str:
    field = _field(item.field)
    return f"{field} {item.direction}" if item.direction else field


def _field(field: FieldRef) -> str:
    if _CUSTOM_FIELD.fullmatch(field.name):
        return field.name
    return _text(field.name, quoted=False)


def _operand(operand: Operand) -> str:
    if isinstance(operand, Empty):
        return "EMPTY"
    if isinstance(operand, Value):
        return _text(operand.text, quoted=operand.quoted)
    if isinstance(operand, FunctionCall):
        return _function(operand)
    return "(" + ", ".join(_operand(item) for item in operand.items) + ")"


def _function(call: FunctionCall) -> str:
    args = ", ".join(_text(arg.text, quoted=arg.quoted) for arg in call.args)
    return f"{call.name}({args})"


def _text(text: str, *, quoted: bool) -> str:
    """A bare word when asked for and possible, else a double-quoted string."""
    if not quoted and is_bare_word(text):
        return text
    return '"' + "".join(_ESCAPES.get(char, char) for char in text) + '"'


def is_bare_word(text: str) -> bool:
    """Whether ``text`` reads back as itself when written without quotes."""
    return _BARE_WORD.fullmatch(text) is not None and text.lower() not in RESERVED_WORDS
