"""Descriptions and comments read right on the other side: the built-in tracker (Jira wiki
markup) kept in step with a GitHub repository (GFM), the fake over real HTTP.

The engine is stepped (``SyncRunner.settle``), so each test knows when a round is over
and can count the messages it sent; pandoc is the real one of pypandoc-binary.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from github_pair import QUICK, GitHub, pa_and_github, pa_configuration, served_github
from hypothesis import HealthCheck, Phase, assume, given, settings
from sync_helpers import Pair, integration_pair
from tracker_helpers import create_issue

from issuesync.domain.markup import Markup
from issuesync.domain.message import ChangeAction, CommentChange, Message, MessageKind
from issuesync.engine.pipeline import outgoing, richtext
from issuesync.engine.pipeline.route import Route
from issuesync.markup import canonical
from issuesync.services import Services
from support.markup_documents import DOCUMENT, Doc, render

JIRA_TEXT = """h2. Steps

# Open the *settings* page
# Click -Save- _twice_
## watch the log

{code:python}
print("boom")
{code}

||Browser||Result||
|Chrome|fails|

bq. It worked in {{4.1}}, see [the notes|https://example.com/notes]."""

GFM_TEXT = """## Steps

1. Open the **settings** page
2. Click ~~Save~~ *twice*
   1. watch the log

```python
print("boom")
```

| Browser | Result |
| --- | --- |
| Chrome | fails |

> It worked in `4.1`, see [the notes](https://example.com/notes)."""


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def github() -> Iterator[GitHub]:
    with served_github() as served:
        yield served


def body(url: str, *, github_markup: dict[str, Any] | None = None) -> dict[str, Any]:
    """PA (built-in) and the repository: summaries, descriptions and comments both ways."""
    # Comments compared as written: no author header (that is test_people_*'s).
    first = pa_configuration(("summary", "description", "comment"), commentHeader="")
    second: dict[str, Any] = {"sync": dict(QUICK), "commentHeader": ""}
    if github_markup is not None:
        second["markup"] = github_markup
    return pa_and_github(url, first, second)


@pytest.fixture
def pair(services: Services, admin: httpx.Client, github: GitHub) -> Iterator[Pair]:
    with integration_pair(services, admin, body(github[1].url)) as made:
        made.engine.refresh()
        yield made


def routes(pair: Pair) -> tuple[Route, Route]:
    """The built-in side's route and GitHub's."""
    first, second = pair.engine.route(pair.first_id), pair.engine.route(pair.second_id)
    assert first is not None
    assert second is not None
    return first, second


def github_route(pair: Pair) -> Route:
    """GitHub's route."""
    return routes(pair)[1]


def github_text(pair: Pair, number: str) -> tuple[str, list[str]]:
    """The GitHub issue's body and comments, as the adapter reads them (markers hidden)."""
    issue = github_route(pair).tracker.get(number)
    assert issue is not None
    hub = issue.hub_issue
    return hub.description or "", [c.body for c in hub.comments]


def sent_by(pair: Pair, connector_id: int) -> list[Message]:
    """The messages a connector sent (its partner received), answers left out."""
    partner = pair.second_id if connector_id == pair.first_id else pair.first_id
    return [
        message
        for row in pair.messages(partner)
        if (message := Message.loads(row.body)).kind is not MessageKind.RESPONSE
    ]


def quiet(pair: Pair) -> bool:
    """Both sides settled: a poll of each finds nothing to send."""
    return all(outgoing.poll(route).messages_sent == 0 for route in routes(pair))


def create_message(**parts: Any) -> Message:
    """PA-9's first message to GitHub's connector, with ``parts``."""
    return Message(
        integration_key="INT-1",
        from_connector="PA-1",
        to_connector="PB-2",
        source_issue_key="PA-9",
        sequence_id=1,
        kind=MessageKind.CREATE,
        **parts,
    )


def test_a_description_and_a_comment_read_right_on_github_and_back(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Crash on save", description=JIRA_TEXT)
    pair.comment(key, "*Seen* in {{prod}} by [~admin]")
    pair.settle()
    number = pair.twin(key)
    description, comments = github_text(pair, number)
    assert canonical(description, Markup.GFM) == canonical(GFM_TEXT, Markup.GFM), description
    # The mention maps to nobody by default: the name, as plain text.
    assert comments == ["**Seen** in `prod` by admin"]
    assert quiet(pair)

    # Written on GitHub in GFM, it arrives in PA as wiki markup.
    second = github_route(pair)
    second.tracker.update(number, {"description": GFM_TEXT.replace("Chrome", "Safari")})
    second.tracker.add_comment(number, "A `fix` is **ready**", None, idempotency_key="k1")
    pair.settle()
    fields = pair.fields(key)
    expected = JIRA_TEXT.replace("Chrome", "Safari")
    assert canonical(fields["description"], Markup.JIRA) == canonical(expected, Markup.JIRA)
    assert "A {{fix}} is *ready*" in pair.comments(key)
    assert quiet(pair)
    sent = sent_by(pair, pair.first_id)
    assert [m.kind for m in sent] == [MessageKind.CREATE]  # nothing bounced back
    assert all(m.markup == "jira" for m in sent)
    assert [m.markup for m in sent_by(pair, pair.second_id)] == ["gfm"]


def test_a_text_that_says_the_same_in_other_words_is_agreed_not_written(pair: Pair) -> None:
    written = "*bold*  and\n_it_"  # as PA's author wrote it: two spaces, a line break
    key = create_issue(pair.client, "PA", "Agreed", description=written)
    pair.settle()
    number = pair.twin(key)
    second = github_route(pair)
    assert github_text(pair, number)[0] == "**bold** and\\\n*it*"  # a hard break
    # GitHub's twin is rewritten in other marks that say the same; back in PA's dialect
    # they read "*bold* and\n_it_": the same words, so PA's text is left as it is.
    second.tracker.update(number, {"description": "__bold__ and\n_it_"})
    pair.settle()
    assert pair.fields(key)["description"] == written
    assert quiet(pair)


def test_a_message_without_a_dialect_crosses_as_it_is(pair: Pair) -> None:
    # Messages written before messages said their dialect: same dialect, no conversion.
    second = github_route(pair)
    message = create_message(changes={"description": "*bold*"})
    richtext.translate(second, [message])
    assert message.changes["description"] == "*bold*"
    message.markup = "jira"
    richtext.translate(second, [message])
    assert (message.changes["description"], message.markup) == ("**bold**", "gfm")
    richtext.translate(second, [message])  # translated once: now in GitHub's own dialect
    assert message.changes["description"] == "**bold**"
    unknown = message.model_copy(update={"markup": "asciidoc", "changes": {"description": "*b*"}})
    richtext.translate(second, [unknown])
    assert unknown.changes["description"] == "*b*"


def test_with_conversion_off_the_text_crosses_as_written(
    services: Services, admin: httpx.Client, github: GitHub
) -> None:
    with integration_pair(
        services, admin, body(github[1].url, github_markup={"convert": False})
    ) as pair:
        pair.engine.refresh()
        shown = pair.client.get("/api/1/integrations/INT-1").json()
        assert shown["secondConnector"]["configuration"]["markup"] == {
            "dialect": None,
            "convert": False,
        }
        assert "markup" not in shown["firstConnector"]["configuration"]  # the default
        key = create_issue(pair.client, "PA", "As is", description="h1. Title\n\n*bold*")
        pair.settle()
        assert github_text(pair, pair.twin(key))[0] == "h1. Title\n\n*bold*"
        assert quiet(pair)


def test_a_text_pandoc_reads_only_in_part_crosses_whole(pair: Pair) -> None:
    text = "{code}" + "{" * 40 + " unclosed"  # pandoc's Jira reader drops the rest
    key = create_issue(pair.client, "PA", "Braces", description=text)
    pair.settle()
    description, _ = github_text(pair, pair.twin(key))
    assert description == f"```\n{text}\n```"  # verbatim, in a code block
    assert not pair.messages(pair.second_id, "error")


def test_a_text_that_cannot_be_converted_crosses_as_it_is(pair: Pair) -> None:
    # A lone surrogate (a tracker's JSON may let one through) is no text pandoc can take:
    # that text crosses unconverted, the message's others are converted, nothing raises.
    message = create_message(
        changes={"description": "*bold* \ud800"},
        comments=[CommentChange(action=ChangeAction.ADD, source_id="1", body="_it_")],
        markup="jira",
    )
    richtext.translate(github_route(pair), [message])
    assert message.changes["description"] == "*bold* \ud800"
    assert message.comments[0].body == "*it*"


def without_mentions(document: Doc) -> Doc:
    """The document with each mention as its name in plain text (what crosses by default)."""

    def piece(kind: str, words: str) -> tuple[str, str]:
        return ("text", words) if kind == "mention" else (kind, words)

    def pieces(line: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [piece(kind, words) for kind, words in line]

    changed: Doc = []
    for kind, value in document:
        if kind in {"para", "quote"}:
            changed.append((kind, pieces(value)))
        elif kind in {"bullets", "numbers"}:
            changed.append((kind, [(pieces(item), children) for item, children in value]))
        else:
            changed.append((kind, value))
    return changed


def apart(document: Doc) -> bool:
    """No two lists of a kind in a row: they are one list in Markdown, two in Jira."""
    kinds = [kind for kind, _value in document]
    return not any(a == b in {"bullets", "numbers"} for a, b in itertools.pairwise(kinds))


@settings(
    max_examples=12,
    phases=[Phase.explicit, Phase.generate],  # shrinking an engine takes minutes: none
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=DOCUMENT, reply=DOCUMENT)
def test_random_documents_settle_after_one_round(pair: Pair, document: Doc, reply: Doc) -> None:
    """Written on one side, a document crosses once, reads the same there, and stays put;
    the same for the other side's answer."""
    assume(apart(document) and apart(reply))
    second = github_route(pair)
    before = len(sent_by(pair, pair.first_id)), len(sent_by(pair, pair.second_id))
    key = create_issue(pair.client, "PA", "Random", description=render(document, Markup.JIRA))
    pair.comment(key, render(document, Markup.JIRA))
    pair.settle()
    number = pair.twin(key)
    description, comments = github_text(pair, number)
    expected = canonical(render(without_mentions(document), Markup.GFM), Markup.GFM)
    assert canonical(description, Markup.GFM) == expected, description
    assert [canonical(c, Markup.GFM) for c in comments] == [expected]
    assert quiet(pair)

    answer = render(reply, Markup.GFM)
    second.tracker.update(number, {"description": answer})
    pair.settle()
    expected = canonical(render(without_mentions(reply), Markup.JIRA), Markup.JIRA)
    assert canonical(pair.fields(key)["description"], Markup.JIRA) == expected
    assert quiet(pair)
    after = len(sent_by(pair, pair.first_id)), len(sent_by(pair, pair.second_id))
    # One message each way (none for an answer that leaves the text as it was), no echo.
    assert after == (before[0] + 1, before[1] + (answer != description))
