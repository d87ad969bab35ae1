"""Text to syntax tree: ``parse_jql`` and the error messages of a query that does not parse.

The grammar lives in ``grammar.lark`` next to this module. The LALR parser is
built once, on first use, and builds the tree while it parses (no intermediate
parse tree, and no recursion however deeply a query nests).
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Sequence
from typing import Final

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from issuesync.domain.jql.ast import (
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
from issuesync.domain.jql.limits import (
    MAX_CUSTOM_FIELD_ID,
    QuerySize,
    abbreviated,
    check_length,
    check_size,
    check_text,
    size_of,
)
from issuesync.errors import QueryError

_ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    '"': '"',
    "'": "'",
    " ": " ",
}

_OPERATORS: Final[dict[str, Operator]] = {
    "EQ": "=",
    "NE": "!=",
    "GT": ">",
    "GE": ">=",
    "LT": "<",
    "LE": "<=",
    "LIKE": "~",
    "NOT_LIKE": "!~",
}

# How each terminal of the grammar is named to the person who wrote the query.
_TERMINAL_NAMES: Final = {
    "EQ": "'='",
    "NE": "'!='",
    "GT": "'>'",
    "GE": "'>='",
    "LT": "'<'",
    "LE": "'<='",
    "LIKE": "'~'",
    "NOT_LIKE": "'!~'",
    "_IN": "'IN'",
    "_IS": "'IS'",
    "_NOT": "'NOT'",
    "_AND": "'AND'",
    "_OR": "'OR'",
    "_ORDER": "'ORDER BY'",
    "_BY": "'BY'",
    "EMPTY": "'EMPTY'",
    "NULL": "'NULL'",
    "ASC": "'ASC'",
    "DESC": "'DESC'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "WORD": "a word",
    "STRING": "a quoted string",
    "CUSTOM_FIELD": "cf[id]",
    "$END": "the end of the query",
}

_OPERATOR_TERMINALS: Final = frozenset({*_OPERATORS, "_IN", "_IS"})
_VALID_OPERATORS: Final = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', "
    "'IN', 'NOT IN', 'IS' and 'IS NOT'."
)


def parse_jql(text: str) -> Query:
    """Parse JQL text into a ``Query``.

    An empty text (or one of only whitespace) is the query that matches every
    issue in the default order.

    Raises:
        QueryError: the text is not JQL; ``position`` is the 0-based offset of
            the first character that does not fit, and the message says what
            was expected there. Or the query is over one of the limits of
            :mod:`issuesync.domain.jql.limits`, which the message names.
    """
    check_length(text)
    try:
        query = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except LarkError as exc:  # pragma: no cover - lark's other errors are grammar bugs
        raise QueryError(f"Error in the JQL Query: {exc}", position=0) from None
    if not isinstance(query, Query):  # pragma: no cover - the start rule builds a Query
        raise TypeError(f"the JQL parser built {type(query).__name__}, not a Query")
    check_size(size_of(query))
    return query


def parse_queries(texts: Sequence[str]) -> list[Query]:
    """Parse queries that are evaluated together (alternatives, as a connector's queries).

    Raises:
        QueryError: one of them does not parse or is over a limit (the message says
            which, counting from 1), or all of them together are over a limit.
    """
    queries: list[Query] = []
    for number, text in enumerate(texts, start=1):
        try:
            queries.append(parse_jql(text))
        except QueryError as exc:
            raise QueryError(f"Query {number} ('{abbreviated(text)}'): {exc.message}") from None
    try:
        check_size(sum((size_of(q) for q in queries), QuerySize()))
    except QueryError as exc:
        raise QueryError(f"The {len(texts)} queries together: {exc.message}") from None
    return queries


@functools.cache
def _parser() -> Lark:
    return Lark(grammar_text(), parser="lalr", lexer="basic", transformer=_Builder())


def grammar_text() -> str:
    """The lark grammar of JQL, for documentation and tools."""
    return importlib.resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")


class _Builder(Transformer[Token, object]):
    """Builds the syntax tree bottom-up, called by the LALR parser as it reduces."""

    def start(self, children: list[object]) -> Query:
        where: Clause | None = None
        order_by: tuple[OrderItem, ...] = ()
        for child in children:
            if isinstance(child, tuple):
                order_by = child
            else:
                where = _as_clause(child)
        return Query(where=where, order_by=order_by)

    def or_clause(self, children: list[object]) -> Or:
        return Or(tuple(_as_clause(c) for c in children))

    def and_clause(self, children: list[object]) -> And:
        return And(tuple(_as_clause(c) for c in children))

    def negation(self, children: list[object]) -> Not:
        (clause,) = children
        return Not(_as_clause(clause))

    def compare(self, children: list[object]) -> Terminal:
        field, operator, operand = children
        assert isinstance(operator, Token)
        if isinstance(operand, ValueList):
            where = _where((operator.line or 1, operator.column or 1))
            raise QueryError(
                f"Error in the JQL Query: The operator '{operator}' does not support a list of "
                f"values; use 'IN' or 'NOT IN'. {where}",
                position=operator.start_pos,
            )
        return Terminal(_as_field(field), _OPERATORS[operator.type], _as_operand(operand))

    def is_empty(self, children: list[object]) -> Terminal:
        return Terminal(_as_field(children[0]), "IS", Empty())

    def is_not_empty(self, children: list[object]) -> Terminal:
        return Terminal(_as_field(children[0]), "IS NOT", Empty())

    def in_list(self, children: list[object]) -> Terminal:
        return Terminal(_as_field(children[0]), "IN", _as_operand(children[1]))

    def not_in_list(self, children: list[object]) -> Terminal:
        return Terminal(_as_field(children[0]), "NOT IN", _as_operand(children[1]))

    def compare_op(self, children: list[Token]) -> Token:
        return children[0]

    def field(self, children: list[Token]) -> FieldRef:
        (token,) = children
        if token.type == "STRING":
            return FieldRef(_unquote(token))
        _check_token(token, "a field name")
        if token.type == "CUSTOM_FIELD":
            digits = str(token)[3:-1]
            if len(digits.lstrip("0")) > len(str(MAX_CUSTOM_FIELD_ID)) or (
                int(digits) > MAX_CUSTOM_FIELD_ID
            ):
                raise QueryError(
                    f"Error in the JQL Query: the custom field id in '{_shown(token)}' is "
                    f"larger than the largest id, {MAX_CUSTOM_FIELD_ID}.",
                    position=token.start_pos,
                )
            return FieldRef(str(token).lower())
        return FieldRef(str(token))

    def value(self, children: list[Token]) -> Value:
        (token,) = children
        if token.type == "STRING":
            return Value(_unquote(token), quoted=True)
        _check_token(token, "a value")
        return Value(str(token))

    def function(self, children: list[object]) -> FunctionCall:
        name, *args = children
        assert isinstance(name, Token)
        _check_token(name, "a function name")
        values = tuple(a for a in args if isinstance(a, Value))
        return FunctionCall(str(name), values)

    def empty(self, _children: list[Token]) -> Empty:
        return Empty()

    def value_list(self, children: list[object]) -> ValueList:
        items: list[ListItem] = []
        for child in children:
            assert isinstance(child, Value | FunctionCall | Empty)
            items.append(child)
        return ValueList(tuple(items))

    def order_by(self, children: list[object]) -> tuple[OrderItem, ...]:
        return tuple(c for c in children if isinstance(c, OrderItem))

    def order_item(self, children: list[object]) -> OrderItem:
        field, direction = children
        if direction is None:
            return OrderItem(_as_field(field))
        upper: Direction = "ASC" if str(direction).upper() == "ASC" else "DESC"
        return OrderItem(_as_field(field), upper)


# The grammar decides what each child is; these only narrow the type for mypy.
def _as_clause(node: object) -> Clause:
    assert isinstance(node, Terminal | And | Or | Not)
    return node


def _as_field(node: object) -> FieldRef:
    assert isinstance(node, FieldRef)
    return node


def _as_operand(node: object) -> Operand:
    assert isinstance(node, Value | ValueList | FunctionCall | Empty)
    return node


def _check_token(token: Token, what: str) -> None:
    check_text(str(token), what, token.start_pos)


def _unquote(token: Token) -> str:
    """The text of a quoted string, with its backslash escapes resolved."""
    raw = str(token)[1:-1]
    check_text(raw, "a quoted string", token.start_pos)
    if "\\" not in raw:
        return raw
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        escape = raw[i + 1]
        if escape in _ESCAPES:
            out.append(_ESCAPES[escape])
            i += 2
            continue
        hex_digits = raw[i + 2 : i + 6]
        if escape == "u" and len(hex_digits) == 4 and all(c in _HEX for c in hex_digits):  # noqa: PLR2004
            char, length = _unicode_escape(raw, i, token)
            out.append(char)
            i += length
            continue
        position = (token.start_pos or 0) + 1 + i
        raise QueryError(
            f"Error in the JQL Query: '\\{escape}' is an illegal JQL escape sequence. "
            f"The valid escape sequences are \\', \\\", \\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX. "
            f"{_where(_token_position(token, i + 1))}",
            position=position,
        )
    return "".join(out)


_HEX: Final = frozenset("0123456789abcdefABCDEF")
_HIGH: Final = range(0xD800, 0xDC00)
_LOW: Final = range(0xDC00, 0xE000)


def _unicode_escape(raw: str, i: int, token: Token) -> tuple[str, int]:
    """The character of the ``\\uXXXX`` at ``raw[i]`` (a surrogate pair makes one) and the
    escape's length; NUL and a surrogate without its other half are no characters."""
    code = int(raw[i + 2 : i + 6], 16)
    if code in _HIGH and raw[i + 6 : i + 8] == "\\u":
        low_digits = raw[i + 8 : i + 12]
        if len(low_digits) == 4 and all(c in _HEX for c in low_digits):  # noqa: PLR2004
            low = int(low_digits, 16)
            if low in _LOW:
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), 12
    if code == 0 or code in _HIGH or code in _LOW:
        what = "NUL" if code == 0 else "half of a UTF-16 surrogate pair without its other half"
        raise QueryError(
            f"Error in the JQL Query: '\\u{raw[i + 2 : i + 6]}' is {what}: no character. "
            f"{_where(_token_position(token, i + 1))}",
            position=(token.start_pos or 0) + 1 + i,
        )
    return chr(code), 6


def _token_position(token: Token, offset: int) -> tuple[int, int]:
    """The (line, column) of ``offset`` characters into a token, both 1-based."""
    text = str(token)[:offset]
    line = (token.line or 1) + text.count("\n")
    if "\n" in text:
        return line, len(text) - text.rfind("\n")
    return line, (token.column or 1) + offset


def _where(line_column: tuple[int, int]) -> str:
    line, column = line_column
    return f"(line {line}, character {column})"


def _syntax_error(text: str, exc: UnexpectedInput) -> QueryError:
    """A Jira-style message for input that does not fit the grammar."""
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        position = len(text)
        line = text.count("\n") + 1
        column = position - text.rfind("\n")
        got = None
    else:
        position = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
        line, column = exc.line, exc.column
        got = exc.token if isinstance(exc, UnexpectedToken) else text[position]
    where = _where((line, column))

    if isinstance(exc, UnexpectedCharacters):
        char = text[position]
        if char in "\"'":
            message = f"The quoted string starting at character {column} is not terminated."
        else:
            message = f"The character '{char}' is reserved and cannot be used here."
        return QueryError(f"Error in the JQL Query: {message} {where}", position=position)

    expected = _acceptable(exc) if isinstance(exc, UnexpectedToken) else set()
    names = sorted(_TERMINAL_NAMES.get(name, name) for name in expected)
    what = _expected_summary(expected) or _either(names)
    found = "the end of the query" if got is None else f"'{_shown(got)}'"
    message = f"Error in the JQL Query: Expecting {what} but got {found}."
    if what == "operator":
        message += f" {_VALID_OPERATORS}"
    if names:
        message += f" Expected one of: {', '.join(names)}."
    return QueryError(f"{message} {where}", position=position)


def _acceptable(exc: UnexpectedToken) -> set[str]:
    """The tokens that could have come next.

    LALR merges look-ahead sets, so ``exc.expected`` can name tokens that would
    fail a moment later; the interactive parser tries each one for real.
    """
    try:
        accepts: set[str] = exc.interactive_parser.accepts()  # type: ignore[no-untyped-call]
    except LarkError:  # pragma: no cover - fall back to lark's own, coarser set
        return set(exc.expected)
    return accepts


def _expected_summary(expected: set[str]) -> str | None:
    """Jira's words for what belongs at this point of a query, when there are some."""
    value = (
        "either a value, list or function" if "LPAR" in expected else "either a value or function"
    )
    cases: list[tuple[bool, str]] = [
        (bool(expected & _OPERATOR_TERMINALS), "operator"),
        ({"EMPTY", "WORD"} <= expected, value),
        ({"LPAR", "WORD"} <= expected and "_NOT" not in expected, "a list or function"),
        ("CUSTOM_FIELD" in expected, "a field name"),
        (bool(expected & {"_AND", "_OR"}), "'AND', 'OR' or 'ORDER BY'"),
    ]
    return next((words for applies, words in cases if applies), None)


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _shown(token: object) -> str:
    text = str(token)
    return text if len(text) <= 40 else text[:37] + "..."  # noqa: PLR2004
