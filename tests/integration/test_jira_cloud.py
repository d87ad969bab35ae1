"""The Jira adapter on Jira Cloud (REST v3): recorded response shapes, and the stateful fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from issuesync.domain.replica import UserRef
from issuesync.errors import (
    AuthenticationError,
    NotFoundError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.testing.fake_jira_cloud import FakeJiraCloud, SimulatedClock
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import IssueDraft
from issuesync.trackers.jira import cloud
from issuesync.trackers.jira.adapter import JiraAdapter
from issuesync.trackers.jira.client import JiraClient

FIXTURES = Path(__file__).parent.parent / "fixtures" / "jira_cloud"
SITE = "https://acme.atlassian.net"
ME = "712020:5c1f0e3b-aaaa-4e1a-9d0b-5c2a1f0e3b7d"
# Recorded keys the fake leaves out: links, pictures, group lists, comment visibility.
NOT_SERVED = {"self", "avatarUrls", "groups", "applicationRoles", "locale", "visibility"}
ALICE = "712020:0a1b2c3d-bbbb-4e1a-9d0b-000000000001"


def recorded(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def fake() -> FakeJiraCloud:
    site = FakeJiraCloud(SITE, page_cap=2)
    site.add_user(ME, "Sync Bot", "sync@example.com", "api-token")
    site.add_user(ALICE, "Alice Example", "alice@example.com", "alice-token")
    site.add_project("CLD", "Cloud project")
    return site


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def jira(fake: FakeJiraCloud, waits: list[float]) -> Iterator[JiraAdapter]:
    client = JiraClient(
        SITE,
        httpx.BasicAuth("sync@example.com", "api-token"),
        transport=httpx.MockTransport(fake),
        sleep=waits.append,
        cloud_budget=SimulatedClock().budget(),
    )
    adapter = JiraAdapter(client, "CLD")
    yield adapter
    adapter.close()


# -- recorded shapes ------------------------------------------------------------------------


def test_a_recorded_cloud_issue_reads_as_wiki_text_with_account_ids() -> None:
    replica = fieldcodec.issue_to_replica(cloud.issue_as_v2(recorded("issue.json"), ()), {})
    issue = replica.hub_issue
    assert issue.description == (
        "Order entry fails when selecting supplier. See [the runbook|https://example.com/runbook]"
        ", [~5b10a2844c20165700ede21g]\n\n"  # a mention names the account id, as users do
        "* open the order\n* pick a supplier\n\n"
        "{code:java}\nNullPointerException at Order.java:42\n{code}"
    )
    assert issue.reporter is not None
    assert issue.reporter.username == "5b10a2844c20165700ede21g"  # Cloud has no user names
    (comment,) = issue.comments
    assert comment.body.startswith("Lorem ipsum dolor sit amet")
    assert comment.author is not None
    assert comment.author.username == "5b10a2844c20165700ede21g"
    assert [a.filename for a in issue.attachments] == ["picture.jpg"]


def test_the_fake_answers_with_the_recorded_keys(jira: JiraAdapter, fake: FakeJiraCloud) -> None:
    client = httpx.Client(
        base_url=SITE,
        transport=httpx.MockTransport(fake),
        auth=("sync@example.com", "api-token"),
    )
    key = jira.create(IssueDraft("Task", {"summary": "Shapes"}), idempotency_key="s").key
    jira.add_comment(key, "A word", None, idempotency_key="c")
    answers = {
        "server_info.json": client.get("/rest/api/3/serverInfo").json(),
        "myself.json": client.get("/rest/api/3/myself").json(),
        "comment.json": client.get(f"/rest/api/3/issue/{key}/comment").json()["comments"][0],
    }
    for name, answer in answers.items():
        missing = {k for k in recorded(name) if k not in NOT_SERVED} - set(answer)
        assert not missing, (name, missing)
    issue = client.get(f"/rest/api/3/issue/{key}").json()
    assert set(recorded("issue.json")["fields"]) <= set(issue["fields"]) | {"assignee"}


def test_recorded_search_pages_are_followed_by_their_token() -> None:
    """Two recorded pages of ``POST /search/jql``: the second asked for with the first's token."""
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/serverInfo"):
            return httpx.Response(200, json=recorded("server_info.json"))
        if path.endswith("/myself"):
            return httpx.Response(200, json=recorded("myself.json"))
        assert path == "/rest/api/3/search/jql", path
        body = json.loads(request.content)
        bodies.append(body)
        assert "startAt" not in body  # Cloud refuses it
        page = "search_jql_page2.json" if body.get("nextPageToken") else "search_jql_page1.json"
        return httpx.Response(200, json=recorded(page))

    # Not on *.atlassian.net: Cloud is learnt from serverInfo.deploymentType.
    client = JiraClient("https://jira.example.test", None, transport=httpx.MockTransport(handler))
    assert client.is_cloud()
    from issuesync.trackers.jira.search import IssueSearch  # noqa: PLC0415 - only here

    rows, total = IssueSearch(client, "ED").scan(0, [], 0)
    assert [key for key, _updated in rows] == ["ED-1", "ED-2", "ED-3"]
    assert total == len(rows)  # the last page came: nothing more
    assert [b.get("nextPageToken") for b in bodies] == [None, "CAEaAggD"]
    assert bodies[0]["jql"].startswith('project = "ED" AND updated >= ')


# -- the fake -------------------------------------------------------------------------------


def test_describe_and_detection_by_host(jira: JiraAdapter, fake: FakeJiraCloud) -> None:
    schema = jira.describe()
    assert schema.issue_types == ("Task", "Bug")
    assert schema.subtask_types == ("Subtask",)
    assert schema.statuses == ("To Do", "In Progress", "Done")
    assert all(path.startswith("/rest/api/3/") for _method, path in fake.requests)


def test_search_pages_by_next_page_token(jira: JiraAdapter, fake: FakeJiraCloud) -> None:
    keys = [
        jira.create(IssueDraft("Task", {"summary": f"Issue {n}"}), idempotency_key=f"p{n}").key
        for n in range(5)
    ]
    fake.search_bodies.clear()
    pages = list(jira.changed_since(None, [], page_size=10))
    assert sorted(r.key for page in pages for r in page) == sorted(keys)
    tokens = [b.get("nextPageToken") for b in fake.search_bodies]
    assert tokens.count(None) < len(tokens)  # at least two pages of one search
    assert all("startAt" not in b for b in fake.search_bodies)


def test_create_and_comment_in_adf_read_back_as_text(
    jira: JiraAdapter, fake: FakeJiraCloud
) -> None:
    text = "Steps:\n\n# open\n# pay\n\n{code:python}\nprint(1)\n{code}"
    made = jira.create(
        IssueDraft("Bug", {"summary": "Checkout", "description": text}), idempotency_key="a"
    )
    stored = fake.issues[made.key].fields["description"]
    assert stored["type"] == "doc"
    assert stored["content"][1]["type"] == "orderedList"
    assert made.hub_issue.description == text
    comment = jira.add_comment(made.key, "Seen [~accountid:abc]", None, idempotency_key="c")
    assert fake.issues[made.key].comments[0]["body"]["content"][0]["content"][1] == {
        "type": "mention",
        "attrs": {"id": "abc"},
    }
    assert comment.body == "Seen [~abc]"  # Jira's own form reads as the account id alone
    edited = jira.edit_comment(made.key, comment.id, "Edited\nline two")
    assert edited.body == "Edited\nline two"
    read = jira.get(made.key)
    assert read is not None
    assert [c.body for c in read.hub_issue.comments] == ["Edited\nline two"]


def test_users_are_account_ids(jira: JiraAdapter, fake: FakeJiraCloud) -> None:
    alice = jira.find_user(UserRef(email="alice@example.com"))
    assert alice is not None
    assert alice.username == ALICE
    assert jira.find_user(UserRef(email="nobody@example.com", username="nobody")) is None
    made = jira.create(IssueDraft("Task", {"summary": "Assign"}), idempotency_key="u")
    after = jira.update(made.key, {"assignee": {"email": "alice@example.com", "username": None}})
    assert fake.issues[made.key].fields["assignee"] == ALICE
    assert after.hub_issue.assignee is not None
    assert after.hub_issue.assignee.username == ALICE


def test_transition_moves_through_the_workflow(jira: JiraAdapter, fake: FakeJiraCloud) -> None:
    made = jira.create(IssueDraft("Task", {"summary": "Move"}), idempotency_key="t")
    moved = jira.transition(made.key, "Done")
    assert moved.hub_issue.status is not None
    assert moved.hub_issue.status.name == "Done"
    assert fake.issues[made.key].status == "Done"


def test_a_429_waits_as_retry_after_says(
    jira: JiraAdapter, fake: FakeJiraCloud, waits: list[float]
) -> None:
    jira.describe()
    fake.throttle(2)
    made = jira.create(IssueDraft("Task", {"summary": "Patient"}), idempotency_key="r")
    assert made.hub_issue.summary == "Patient"
    assert 2.0 in waits
    fake.throttle(30)  # longer than a request may wait: offline, with when to come back
    with pytest.raises(TrackerOfflineError, match="rate-limited"):
        jira.get(made.key)


def test_cloud_errors_are_translated_and_requests_budgeted(
    jira: JiraAdapter, fake: FakeJiraCloud
) -> None:
    with pytest.raises(NotFoundError, match="PUT issue/CLD-404 with 404"):
        jira.update("CLD-404", {"summary": "x"})
    with pytest.raises(TrackerRejectedError) as refused:
        jira.create(IssueDraft("Epic", {"summary": "No epics here"}), idempotency_key="e")
    assert refused.value.field_errors == {"issuetype": "Specify an issue type"}
    made = jira.create(IssueDraft("Task", {"summary": "Budget"}), idempotency_key="b")
    with pytest.raises(TrackerRejectedError) as wrong:
        jira.transition(made.key, "Nowhere")
    assert wrong.value.field_errors == {"status": "unknown status 'Nowhere'"}
    budget = jira._client.budget
    assert budget is not None
    assert budget.spent == len(fake.requests)
    stranger = JiraClient(
        SITE, httpx.BasicAuth("sync@example.com", "wrong"), transport=httpx.MockTransport(fake)
    )
    with pytest.raises(AuthenticationError) as denied:
        JiraAdapter(stranger, "CLD").describe()
    assert "wrong" not in str(denied.value)
