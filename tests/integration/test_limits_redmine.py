"""Restricted comments between a built-in project and a real Redmine's private notes.

The Redmine is the one :mod:`support.redmine_server` runs (skipped where none can);
connector PA-1 sends its restricted comments (``syncRestrictedComments``), the Redmine
connector keeps its private notes to itself (the default).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import local_body, wait_for
from sync_helpers import synced_twin as twin
from tracker_helpers import API, create_issue, create_project

from support.redmine_server import RedmineServer, redmine_session

BASE = "/api/1"
WAIT_S = 90.0


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    yield from redmine_session()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def _body(redmine: RedmineServer, project: str) -> dict[str, Any]:
    body = local_body(outgoingInterval="1s", syncRestrictedComments=True)
    body["firstConnector"]["connection"]["application"] = {"user": "admin"}
    first = body["firstConnector"]["configuration"]
    first["fieldMappings"] = [
        {"localField": n, "remoteField": n} for n in ("summary", "description", "comment")
    ]
    first["issueTypeMappings"] = {
        "outgoing": [{"local": "Task", "remote": "Support"}],
        "incoming": [{"local": "Task", "remote": "Support"}],
    }
    pairs = [("To Do", "New"), ("In Progress", "In Progress"), ("Done", "Closed")]
    first["workflowMappings"] = [
        {"id": "##GLOBAL##", "statusMappings": [{"local": a, "remote": b} for a, b in pairs]}
    ]
    second = body["secondConnector"]
    second["projectKey"] = project
    second["connection"]["application"] = {
        "system": "redmine",
        "baseUrl": redmine.url,
        "token": redmine.sync_key,
    }
    second["configuration"] = {"sync": {"outgoingInterval": "1s", "incomingInterval": "1s"}}
    return body


def test_restricted_comments_become_private_notes_and_private_notes_stay_in_redmine(
    engine_client: httpx.Client, redmine: RedmineServer
) -> None:
    project = redmine.new_project()
    create_project(engine_client, "PA")
    created = engine_client.post(f"{BASE}/integrations", json=_body(redmine, project))
    assert created.status_code == 200, created.text
    engine_client.put(f"{BASE}/integrations/INT-1/start")
    key = create_issue(engine_client, "PA", "Shared with Redmine")
    role = {"type": "role", "value": "Administrators"}
    engine_client.post(
        f"{API}/issue/{key}/comment", json={"body": "For admins", "visibility": role}
    )
    engine_client.post(f"{API}/issue/{key}/comment", json={"body": "For all"})
    remote = wait_for("PA's issue in Redmine", lambda: twin(engine_client, "PA-1", key), WAIT_S)
    with redmine.admin() as rm:

        def journals() -> list[dict[str, Any]]:
            issue = rm.get(f"/issues/{remote}.json", params={"include": "journals"}).json()
            return [j for j in issue["issue"]["journals"] if j["notes"]]

        def both() -> list[dict[str, Any]] | None:
            found = journals()
            return found if len(found) == 2 else None

        notes = wait_for("both comments in Redmine", both, WAIT_S)
        private = {
            text: j["private_notes"]
            for j in notes
            for text in ("For admins", "For all")
            if text in j["notes"]
        }
        assert private == {"For admins": True, "For all": False}
        # Redmine's private note stays there; a public one after it crosses.
        rm.put(
            f"/issues/{remote}.json",
            json={"issue": {"notes": "Private in Redmine", "private_notes": True}},
        ).raise_for_status()
        rm.put(f"/issues/{remote}.json", json={"issue": {"notes": "Public in Redmine"}})

        def pa_bodies() -> list[str]:
            found = engine_client.get(f"{API}/issue/{key}/comment").json()["comments"]
            return [c["body"] for c in found]

        wait_for(
            "Redmine's public note in PA",
            lambda: any("Public in" in b for b in pa_bodies()),
            WAIT_S,
        )
    assert not any("Private in Redmine" in body for body in pa_bodies())
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
