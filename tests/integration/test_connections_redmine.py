"""A connection from a built-in project to the real Redmine, through SD Elements' dialect.

issuesync runs as ``issuesync serve`` does (the app, its engine and the connections'
scheduler) on 127.0.0.1; the Redmine is Debian's, started by :mod:`support.redmine_server`.
The scheduler's clock is the real one plus an offset the test moves, so an hourly
connection's next run comes without an hour's wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import wait_for
from tracker_helpers import create_issue, create_project, fields_of

from issuesync.app import create_app, install_engine
from issuesync.domain.schedule import HOUR_MS
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.testing.server import LiveServer
from support.redmine_server import RedmineServer, redmine_session

V2 = "/api/v2/connections"
SYNC_PASSWORD = "sync-password-1"  # scripts/redmine/install's sync user
REDMINE_CLOSED = 5  # Redmine's default "Closed" status


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    yield from redmine_session()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


class ShiftedClock:
    """The real clock plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return now_ms() + self.offset_ms


@pytest.fixture
def clock(services: Services) -> ShiftedClock:
    shifted = ShiftedClock()
    services.clock = shifted
    return shifted


@pytest.fixture
def client(
    services: Services, live_server: LiveServer, clock: ShiftedClock
) -> Iterator[httpx.Client]:
    """The app with its engine and scheduler, as ``issuesync serve`` runs it (on ``clock``)."""
    assert services.clock is clock
    app = create_app(services)
    install_engine(app, services)
    live_server.start(app)
    with httpx.Client(
        base_url=live_server.url, auth=("admin", "admin-secret"), timeout=60
    ) as admin:
        yield admin


def _ready_job(client: httpx.Client, connection: int, after: int = 0) -> dict[str, Any]:
    """The connection's newest job once it is ready (and newer than job ``after``)."""

    def ready() -> dict[str, Any] | None:
        jobs = client.get(f"{V2}/issue-tracker/{connection}/jobs/").json()["results"]
        newest = jobs[0] if jobs else None
        return newest if newest and newest["id"] > after and newest["ready"] else None

    return wait_for("the job", ready, timeout=90)


def _run(client: httpx.Client, connection: int) -> dict[str, Any]:
    asked = client.post(f"{V2}/issue-tracker/{connection}/run/")
    assert asked.status_code == 202, asked.text
    job = _ready_job(client, connection, after=asked.json()["id"] - 1)
    assert job["id"] == asked.json()["id"]
    assert job["automatic"] is False
    return job


def _connection(client: httpx.Client, connection: int) -> dict[str, Any]:
    got = client.get(f"{V2}/issue-tracker/{connection}/", params={"include": "last_job"})
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def _tracker_connector(client: httpx.Client, redmine: RedmineServer) -> int:
    """The Redmine as a tracker connector (its sync user, by password)."""
    made = client.post(
        f"{V2}/connectors/",
        json={
            "name": "Our Redmine",
            "system": {"id": "redmine"},
            "params": {
                "issue_tracker_server": redmine.url.removeprefix("http://"),
                "issue_tracker_method": "http",
                "issue_tracker_auth_mode": "basic",
                "issue_tracker_user": "sync",
                "issue_tracker_pass": SYNC_PASSWORD,
            },
        },
    )
    assert made.status_code == 201, made.text
    assert SYNC_PASSWORD not in made.text
    connector: int = made.json()["id"]
    return connector


def _connection_test(client: httpx.Client, connector: int, project: str) -> None:
    """The connection test, before saving: it passes, and a wrong password fails clearly."""
    params = {"issue_tracker_project": project, "issue_tracker_title_format": "$task_id: $title"}
    test = {"connector": connector, "system": {"id": "redmine"}, "params": params}
    passed = client.post(f"{V2}/test-issue-tracker/", json=test)
    assert passed.status_code == 200, passed.text
    assert passed.json()["success"] is True, passed.text
    wrong = {**test, "params": {**params, "issue_tracker_pass": "not-the-password"}}
    failed = client.post(f"{V2}/test-issue-tracker/", json=wrong)
    assert failed.status_code == 200, failed.text
    assert failed.json()["success"] is False
    assert "not-the-password" not in failed.text
    said = " ".join(f"{e['check']}: {e['message']}" for e in failed.json()["errors"])
    assert "401" in said or "auth" in said.lower(), said


def _manual_runs(
    client: httpx.Client, rm: httpx.Client, connection: int, project: str, issues: list[str]
) -> int:
    """A run creates the issues in scope with the title format; a status changed in Redmine
    comes back with the next one. Returns the last job's id."""
    fix, urgent = issues
    job = _run(client, connection)
    assert job["succeeded"] is True, job
    assert "2 created" in job["result_message"], job
    found = rm.get("/issues.json", params={"project_id": project, "status_id": "*"}).json()
    titles = sorted(i["subject"] for i in found["issues"])
    assert titles == sorted([f"{fix}: Fix the login", f"{urgent}: Rotate the keys"])
    twin = next(i["id"] for i in found["issues"] if i["subject"].startswith(fix))
    shown = _connection(client, connection)
    assert shown["last_job"]["id"] == job["id"]
    assert shown["last_job"]["succeeded"] is True
    assert shown["inaccessible"] is False
    first_success = shown["params"]["last_successful_run"]

    closed = rm.put(f"/issues/{twin}.json", json={"issue": {"status_id": REDMINE_CLOSED}})
    assert closed.status_code == 204, closed.text
    assert fields_of(client, fix)["status"]["name"] == "To Do"
    job = _run(client, connection)
    assert job["succeeded"] is True, job
    assert "back: 1 updated (1 now Done)" in job["result_message"], job
    assert fields_of(client, fix)["status"]["name"] == "Done"
    assert _connection(client, connection)["params"]["last_successful_run"] > first_success
    last: int = job["id"]
    return last


def _scheduled_runs(client: httpx.Client, clock: ShiftedClock, connection: int, after: int) -> None:
    """Hourly: it runs at once (it never ran on a schedule), then an hour after that run."""
    changed = client.patch(f"{V2}/issue-tracker/{connection}/", json={"frequency": "hourly"})
    assert changed.status_code == 200, changed.text
    scheduled = _ready_job(client, connection, after=after)
    assert scheduled["automatic"] is True
    assert scheduled["result_message"] == "No changes."
    time.sleep(2)
    assert _connection(client, connection)["last_job"]["id"] == scheduled["id"]  # not again
    clock.offset_ms += HOUR_MS
    again = _ready_job(client, connection, after=scheduled["id"])
    assert again["automatic"] is True
    assert again["succeeded"] is True


def test_a_connection_to_redmine_runs_by_hand_and_on_its_schedule(
    client: httpx.Client, redmine: RedmineServer, clock: ShiftedClock
) -> None:
    project = redmine.new_project()
    pa = int(create_project(client, "PA")["id"])
    fix = create_issue(client, "PA", "Fix the login", priority={"name": "High"})
    urgent = create_issue(client, "PA", "Rotate the keys", priority={"name": "Highest"})
    create_issue(client, "PA", "Polish the icons", priority={"name": "Low"})  # out of scope
    connector = _tracker_connector(client, redmine)
    _connection_test(client, connector, project)
    created = client.post(
        f"{V2}/issue-tracker/",
        json={
            "alias": "PA in Redmine",
            "connector": connector,
            "project": pa,
            "params": {
                "issue_tracker_project": project,
                "issue_tracker_title_format": "$task_id: $title",
                "sde_statuses_in_scope": "To Do",
                "sde_min_priority": 7,
                "conflict_policy": "issue_tracker",
            },
        },
    )
    assert created.status_code == 201, created.text
    connection = created.json()["id"]
    assert created.json()["frequency"] == "manually"
    assert "last_successful_run" not in created.json()["params"]
    with redmine.admin() as rm:
        last = _manual_runs(client, rm, connection, project, [fix, urgent])
    _scheduled_runs(client, clock, connection, last)

    # A wrong password: the job fails, says why, and the connection is inaccessible.
    last_success = _connection(client, connection)["params"]["last_successful_run"]
    moved = client.patch(
        f"{V2}/connectors/{connector}/", json={"params": {"issue_tracker_pass": "wrong"}}
    )
    assert moved.status_code == 200, moved.text
    failed_job = _run(client, connection)
    assert failed_job["succeeded"] is False
    assert failed_job["result_message"].startswith("Failed:"), failed_job
    shown = _connection(client, connection)
    assert shown["inaccessible"] is True
    assert shown["params"]["last_successful_run"] == last_success
    assert shown["last_job"]["id"] == failed_job["id"]
