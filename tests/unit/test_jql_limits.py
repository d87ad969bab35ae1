"""The JQL parser on long, deep and numeric input: it parses, or it raises ``QueryError``.

Never another exception (a RecursionError, an OverflowError, a ValueError from
``int()`` on 5,000 digits), and never slowly: each example has a generous deadline
that only a hang or a runaway would miss.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from issuesync.api.jira.errors import JIRA
from issuesync.domain.jql import Query, parse_jql, parse_queries
from issuesync.domain.jql.limits import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_ORDER_BY,
    MAX_QUERY_LENGTH,
    MAX_SEARCH_WORDS,
    MAX_VALUE_LENGTH,
    MAX_VALUES,
)
from issuesync.errors import QueryError

BOUNDED = settings(
    max_examples=100,
    deadline=dt.timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

digits = st.integers(min_value=1, max_value=6_000).map(lambda n: "9" * n)
numbers = st.one_of(
    digits,
    digits.map(lambda d: "-" + d),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.sampled_from(["1e400", "-1e-400", "0x10", "١٢٣", "²", "9" * 4_301]),
)
words = st.one_of(
    st.sampled_from(["summary", "status", "cf[10]", "created", "key", "text", "PA-1"]),
    st.text(alphabet="abcxyz-_.", min_size=1, max_size=30),
    st.integers(min_value=1, max_value=2_000).map(lambda n: "w" * n),
)
escapes = st.lists(
    st.one_of(
        st.text(alphabet="0123456789abcdefABCDEF", min_size=4, max_size=4).map(lambda h: "\\u" + h),
        st.sampled_from(["\\ud800", "\\udfff", "\\ud83d\\ude00", "\\u0000", "\\x", "\\\\", "\\"]),
        st.text(max_size=5),
    ),
    max_size=20,
).map(lambda parts: '"' + "".join(parts) + '"')
operands = st.one_of(
    numbers,
    words,
    escapes,
    numbers.map(lambda n: f"{n}w"),
    numbers.map(lambda n: f"startOfDay({n})"),
    numbers.map(lambda n: f'"-1w {n}d"'),
    st.lists(numbers, min_size=1, max_size=8).map(lambda ns: "(" + ", ".join(ns) + ")"),
)
fields = st.one_of(words, numbers.map(lambda n: f"cf[{n.lstrip('-')}]"))
operators = st.sampled_from(["=", "!=", "<", ">=", "~", "!~", "in", "not in", "is"])


@st.composite
def conditions(draw: st.DrawFn) -> str:
    return f"{draw(fields)} {draw(operators)} {draw(operands)}"


@st.composite
def queries(draw: st.DrawFn) -> str:
    """Long chains, deep nesting, long lists and many sort keys, alone or together."""
    count = draw(st.integers(min_value=1, max_value=150))
    joiner = draw(st.sampled_from([" OR ", " AND ", " and not "]))
    text = joiner.join(draw(conditions()) for _ in range(count))
    depth = draw(st.integers(min_value=0, max_value=120))
    if draw(st.booleans()):
        text = "(" * depth + text + ")" * depth
    else:
        for level in range(depth):
            text = f"({draw(conditions())} {'AND' if level % 2 else 'OR'} {text})"
    if draw(st.booleans()):
        text = "NOT " * draw(st.integers(min_value=0, max_value=60)) + text
    if draw(st.booleans()):
        keys = draw(st.lists(fields, min_size=1, max_size=40))
        text += " ORDER BY " + ", ".join(keys)
    return text


def _parses_or_refuses(text: str) -> Query | None:
    refused: QueryError | None = None
    try:
        return parse_jql(text)
    except QueryError as exc:
        refused = exc
    assert JIRA.status(refused) == 400
    assert refused.message
    return None


@BOUNDED
@given(queries())
def test_generated_queries_parse_or_raise_a_query_error(text: str) -> None:
    _parses_or_refuses(text)


@BOUNDED
@given(st.text(max_size=2_000))
def test_any_text_parses_or_raises_a_query_error(text: str) -> None:
    _parses_or_refuses(text)


@settings(BOUNDED, max_examples=30)
@given(st.lists(queries(), min_size=1, max_size=3))
def test_queries_evaluated_together_parse_or_raise_a_query_error(texts: list[str]) -> None:
    refused: QueryError | None = None
    try:
        parse_queries(texts)
    except QueryError as exc:
        refused = exc
    assert refused is None or refused.message.startswith(("Query ", "The "))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a = 1 OR " * 5_000 + "a = 1", f"at most {MAX_QUERY_LENGTH:,}"),
        (" OR ".join(["a = 1"] * (MAX_CLAUSES + 1)), "conditions"),
        ("a in (" + ",".join(["1"] * (MAX_VALUES + 1)) + ")", "values"),
        ("a = 1 ORDER BY " + ",".join(["a"] * (MAX_ORDER_BY + 1)), "ORDER BY"),
        ("a ~ " + "w" * (MAX_VALUE_LENGTH + 1), "a value"),
        ('a ~ "' + "w" * (MAX_VALUE_LENGTH + 1) + '"', "a quoted string"),
        ("f" * (MAX_VALUE_LENGTH + 1) + " = 1", "a field name"),
        ('text ~ "' + " ".join(["w"] * (MAX_SEARCH_WORDS + 1)) + '"', "words"),
        ("NOT " * MAX_DEPTH + "a = 1", "nesting"),
        ("cf[" + "9" * 5_000 + "] = 1", "a field name"),
        ("cf[" + "9" * 900 + "] = 1", "custom field id"),
        ("cf[9223372036854775808] = 1", "custom field id"),
        ('a ~ "\\ud800"', "surrogate"),
        ('a ~ "\\udc00\\ud800"', "surrogate"),
        ('a ~ "\\u0000"', "NUL"),
    ],
)
def test_each_limit_is_named(text: str, words: str) -> None:
    with pytest.raises(QueryError) as refused:
        parse_jql(text)
    assert words in refused.value.message


def test_up_to_the_limits_a_query_parses() -> None:
    assert parse_jql(" OR ".join(["a = 1"] * MAX_CLAUSES)).where is not None
    assert parse_jql("cf[9223372036854775807] = 1").where is not None
    assert parse_jql("NOT " * (MAX_DEPTH - 1) + "a = 1").where is not None
    pair = parse_jql('a ~ "\\ud83d\\ude00"').where
    assert pair is not None
    assert "\U0001f600" in repr(pair)
