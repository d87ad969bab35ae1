"""JQL, the Jira Query Language: parse text to a syntax tree and print it back.

``parse_jql`` and ``format_jql`` are inverses on trees:
``parse_jql(format_jql(q)) == q``. Every query is bounded (length, nesting, conditions,
values, numbers): :mod:`issuesync.domain.jql.limits`. Evaluating a query is the job of whoever
stores the issues (the built-in tracker compiles it to SQL).
"""

from __future__ import annotations

from issuesync.domain.jql.ast import (
    COMPARISON_OPERATORS,
    EMPTY_OPERATORS,
    LIST_OPERATORS,
    And,
    Clause,
    Direction,
    Empty,
    FieldRef,
    FunctionCall,
    ListItem,
    Not,
    Operand,
    Operator,
    Or,
    OrderItem,
    Query,
    Terminal,
    Value,
    ValueList,
)
from issuesync.domain.jql.limits import QuerySize, abbreviated, check_size, size_of
from issuesync.domain.jql.parser import grammar_text, parse_jql, parse_queries
from issuesync.domain.jql.printer import RESERVED_WORDS, format_clause, format_jql, is_bare_word

__all__ = [
    "COMPARISON_OPERATORS",
    "EMPTY_OPERATORS",
    "LIST_OPERATORS",
    "RESERVED_WORDS",
    "And",
    "Clause",
    "Direction",
    "Empty",
    "FieldRef",
    "FunctionCall",
    "ListItem",
    "Not",
    "Operand",
    "Operator",
    "Or",
    "OrderItem",
    "Query",
    "QuerySize",
    "Terminal",
    "Value",
    "ValueList",
    "abbreviated",
    "check_size",
    "format_clause",
    "format_jql",
    "grammar_text",
    "is_bare_word",
    "parse_jql",
    "parse_queries",
    "size_of",
]
