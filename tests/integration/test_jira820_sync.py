"""A built-in project kept in step with a jira820 project, by the engine in a server.

jira820 (``support.jira820_server``) emulates Jira Data Center 8.20's
REST v2 over real HTTP on 127.0.0.1: connector PA-1 works in-process on project
PA, the second connector through the ``jira`` adapter on a jira820 project, as it
would on a Jira Server. Its updated-since filter works in whole days and its
update times never move (a fixed 09:00), so every poll reads its whole project
again: the shadow diff must keep that from sending anything twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import local_body, wait_for
from sync_helpers import synced_twin as twin
from tracker_helpers import API, create_issue, create_project

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services
from support.jira820_server import Jira820, jira820_server  # noqa: F401 - a fixture

BASE = "/api/1"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def jira(jira820_server: Jira820) -> Iterator[tuple[str, httpx.Client]]:  # noqa: F811 - fixture
    """A fresh jira820 project's key, and a client of jira820 (it checks no credentials)."""
    key = jira820_server.new_project("PB")
    with httpx.Client(base_url=f"{jira820_server.url}{API}", timeout=10) as client:
        yield key, client


def configuration(*, jira_side: bool) -> dict[str, Any]:
    """Fields by name; PA's statuses mapped onto jira820's workflow (each side's own view)."""
    pairs = [
        ("To Do", "Open"),
        ("In Progress", "In Progress"),
        ("Done", "Done"),
        ("In Progress", "In Review"),
        ("To Do", "Reopened"),
    ]
    return {
        "sync": {"outgoingInterval": "1s", "incomingInterval": "1s"},
        "issueTypeMappings": {
            "outgoing": [
                {"local": name, "remote": name} for name in ("Bug", "Task", "Story", "Epic")
            ]
            + [
                {"local": "Sub-task", "remote": "Sub-task"},
                {"local": "Improvement", "remote": "Task"},
                {"local": "New Feature", "remote": "Story"},
            ]
            if jira_side
            else [],
            "incoming": [],
        },
        "workflowMappings": [
            {
                "id": "##GLOBAL##",
                "statusMappings": [
                    {"local": b, "remote": a} if jira_side else {"local": a, "remote": b}
                    for a, b in pairs
                ],
            }
        ],
    }


def fields(client: httpx.Client, key: str) -> dict[str, Any]:
    """An issue's fields, from jira820 or (an absolute path) the built-in tracker."""
    path = f"issue/{key}" if client.base_url.path.endswith(f"{API}/") else f"{API}/issue/{key}"
    response = client.get(path)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["fields"]
    return found


def to_status(client: httpx.Client, issue_path: str, status: str) -> str:
    """The id of the issue's transition to ``status``."""
    listed = client.get(f"{issue_path}/transitions").json()["transitions"]
    return str(next(t["id"] for t in listed if t["to"]["name"] == status))


def comments(client: httpx.Client, key: str) -> list[tuple[str, str]]:
    response = client.get(f"issue/{key}/comment")
    assert response.status_code == 200, response.text
    return [(c["id"], c["body"]) for c in response.json()["comments"]]


def bodies(client: httpx.Client, key: str) -> list[str]:
    return [body for _id, body in comments(client, key)]


def attach(client: httpx.Client, key: str, filename: str, content: bytes) -> None:
    response = client.post(
        f"issue/{key}/attachments",
        files={"file": (filename, content, "application/octet-stream")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert response.status_code == 200, response.text


def attached(client: httpx.Client, key: str, filename: str) -> str | None:
    """The sha256 of the issue's attachment ``filename``, read back whole; None if absent."""
    for meta in fields(client, key).get("attachment") or []:
        if meta["filename"] == filename:
            response = client.get(meta["content"])
            assert response.status_code == 200, response.text
            return hashlib.sha256(response.content).hexdigest()
    return None


def start_integration(
    engine_client: httpx.Client,
    services: Services,
    project: str,
    application: dict[str, str],
    first: dict[str, Any],
    second: dict[str, Any],
) -> None:
    """INT-1 between the built-in PA and ``project`` of the tracker ``application`` names,
    with each side's configuration, started, without conflicts."""
    create_project(engine_client, "PA")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    body = local_body()
    body["secondConnector"]["projectKey"] = project
    body["secondConnector"]["connection"]["application"] = application
    body["firstConnector"]["configuration"] = first
    body["secondConnector"]["configuration"] = second
    created = engine_client.post(f"{BASE}/integrations", json=body)
    assert created.status_code == 200, created.text
    engine_client.put(f"{BASE}/integrations/INT-1/start")
    assert engine_client.get(f"{BASE}/integrations/INT-1/conflicts").json() == []


def test_a_built_in_project_and_a_jira820_project_stay_in_step(
    engine_client: httpx.Client, services: Services, jira: tuple[str, httpx.Client]
) -> None:
    project, remote = jira
    application = {
        "system": "jira",
        "baseUrl": str(remote.base_url).removesuffix(f"{API}/"),
        "user": "admin",
        "password": "jira820 checks none",
    }
    start_integration(
        engine_client,
        services,
        project,
        application,
        configuration(jira_side=False),
        configuration(jira_side=True),
    )
    local, other = "PA-1", f"{project}-2"

    # Created on either side.
    a1 = create_issue(
        engine_client, "PA", "Made in the built-in project", priority={"name": "High"}
    )
    made = remote.post(
        "issue",
        json={
            "fields": {
                "project": {"key": project},
                "issuetype": {"name": "Task"},
                "summary": "Made in jira820",
                "description": "Steps:\n1. open",
            }
        },
    )
    assert made.status_code == 201, made.text
    b1 = made.json()["key"]
    in_b = wait_for("PA's issue in jira820", lambda: twin(engine_client, local, a1))
    in_a = wait_for("jira820's issue in PA", lambda: twin(engine_client, other, b1))
    assert fields(remote, in_b)["summary"] == "Made in the built-in project"
    assert fields(remote, in_b)["priority"]["name"] == "High"
    assert fields(engine_client, in_a)["description"] == "Steps:\n1. open"

    # Fields edited on each side.
    assert remote.put(f"issue/{in_b}", json={"fields": {"summary": "Edited in jira820"}}).is_success
    engine_client.put(f"{API}/issue/{in_a}", json={"fields": {"summary": "Edited in PA"}})
    wait_for(
        "jira820's edit in PA", lambda: fields(engine_client, a1)["summary"] == "Edited in jira820"
    )
    wait_for("PA's edit in jira820", lambda: fields(remote, b1)["summary"] == "Edited in PA")

    # A status change on each side goes through the other's workflow.
    moved = engine_client.post(
        f"{API}/issue/{a1}/transitions",
        json={"transition": {"id": to_status(engine_client, f"{API}/issue/{a1}", "In Progress")}},
    )
    assert moved.is_success, moved.text
    done = to_status(remote, f"issue/{b1}", "Done")
    assert remote.post(f"issue/{b1}/transitions", json={"transition": {"id": done}}).is_success
    wait_for(
        "PA's status in jira820", lambda: fields(remote, in_b)["status"]["name"] == "In Progress"
    )
    wait_for(
        "jira820's status in PA", lambda: fields(engine_client, in_a)["status"]["name"] == "Done"
    )

    # Comments both ways; a comment edited in jira820 is edited in PA.
    said = remote.post(f"issue/{in_b}/comment", json={"body": "Seen in jira820."})
    assert said.status_code == 201, said.text
    engine_client.post(f"{API}/issue/{in_a}/comment", json={"body": "Seen in PA."})
    wait_for(
        "jira820's comment in PA",
        lambda: any("Seen in jira820." in b for b in _local_bodies(engine_client, a1)),
    )
    wait_for("PA's comment in jira820", lambda: any("Seen in PA." in b for b in bodies(remote, b1)))
    edited = remote.put(
        f"issue/{in_b}/comment/{said.json()['id']}", json={"body": "Edited in jira820."}
    )
    assert edited.is_success, edited.text
    wait_for(
        "the comment's edit in PA",
        lambda: (
            any("Edited in jira820." in b for b in _local_bodies(engine_client, a1))
            and not any("Seen in jira820." in b for b in _local_bodies(engine_client, a1))
        ),
    )

    # Files both ways, verified by checksum.
    from_a, from_b = b"built-in \x00\xff\n" * 50, b"jira820 \x01\xfe\n" * 70
    local_upload = engine_client.post(
        f"{API}/issue/{a1}/attachments",
        files={"file": ("from-pa.bin", from_a, "application/octet-stream")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert local_upload.status_code == 200, local_upload.text
    attach(remote, b1, "from-jira820.bin", from_b)
    wait_for(
        "PA's file in jira820",
        lambda: attached(remote, in_b, "from-pa.bin") == hashlib.sha256(from_a).hexdigest(),
    )
    wait_for(
        "jira820's file in PA",
        lambda: (
            attached(engine_client, in_a, "from-jira820.bin") == hashlib.sha256(from_b).hexdigest()
        ),
    )

    # A sub-task made in jira820 after its parent arrives under the parent's twin.
    sub = remote.post(
        "issue",
        json={
            "fields": {
                "project": {"key": project},
                "issuetype": {"name": "Sub-task"},
                "summary": "A step",
                "parent": {"key": b1},
            }
        },
    )
    assert sub.status_code == 201, sub.text
    sub_in_a = wait_for("the sub-task in PA", lambda: twin(engine_client, other, sub.json()["key"]))
    assert fields(engine_client, sub_in_a)["parent"]["key"] == in_a

    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["secondConnector"]["online"]
    assert status["firstConnector"]["issuesInError"] == 0
    assert status["secondConnector"]["issuesInError"] == 0
    # Nothing echoed: one twin each, one copy of each comment.
    assert sorted(bodies(remote, b1)).count("Seen in PA.") <= 1
    engine_client.put(f"{BASE}/integrations/INT-1/stop")


def _local_bodies(engine_client: httpx.Client, key: str) -> list[str]:
    response = engine_client.get(f"{API}/issue/{key}/comment")
    assert response.status_code == 200, response.text
    return [c["body"] for c in response.json()["comments"]]
