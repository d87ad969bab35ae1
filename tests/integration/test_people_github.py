"""People between a built-in project and a GitHub repository (issue 19, section 3).

The "GitHub" is the stateful fake served over real HTTP on 127.0.0.1; the engine runs in
the server. GitHub's API shows no e-mail addresses, so its users cross by ``userMappings``
only: PA maps the built-in tracker's ``carol`` to GitHub's ``octocat`` (and GitHub's side
gets the pair mirrored). GitHub has a user ``alice`` too, who is not the built-in
tracker's ``alice``: sharing a name makes nobody the same person.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from github_pair import REPO, GitHub, owner_client, pa_and_github, pa_configuration, served_github
from sync_helpers import synced_twin as twin
from sync_helpers import wait_for
from tracker_helpers import API, create_issue, create_project
from tracker_helpers import fields_of as fields

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services
from issuesync.testing.fake_github import FakeGitHub
from issuesync.trackers.github.shape import without_marker

BASE = "/api/1"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def github() -> Iterator[GitHub]:
    # GitHub's alice: nobody in the built-in tracker.
    with served_github({"octocat": "triage", "alice": "triage"}) as served:
        yield served


@pytest.fixture
def owner(github: GitHub) -> Iterator[httpx.Client]:
    with owner_client(github) as client:
        yield client


def body(url: str) -> dict[str, Any]:
    """PA (the built-in project) and the repository: summaries, assignees and comments."""
    first = pa_configuration(
        ("summary", "assignee", "comment"),
        userMappings=[{"local": "carol", "remote": "octocat"}],
    )
    made = pa_and_github(url, first, summary="PA <> GitHub, people")
    made["secondConnector"]["connection"]["application"]["user"] = "sync-bot"
    return made


def assignee_login(fake: FakeGitHub, number: str) -> str | None:
    issue = fake.repos[REPO].issues[int(number)]
    return issue.assignees[0].login if issue.assignees else None


def pa_assignee(client: httpx.Client, key: str) -> str | None:
    value = fields(client, key)["assignee"]
    return value["name"] if value else None


def github_comments(fake: FakeGitHub, number: str) -> list[str]:
    """The comments' bodies as people read them on GitHub (issuesync's marker left out)."""
    return [without_marker(c.body) for c in fake.repos[REPO].issues[int(number)].comments]


def pa_comments(client: httpx.Client, key: str) -> list[str]:
    return [c["body"] for c in client.get(f"{API}/issue/{key}/comment").json()["comments"]]


@pytest.fixture
def started(engine_client: httpx.Client, services: Services, github: GitHub) -> str:
    """INT-1 running; the GitHub connector's key."""
    for name in ("alice", "carol"):
        create_user(
            services.uow_factory,
            NewUser(name=name, display_name=f"{name.title()} Smith", email=f"{name}@example.test"),
        )
    create_project(engine_client, "PA")
    created = engine_client.post(f"{BASE}/integrations", json=body(github[1].url))
    assert created.status_code == 200, created.text
    shown = created.json()["secondConnector"]
    assert shown["configuration"]["userMappings"] == [{"local": "octocat", "remote": "carol"}]
    engine_client.put(f"{BASE}/integrations/INT-1/start")
    return str(shown["connectorKey"])


def test_assignees_cross_by_user_mapping_and_otherwise_become_the_sync_user(
    engine_client: httpx.Client,
    github: GitHub,
    owner: httpx.Client,
    started: str,
) -> None:
    fake = github[0]
    made = {}
    for login in ("octocat", "alice"):
        answer = owner.post(
            f"/repos/{REPO}/issues", json={"title": f"For {login}", "assignees": [login]}
        )
        assert answer.status_code == 201, answer.text
        made[login] = str(answer.json()["number"])
    for_carol = create_issue(engine_client, "PA", "For Carol")
    for_alice = create_issue(engine_client, "PA", "For Alice")
    for key, name in ((for_carol, "carol"), (for_alice, "alice")):
        edited = engine_client.put(
            f"{API}/issue/{key}", json={"fields": {"assignee": {"name": name}}}
        )
        assert edited.status_code == 204, edited.text

    def twin_of(connector: str, key: str) -> str:
        return wait_for(f"the twin of {key}", lambda: twin(engine_client, connector, key))

    in_pa = {login: twin_of(started, number) for login, number in made.items()}
    on_github = {key: twin_of("PA-1", key) for key in (for_carol, for_alice)}
    assert pa_assignee(engine_client, in_pa["octocat"]) == "carol"  # mapped
    # GitHub's alice is not PA's alice: the sync user takes the issue, with a note.
    assert pa_assignee(engine_client, in_pa["alice"]) == "admin"
    wait_for("the mapping on GitHub", lambda: assignee_login(fake, on_github[for_carol]))
    assert assignee_login(fake, on_github[for_carol]) == "octocat"
    # GitHub cannot look users up by e-mail, and PA's alice has no mapping: the sync user.
    assert assignee_login(fake, on_github[for_alice]) == "sync-bot"


def test_a_comment_shows_its_author_on_the_other_side_and_loses_the_header_coming_back(
    engine_client: httpx.Client,
    github: GitHub,
    owner: httpx.Client,
    started: str,
) -> None:
    del started  # INT-1 runs
    fake = github[0]
    key = create_issue(engine_client, "PA", "Talk")
    said = engine_client.post(f"{API}/issue/{key}/comment", json={"body": "Hello from PA."})
    assert said.status_code == 201, said.text
    number = wait_for("PA's issue on GitHub", lambda: twin(engine_client, "PA-1", key))
    header = f"**Administrator** wrote on {key}:"
    wait_for("the comment on GitHub", lambda: github_comments(fake, number))
    assert github_comments(fake, number) == [f"{header}\n\nHello from PA."]

    # Edited on GitHub, header and all: PA's comment is the new text, with no header.
    comment_id = fake.repos[REPO].issues[int(number)].comments[0].id
    edited = f"{header}\n\nHello from PA, edited on GitHub."
    answer = owner.patch(f"/repos/{REPO}/issues/comments/{comment_id}", json={"body": edited})
    assert answer.status_code == 200, answer.text
    wait_for(
        "the edit in PA",
        lambda: pa_comments(engine_client, key) == ["Hello from PA, edited on GitHub."],
    )

    # Edited in PA again: GitHub's copy keeps one header.
    original = engine_client.get(f"{API}/issue/{key}/comment").json()["comments"][0]["id"]
    answer = engine_client.put(f"{API}/issue/{key}/comment/{original}", json={"body": "Bye."})
    assert answer.status_code == 200, answer.text
    wait_for(
        "the second edit on GitHub",
        lambda: github_comments(fake, number) == [f"{header}\n\nBye."],
    )

    # A comment made on GitHub: PA shows its GitHub author in Jira's bold, on issue #n.
    answer = owner.post(f"/repos/{REPO}/issues/{number}/comments", json={"body": "From GitHub."})
    assert answer.status_code == 201, answer.text
    wait_for("GitHub's comment in PA", lambda: len(pa_comments(engine_client, key)) == 2)
    assert pa_comments(engine_client, key)[1] == f"*octo-org* wrote on #{number}:\n\nFrom GitHub."
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
    assert github_comments(fake, number) == [f"{header}\n\nBye.", "From GitHub."]
    assert pa_comments(engine_client, key)[0] == "Bye."
