"""Properties of the JQL parser and printer, checked on generated trees and generated text."""

from __future__ import annotations

from typing import TypeGuard

from hypothesis import given, settings
from hypothesis import strategies as st

from issuesync.domain.jql import (
    COMPARISON_OPERATORS,
    EMPTY_OPERATORS,
    LIST_OPERATORS,
    And,
    Clause,
    Empty,
    FieldRef,
    FunctionCall,
    Not,
    Operand,
    Operator,
    Or,
    OrderItem,
    Query,
    Terminal,
    Value,
    ValueList,
    format_jql,
    is_bare_word,
    parse_jql,
)
from issuesync.errors import QueryError

BOUNDED = settings(max_examples=200, deadline=None)

bare_words = st.one_of(
    st.sampled_from(["status", "PROJ-12", "-5m", "2024-01-31", "1.0", "a@b.c", "win*", "ärger"]),
    st.from_regex(r"[^\s\"'=!<>~(),\[\]{}&|]{1,12}", fullmatch=True),
).filter(is_bare_word)

values = st.one_of(
    bare_words.map(Value),
    st.text(max_size=12).map(lambda text: Value(text, quoted=True)),
)
functions = st.builds(FunctionCall, bare_words, st.lists(values, max_size=3).map(tuple))
singles: st.SearchStrategy[Value | FunctionCall | Empty] = st.one_of(
    values, functions, st.just(Empty())
)
lists = st.lists(singles, min_size=1, max_size=4).map(lambda items: ValueList(tuple(items)))

fields = st.one_of(
    bare_words.map(FieldRef),
    st.text(max_size=12).map(FieldRef),
    st.integers(min_value=0, max_value=10**6).map(lambda n: FieldRef(f"cf[{n}]")),
)


def is_operator(op: str) -> TypeGuard[Operator]:
    return op in COMPARISON_OPERATORS | LIST_OPERATORS | EMPTY_OPERATORS


@st.composite
def terminals(draw: st.DrawFn) -> Terminal:
    field = draw(fields)
    op = draw(st.sampled_from([*sorted(COMPARISON_OPERATORS), "IN", "NOT IN", "IS", "IS NOT"]))
    operand: Operand
    if op in ("IS", "IS NOT"):
        operand = Empty()
    elif op in ("IN", "NOT IN"):
        operand = draw(st.one_of(lists, functions))
    else:
        operand = draw(singles)
    assert is_operator(op)
    return Terminal(field, op, operand)


def _groups(children: st.SearchStrategy[Clause]) -> st.SearchStrategy[Clause]:
    many = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.one_of(many.map(And), many.map(Or), children.map(Not))


clauses: st.SearchStrategy[Clause] = st.recursive(terminals(), _groups, max_leaves=12)
order_items = st.builds(OrderItem, fields, st.sampled_from([None, "ASC", "DESC"]))
queries = st.builds(Query, st.none() | clauses, st.lists(order_items, max_size=3).map(tuple))

TOKENS = [
    "project", "status", "summary", "cf[10001]", "cf[", "]", '"Story Points"', "'x'", '"',
    "'", "\\", "=", "!=", ">", ">=", "<", "<=", "~", "!~", "!", "IN", "in", "NOT", "not",
    "IS", "is", "EMPTY", "null", "AND", "and", "OR", "or", "ORDER", "BY", "order by", "ASC",
    "desc", "(", ")", ",", "currentUser()", "now(", "-5d", "PROJ-1", "2024-01-31", "&", "|",
    "{", "}", "[", "\n", "\t", "\u00a0", "ä", "\\u00e9", '"\\q"',
]  # fmt: skip
token_soups = st.lists(st.sampled_from(TOKENS), max_size=12)


@BOUNDED
@given(queries)
def test_printing_then_parsing_gives_the_same_tree(query: Query) -> None:
    assert parse_jql(format_jql(query)) == query


@BOUNDED
@given(queries)
def test_the_printed_form_is_a_fixed_point(query: Query) -> None:
    text = format_jql(query)
    assert format_jql(parse_jql(text)) == text


def _parse_or_query_error(text: str) -> None:
    """Parsing either succeeds (and the result prints back) or fails with a QueryError."""
    try:
        query = parse_jql(text)
    except QueryError as exc:
        error = exc
    else:
        assert parse_jql(format_jql(query)) == query
        return
    assert error.position is not None
    assert 0 <= error.position <= len(text)
    assert error.message.startswith("Error in the JQL Query: ")


@BOUNDED
@given(st.text(max_size=60))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    _parse_or_query_error(text)


@BOUNDED
@given(token_soups)
def test_token_soup_with_spaces_parses_or_raises_query_error(tokens: list[str]) -> None:
    _parse_or_query_error(" ".join(tokens))


@BOUNDED
@given(token_soups)
def test_token_soup_without_spaces_parses_or_raises_query_error(tokens: list[str]) -> None:
    _parse_or_query_error("".join(tokens))
