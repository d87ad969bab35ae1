"""A built-in project kept in step with a GitLab project by the engine in a server.

The GitLab is the stateful fake (``issuesync.testing.fake_gitlab``) served over
real HTTP on 127.0.0.1 by a ``HandlerServer``: connector PA-1 works in-process
on project PA, connector GROUP/APP-2 through the ``gitlab`` adapter on ``group/app``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import local_body, wait_for
from sync_helpers import synced_twin as twin
from tracker_helpers import API, create_issue, create_project
from tracker_helpers import fields_of as fields

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services
from issuesync.testing.fake_gitlab import MAINTAINER, FakeGitLab, GitLabProject
from issuesync.testing.handler_server import HandlerServer

BASE = "/api/1"
FIELDS = ("summary", "description", "labels", "duedate", "comment", "attachment")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, HandlerServer]]:
    fake = FakeGitLab()
    server = HandlerServer(fake)
    server.start()
    try:
        yield fake, server
    finally:
        server.stop()


def local_of(engine_client: httpx.Client, iid: str) -> str | None:
    """The PA issue linked to GitLab issue ``iid``, from PA-1's sync information."""
    entries = engine_client.get(f"{BASE}/connectors/PA-1/syncInformation").json()
    return next((e["localIssueKey"] for e in entries if e["remoteIssueKey"] == iid), None)


def _body(url: str, token: str) -> dict[str, Any]:
    body = local_body(outgoingInterval="1s")
    mappings = [{"localField": name, "remoteField": name} for name in FIELDS]
    first = body["firstConnector"]["configuration"]
    first["fieldMappings"] = mappings
    first["issueTypeMappings"] = {
        "outgoing": [{"local": t, "remote": "Issue"} for t in ("Bug", "Task", "Story", "Epic")],
        "incoming": [{"local": "Task", "remote": "Issue"}, {"local": "Bug", "remote": "Incident"}],
    }
    pairs = [("To Do", "Open"), ("In Progress", "Open"), ("Done", "Closed")]
    first["workflowMappings"] = [
        {"id": "##GLOBAL##", "statusMappings": [{"local": a, "remote": b} for a, b in pairs]}
    ]
    second = body["secondConnector"]
    second["projectKey"] = "group/app"
    second["connection"]["application"] = {"system": "gitlab", "baseUrl": url, "token": token}
    second["configuration"]["workflowMappings"] = [
        {
            "id": "##GLOBAL##",
            "statusMappings": [
                {"local": "Open", "remote": "To Do"},
                {"local": "Closed", "remote": "Done"},
            ],
        }
    ]
    return body


def _issue(project: GitLabProject, iid: str) -> dict[str, Any]:
    return project.issues[int(iid)]


def test_a_built_in_project_and_a_gitlab_project_stay_in_step(
    engine_client: httpx.Client, services: Services, gitlab: tuple[FakeGitLab, HandlerServer]
) -> None:
    fake, server = gitlab
    sync = fake.add_user("sync", email="sync@example.test")
    project = fake.add_project("group/app", members={sync: MAINTAINER})
    create_project(engine_client, "PA")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    created = engine_client.post(f"{BASE}/integrations", json=_body(server.url, sync.token))
    assert created.status_code == 200, created.text
    started = engine_client.put(f"{BASE}/integrations/INT-1/start")
    assert started.status_code < 300, started.text

    a1 = create_issue(engine_client, "PA", "Made in the built-in project", labels=["ui"])
    in_gitlab = wait_for("PA's issue in GitLab", lambda: twin(engine_client, "PA-1", a1))
    issue = _issue(project, in_gitlab)
    assert issue["title"] == "Made in the built-in project"
    assert issue["labels"] == ["ui"]

    # A GitLab issue, an edit, a note and a close come over.
    gitlab_api = httpx.Client(
        base_url=f"{server.url}/api/v4/projects/{project.id}",
        headers={"PRIVATE-TOKEN": sync.token},
        timeout=10,
    )
    with gitlab_api:
        made = gitlab_api.post("/issues", json={"title": "Made in GitLab"}).json()
        in_a = wait_for("GitLab's issue in PA", lambda: local_of(engine_client, str(made["iid"])))
        assert fields(engine_client, in_a)["summary"] == "Made in GitLab"
        assert fields(engine_client, in_a)["issuetype"]["name"] == "Task"
        gitlab_api.put(f"/issues/{in_gitlab}", json={"title": "Edited in GitLab"})
        gitlab_api.post(f"/issues/{in_gitlab}/notes", json={"body": "Seen in GitLab."})
        wait_for(
            "the GitLab edit in PA",
            lambda: fields(engine_client, a1)["summary"] == "Edited in GitLab",
        )
        wait_for(
            "the GitLab note in PA",
            lambda: any(
                "Seen in GitLab." in c["body"]
                for c in engine_client.get(f"{API}/issue/{a1}/comment").json()["comments"]
            ),
        )
        # A file a person uploads and links in a note comes over as an attachment.
        upload = gitlab_api.post(
            "/uploads", files={"file": ("shot.png", b"\x89PNG fake", "image/png")}
        ).json()
        gitlab_api.post(f"/issues/{in_gitlab}/notes", json={"body": upload["markdown"]})

        def pa_attachments() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = fields(engine_client, a1).get("attachment") or []
            return found

        [shot] = wait_for("the GitLab upload in PA", pa_attachments)
        assert shot["filename"] == "shot.png"
        assert engine_client.get(shot["content"]).content == b"\x89PNG fake"
        gitlab_api.put(f"/issues/{in_gitlab}", json={"state_event": "close"})
        wait_for("the close in PA", lambda: fields(engine_client, a1)["status"]["name"] == "Done")

    # A comment made in PA reaches GitLab as a note, once.
    engine_client.post(f"{API}/issue/{a1}/comment", json={"body": "From PA."})
    wait_for(
        "PA's comment in GitLab",
        lambda: any("From PA." in n["body"] for n in project.notes[int(in_gitlab)]),
    )
    # An attachment made in PA becomes an upload linked in a note, byte for byte.
    content = b"log \x00\xff line\n" * 50
    attached = engine_client.post(
        f"{API}/issue/{a1}/attachments",
        files={"file": ("run.log", content, "text/plain")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert attached.status_code == 200, attached.text
    note = wait_for(
        "PA's attachment in GitLab",
        lambda: next((n for n in project.notes[int(in_gitlab)] if "run.log" in n["body"]), None),
    )
    [path] = [p for p in project.uploads if p.endswith("/run.log")]
    assert f"/uploads/{path}" in note["body"]
    assert project.uploads[path][0] == content
    assert len(project.uploads) == 2  # shot.png did not come back as a second upload

    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["secondConnector"]["online"]
    assert status["secondConnector"]["issuesInError"] == 0
    assert sum(1 for n in project.notes[int(in_gitlab)] if "From PA." in n["body"]) == 1
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
