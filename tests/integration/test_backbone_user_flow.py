"""What a Backbone user does, over HTTP only, against a server that runs the engine.

Create an integration between two built-in projects from seed 001's body, start
it, create and edit issues on both sides through the built-in tracker's
Jira-style API, watch ``/status`` until idle, check the partner issues and
``/syncInformation``, resync, stop, delete.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from integration_helpers import SEED_REQUEST
from sync_helpers import local_body
from tracker_helpers import API, create_issue, create_project

from issuesync.accounts import NewUser, create_user
from issuesync.app import Services, create_app, install_engine
from issuesync.testing.server import LiveServer

BASE = "/plugins/servlet/backbone-issue-sync/api/1"
WAIT_S = 60.0


@pytest.fixture
def engine_server(services: Services, live_server: LiveServer) -> str:
    """The app with its engine, as `issuesync serve` runs it; stopped by ``live_server``."""
    app = create_app(services)
    install_engine(app, services)
    live_server.start(app)
    return live_server.url


@pytest.fixture
def user(engine_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=engine_server, auth=("admin", "admin-secret"), timeout=30) as c:
        yield c


def wait_for(what: str, check: Callable[[], Any]) -> Any:
    """Poll ``check`` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


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


def fields(client: httpx.Client, key: str) -> dict[str, Any]:
    response = client.get(f"{API}/issue/{key}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["fields"]
    return found


def test_a_backbone_user_syncs_two_projects_over_the_api(
    user: httpx.Client, services: Services
) -> None:
    create_project(user, "PA")
    create_project(user, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone"),
    )
    created = user.post(f"{BASE}/integrations", json=local_body(outgoingInterval="1s"))
    assert created.status_code == 200, created.text
    assert created.json()["integrationKey"] == "INT-1"

    finished_task(user, user.put(f"{BASE}/integrations/INT-1/start").json())
    status = user.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["status"] == "RUNNING"
    for side in ("firstConnector", "secondConnector"):
        assert status[side]["incomingRouteStatus"] == "STARTED"
        assert status[side]["startTime"] > 0

    # Issues on both sides, and an edit once they are linked.
    a1 = create_issue(user, "PA", "Made in A")
    b1 = create_issue(user, "PB", "Made in B")
    wait_for("both issues linked", lambda: a1 in links(user, "PA-1") and b1 in links(user, "PB-2"))
    twin_a1 = links(user, "PA-1")[a1]
    assert fields(user, twin_a1)["summary"] == "Made in A"
    assert fields(user, links(user, "PB-2")[b1])["summary"] == "Made in B"
    edited = user.put(f"{API}/issue/{a1}", json={"fields": {"summary": "Edited in A"}})
    assert edited.status_code == 204, edited.text
    wait_for("the edit", lambda: fields(user, twin_a1)["summary"] == "Edited in A")
    wait_for("both connectors idle", lambda: idle(user))
    entry = user.get(f"{BASE}/connectors/PA-1/syncInformation", params={"localIssueKey": a1}).json()
    assert entry[0]["remoteIssueKey"] == twin_a1
    assert entry[0]["outgoingMessageSequenceId"] >= 2  # the create and the edit

    # A resync of the summary forces A's value on B again.
    user.put(f"{API}/issue/{twin_a1}", json={"fields": {"summary": "Changed in B"}})
    wait_for("B's edit back in A", lambda: fields(user, a1)["summary"] == "Changed in B")
    summary_mapping = next(
        m["id"]
        for m in created.json()["firstConnector"]["configuration"]["fieldMappings"]
        if m["localField"] == "summary"
    )
    resync = user.post(
        f"{BASE}/connectors/PA-1/resync",
        json={"jql": f"key = {a1}", "fieldMappings": [summary_mapping]},
    )
    assert resync.status_code == 200, resync.text
    done = finished_task(user, resync.json())
    assert "1 issue" in done["message"]

    # A new sync user password: the running connectors are taken up again with it.
    change = {"firstConnector": {"password": "rotated"}, "secondConnector": {"password": "new"}}
    restart = user.put(f"{BASE}/integrations/INT-1/applicationConnection", json=change)
    assert restart.status_code == 200, restart.text
    assert "restarted" in finished_task(user, restart.json())["message"]
    assert user.get(f"{BASE}/integrations/INT-1/status").json()["status"] == "RUNNING"

    finished_task(user, user.put(f"{BASE}/integrations/INT-1/stop").json())
    status = user.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["status"] == "STOPPED"
    assert status["firstConnector"]["incomingRouteStatus"] == "STOPPED"
    assert user.delete(f"{BASE}/integrations/INT-1").status_code == 200
    assert user.get(f"{BASE}/integrations/INT-1").status_code == 404
    assert user.get(f"{BASE}/integrations").json() == []


def test_a_start_that_cannot_work_fails_its_task_with_the_reason(user: httpx.Client) -> None:
    create_project(user, "PB")
    body = local_body()
    body["firstConnector"]["connection"]["application"]["system"] = "jira"  # and no baseUrl
    created = user.post(f"{BASE}/integrations", json=body)
    assert created.status_code == 200, created.text
    task = user.put(f"{BASE}/integrations/INT-1/start").json()

    def ended() -> dict[str, Any] | None:
        body: dict[str, Any] = user.get(f"{BASE}/tasks/{task['id']}").json()
        return body if body["finished"] else None

    done = wait_for("the start to fail", ended)
    assert done["hasFailed"]
    assert "PA-1 cannot start" in done["failureMessage"]
    assert "base URL" in done["failureMessage"]
    status = user.get(f"{BASE}/integrations/INT-1/status").json()
    assert "base URL" in status["firstConnector"]["outgoingDetails"]
    assert status["firstConnector"]["outgoingRouteStatus"] == "STOPPED"
    assert user.delete(f"{BASE}/integrations/INT-1").status_code == 200


def test_an_unreachable_tracker_starts_and_shows_reconnecting(user: httpx.Client) -> None:
    # Seed 001's example names a Jira at localhost:8510, where nobody listens.
    created = user.post(f"{BASE}/integrations", json=SEED_REQUEST)
    assert created.status_code == 200, created.text
    finished_task(user, user.put(f"{BASE}/integrations/INT-1/start").json())

    def offline() -> dict[str, Any] | None:
        body: dict[str, Any] = user.get(f"{BASE}/integrations/INT-1/status").json()
        return body if not body["firstConnector"]["online"] else None

    status = wait_for("the connector to go offline", offline)["firstConnector"]
    assert status["reconnecting"]
    assert status["incomingRouteStatus"] == "STARTED"
    assert "localhost:8510" in status["incomingDetails"] + status["outgoingDetails"]
    finished_task(user, user.put(f"{BASE}/integrations/INT-1/stop").json())
    assert user.delete(f"{BASE}/integrations/INT-1").status_code == 200
