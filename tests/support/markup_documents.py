"""Random documents written by hand in Jira wiki markup, GFM and Textile, for properties.

A document is a list of blocks built from the corpus's constructs (headings, bold,
italic, strike, inline code, code blocks with a language, quotes, nested lists, links,
tables, mentions, images); :func:`render` writes one as a person would in each dialect.
The unit tests of ``issuesync.markup`` and the engine's markup sync share them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from issuesync.domain.markup import Markup

WORDS = st.lists(
    st.sampled_from(["alpha", "beta", "gamma", "delta", "fix", "PA-12", "42"]),
    min_size=1,
    max_size=4,
).map(" ".join)
Doc = list[tuple[str, Any]]
INLINE_KINDS = ["text", "bold", "italic", "strike", "code", "link"]
INLINE = st.one_of(
    st.tuples(st.sampled_from(INLINE_KINDS), WORDS),
    st.tuples(st.just("mention"), st.sampled_from(["alice", "bob.smith"])),
    st.tuples(st.just("image"), st.sampled_from(["shot.png", "error-1.jpg"])),
)
PARAGRAPH = st.lists(INLINE, min_size=1, max_size=4)
ITEMS = st.lists(st.tuples(PARAGRAPH, st.lists(WORDS, max_size=2)), min_size=1, max_size=3)
BLOCK = st.one_of(
    st.tuples(st.just("para"), PARAGRAPH),
    st.tuples(st.just("heading"), st.tuples(st.integers(1, 3), WORDS)),
    st.tuples(st.sampled_from(["bullets", "numbers"]), ITEMS),
    st.tuples(st.just("code"), st.tuples(st.sampled_from(["python", "sql", ""]), WORDS)),
    st.tuples(st.just("quote"), PARAGRAPH),
    st.tuples(
        st.just("table"), st.lists(st.lists(WORDS, min_size=2, max_size=2), min_size=2, max_size=3)
    ),
)
DOCUMENT = st.lists(BLOCK, min_size=1, max_size=5)

# How each dialect writes each inline piece (by hand, as a person would).
INLINES: dict[Markup, dict[str, str]] = {
    Markup.JIRA: {
        "text": "{}",
        "bold": "*{}*",
        "italic": "_{}_",
        "strike": "-{}-",
        "code": "{{{{{}}}}}",
        "link": "[{}|https://example.com/x]",
        "mention": "[~{}]",
        "image": "!{}!",
    },
    Markup.GFM: {
        "text": "{}",
        "bold": "**{}**",
        "italic": "*{}*",
        "strike": "~~{}~~",
        "code": "`{}`",
        "link": "[{}](https://example.com/x)",
        "mention": "@{}",
        "image": "![]({})",
    },
    Markup.TEXTILE: {
        "text": "{}",
        "bold": "*{}*",
        "italic": "_{}_",
        "strike": "-{}-",
        "code": "@{}@",
        "link": '"{}":https://example.com/x',
        "mention": "@{}",
        "image": "!{}!",
    },
}


def render_list(
    kind: str, items: list[tuple[list[tuple[str, str]], list[str]]], dialect: Markup, line: Any
) -> str:
    lines: list[str] = []
    for number, (item, children) in enumerate(items, start=1):
        # Nested items are of their parent's kind: pandoc's Textile reader does not read
        # a list nested in one of the other kind ("#*"), though Jira and GFM do.
        if dialect is Markup.GFM:
            mark, indent = ("-", "  ") if kind == "bullets" else (f"{number}.", "   ")
            lines.append(f"{mark} {line(item)}")
            child_mark = "-" if kind == "bullets" else "1."
            lines.extend(f"{indent}{child_mark} {child}" for child in children)
        else:
            mark = "*" if kind == "bullets" else "#"
            lines.append(f"{mark} {line(item)}")
            lines.extend(f"{mark}{mark} {child}" for child in children)
    return "\n".join(lines)


def render_table(rows: list[list[str]], dialect: Markup) -> str:
    head, *body = rows
    if dialect is Markup.JIRA:
        lines = ["||" + "||".join(head) + "||"]
    elif dialect is Markup.GFM:
        lines = ["| " + " | ".join(head) + " |", "| --- | --- |"]
    else:
        lines = ["|_. " + " |_. ".join(head) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in body)
    return "\n".join(lines)


def render_code(language: str, words: str, dialect: Markup) -> str:
    if dialect is Markup.GFM:
        return f"```{language}\n{words}\n```"
    if dialect is Markup.TEXTILE:
        opening = f'<pre><code class="{language}">' if language else "<pre>"
        return f"{opening}\n{words}\n{'</code></pre>' if language else '</pre>'}"
    return (
        f"{{code:{language}}}\n{words}\n{{code}}"
        if language
        else f"{{noformat}}\n{words}\n{{noformat}}"
    )


def render(document: Doc, dialect: Markup) -> str:
    """The document written by hand in Jira wiki markup, GFM or Textile."""

    def line(pieces: list[tuple[str, str]]) -> str:
        return " ".join(INLINES[dialect][kind].format(words) for kind, words in pieces)

    blocks: list[str] = []
    for kind, value in document:
        if kind == "para":
            blocks.append(line(value))
        elif kind == "heading":
            level, words = value
            blocks.append(
                f"{'#' * level} {words}" if dialect is Markup.GFM else f"h{level}. {words}"
            )
        elif kind in {"bullets", "numbers"}:
            blocks.append(render_list(kind, value, dialect, line))
        elif kind == "code":
            blocks.append(render_code(value[0], value[1], dialect))
        elif kind == "table":
            blocks.append(render_table(value, dialect))
        else:
            blocks.append(f"> {line(value)}" if dialect is Markup.GFM else f"bq. {line(value)}")
    return "\n\n".join(blocks)
