"""The JQL parser and printer: what each construct parses to, and how bad queries fail."""

from __future__ import annotations

from importlib.resources import files

import pytest

from issuesync.api.jira.errors import JIRA
from issuesync.domain.jql import (
    And,
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
    parse_jql,
)
from issuesync.domain.jql.limits import MAX_DEPTH
from issuesync.errors import QueryError


def term(field: str, op: Operator, operand: Operand) -> Terminal:
    return Terminal(FieldRef(field), op, operand)


def where(text: str) -> object:
    return parse_jql(text).where


A = term("a", "=", Value("1"))
B = term("b", "=", Value("2"))
C = term("c", "=", Value("3"))


@pytest.mark.parametrize("op", ["=", "!=", ">", ">=", "<", "<=", "~", "!~"])
def test_comparison_operators(op: Operator) -> None:
    assert where(f"priority {op} High") == term("priority", op, Value("High"))
    assert where(f"priority{op}High") == term("priority", op, Value("High"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status IN (Open, Done)", term("status", "IN", ValueList((Value("Open"), Value("Done"))))),
        ("status not in (Open)", term("status", "NOT IN", ValueList((Value("Open"),)))),
        ("assignee IS EMPTY", term("assignee", "IS", Empty())),
        ("assignee is null", term("assignee", "IS", Empty())),
        ("assignee IS NOT EMPTY", term("assignee", "IS NOT", Empty())),
        ("assignee is not NULL", term("assignee", "IS NOT", Empty())),
        ("assignee = EMPTY", term("assignee", "=", Empty())),
        ("assignee != null", term("assignee", "!=", Empty())),
        ("assignee = currentUser()", term("assignee", "=", FunctionCall("currentUser"))),
        (
            "assignee in (currentUser(), bob, EMPTY)",
            term(
                "assignee",
                "IN",
                ValueList((FunctionCall("currentUser"), Value("bob"), Empty())),
            ),
        ),
        (
            "issuetype in subTaskIssueTypes()",
            term("issuetype", "IN", FunctionCall("subTaskIssueTypes")),
        ),
        (
            "created > startOfDay(-1)",
            term("created", ">", FunctionCall("startOfDay", (Value("-1"),))),
        ),
        (
            'x = f(a, "b c")',
            term("x", "=", FunctionCall("f", (Value("a"), Value("b c", quoted=True)))),
        ),
    ],
)
def test_list_empty_and_function_operands(text: str, expected: Terminal) -> None:
    assert where(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "a = 1 and b = 2 AND c = 3",
        "a = 1 AnD b = 2 aNd c = 3",
    ],
)
def test_keywords_are_case_insensitive(text: str) -> None:
    assert where(text) == And((A, B, C))


def test_every_keyword_in_any_case() -> None:
    query = parse_jql("NoT a = 1 oR b iN (2) AND c Is NoT eMpTy OrDeR bY a aSc, b DeSc, c")
    assert query == Query(
        Or(
            (
                Not(A),
                And(
                    (
                        term("b", "IN", ValueList((Value("2"),))),
                        term("c", "IS NOT", Empty()),
                    )
                ),
            )
        ),
        (
            OrderItem(FieldRef("a"), "ASC"),
            OrderItem(FieldRef("b"), "DESC"),
            OrderItem(FieldRef("c")),
        ),
    )


def test_and_binds_tighter_than_or() -> None:
    assert where("a = 1 OR b = 2 AND c = 3") == Or((A, And((B, C))))
    assert where("a = 1 AND b = 2 OR c = 3") == Or((And((A, B)), C))


def test_not_binds_tighter_than_and() -> None:
    assert where("NOT a = 1 AND b = 2") == And((Not(A), B))
    assert where("NOT (a = 1 AND b = 2)") == Not(And((A, B)))
    assert where("not not a = 1") == Not(Not(A))


def test_parentheses_group_and_are_kept_as_nesting() -> None:
    assert where("(a = 1 OR b = 2) AND c = 3") == And((Or((A, B)), C))
    assert where("(a = 1 AND b = 2) AND c = 3") == And((And((A, B)), C))
    assert where("((a = 1))") == A


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"In Progress"', Value("In Progress", quoted=True)),
        ("'In Progress'", Value("In Progress", quoted=True)),
        (r'"say \"hi\""', Value('say "hi"', quoted=True)),
        (r"'it\'s'", Value("it's", quoted=True)),
        (r'"a\\b"', Value("a\\b", quoted=True)),
        (r'"tab\there\nnew"', Value("tab\there\nnew", quoted=True)),
        (r'"\u00e9t\u00E9"', Value("été", quoted=True)),
        ('"AND"', Value("AND", quoted=True)),
        ('""', Value("", quoted=True)),
        ("PROJ-12", Value("PROJ-12")),
        ("-5m", Value("-5m")),
        ("2024-01-31", Value("2024-01-31")),
        ("2024/01/31", Value("2024/01/31")),
        ("1.0", Value("1.0")),
        ("ann@example.com", Value("ann@example.com")),
        ("win*", Value("win*")),
        ("ärger", Value("ärger")),
    ],
)
def test_values(text: str, value: Value) -> None:
    assert where(f"x = {text}") == term("x", "=", value)


def test_custom_fields_by_id_and_by_name() -> None:
    terminal = where("cf[10001] = 3")
    assert terminal == term("cf[10001]", "=", Value("3"))
    assert isinstance(terminal, Terminal)
    assert terminal.field.custom_id == 10001
    assert where("CF[10001] = 3") == terminal
    assert where('"Story Points" > 3') == term("Story Points", ">", Value("3"))
    assert FieldRef("Story Points").custom_id is None
    assert parse_jql("ORDER BY cf[7] DESC").order_by == (OrderItem(FieldRef("cf[7]"), "DESC"),)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_query(text: str) -> None:
    assert parse_jql(text) == Query()


def test_order_by_only_and_several_keys() -> None:
    assert parse_jql("order by updated") == Query(None, (OrderItem(FieldRef("updated")),))
    assert parse_jql("project = X ORDER BY priority DESC, key") == Query(
        term("project", "=", Value("X")),
        (OrderItem(FieldRef("priority"), "DESC"), OrderItem(FieldRef("key"))),
    )


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("project=x and status in(a,'b c')", 'project = x AND status IN (a, "b c")'),
        ("a = 1 OR b = 2 AND c = 3", "a = 1 OR b = 2 AND c = 3"),
        ("(a = 1 OR b = 2) AND c = 3", "(a = 1 OR b = 2) AND c = 3"),
        ("(a = 1 AND b = 2) AND c = 3", "(a = 1 AND b = 2) AND c = 3"),
        ("not (a = 1 or b = 2)", "NOT (a = 1 OR b = 2)"),
        ("x is null", "x IS EMPTY"),
        ("x = 'and'", 'x = "and"'),
        ("x = 'plain'", 'x = "plain"'),
        ('"Story Points" > 3 order by cf[1] desc', '"Story Points" > 3 ORDER BY cf[1] DESC'),
        (r'x ~ "a\"b\\c"', r'x ~ "a\"b\\c"'),
        ("order by a", "ORDER BY a"),
        ("", ""),
    ],
)
def test_printer_writes_canonical_jql(text: str, canonical: str) -> None:
    assert format_jql(parse_jql(text)) == canonical
    assert parse_jql(canonical) == parse_jql(text)


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("status = AND x", 9, "Expecting either a value, list or function but got 'AND'"),
        ("status foo", 7, "Expecting operator but got 'foo'"),
        ("status", 6, "Expecting operator but got the end of the query"),
        ("status =", 8, "Expecting either a value, list or function but got the end of the query"),
        ("= x", 0, "Expecting a field name but got '='"),
        ("a = b c", 6, "Expecting 'AND', 'OR' or 'ORDER BY' but got 'c'"),
        ("a = b AND", 9, "Expecting a field name"),
        ("a = b ORDER x", 12, "Expecting 'BY' but got 'x'"),
        ("a = b ORDER BY", 14, "Expecting a field name"),
        ("a = b ORDER BY x y", 17, "Expecting ',', 'ASC', 'DESC' or the end of the query"),
        ("a in b", 6, "Expecting '('"),
        ("a in AND", 5, "Expecting a list or function but got 'AND'"),
        ("a in ()", 6, "Expecting either a value or function but got ')'"),
        ("a = (b, c)", 2, "The operator '=' does not support a list of values"),
        ("a ~ (b)", 2, "The operator '~' does not support a list of values"),
        ("a IS x", 5, "Expecting 'EMPTY', 'NOT' or 'NULL' but got 'x'"),
        ("a = b)", 5, "Expecting 'ORDER BY' or the end of the query but got ')'"),
        ("(a = b", 6, "Expecting ')' but got the end of the query"),
        ("a = f(x", 7, "Expecting ')' or ','"),
        ('a = "open', 4, "The quoted string starting at character 5 is not terminated"),
        ("a [ b", 2, "The character '[' is reserved"),
        ("a ! b", 2, "The character '!' is reserved"),
        ('a = "\\q"', 5, "'\\q' is an illegal JQL escape sequence"),
        ('a = "\\u12"', 5, "'\\u' is an illegal JQL escape sequence"),
        ("not", 3, "Expecting a field name but got the end of the query"),
        ("a = b\nAND c", 11, "(line 2, character 6)"),
    ],
)
def test_bad_queries_name_the_position_and_what_was_expected(
    text: str, position: int, expected: str
) -> None:
    with pytest.raises(QueryError) as caught:
        parse_jql(text)
    error = caught.value
    assert error.position == position
    assert expected in error.message
    assert error.message.startswith("Error in the JQL Query: ")
    assert "(line " in error.message
    assert JIRA.status(error) == 400


def test_expected_tokens_are_listed() -> None:
    with pytest.raises(QueryError, match=r"Expected one of: .*'!=', .*'IN', 'IS', 'NOT'"):
        parse_jql("status foo")


def test_too_deep_nesting_is_a_query_error_not_a_crash() -> None:
    depth = MAX_DEPTH
    nested = "a = 1"
    for _ in range(depth):
        nested = f"a = 1 AND ({nested} OR b = 2)"
    with pytest.raises(QueryError, match="levels of nesting"):
        parse_jql(nested)
    # Brackets around a single condition add no depth at all.
    assert parse_jql("(" * 2_000 + "a = 1" + ")" * 2_000).where == A
    with pytest.raises(QueryError, match="levels of nesting"):
        parse_jql("NOT " * depth + "a = 1")
    assert isinstance(parse_jql("NOT " * (depth - 1) + "a = 1").where, Not)


def test_trees_that_no_text_can_produce_are_refused() -> None:
    with pytest.raises(ValueError, match="at least two"):
        And((A,))
    with pytest.raises(ValueError, match="at least two"):
        Or(())
    with pytest.raises(ValueError, match="cannot take"):
        term("a", "IS", Value("x"))
    with pytest.raises(ValueError, match="cannot take"):
        term("a", "IN", Value("x"))
    with pytest.raises(ValueError, match="cannot take"):
        term("a", "=", ValueList((Value("x"),)))
    with pytest.raises(ValueError, match="at least one"):
        ValueList(())


def test_grammar_ships_inside_the_package() -> None:
    grammar = files("issuesync.domain.jql").joinpath("grammar.lark")
    assert grammar.is_file()
    assert "start:" in grammar.read_text("utf-8")
