"""What a Backbone user does, over HTTP only, against a server that runs the engine.

Create an integration between two built-in projects from seed 001's body, start
it, create and edit issues on both sides through the built-in tracker's
Jira-style API, watch ``/status`` until idle, check the partner issues and
``/syncInformation``, resync, stop, delete.
"""

from __future__ import annotations

from typing import Any

import httpx
from integration_helpers import SEED_REQUEST
from sync_helpers import local_body, wait_for
from tracker_helpers import API, create_issue, create_project
from tracker_helpers import fields_of as fields

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services

BASE = "/plugins/servlet/backbone-issue-sync/api/1"


def finished_task(client: httpx.Client, task: dict[str, Any]) -> dict[str, Any]:
    """Follow a task at GET /tasks/{id} until it has finished."""

    def read() -> dict[str, Any] | None:
        response = client.get(f"{BASE}/tasks/{task['id']}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["finished"] else None

    done: dict[str, Any] = wait_for(f"task {task['message']}", read)
    assert not done["hasFailed"], done
    assert done["progress"] == 100
    return done


def idle(client: httpx.Client) -> bool:
    status = client.get(f"{BASE}/integrations/INT-1/status").json()
    connectors = (status["firstConnector"], status["secondConnector"])
    return all(
        c["incomingProcessingStatus"] == c["outgoingProcessingStatus"] == "IDLE"
        and c["incomingRouteStatus"] == "STARTED"
        for c in connectors
    )


def links(client: httpx.Client, connector: str) -> dict[str, str]:
    entries = client.get(f"{BASE}/connectors/{connector}/syncInformation").json()
    return {e["localIssueKey"]: e["remoteIssueKey"] for e in entries if e["remoteIssueKey"]}


def test_a_backbone_user_syncs_two_projects_over_the_api(
    engine_client: httpx.Client, services: Services
) -> None:
    create_project(engine_client, "PA")
    create_project(engine_client, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone"),
    )
    created = engine_client.post(f"{BASE}/integrations", json=local_body(outgoingInterval="1s"))
    assert created.status_code == 200, created.text
    assert created.json()["integrationKey"] == "INT-1"

    finished_task(engine_client, engine_client.put(f"{BASE}/integrations/INT-1/start").json())
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["status"] == "RUNNING"
    for side in ("firstConnector", "secondConnector"):
        assert status[side]["incomingRouteStatus"] == "STARTED"
        assert status[side]["startTime"] > 0

    # Issues on both sides, and an edit once they are linked.
    a1 = create_issue(engine_client, "PA", "Made in A")
    b1 = create_issue(engine_client, "PB", "Made in B")
    wait_for(
        "both issues linked",
        lambda: a1 in links(engine_client, "PA-1") and b1 in links(engine_client, "PB-2"),
    )
    twin_a1 = links(engine_client, "PA-1")[a1]
    assert fields(engine_client, twin_a1)["summary"] == "Made in A"
    assert fields(engine_client, links(engine_client, "PB-2")[b1])["summary"] == "Made in B"
    edited = engine_client.put(f"{API}/issue/{a1}", json={"fields": {"summary": "Edited in A"}})
    assert edited.status_code == 204, edited.text
    wait_for("the edit", lambda: fields(engine_client, twin_a1)["summary"] == "Edited in A")
    wait_for("both connectors idle", lambda: idle(engine_client))
    entry = engine_client.get(
        f"{BASE}/connectors/PA-1/syncInformation", params={"localIssueKey": a1}
    ).json()
    assert entry[0]["remoteIssueKey"] == twin_a1
    assert entry[0]["outgoingMessageSequenceId"] >= 2  # the create and the edit

    # A resync of the summary forces A's value on B again.
    engine_client.put(f"{API}/issue/{twin_a1}", json={"fields": {"summary": "Changed in B"}})
    wait_for("B's edit back in A", lambda: fields(engine_client, a1)["summary"] == "Changed in B")
    summary_mapping = next(
        m["id"]
        for m in created.json()["firstConnector"]["configuration"]["fieldMappings"]
        if m["localField"] == "summary"
    )
    resync = engine_client.post(
        f"{BASE}/connectors/PA-1/resync",
        json={"jql": f"key = {a1}", "fieldMappings": [summary_mapping]},
    )
    assert resync.status_code == 200, resync.text
    done = finished_task(engine_client, resync.json())
    assert "1 issue" in done["message"]

    # A new sync user password: the running connectors are taken up again with it.
    change = {"firstConnector": {"password": "rotated"}, "secondConnector": {"password": "new"}}
    restart = engine_client.put(f"{BASE}/integrations/INT-1/applicationConnection", json=change)
    assert restart.status_code == 200, restart.text
    assert "restarted" in finished_task(engine_client, restart.json())["message"]
    assert engine_client.get(f"{BASE}/integrations/INT-1/status").json()["status"] == "RUNNING"

    finished_task(engine_client, engine_client.put(f"{BASE}/integrations/INT-1/stop").json())
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["status"] == "STOPPED"
    assert status["firstConnector"]["incomingRouteStatus"] == "STOPPED"
    assert engine_client.delete(f"{BASE}/integrations/INT-1").status_code == 200
    assert engine_client.get(f"{BASE}/integrations/INT-1").status_code == 404
    assert engine_client.get(f"{BASE}/integrations").json() == []


def test_a_start_that_cannot_work_fails_its_task_with_the_reason(
    engine_client: httpx.Client, services: Services
) -> None:
    create_project(engine_client, "PB")
    create_user(services.uow_factory, NewUser(name="backbone", email="backbone@example.test"))
    body = local_body()
    body["firstConnector"]["connection"]["application"]["system"] = "jira"  # and no baseUrl
    created = engine_client.post(f"{BASE}/integrations", json=body)
    assert created.status_code == 200, created.text
    task = engine_client.put(f"{BASE}/integrations/INT-1/start").json()

    def ended() -> dict[str, Any] | None:
        body: dict[str, Any] = engine_client.get(f"{BASE}/tasks/{task['id']}").json()
        return body if body["finished"] else None

    done = wait_for("the start to fail", ended)
    assert done["hasFailed"]
    assert "PA-1 cannot start" in done["failureMessage"]
    assert "base URL" in done["failureMessage"]
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert "base URL" in status["firstConnector"]["outgoingDetails"]
    assert status["firstConnector"]["outgoingRouteStatus"] == "STOPPED"
    assert engine_client.delete(f"{BASE}/integrations/INT-1").status_code == 200


def test_an_unreachable_tracker_starts_and_shows_reconnecting(engine_client: httpx.Client) -> None:
    # Seed 001's example names a Jira at localhost:8510, where nobody listens.
    created = engine_client.post(f"{BASE}/integrations", json=SEED_REQUEST)
    assert created.status_code == 200, created.text
    finished_task(engine_client, engine_client.put(f"{BASE}/integrations/INT-1/start").json())

    def offline() -> dict[str, Any] | None:
        body: dict[str, Any] = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
        return body if not body["firstConnector"]["online"] else None

    status = wait_for("the connector to go offline", offline)["firstConnector"]
    assert status["reconnecting"]
    assert status["incomingRouteStatus"] == "STARTED"
    assert "localhost:8510" in status["incomingDetails"] + status["outgoingDetails"]
    finished_task(engine_client, engine_client.put(f"{BASE}/integrations/INT-1/stop").json())
    assert engine_client.delete(f"{BASE}/integrations/INT-1").status_code == 200
