"""A built-in project kept in step with a real Redmine project by the engine in a server.

Connector PA-1 works in-process on the built-in project PA; the second connector
works through the ``redmine`` adapter, with the sync user's API key, on a fresh
project of the Redmine that :mod:`support.redmine_server` runs. Changes
in Redmine are made by its administrator, as a person would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sync_helpers import local_body, wait_for
from sync_helpers import synced_twin as twin
from tracker_helpers import API, create_issue, create_project
from tracker_helpers import fields_of as fields

from conftest import ADMIN_PASSWORD
from issuesync.accounts import NewUser, create_user
from issuesync.app import create_app, install_engine
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.testing.server import LiveServer
from support.redmine_server import RedmineServer, redmine_session

BASE = "/api/1"
FIELDS = ("summary", "description", "priority", "duedate", "comment", "attachment")
WAIT_S = 90.0  # a poll, plus Redmine's restart in the outage part
# A route that failed tries again after 2 s, not the engine's 30 s: the outage part is over
# once Redmine answers again, not ~25 s later when the back-off would run out.
BACKOFF_MS = 2_000


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    """One Redmine per test worker (skipped where none can run, unless required)."""
    yield from redmine_session()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def engine_client(services: Services, live_server: LiveServer) -> Iterator[httpx.Client]:
    """conftest's ``engine_client`` (the app with its engine, as `issuesync serve` runs
    it), the engine's failed routes trying again after :data:`BACKOFF_MS`."""
    app = create_app(services)
    install_engine(app, services)
    engine: SyncRunner = app.state.engine
    engine.backoff_ms = engine._runs.backoff_ms = BACKOFF_MS
    live_server.start(app)
    with httpx.Client(base_url=live_server.url, auth=("admin", ADMIN_PASSWORD), timeout=30) as c:
        yield c


def local_of(engine_client: httpx.Client, remote: str) -> str | None:
    """The PA issue linked to Redmine issue ``remote``."""
    entries = engine_client.get(f"{BASE}/connectors/PA-1/syncInformation").json()
    return next((e["localIssueKey"] for e in entries if e["remoteIssueKey"] == remote), None)


def comments(engine_client: httpx.Client, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = engine_client.get(f"{API}/issue/{key}/comment").json()["comments"]
    return found


def _body(redmine: RedmineServer, project: str) -> dict[str, Any]:
    body = local_body(outgoingInterval="1s")
    first = body["firstConnector"]["configuration"]
    first["fieldMappings"] = [{"localField": n, "remoteField": n} for n in FIELDS]
    priorities = [("Highest", "Immediate"), ("High", "High"), ("Medium", "Normal"), ("Low", "Low")]
    first["fieldMappings"][FIELDS.index("priority")]["valueMappings"] = [
        {"local": a, "remote": b} for a, b in priorities
    ]
    first["issueTypeMappings"] = {
        "outgoing": [
            {"local": "Task", "remote": "Support"},
            {"local": "Story", "remote": "Feature"},
            {"local": "Epic", "remote": "Feature"},
            {"local": "Sub-task", "remote": "Support"},
        ],
        "incoming": [
            {"local": "Task", "remote": "Support"},
            {"local": "Story", "remote": "Feature"},
        ],
    }
    # Differently named statuses on each side, mapped both ways.
    outgoing = [("To Do", "New"), ("In Progress", "In Progress"), ("Done", "Closed")]
    first["workflowMappings"] = [
        {"id": "##GLOBAL##", "statusMappings": [{"local": a, "remote": b} for a, b in outgoing]}
    ]
    second = body["secondConnector"]
    second["projectKey"] = project
    second["connection"]["application"] = {
        "system": "redmine",
        "baseUrl": redmine.url,
        "token": redmine.sync_key,
    }
    incoming = [
        ("New", "To Do"),
        ("In Progress", "In Progress"),
        ("Feedback", "In Progress"),
        ("Resolved", "Done"),
        ("Closed", "Done"),
        ("Rejected", "Done"),
    ]
    second["configuration"]["workflowMappings"] = [
        {"id": "##GLOBAL##", "statusMappings": [{"local": a, "remote": b} for a, b in incoming]}
    ]
    return body


@dataclass
class Scene:
    """The engine's API, the Redmine administrator's, and the Redmine project."""

    engine: httpx.Client
    rm: httpx.Client
    project: str

    def rm_issue(self, key: str) -> dict[str, Any]:
        answer = self.rm.get(f"/issues/{key}.json", params={"include": "journals,attachments"})
        assert answer.status_code == 200, answer.text
        issue: dict[str, Any] = answer.json()["issue"]
        return issue

    def rm_notes(self, key: str, text: str) -> int:
        """How many of the issue's notes say ``text`` (the adapter names the author first)."""
        return sum(text in j["notes"] for j in self.rm_issue(key)["journals"] if j["notes"])

    def twin(self, key: str) -> str | None:
        return twin(self.engine, "PA-1", key)


def creates_both_ways(scene: Scene) -> tuple[tuple[str, str], tuple[str, str]]:
    """An issue made on each side appears on the other; returns both (PA, Redmine) pairs."""
    engine = scene.engine
    a1 = create_issue(engine, "PA", "Made in PA", description="Steps", priority={"name": "High"})
    r1 = wait_for("PA's issue in Redmine", lambda: scene.twin(a1), WAIT_S)
    issue = scene.rm_issue(r1)
    assert (issue["subject"], issue["tracker"]["name"]) == ("Made in PA", "Support")
    assert issue["priority"]["name"] == "High"
    assert issue["status"]["name"] == "New"
    made = scene.rm.post(
        "/issues.json",
        json={
            "issue": {"project_id": scene.project, "tracker_id": 2, "subject": "Made in Redmine"}
        },
    )
    assert made.status_code == 201, made.text
    r2 = str(made.json()["issue"]["id"])
    a2 = wait_for("Redmine's issue in PA", lambda: local_of(engine, r2), WAIT_S)
    assert fields(engine, a2)["summary"] == "Made in Redmine"
    assert fields(engine, a2)["issuetype"]["name"] == "Story"
    assert fields(engine, a2)["priority"]["name"] == "Medium"  # Redmine's Normal
    return (a1, r1), (a2, r2)


def edits_statuses_and_comments(scene: Scene, a1: str, r1: str, a2: str, r2: str) -> None:
    """Edits, statuses (mapped between different names) and comments, both ways."""
    engine, rm = scene.engine, scene.rm
    rm.put(f"/issues/{r1}.json", json={"issue": {"subject": "Edited in Redmine", "status_id": 3}})
    wait_for(
        "the Redmine edit in PA",
        lambda: (
            fields(engine, a1)["summary"] == "Edited in Redmine"
            and fields(engine, a1)["status"]["name"] == "Done"
        ),
        WAIT_S,
    )
    rm.put(f"/issues/{r1}.json", json={"issue": {"notes": "Seen in Redmine."}})
    wait_for(
        "the Redmine note in PA",
        lambda: any("Seen in Redmine." in c["body"] for c in comments(engine, a1)),
        WAIT_S,
    )
    said = engine.post(f"{API}/issue/{a2}/comment", json={"body": "From PA."}).json()
    wait_for("PA's comment in Redmine", lambda: scene.rm_notes(r2, "From PA."), WAIT_S)
    engine.put(f"{API}/issue/{a2}/comment/{said['id']}", json={"body": "From PA, edited."})
    wait_for(
        "the comment's edit in Redmine", lambda: scene.rm_notes(r2, "From PA, edited."), WAIT_S
    )
    assert scene.rm_notes(r2, "From PA, edited.") == 1
    assert scene.rm_notes(r2, "From PA.") == 0
    transitions = engine.get(f"{API}/issue/{a2}/transitions").json()["transitions"]
    step = next(t for t in transitions if t["to"]["name"] == "In Progress")
    engine.post(f"{API}/issue/{a2}/transitions", json={"transition": {"id": step["id"]}})
    wait_for(
        "the status in Redmine",
        lambda: scene.rm_issue(r2)["status"]["name"] == "In Progress",
        WAIT_S,
    )


def files_and_subtasks(scene: Scene, a2: str, r2: str) -> None:
    """A file reaches Redmine byte for byte; a sub-task made after its parent is its child."""
    engine = scene.engine
    content = bytes(range(256)) * 8
    attached = engine.post(
        f"{API}/issue/{a2}/attachments",
        files={"file": ("data.bin", content, "application/octet-stream")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert attached.status_code == 200, attached.text
    files = wait_for("the file in Redmine", lambda: scene.rm_issue(r2)["attachments"], WAIT_S)
    assert [f["filename"] for f in files] == ["data.bin"]
    download = scene.rm.get(f"/attachments/download/{files[0]['id']}/data.bin")
    assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(content).hexdigest()
    child = create_issue(engine, "PA", "A child", issuetype="Sub-task", parent={"key": a2})
    r3 = wait_for("the sub-task in Redmine", lambda: scene.twin(child), WAIT_S)
    assert str(scene.rm_issue(r3)["parent"]["id"]) == r2


def an_outage(scene: Scene, redmine: RedmineServer, a2: str, r2: str) -> None:
    """Redmine goes down for a while: what changed meanwhile arrives when it is back, once."""
    engine = scene.engine

    def offline() -> bool:
        status = engine.get(f"{BASE}/integrations/INT-1/status").json()
        return not status["secondConnector"]["online"]

    redmine.stop(remove=False)
    try:
        engine.put(f"{API}/issue/{a2}", json={"fields": {"summary": "Edited offline"}})
        engine.post(f"{API}/issue/{a2}/comment", json={"body": "Said offline."})
        a4 = create_issue(engine, "PA", "Made offline")
        wait_for("the Redmine connector to be offline", offline, WAIT_S)
    finally:
        redmine.start()
    wait_for("the offline edit", lambda: scene.rm_issue(r2)["subject"] == "Edited offline", WAIT_S)
    wait_for("the offline comment", lambda: scene.rm_notes(r2, "Said offline."), WAIT_S)
    r4 = wait_for("the offline issue", lambda: scene.twin(a4), WAIT_S)
    assert scene.rm_issue(r4)["subject"] == "Made offline"
    assert scene.rm_notes(r2, "Said offline.") == 1


def test_a_built_in_project_and_a_redmine_project_stay_in_step(
    engine_client: httpx.Client, services: Services, redmine: RedmineServer
) -> None:
    project = redmine.new_project()
    create_project(engine_client, "PA")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    created = engine_client.post(f"{BASE}/integrations", json=_body(redmine, project))
    assert created.status_code == 200, created.text
    # Every Redmine tracker may be a sub-task too: none is taken for a sub-task type only.
    conflicts = engine_client.get(f"{BASE}/integrations/INT-1/conflicts").json()
    assert not [c for c in conflicts if c.get("type") == "unmappedIssueType"], conflicts
    started = engine_client.put(f"{BASE}/integrations/INT-1/start")
    assert started.status_code < 300, started.text
    with redmine.admin() as rm:
        scene = Scene(engine_client, rm, project)
        (a1, r1), (a2, r2) = creates_both_ways(scene)
        edits_statuses_and_comments(scene, a1, r1, a2, r2)
        files_and_subtasks(scene, a2, r2)
        an_outage(scene, redmine, a2, r2)
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["secondConnector"]["online"]
    assert status["secondConnector"]["issuesInError"] == 0
    assert status["firstConnector"]["issuesInError"] == 0
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
