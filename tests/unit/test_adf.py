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


def text(value: str) -> Node:
    return {"type": "text", "text": value}


PIECE = st.one_of(
    TEXT.map(text),
    ACCOUNT.map(lambda i: {"type": "mention", "attrs": {"id": i}}),
    st.tuples(TEXT, URL).map(
        lambda t: {
            "type": "text",
            "text": t[0],
            "marks": [{"type": "link", "attrs": {"href": t[1]}}],
        }
    ),
    URL.map(lambda u: {"type": "inlineCard", "attrs": {"url": u}}),
)


def merged(nodes: list[Node]) -> list[Node]:
    """Adjacent plain texts as one (the parser reads them so), with a space between."""
    out: list[Node] = []
    for node in nodes:
        if out and node.get("marks") is None and node["type"] == "text":
            last = out[-1]
            if last["type"] == "text" and "marks" not in last:
                out[-1] = text(last["text"] + " " + node["text"])
                continue
        out.append(node)
    return out


LINE = st.lists(PIECE, min_size=1, max_size=4).map(merged)


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
        "content": [text(t[1])] if t[1] else [],
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


SIMPLE = st.one_of(PARAGRAPH, HEADING, CODE, lists(0), st.just({"type": "rule"}))
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
        "h2. Steps\n\n"
        "Hello [~accountid:5b10ac8d82e05b22cc7d4ef5]\n[the docs|https://example.com] bold\n\n"
        "# one\n# two\n\n"
        "{code:python}\nx = 1\n\ny\n{code}"
    )


def test_what_adf_cannot_say_keeps_its_words() -> None:
    table = {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "table",
                "content": [
                    {
                        "type": "tableRow",
                        "content": [
                            {
                                "type": "tableCell",
                                "content": [{"type": "paragraph", "content": [text("cell")]}],
                            }
                        ],
                    }
                ],
            },
            {
                "type": "paragraph",
                "content": [{"type": "emoji", "attrs": {"shortName": ":smile:"}}],
            },
        ],
    }
    assert adf_to_text(table) == "cell\n\n:smile:"


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
