"""ADF (Jira Cloud's rich text) to and from the replica's wiki-markup text."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from issuesync.trackers.jira.adf import adf_to_text, text_to_adf

Node = dict[str, Any]

# Words that cannot start a block of their own nor hold markup characters.
WORD = st.builds(
    str.__add__, st.text("abcdefg0123456789", min_size=1, max_size=6), st.sampled_from(",.!? ")
).map(str.strip)
TEXT = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
ACCOUNT = st.text("0123456789abcdef:", min_size=6, max_size=14)
URL = st.text("abcxyz019", min_size=0, max_size=6).map(lambda path: f"https://x.example/{path}")


def text(value: str, *marks: Node) -> Node:
    return {"type": "text", "text": value, **({"marks": list(marks)} if marks else {})}


STRONG, EM, STRIKE, CODE_MARK = ({"type": k} for k in ("strong", "em", "strike", "code"))
MARKS = st.sampled_from([(), (STRONG,), (EM,), (STRIKE,), (CODE_MARK,), (STRONG, EM)])

PIECE = st.one_of(
    TEXT.map(text),
    st.tuples(TEXT, MARKS).map(lambda t: text(t[0], *t[1])),
    ACCOUNT.map(lambda i: {"type": "mention", "attrs": {"id": i}}),
    st.tuples(TEXT, URL).map(lambda t: text(t[0], {"type": "link", "attrs": {"href": t[1]}})),
)


def spaced(nodes: list[Node]) -> list[Node]:
    """The pieces a space apart, the space joined to a plain text beside it (as ADF that
    the Cloud editor writes has it: one text per run of the same marks)."""
    out: list[Node] = []
    for node in nodes:
        if out:
            last = out[-1]
            if last["type"] == "text" and "marks" not in last:
                out[-1] = text(last["text"] + " ")
            else:
                out.append(text(" "))
            if node["type"] == "text" and "marks" not in node:
                out[-1] = text(out[-1]["text"] + node["text"])
                continue
        out.append(node)
    return out


LINE = st.lists(PIECE, min_size=1, max_size=4).map(spaced)


def with_breaks(lines: list[list[Node]]) -> list[Node]:
    out: list[Node] = []
    for index, line in enumerate(lines):
        if index:
            out.append({"type": "hardBreak"})
        out.extend(line)
    return out


PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map(
    lambda lines: {"type": "paragraph", "content": with_breaks(lines)}
)
HEADING = st.tuples(st.integers(1, 6), LINE).map(
    lambda t: {"type": "heading", "attrs": {"level": t[0]}, "content": t[1]}
)
CODE = st.tuples(
    st.sampled_from([None, "python", "java"]),
    st.lists(st.one_of(st.just(""), TEXT), min_size=0, max_size=3).map("\n".join),
).map(
    lambda t: {
        "type": "codeBlock",
        **({"attrs": {"language": t[0]}} if t[0] else {}),
        # Lines at a block's start or end are not kept (nor by Jira's own editor).
        "content": [text(t[1].strip("\n"))] if t[1].strip("\n") else [],
    }
)


def lists(depth: int) -> st.SearchStrategy[Node]:
    item_paragraph = LINE.map(lambda line: {"type": "paragraph", "content": line})
    if depth >= 2:
        item = item_paragraph.map(lambda p: {"type": "listItem", "content": [p]})
    else:
        item = st.tuples(item_paragraph, st.none() | lists(depth + 1)).map(
            lambda t: {"type": "listItem", "content": [t[0]] + ([t[1]] if t[1] else [])}
        )
    return st.tuples(
        st.sampled_from(["bulletList", "orderedList"]), st.lists(item, min_size=1, max_size=3)
    ).map(lambda t: {"type": t[0], "content": t[1]})


def cell(kind: str) -> st.SearchStrategy[Node]:
    paragraph = LINE.map(lambda line: {"type": "paragraph", "content": line})
    return paragraph.map(lambda p: {"type": kind, "content": [p]})


TABLE = st.integers(1, 3).flatmap(
    lambda width: st.tuples(
        st.lists(cell("tableHeader"), min_size=width, max_size=width),
        st.lists(st.lists(cell("tableCell"), min_size=width, max_size=width), max_size=2),
    ).map(
        lambda t: {
            "type": "table",
            "content": [{"type": "tableRow", "content": row} for row in [t[0], *t[1]]],
        }
    )
)


SIMPLE = st.one_of(PARAGRAPH, HEADING, CODE, lists(0), TABLE, st.just({"type": "rule"}))
BLOCK = st.one_of(
    SIMPLE,
    st.lists(st.one_of(PARAGRAPH, lists(0)), min_size=1, max_size=2).map(
        lambda c: {"type": "blockquote", "content": c}
    ),
)
DOC = st.lists(BLOCK, min_size=0, max_size=5).map(
    lambda blocks: {"type": "doc", "version": 1, "content": blocks}
)


@settings(max_examples=100, deadline=None)
@given(DOC)
def test_adf_to_text_and_back_gives_the_document(document: Node) -> None:
    assert text_to_adf(adf_to_text(document)) == document


@settings(max_examples=100, deadline=None)
@given(DOC)
def test_text_to_adf_and_back_gives_the_text(document: Node) -> None:
    written = adf_to_text(document)
    assert adf_to_text(text_to_adf(written)) == written


def test_the_documented_example_reads_as_wiki_markup() -> None:
    """Atlassian's ADF example: a paragraph with a link, a mention and a list."""
    document = {
        "version": 1,
        "type": "doc",
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [text("Steps")]},
            {
                "type": "paragraph",
                "content": [
                    text("Hello "),
                    {
                        "type": "mention",
                        "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@Mia"},
                    },
                    {"type": "hardBreak"},
                    {
                        "type": "text",
                        "text": "the docs",
                        "marks": [{"type": "link", "attrs": {"href": "https://example.com"}}],
                    },
                    {"type": "text", "text": " bold", "marks": [{"type": "strong"}]},
                ],
            },
            {
                "type": "orderedList",
                "content": [
                    {
                        "type": "listItem",
                        "content": [{"type": "paragraph", "content": [text("one")]}],
                    },
                    {
                        "type": "listItem",
                        "content": [{"type": "paragraph", "content": [text("two")]}],
                    },
                ],
            },
            {"type": "codeBlock", "attrs": {"language": "python"}, "content": [text("x = 1\n\ny")]},
        ],
    }
    assert adf_to_text(document) == (
        "h2. Steps\n"
        "Hello [~5b10ac8d82e05b22cc7d4ef5]\n[the docs|https://example.com] *bold*\n\n"
        "# one\n# two\n\n"
        "{code:python}\nx = 1\n\ny\n{code}"
    )


def cells(kind: str, *texts: Node) -> Node:
    row = [{"type": kind, "content": [{"type": "paragraph", "content": [t]}]} for t in texts]
    return {"type": "tableRow", "content": row}


def test_what_wiki_markup_cannot_say_stays_readable() -> None:
    """Panels and expands become quotes with their title, tasks a list, lozenges their
    words; marks and tables keep their form."""
    document = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "panel",
                "attrs": {"panelType": "warning"},
                "content": [{"type": "paragraph", "content": [text("Mind the gap")]}],
            },
            {
                "type": "expand",
                "attrs": {"title": "Details"},
                "content": [{"type": "paragraph", "content": [text("hidden")]}],
            },
            {
                "type": "taskList",
                "content": [
                    {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [text("pay")]},
                    {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [text("ship")]},
                ],
            },
            {
                "type": "paragraph",
                "content": [
                    {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "\U0001f604"}},
                    text(" "),
                    {"type": "status", "attrs": {"text": "IN PROGRESS", "color": "blue"}},
                    text(" due "),
                    {"type": "date", "attrs": {"timestamp": "1767225600000"}},
                    text(" "),
                    text("red", {"type": "textColor", "attrs": {"color": "#ff0000"}}),
                    text(" H"),
                    text("2", {"type": "subsup", "attrs": {"type": "sub"}}),
                    text("O "),
                    text("gone", {"type": "strike"}, {"type": "em"}),
                ],
            },
            {
                "type": "mediaSingle",
                "content": [{"type": "media", "attrs": {"id": "a-1", "alt": "screen.png"}}],
            },
            {
                "type": "table",
                "content": [
                    cells("tableHeader", text("Key"), text("Status")),
                    cells("tableCell", text("PA-1"), text("done", {"type": "strong"})),
                ],
            },
        ],
    }
    assert adf_to_text(document) == (
        "{quote}\n*Warning*\n\nMind the gap\n{quote}\n"
        "{quote}\n*Details*\n\nhidden\n{quote}\n"
        "* \u2611 pay\n* \u2610 ship\n\n"
        "\U0001f604 IN PROGRESS due 2026-01-01 red H{~}2{~}O _-gone-_\n\n"
        "!screen.png!\n\n"
        "|| Key || Status ||\n| PA-1 | *done* |"
    )


def test_a_table_crosses_as_a_table() -> None:
    document = text_to_adf("||Key||Status||\n|PA-1|*done*|")
    assert document == {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "table",
                "content": [
                    cells("tableHeader", text("Key"), text("Status")),
                    cells("tableCell", text("PA-1"), text("done", {"type": "strong"})),
                ],
            }
        ],
    }


def test_adf_limits_are_kept_on_the_way_in() -> None:
    """A heading inside a quote is bold words (ADF's quotes hold no headings); code keeps
    no mark but a link."""
    document = text_to_adf("{quote}\nh3. Title\n{quote}\n\n*{{x}}*")
    assert document is not None
    assert document["content"][0] == {
        "type": "blockquote",
        "content": [{"type": "paragraph", "content": [text("Title", {"type": "strong"})]}],
    }
    assert document["content"][1] == {
        "type": "paragraph",
        "content": [text("x", {"type": "code"})],
    }


def test_none_empty_and_plain_strings() -> None:
    assert adf_to_text(None) is None
    assert text_to_adf(None) is None
    assert text_to_adf("") == {"type": "doc", "version": 1, "content": []}
    assert adf_to_text(text_to_adf("")) == ""
    assert adf_to_text("already text") == "already text"  # a v2 answer passes as it is
    assert text_to_adf("a\nb") == {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [text("a"), {"type": "hardBreak"}, text("b")]}
        ],
    }
