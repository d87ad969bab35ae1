"""A built-in project kept in step with a Jira Cloud project, by the engine in a server.

The "Jira Cloud" is the stateful fake (``issuesync.testing.fake_jira_cloud``)
served over real HTTP on 127.0.0.1 by a :class:`HandlerServer`; the connector
authenticates with an e-mail and API token, and the adapter learns it is Cloud
from ``serverInfo`` (the address is not on atlassian.net). Text crosses as ADF.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import synced_twin as twin
from sync_helpers import wait_for
from test_jira820_sync import start_integration
from tracker_helpers import API, create_issue

from issuesync.services import Services
from issuesync.testing.fake_jira_cloud import FakeJiraCloud
from issuesync.testing.handler_server import HandlerServer
from issuesync.trackers.jira.adf import adf_to_text

BASE = "/api/1"
BOT = "712020:5c1f0e3b-aaaa-4e1a-9d0b-5c2a1f0e3b7d"
HUMAN = "712020:0a1b2c3d-bbbb-4e1a-9d0b-000000000001"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def cloud() -> Iterator[tuple[FakeJiraCloud, HandlerServer, httpx.Client]]:
    """The fake site, its server, and a person's client of it (REST v3)."""
    fake = FakeJiraCloud("https://acme.atlassian.net")
    fake.add_user(BOT, "Sync Bot", "sync@example.com", "bot-token")
    fake.add_user(HUMAN, "Hana Human", "hana@example.com", "hana-token")
    fake.add_project("CLD", "Cloud project")
    server = HandlerServer(fake)
    server.start()
    with httpx.Client(
        base_url=f"{server.url}/rest/api/3", auth=("hana@example.com", "hana-token"), timeout=10
    ) as person:
        yield fake, server, person
    server.stop()


def configuration(*, cloud_side: bool) -> dict[str, Any]:
    """Fields by name; the built-in types onto Cloud's Task and Subtask (each side's view)."""
    pairs = [("Task", "Task"), ("Bug", "Bug"), ("Sub-task", "Subtask")]
    outgoing = [
        {"local": b, "remote": a} if cloud_side else {"local": a, "remote": b} for a, b in pairs
    ]
    if not cloud_side:
        outgoing += [{"local": "Story", "remote": "Task"}, {"local": "Epic", "remote": "Task"}]
    return {
        "sync": {"outgoingInterval": "1s", "incomingInterval": "1s"},
        "issueTypeMappings": {"outgoing": outgoing, "incoming": []},
    }


def test_a_built_in_project_and_a_jira_cloud_project_stay_in_step(
    engine_client: httpx.Client,
    services: Services,
    cloud: tuple[FakeJiraCloud, HandlerServer, httpx.Client],
) -> None:
    fake, server, person = cloud
    application = {
        "system": "jira",
        "baseUrl": server.url,
        "user": "sync@example.com",
        "token": "bot-token",
    }
    start_integration(
        engine_client,
        services,
        "CLD",
        application,
        configuration(cloud_side=False),
        configuration(cloud_side=True),
    )

    text = "Steps:\n\n# open the cart\n# pay\n\n{code}\nError 42\n{code}"
    a1 = create_issue(engine_client, "PA", "Made in PA", description=text)
    in_cloud = wait_for("PA's issue on Cloud", lambda: twin(engine_client, "PA-1", a1))
    stored = fake.issues[in_cloud].fields["description"]
    assert stored["type"] == "doc"  # ADF on Cloud, the same text read back
    # Jira highlights a {code} block as Java: pandoc reads it so, and ADF names the language.
    assert adf_to_text(stored) == text.replace("{code}\nError", "{code:java}\nError")
    assert stored["content"][2]["attrs"] == {"language": "java"}

    # A Cloud user's comment as the editor writes it: bold as a mark, a table.
    strong = {"type": "text", "text": "Cloud", "marks": [{"type": "strong"}]}
    cell = {"type": "tableCell", "content": [{"type": "paragraph", "content": [strong]}]}
    body = {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Seen on "}, strong]},
            {"type": "table", "content": [{"type": "tableRow", "content": [cell]}]},
        ],
    }
    said = person.post(f"issue/{in_cloud}/comment", json={"body": body})
    assert said.status_code == 201, said.text
    edited = person.put(f"issue/{in_cloud}", json={"fields": {"summary": "Edited on Cloud"}})
    assert edited.status_code == 204, edited.text

    def pa_has_both() -> bool:
        issue = engine_client.get(f"{API}/issue/{a1}").json()["fields"]
        bodies = [c["body"] for c in issue["comment"]["comments"]]
        return issue["summary"] == "Edited on Cloud" and any(
            "Seen on *Cloud*\n\n| *Cloud* |" in b for b in bodies
        )

    wait_for("Cloud's edit and comment in PA", pa_has_both)
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["secondConnector"]["online"]
    assert status["secondConnector"]["issuesInError"] == 0
    assert ("POST", "/rest/api/3/search/jql") in fake.requests
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
