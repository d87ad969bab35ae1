"""A built-in project kept in step with a Jira project over HTTP, by the engine in a server.

The "Jira" is issuesync's own built-in tracker served over real HTTP on
127.0.0.1 (its Jira REST v2 API): connector PA-1 works in-process on project PA,
connector PB-2 through the ``jira`` adapter on project PB, as it would on a
Jira Server.
"""

from __future__ import annotations

import httpx
import pytest
from sync_helpers import local_body, wait_for
from sync_helpers import synced_twin as twin
from tracker_helpers import API, create_issue, create_project
from tracker_helpers import fields_of as fields

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services
from issuesync.testing.server import LiveServer

BASE = "/api/1"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def test_a_built_in_project_and_a_jira_project_stay_in_step(
    engine_client: httpx.Client, services: Services, live_server: LiveServer
) -> None:
    create_project(engine_client, "PA")
    create_project(engine_client, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    body = local_body(outgoingInterval="1s")
    body["secondConnector"]["connection"]["application"] = {
        "system": "jira",
        "baseUrl": live_server.url,
        "user": "backbone",
        "password": "backbone",
    }
    created = engine_client.post(f"{BASE}/integrations", json=body)
    assert created.status_code == 200, created.text
    assert engine_client.get(f"{BASE}/integrations/INT-1/conflicts").json() == []
    engine_client.put(f"{BASE}/integrations/INT-1/start")

    a1 = create_issue(
        engine_client, "PA", "Made in the built-in project", priority={"name": "High"}
    )
    b1 = create_issue(engine_client, "PB", "Made in Jira")
    in_b = wait_for("PA's issue in Jira", lambda: twin(engine_client, "PA-1", a1))
    in_a = wait_for("Jira's issue in PA", lambda: twin(engine_client, "PB-2", b1))
    assert fields(engine_client, in_b)["summary"] == "Made in the built-in project"
    assert fields(engine_client, in_b)["priority"]["name"] == "High"
    assert fields(engine_client, in_a)["summary"] == "Made in Jira"

    # An edit and a comment on the Jira side come back; a status goes through the workflow.
    engine_client.put(f"{API}/issue/{in_b}", json={"fields": {"summary": "Edited in Jira"}})
    engine_client.post(f"{API}/issue/{in_b}/comment", json={"body": "Seen in Jira."})
    wait_for(
        "the Jira edit in PA", lambda: fields(engine_client, a1)["summary"] == "Edited in Jira"
    )
    wait_for(
        "the Jira comment in PA",
        lambda: any(
            "Seen in Jira." in c["body"]
            for c in engine_client.get(f"{API}/issue/{a1}/comment").json()["comments"]
        ),
    )
    transitions = engine_client.get(f"{API}/issue/{a1}/transitions").json()["transitions"]
    target = next(t for t in transitions if t["to"]["name"] == "In Progress")
    engine_client.post(f"{API}/issue/{a1}/transitions", json={"transition": {"id": target["id"]}})
    wait_for(
        "the status in Jira",
        lambda: fields(engine_client, in_b)["status"]["name"] == "In Progress",
    )
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["secondConnector"]["online"]
    assert status["secondConnector"]["issuesInError"] == 0
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
