"""Mappings proposed from both schemas, over real HTTP: created with, previewed, proposed
again, stored, and their warnings in ``/conflicts``.

A built-in project PA and a repository of the fake GitHub served on 127.0.0.1 (GitHub has
no priorities, attachments or sub-tasks, and only open and closed states: a pair whose
proposal has something to say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from tracker_helpers import create_project

from issuesync.testing.fake_github import FakeGitHub
from issuesync.testing.handler_server import HandlerServer

BASE = "/api/1"
TOKEN = "ghp_proposal-sync-bot"
REPO = "octo-org/widgets"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def github() -> Iterator[HandlerServer]:
    fake = FakeGitHub()
    fake.add_user("octo-org")
    fake.add_user("sync-bot", token=TOKEN)
    fake.add_repo(REPO, roles={"sync-bot": "write"})
    with HandlerServer(fake) as server:
        yield server


def body(url: str, **first: Any) -> dict[str, Any]:
    """Only project keys and credentials, as Backbone's seed-001 body gives them."""
    return {
        "firstConnector": {
            "projectKey": "PA",
            "connection": {"application": {"user": "admin"}},
            **first,
        },
        "secondConnector": {
            "projectKey": REPO,
            "connection": {"application": {"system": "github", "baseUrl": url, "token": TOKEN}},
        },
    }


def statuses(connector: dict[str, Any]) -> dict[str, str]:
    (workflow,) = connector["configuration"]["workflowMappings"]
    return {pair["local"]: pair["remote"] for pair in workflow["statusMappings"]}


def fields(connector: dict[str, Any]) -> set[str]:
    return {m["localField"] for m in connector["configuration"]["fieldMappings"]}


def test_created_without_mappings_it_gets_them_from_both_schemas(
    admin: httpx.Client, github: HandlerServer
) -> None:
    create_project(admin, "PA")
    created = admin.post(f"{BASE}/integrations", json=body(github.url))
    assert created.status_code == 200, created.text
    shown = admin.get(f"{BASE}/integrations/INT-1").json()
    first, second = shown["firstConnector"], shown["secondConnector"]
    assert statuses(first) == {"To Do": "Open", "In Progress": "Open", "Done": "Closed"}
    assert statuses(second) == {"Open": "To Do", "Closed": "Done", "Closed (not planned)": "Done"}
    assert fields(first) == {"summary", "description", "labels", "comment"}
    assert {
        p["local"]: p["remote"] for p in first["configuration"]["issueTypeMappings"]["outgoing"]
    } == {
        "Bug": "Issue",
        "Task": "Issue",
        "Story": "Issue",
        "Epic": "Issue",
        "Sub-task": "Issue",
    }

    conflicts = admin.get(f"{BASE}/integrations/INT-1/conflicts").json()
    assert conflicts, "what does not cross must be said"
    assert {c["severity"] for c in conflicts} == {"warning"}, conflicts
    said = " ".join(c["message"] for c in conflicts)
    for value in ("'In Progress'", "'attachment'", "'High'", "'Sub-task'"):
        assert value in said, said
    # Nothing blocks an issue: the integration can start at once.
    assert not [c for c in conflicts if c["severity"] == "error"]


def test_the_preview_shows_the_proposal_and_stores_nothing(
    admin: httpx.Client, github: HandlerServer
) -> None:
    create_project(admin, "PA")
    preview = admin.post(f"{BASE}/integrations/proposal", json=body(github.url))
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["state"] == "proposed"
    assert [c["projectKey"] for c in shown["connectors"]] == ["PA", REPO]
    assert statuses(shown["connectors"][0])["Done"] == "Closed"
    reasons = {(p["kind"], p["projectKey"], p["value"]): p["reason"] for p in shown["pairs"]}
    assert reasons[("status", REPO, "Closed")] == "same category (done), by position"
    assert (
        reasons[("issue type", "PA", "Bug")]
        == "the partner's default type: no type of the same kind"
    )
    warned = {(w["kind"], w["projectKey"], w["value"]) for w in shown["warnings"]}
    assert ("field", "PA", "attachment") in warned
    assert TOKEN not in preview.text
    assert admin.get(f"{BASE}/integrations").json() == []


def test_a_preview_refuses_what_creating_would(admin: httpx.Client, github: HandlerServer) -> None:
    no_project = admin.post(f"{BASE}/integrations/proposal", json=body(github.url))
    assert no_project.status_code == 400, no_project.text
    assert "There is no project with key 'PA'" in no_project.text
    create_project(admin, "PA")
    wrong = body(github.url)
    wrong["secondConnector"]["connection"]["application"]["token"] = "ghp_wrong"
    unread = admin.post(f"{BASE}/integrations/proposal", json=wrong)
    assert unread.status_code == 200, unread.text
    assert unread.json()["state"] == "notProposed"
    ((project, reason),) = [(u["projectKey"], u["reason"]) for u in unread.json()["unread"]]
    assert project == REPO
    assert reason
    assert "ghp_wrong" not in unread.text


def test_a_tracker_that_cannot_be_read_keeps_the_defaults_and_says_so(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    created = admin.post(f"{BASE}/integrations", json=body("http://127.0.0.1:9/"))
    assert created.status_code == 200, created.text
    conflicts = admin.get(f"{BASE}/integrations/INT-1/conflicts").json()
    (not_made,) = [c for c in conflicts if c["type"] == "proposalNotMade"]
    assert not_made["severity"] == "warning"
    assert "issuesync integration propose INT-1 --apply" in not_made["resolution"]
    assert f"project {REPO}" in not_made["message"]
    again = admin.put(f"{BASE}/integrations/INT-1/proposal")
    assert again.status_code == 409, again.text
    assert again.json()["message"].startswith("No mappings can be proposed")


def test_proposing_again_shows_the_differences_and_stores_them(
    admin: httpx.Client, github: HandlerServer
) -> None:
    create_project(admin, "PA")
    assert admin.post(f"{BASE}/integrations", json=body(github.url)).status_code == 200
    unchanged = admin.get(f"{BASE}/integrations/INT-1/proposal").json()
    assert unchanged["differences"] == []
    # The user maps In Progress to Closed and drops labels: a new proposal would undo both.
    shown = admin.get(f"{BASE}/integrations/INT-1").json()
    edited = shown["firstConnector"]["configuration"]
    edited["workflowMappings"][0]["statusMappings"] = [
        {"local": "To Do", "remote": "Open"},
        {"local": "In Progress", "remote": "Closed"},
        {"local": "Done", "remote": "Closed"},
    ]
    edited["fieldMappings"] = [m for m in edited["fieldMappings"] if m["localField"] != "labels"]
    change = {
        "firstConnector": {"projectKey": "PA", "configuration": edited},
        "secondConnector": body(github.url)["secondConnector"],
    }
    changed = admin.put(f"{BASE}/integrations/INT-1", json=change)
    assert changed.status_code == 200, changed.text
    found = admin.get(f"{BASE}/integrations/INT-1/proposal").json()["differences"]
    assert {
        (d["projectKey"], d["kind"], d["value"], d["stored"], d["proposed"]) for d in found
    } == {
        ("PA", "status", "In Progress", "Closed", "Open"),
        ("PA", "field", "labels", None, "labels"),
    }
    # What the user settled is not warned of: In Progress maps where they said.
    said = " ".join(c["message"] for c in admin.get(f"{BASE}/integrations/INT-1/conflicts").json())
    assert "'In Progress'" not in said
    stored = admin.put(f"{BASE}/integrations/INT-1/proposal")
    assert stored.status_code == 200, stored.text
    assert admin.get(f"{BASE}/integrations/INT-1/proposal").json()["differences"] == []
    back = admin.get(f"{BASE}/integrations/INT-1").json()["firstConnector"]
    assert statuses(back)["In Progress"] == "Open"
    assert "labels" in fields(back)


def test_a_project_admin_previews_only_what_they_may_create(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    for key in ("PA", "PB", "PC"):
        create_project(admin, key)
    pat = make_client("pat", project_admin=("PA",))
    pair = {"firstConnector": {"projectKey": "PA"}, "secondConnector": {"projectKey": "PB"}}
    refused = pat.post(f"{BASE}/integrations/proposal", json=pair)
    assert refused.status_code == 403, refused.text
    assert "administer project PB" in refused.text
    other = {"firstConnector": {"projectKey": "PB"}, "secondConnector": {"projectKey": "PC"}}
    assert admin.post(f"{BASE}/integrations", json=other).status_code == 200
    assert pat.get(f"{BASE}/integrations/INT-1/proposal").status_code == 404
    assert pat.put(f"{BASE}/integrations/INT-1/proposal").status_code == 404
