"""Work logs between a built-in project and a real Redmine's time entries.

Runs against :mod:`support.redmine_server` (live in CI; skipped where no Redmine can
run). The Redmine side's time entries are logged by its administrator, as a person
would; the sync user logs the built-in project's work under Redmine's default activity.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import integration_pair, local_body, make_project_admin
from tracker_helpers import API, create_issue

from issuesync.services import Services
from support.redmine_server import RedmineServer, redmine_session

FIELDS = ("summary", "comment", "worklog")


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    yield from redmine_session()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def _body(redmine: RedmineServer, project: str) -> dict[str, Any]:
    body = local_body()
    first = body["firstConnector"].setdefault("configuration", {})
    first["fieldMappings"] = [{"localField": n, "remoteField": n} for n in FIELDS]
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
    back = [("New", "To Do"), ("In Progress", "In Progress"), ("Closed", "Done")]
    second.setdefault("configuration", {})["workflowMappings"] = [
        {"id": "##GLOBAL##", "statusMappings": [{"local": a, "remote": b} for a, b in back]}
    ]
    return body


def _entries(rm: httpx.Client, issue: str) -> list[dict[str, Any]]:
    answer = rm.get("/time_entries.json", params={"issue_id": issue, "limit": 100})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["time_entries"]
    return sorted(found, key=lambda e: e["id"])


def _local(client: httpx.Client, key: str) -> list[tuple[int, str]]:
    listed = client.get(f"{API}/issue/{key}/worklog").json()["worklogs"]
    return [(w["timeSpentSeconds"], w["comment"]) for w in listed]


def test_work_logs_cross_as_time_entries_and_back(
    services: Services, admin: httpx.Client, redmine: RedmineServer
) -> None:
    project = redmine.new_project()
    with integration_pair(services, admin, _body(redmine, project)) as pair, redmine.admin() as rm:
        make_project_admin(services, "backbone", "PA")
        key = create_issue(pair.client, "PA", "Time me")
        logged = pair.client.post(
            f"{API}/issue/{key}/worklog",
            json={
                "timeSpentSeconds": 5400,
                "comment": "in PA",
                "started": "2026-11-04T15:00:00.000+0000",
            },
        )
        assert logged.status_code == 201, logged.text
        pair.settle()
        issue = pair.twin(key)
        (entry,) = _entries(rm, issue)
        assert entry["hours"] == pytest.approx(1.5)
        assert entry["spent_on"] == "2026-11-04"
        assert entry["comments"].startswith("Administrator logged: in PA")
        assert entry["user"]["name"] != "Redmine Admin"  # the sync user logs it
        assert pair.engine.step() == 0

        # Logged in Redmine by a person (a note moves the issue's update time).
        activity = entry["activity"]["id"]
        made = rm.post(
            "/time_entries.json",
            json={
                "time_entry": {
                    "issue_id": int(issue),
                    "hours": 0.25,
                    "comments": "in Redmine",
                    "activity_id": activity,
                    "spent_on": "2026-11-05",
                }
            },
        )
        assert made.status_code == 201, made.text
        rm.put(f"/issues/{issue}.json", json={"issue": {"notes": "logged"}})
        pair.settle()
        assert sorted(_local(pair.client, key)) == [
            (900, "Redmine Admin logged: in Redmine"),
            (5400, "in PA"),
        ]

        # Edited in PA: the entry follows; deleted in Redmine: gone in PA.
        mine = next(
            w
            for w in pair.client.get(f"{API}/issue/{key}/worklog").json()["worklogs"]
            if w["comment"] == "in PA"
        )
        edited = pair.client.put(
            f"{API}/issue/{key}/worklog/{mine['id']}",
            json={"timeSpentSeconds": 7200, "comment": "in PA, more"},
        )
        assert edited.status_code == 200, edited.text
        pair.settle()
        first = next(e for e in _entries(rm, issue) if e["id"] == entry["id"])
        assert first["hours"] == pytest.approx(2.0)
        assert first["comments"].startswith("Administrator logged: in PA, more")
        gone = rm.delete(f"/time_entries/{made.json()['time_entry']['id']}.json")
        assert gone.status_code in (200, 204), gone.text
        rm.put(f"/issues/{issue}.json", json={"issue": {"notes": "unlogged"}})
        pair.settle()
        assert _local(pair.client, key) == [(7200, "in PA, more")]
        assert pair.engine.step() == 0
