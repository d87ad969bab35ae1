"""Descriptions and comments between the built-in tracker (Jira wiki markup) and a real
Redmine (Textile, its default), with the engine stepped.

Redmine runs from Debian's packages (``support.redmine_server``): in CI it does; where
none can run, the test is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import Pair, integration_pair
from tracker_helpers import create_issue

from issuesync.domain.markup import Markup
from issuesync.engine.pipeline import outgoing
from issuesync.markup import canonical
from issuesync.services import Services
from support.redmine_server import RedmineServer, redmine_session

JIRA_TEXT = """h2. Steps

# Open the *settings* page
# Click -Save- _twice_

{code:python}
print("boom")
{code}

||Browser||Result||
|Chrome|fails|

bq. It worked in {{4.1}}, see [the notes|https://example.com/notes]."""

TEXTILE_TEXT = """h2. Steps

# Open the *settings* page
# Click -Save- _twice_

<pre><code class="python">
print("boom")
</code></pre>

|_. Browser |_. Result |
| Chrome | fails |

bq. It worked in @4.1@, see "the notes":https://example.com/notes."""


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    """One Redmine per test worker (skipped where none can run, unless required)."""
    yield from redmine_session()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def body(redmine: RedmineServer, project: str) -> dict[str, Any]:
    """PA and the Redmine project: summaries, descriptions and comments both ways."""
    statuses = [("To Do", "New"), ("In Progress", "In Progress"), ("Done", "Closed")]
    return {
        "summary": "PA <> Redmine",
        "firstConnector": {
            "projectKey": "PA",
            "connection": {"application": {"user": "admin"}},
            "configuration": {
                "commentHeader": "",  # comments compared as written (the header: test_people_*)
                "fieldMappings": [
                    {"localField": name, "remoteField": name}
                    for name in ("summary", "description", "comment")
                ],
                "issueTypeMappings": {
                    "outgoing": [{"local": "Task", "remote": "Support"}],
                    "incoming": [{"local": "Task", "remote": "Support"}],
                },
                "workflowMappings": [
                    {
                        "id": "##GLOBAL##",
                        "statusMappings": [{"local": a, "remote": b} for a, b in statuses],
                    }
                ],
            },
        },
        "secondConnector": {
            "projectKey": project,
            "connection": {
                "application": {
                    "system": "redmine",
                    "baseUrl": redmine.url,
                    "token": redmine.sync_key,
                }
            },
            # No markup.dialect: Redmine's default, Textile.
            "configuration": {"commentHeader": ""},
        },
    }


@pytest.fixture
def pair(services: Services, admin: httpx.Client, redmine: RedmineServer) -> Iterator[Pair]:
    with integration_pair(services, admin, body(redmine, redmine.new_project())) as made:
        made.engine.refresh()
        yield made


def quiet(pair: Pair) -> bool:
    routes = [pair.engine.route(pair.first_id), pair.engine.route(pair.second_id)]
    return all(route is not None and outgoing.poll(route).messages_sent == 0 for route in routes)


def test_text_reads_right_in_redmine_textile_and_back(pair: Pair, redmine: RedmineServer) -> None:
    key = create_issue(pair.client, "PA", "Crash on save", description=JIRA_TEXT)
    pair.comment(key, "*Seen* in {{prod}}")
    pair.settle()
    number = pair.twin(key)
    route = pair.engine.route(pair.second_id)
    assert route is not None
    issue = route.tracker.get(number)  # as the adapter reads it: its markers hidden
    assert issue is not None
    description = issue.hub_issue.description or ""
    assert canonical(description, Markup.TEXTILE) == canonical(TEXTILE_TEXT, Markup.TEXTILE), (
        description
    )
    assert [c.body for c in issue.hub_issue.comments] == ["*Seen* in @prod@"]
    assert quiet(pair)
    with redmine.admin() as rm:
        # Written in Redmine in Textile, it arrives in PA as wiki markup.
        edited = TEXTILE_TEXT.replace("Chrome", "Safari")
        answer = rm.put(f"/issues/{number}.json", json={"issue": {"description": edited}})
        assert answer.status_code < 300, answer.text
        rm.put(f"/issues/{number}.json", json={"issue": {"notes": "A @fix@ is *ready*"}})
    pair.settle()
    expected = JIRA_TEXT.replace("Chrome", "Safari")
    description = pair.fields(key)["description"]
    assert canonical(description, Markup.JIRA) == canonical(expected, Markup.JIRA), description
    assert any("A {{fix}} is *ready*" in body for body in pair.comments(key))
    assert quiet(pair)
