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

from issuesync.domain.markup import Markup, no_mentions, plain
from issuesync.domain.message import Message
from issuesync.markup import canonical, convert, convert_many, pandoc
from issuesync.markup.pandoc import ConversionFailedError
from support.markup_documents import DOCUMENT, INLINES, Doc, render

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


# -- many texts at once, and mentions -------------------------------------------------------


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_many_texts_convert_as_each_would_alone(source: Markup, target: Markup) -> None:
    texts = [sample[source.value] for sample in SAMPLES.values()]
    texts += ["", "  ", "a\tb\n\n\tcode\there", "x\r\ny\r\n\r\n* a"]
    assert convert_many(texts, source, target) == [convert(t, source, target) for t in texts]


def test_a_text_that_is_not_unicode_cannot_be_converted() -> None:
    # A lone surrogate is no text pandoc can take: its batch fails, and so does the text
    # alone (convert_many's fallback); the sync carries it as it is (richtext.py).
    with pytest.raises(ConversionFailedError):
        convert_many(["*a*", "\ud800"], Markup.JIRA, Markup.GFM)
    with pytest.raises(ConversionFailedError):
        convert("*a* \ud800", Markup.JIRA, Markup.GFM)


def test_a_mention_is_renamed_or_becomes_plain_text() -> None:
    partners = {"alice": "alice.gh"}
    text = "[~alice] and [~bob] agreed"
    assert convert(text, Markup.JIRA, Markup.GFM, mentions=partners.get) == (
        "@alice.gh and bob agreed"
    )
    assert convert_many([text], Markup.JIRA, Markup.TEXTILE, mentions=partners.get) == [
        "@alice.gh and bob agreed"
    ]
    assert convert("@alice and @bob", Markup.GFM, Markup.JIRA, mentions=no_mentions) == (
        "alice and bob"
    )
    # Without a resolver a mention keeps its name (as the converter did before).
    assert convert("@bob", Markup.GFM, Markup.JIRA) == "[~bob]"


def test_a_message_says_its_dialect_and_one_written_before_that_still_reads() -> None:
    fields = {
        "integrationKey": "INT-1",
        "fromConnector": "PA-1",
        "toConnector": "PB-2",
        "sourceIssueKey": "PA-1",
        "sequenceId": 1,
        "kind": "create",
    }
    assert Message.loads(json.dumps(fields)).markup is None  # an older message
    said = Message.loads(json.dumps({**fields, "markup": "textile"}))
    assert said.markup == "textile"
    assert json.loads(said.dumps())["markup"] == "textile"


PLAIN_WORDS = st.lists(
    st.tuples(
        st.sampled_from(["alpha", "Beta", "42", "1.2", "e.g", "PA12", "p", "h1", "x:y", "Ab3"]),
        st.sampled_from(["", "", ",", ".", "?", ":", ";"]),
    ),
    min_size=1,
    max_size=6,
).map(lambda words: " ".join(word + mark for word, mark in words))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=PLAIN_WORDS)
def test_plain_words_are_what_pandoc_writes_them_as(text: str) -> None:
    # Plain text skips pandoc (convert, convert_many): it must be what pandoc would write.
    assume(plain(text))
    for source, target in PAIRS:
        assert pandoc.write(pandoc.read(text, source), target) == text, (source, target)


def test_what_reads_as_markup_somewhere_is_not_plain() -> None:
    for text in ["1. first", "2) x", "p. x", "h1. x", "bq. x", "a_b", "a  b", " a", "a\nb", "*a*"]:
        assert not plain(text), text
    assert plain("Thanks, fixed in 1.2. See PA12: done")
