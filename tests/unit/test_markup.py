"""Rich text across markup dialects: the corpus of tests/fixtures/markup/ and a property.

Every sample is written by hand in each dialect (tests/fixtures/markup/make_corpus.py);
conversion runs the real pandoc of pypandoc-binary.
"""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from issuesync.domain.markup import Markup
from issuesync.markup import canonical, convert

CORPUS = Path(__file__).parent.parent / "fixtures" / "markup"
SAMPLES = {path.stem: json.loads(path.read_text()) for path in sorted(CORPUS.glob("sample-*.json"))}
DIALECTS = [Markup.JIRA, Markup.GFM, Markup.TEXTILE, Markup.COMMONMARK]
PAIRS = [(a, b) for a in DIALECTS for b in DIALECTS if a is not b]
# Textile's "bq." holds one paragraph: a panel's title and body come back as two lines
# of one paragraph, readable but not the same tree.
ONE_PARAGRAPH_QUOTES = {"panel", "info"}


def test_the_corpus_has_forty_samples_in_every_dialect() -> None:
    assert len(SAMPLES) >= 40
    for sample in SAMPLES.values():
        assert all(sample[dialect.value].strip() for dialect in Markup)


@functools.cache
def canonical_form(name: str, dialect: Markup) -> str:
    """A sample's hand-written form, canonical (each is asked for by many pairs)."""
    return canonical(SAMPLES[name][dialect.value], dialect)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_sample_crosses_to_every_dialect_and_back(name: str) -> None:
    sample: dict[str, Any] = SAMPLES[name]
    for source, target in PAIRS:
        original = sample[source.value]
        there = convert(original, source, target)
        back = convert(there, target, source)
        # What the hand-written form in the target says, the converted text says.
        split_quote = target is Markup.TEXTILE or source is Markup.TEXTILE
        if not (split_quote and ONE_PARAGRAPH_QUOTES & set(sample["pieces"])):
            assert canonical(there, target) == canonical_form(name, target), (
                source,
                target,
                there,
            )
            assert canonical(back, source) == canonical_form(name, source), (source, target, back)
        # No drift: one more round changes nothing.
        assert convert(back, source, target) == there, (source, target)


def test_a_jira_panel_becomes_a_quote_with_its_title() -> None:
    text = "{panel:title=Workaround}\nRestart the worker after each import.\n{panel}"
    assert convert(text, Markup.JIRA, Markup.GFM) == (
        "> **Workaround**\n>\n> Restart the worker after each import."
    )
    assert convert(text, Markup.JIRA, Markup.TEXTILE) == (
        "bq. *Workaround*\nRestart the worker after each import."
    )


@pytest.mark.parametrize(
    ("jira", "gfm"),
    [
        (
            "{warning:title=Data loss}\nBack up first.\n{warning}",
            "> **Data loss**\n>\n> Back up first.",
        ),
        ("{note}\nSlow on Mondays.\n{note}", "> **Note**\n>\n> Slow on Mondays."),
        ("{panel}\nNo title here.\n{panel}", "> No title here."),
        ("The build is {color:red}failing{color} again.", "The build is failing again."),
        ("Please +do not+ restart.", "Please do not restart."),
        ("!error-dialog.png|thumbnail!", "![](error-dialog.png)"),
        ("[~alice] and [~accountid:5b10a2]", "@alice and @accountid:5b10a2"),
    ],
)
def test_what_markdown_cannot_say_is_kept_readable(jira: str, gfm: str) -> None:
    assert convert(jira, Markup.JIRA, Markup.GFM) == gfm


def test_a_mention_crosses_as_each_dialect_writes_it() -> None:
    # pandoc escapes the "!" after a link (Jira shows it as "!").
    assert convert("Thanks @bob.smith!", Markup.GFM, Markup.JIRA) == "Thanks [~bob.smith]\\!"
    assert convert("[~alice] look", Markup.JIRA, Markup.TEXTILE) == "@alice look"
    assert convert("@alice look", Markup.TEXTILE, Markup.JIRA) == "[~alice] look"
    # An e-mail address is no mention.
    email = convert("mail bob@example.com", Markup.GFM, Markup.JIRA)
    assert "bob@example.com" in email
    assert "[~" not in email


def test_a_run_of_braces_is_read_as_braces() -> None:
    # pandoc's Jira reader alone takes minutes over a hundred "{": they are escaped first.
    assert convert("{" * 100, Markup.JIRA, Markup.GFM) == "{" * 100
    assert convert("x {{{{y}}", Markup.JIRA, Markup.GFM) == "x `{{y`"
    code = "{code:json}\n{{{{}}}}\n{code}"
    assert convert(code, Markup.JIRA, Markup.GFM) == "``` json\n{{{{}}}}\n```"


def test_a_text_not_read_in_time_crosses_verbatim() -> None:
    text = "*bold* and {color:red}red{color}"
    assert convert(text, Markup.JIRA, Markup.GFM, timeout_s=0) == f"```\n{text}\n```"
    assert canonical(text, Markup.JIRA, timeout_s=0) == canonical(f"```\n{text}\n```", Markup.GFM)


@pytest.mark.parametrize(
    "jira",
    [
        "{code}\nan unclosed code block",
        "{quote}\nan unclosed quote",
        "run {code}make{code} now",
        "see {panel}inline{panel}",
    ],
)
def test_what_pandoc_would_drop_crosses_verbatim(jira: str) -> None:
    # pandoc's Jira reader drops these (all or part): the text crosses as it is.
    assert convert(jira, Markup.JIRA, Markup.GFM) == f"```\n{jira}\n```"
    assert convert(jira, Markup.JIRA, Markup.TEXTILE) == f"bc. {jira}"


def test_macro_words_are_not_taken_for_dropped_words() -> None:
    jira = (
        "a &amp; b !x.png|width=300,height=20! [mail|mailto:bob@example.com]"
        " {color:#ff0000}red{color}"
    )
    assert convert(jira, Markup.JIRA, Markup.GFM) == (
        "a & b ![](x.png) [mail](mailto:bob@example.com) red"
    )


@pytest.mark.parametrize(
    ("jira", "textile"),
    [
        ("# one\n#* sub\n# two", "# one\n## sub\n# two"),
        ("* one\n*# sub\n*#* deeper\n* two", "* one\n** sub\n*** deeper\n* two"),
    ],
)
def test_textile_nests_a_list_in_one_of_its_kind(jira: str, textile: str) -> None:
    assert convert(jira, Markup.JIRA, Markup.TEXTILE) == textile
    back = convert(textile, Markup.TEXTILE, Markup.JIRA)
    assert convert(back, Markup.JIRA, Markup.TEXTILE) == textile  # settled


def test_gitlab_is_read_and_written_as_github_markdown() -> None:
    text = "## Done\n\n- [x] ~~old~~ `new`"
    assert convert(text, Markup.GITLAB, Markup.JIRA) == convert(text, Markup.GFM, Markup.JIRA)


def test_empty_text_stays_empty() -> None:
    assert convert("  \n", Markup.JIRA, Markup.GFM) == ""
    assert canonical("", Markup.GFM) == canonical(" ", Markup.JIRA)


def test_canonical_forms_tell_different_texts_apart() -> None:
    assert canonical("*a* b", Markup.JIRA) == canonical("**a** b", Markup.GFM)
    assert canonical("*a* b", Markup.JIRA) != canonical("*a* b", Markup.GFM)  # bold, italic
    assert canonical("a\nb", Markup.JIRA) == canonical("a\nb", Markup.GFM)  # a line break
    assert canonical("a b", Markup.GFM) != canonical("a c", Markup.GFM)


# -- a property: random documents settle after one round ------------------------------------

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


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=DOCUMENT,
    source=st.sampled_from([Markup.JIRA, Markup.GFM, Markup.TEXTILE]),
    target=st.sampled_from(DIALECTS),
)
def test_random_documents_settle_after_one_round(
    document: Doc, source: Markup, target: Markup
) -> None:
    original = render(document, source)
    there = convert(original, source, target)
    back = convert(there, target, source)
    assert canonical(back, source) == canonical(original, source), (original, there, back)
    assert convert(back, source, target) == there, (original, there, back)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=DOCUMENT)
def test_a_random_document_says_the_same_in_every_dialect(document: Doc) -> None:
    # Two lists of a kind apart by a blank line are one list in Markdown, two in Jira.
    kinds = [kind for kind, _value in document]
    assume(not any(a == b in {"bullets", "numbers"} for a, b in itertools.pairwise(kinds)))
    forms = {dialect: canonical(render(document, dialect), dialect) for dialect in INLINES}
    assert forms[Markup.JIRA] == forms[Markup.GFM] == forms[Markup.TEXTILE]
