"""A built-in project kept in step with a GitHub repository, by the engine in a server.

The "GitHub" is the stateful fake (``issuesync.testing.fake_github``) served over
real HTTP on 127.0.0.1 by a :class:`HandlerServer`: connector PA-1 works
in-process on project PA, the second connector through the ``github`` adapter
on repository ``octo-org/widgets``, by base URL and token, as on GitHub Enterprise.
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

BASE = "/api/1"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def github() -> Iterator[GitHub]:
    with served_github() as served:
        yield served


@pytest.fixture
def owner(github: GitHub) -> Iterator[httpx.Client]:
    with owner_client(github) as client:
        yield client


def configuration() -> dict[str, Any]:
    """PA's side: summaries, descriptions, labels, comments; statuses and types mapped."""
    statuses = (
        ("To Do", "Open"),
        ("In Progress", "Open"),
        ("Done", "Closed"),
        ("Done", "Closed (not planned)"),
    )
    return pa_configuration(("summary", "description", "labels", "comment"), statuses)


def body(url: str) -> dict[str, Any]:
    return pa_and_github(url, configuration())


def test_a_built_in_project_and_a_github_repository_stay_in_step(
    engine_client: httpx.Client, github: GitHub, owner: httpx.Client
) -> None:
    fake, server = github
    create_project(engine_client, "PA")
    created = engine_client.post(f"{BASE}/integrations", json=body(server.url))
    assert created.status_code == 200, created.text
    second = created.json()["secondConnector"]["connectorKey"]
    conflicts = engine_client.get(f"{BASE}/integrations/INT-1/conflicts").json()
    # GitHub has no sub-task type: the one thing the check can say, and it does.
    assert all("Sub-task" in str(c) for c in conflicts), conflicts
    engine_client.put(f"{BASE}/integrations/INT-1/start")

    a1 = create_issue(engine_client, "PA", "Made in the built-in project", labels=["ui"])
    made = owner.post(
        f"/repos/{REPO}/issues", json={"title": "Made on GitHub", "body": "Steps to reproduce"}
    )
    assert made.status_code == 201, made.text
    number = str(made.json()["number"])
    on_github = wait_for("PA's issue on GitHub", lambda: twin(engine_client, "PA-1", a1))
    in_pa = wait_for("GitHub's issue in PA", lambda: twin(engine_client, second, number))
    issue = fake.repos[REPO].issues[int(on_github)]
    assert issue.title == "Made in the built-in project"
    assert [label.name for label in issue.labels] == ["ui"]
    assert fields(engine_client, in_pa)["summary"] == "Made on GitHub"
    assert fields(engine_client, in_pa)["description"] == "Steps to reproduce"

    # A title edit, a comment and closing on GitHub come back to PA.
    owner.patch(f"/repos/{REPO}/issues/{on_github}", json={"title": "Edited on GitHub"})
    owner.post(f"/repos/{REPO}/issues/{on_github}/comments", json={"body": "Seen on GitHub."})
    wait_for(
        "the GitHub edit in PA",
        lambda: fields(engine_client, a1)["summary"] == "Edited on GitHub",
    )
    wait_for(
        "the GitHub comment in PA",
        lambda: any(
            "Seen on GitHub." in c["body"]
            for c in engine_client.get(f"{API}/issue/{a1}/comment").json()["comments"]
        ),
    )
    owner.patch(
        f"/repos/{REPO}/issues/{on_github}", json={"state": "closed", "state_reason": "not_planned"}
    )
    wait_for("the closing in PA", lambda: fields(engine_client, a1)["status"]["name"] == "Done")

    # A comment in PA reaches GitHub once; none comes back as an echo.
    engine_client.post(f"{API}/issue/{in_pa}/comment", json={"body": "Answered in PA."})
    wait_for(
        "PA's comment on GitHub",
        lambda: any(
            "Answered in PA." in c.body for c in fake.repos[REPO].issues[int(number)].comments
        ),
    )
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["secondConnector"]["online"]
    assert status["secondConnector"]["issuesInError"] == 0
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
    assert [len(i.comments) for i in fake.repos[REPO].issues.values()] == [1, 1]
    assert fields(engine_client, a1)["description"] is None  # the marker stays on GitHub
