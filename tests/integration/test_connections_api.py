"""SD Elements' issue tracker connections (seed 004) over real HTTP: every example request
of the seed as written (only its ids replaced by existing ones), answered in the seed's
shapes, then jobs, the connection test and tracker connectors.

The refusals (authentication, permissions, bad input, secrets) are in
``test_connections_api_refusals.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from connections_helpers import (
    BASE,
    CONNECTION_KEYS,
    JOB_KEYS,
    LAST_RUN,
    LAST_SUCCESSFUL_RUN,
    SYNC_PASSWORD,
    World,
    new_connection,
    with_ids,
    world_of,
)
from sqlalchemy import select
from tracker_helpers import create_issue, search_keys

from issuesync.engine.runtime.jobs import ConnectionJobs
from issuesync.services import Services
from issuesync.store.users import User
from issuesync.testing.server import LiveServer

ACCEPT = {"Accept": "application/json"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def world(
    services: Services, server: str, admin: httpx.Client, live_server: LiveServer
) -> Iterator[World]:
    yield from world_of(services, server, admin, live_server)


# The seed's request bodies, as written there.
SEED_CREATE = """{
    "alias": "Example Connection",
    "connector": 1,
    "debug_mode": true,
    "project": 1,
    "frequency": "hourly",
    "params":{
        "issue_tracker_project": "Example Project",
        "issue_tracker_parent_issue": "Parent"
    }
}"""
SEED_UPDATE = """{
    "alias": "Example Connection Updated Name",
    "connector": 1,
    "project": 1,
    "frequency": "manually",
    "params": {"issue_tracker_project": "Project Name"}
}"""
SEED_TEST = """{
    "connector": 2,
    "alias": "Issue Tracker Test",
    "project": 2,
    "system": {
        "id": "rally"
    },
    "params": {
        "issue_tracker_server":"server.rallydev.com",
        "issue_tracker_auth_mode": "basic",
        "issue_tracker_user": "username",
        "issue_tracker_pass": "password",
        "issue_tracker_project": "rally_project",
        "issue_tracker_validate_cert": true
    }
}"""
# The params of the seed's answer to its create that are issuesync's (the rest are SD
# Elements' own defaults: stored and shown when a script sends them).
SEED_CREATED_PARAMS = {
    "sde_project",
    "issue_tracker_auth_mode",
    "issue_tracker_user",
    "issue_tracker_method",
    "issue_tracker_validate_cert",
    "issue_tracker_title_format",
    "issue_tracker_server",
    "issue_tracker_project",
    "issue_tracker_parent_issue",
    "sde_statuses_in_scope",
    "conflict_policy",
}


def _send(world: World, method: str, path: str, body: str | None = None) -> httpx.Response:
    """A request as the seed writes it: JSON text, Accept, Token "<token>"."""
    headers = {**ACCEPT, "Content-Type": "application/json"} if body is not None else ACCEPT
    return world.script.request(method, path, content=body, headers=headers)


def _seed_create(world: World) -> httpx.Response:
    return _send(
        world,
        "POST",
        f"{BASE}/issue-tracker/",
        with_ids(SEED_CREATE, connector=world.connector, project=world.pa),
    )


def test_the_seeds_create_list_and_get_answer_in_the_seeds_shapes(world: World) -> None:
    assert world.script.headers["Authorization"] == f'Token "{world.token}"'
    # Create (the seed's body, its ids replaced): 201 and the seed's shape.
    created = _seed_create(world)
    assert created.status_code == 201, created.text
    body = created.json()
    assert list(body) == CONNECTION_KEYS
    assert body["alias"] == "Example Connection"
    assert body["system"] == {"id": "jira", "name": "JIRA", "short_name": "JIRA"}
    assert (body["frequency"], body["command"], body["debug_mode"]) == ("hourly", "sync_jira", True)
    assert (body["connector"], body["project"]) == (world.connector, world.pa)
    assert (body["inaccessible"], body["in_progress"]) == (False, False)
    params = body["params"]
    assert set(params) == SEED_CREATED_PARAMS
    assert params["sde_project"] == "Project 1"
    assert params["issue_tracker_project"] == "Example Project"
    assert params["issue_tracker_parent_issue"] == "Parent"
    assert params["issue_tracker_server"] == world.server
    assert params["issue_tracker_method"] == "http"
    assert params["issue_tracker_validate_cert"] is True
    assert params["issue_tracker_auth_mode"] == "basic"
    assert params["issue_tracker_user"] == "jirasync"
    assert params["issue_tracker_title_format"] == "$task_id $title"
    assert (params["sde_statuses_in_scope"], params["conflict_policy"]) == ("", "issue_tracker")
    assert SYNC_PASSWORD not in created.text

    # Every connection of every project, then with their last job (none yet: null).
    listed = _send(world, "GET", f"{BASE}/issue-tracker/")
    assert listed.status_code == 200
    assert listed.headers["content-type"] == "application/json"
    assert listed.json() == {"results": [body]}
    with_job = _send(world, "GET", f"{BASE}/issue-tracker/?include=last_job")
    (element,) = with_job.json()["results"]
    assert list(element) == [*CONNECTION_KEYS[:8], "last_job", *CONNECTION_KEYS[8:]]
    assert element["last_job"] is None

    # One connection.
    got = _send(world, "GET", f"{BASE}/issue-tracker/{body['id']}/")
    assert got.status_code == 200
    assert got.json() == body


def test_the_seeds_update_test_and_delete_answer_in_the_seeds_shapes(world: World) -> None:
    body = _seed_create(world).json()
    one = f"{BASE}/issue-tracker/{body['id']}/"
    # Update (the seed's body): fields it leaves out stay, params are merged.
    updated = _send(
        world, "PATCH", one, with_ids(SEED_UPDATE, connector=world.connector, project=world.pa)
    )
    assert updated.status_code == 200, updated.text
    changed = updated.json()
    assert list(changed) == CONNECTION_KEYS
    assert changed["id"] == body["id"]
    assert changed["alias"] == "Example Connection Updated Name"
    assert changed["frequency"] == "manually"
    assert changed["debug_mode"] is True  # not in the body: kept
    assert changed["params"] == body["params"] | {"issue_tracker_project": "Project Name"}
    assert _send(world, "GET", one).json() == changed

    # The connection test (system "rally", which issuesync has no adapter for): 200, and
    # the check that failed says why.
    tested = _send(
        world,
        "POST",
        f"{BASE}/test-issue-tracker/",
        with_ids(SEED_TEST, connector=world.connector, project=world.pa),
    )
    assert tested.status_code == 200, tested.text
    answer = tested.json()
    assert answer["success"] is False
    assert answer["errors"] == [
        {
            "check": "system",
            "message": "Unknown system 'rally': use one of github, gitlab, jira, redmine.",
        }
    ]
    assert "password" not in tested.text

    # Delete: 204 without a body; the connection is gone.
    deleted = _send(world, "DELETE", one)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert _send(world, "GET", one).status_code == 404
    assert _send(world, "GET", f"{BASE}/issue-tracker/").json() == {"results": []}


def test_params_are_the_settings_in_sd_names_and_extras_are_kept_as_given(world: World) -> None:
    made = new_connection(
        world,
        world.pa,
        sde_statuses_in_scope="To Do, In Progress",
        sde_min_priority=7,
        conflict_policy="sde",
        issue_tracker_title_format="[$task_id] $title",
        sde_businessunit="BU",
        jira_version="5",
        issue_tracker_reference_context=5,
        session_capture_socket="/doc/sde/sdetools_session_capture.sock",
        any_other_key={"kept": [1, 2]},
    )
    params = made["params"]
    assert params["sde_statuses_in_scope"] == "To Do,In Progress"
    assert (params["sde_min_priority"], params["conflict_policy"]) == (7, "sde")
    assert params["issue_tracker_title_format"] == "[$task_id] $title"
    assert params["sde_businessunit"] == "BU"
    assert params["jira_version"] == "5"
    assert params["issue_tracker_reference_context"] == 5
    assert params["any_other_key"] == {"kept": [1, 2]}
    assert "issue_tracker_parent_issue" not in params  # only when set
    assert "last_successful_run" not in params  # only after a job succeeded
    # The seed's order: what issuesync fills in first, what the script gave in its place.
    keys = list(params)
    assert keys[:3] == ["sde_project", "issue_tracker_auth_mode", "issue_tracker_user"]
    assert keys.index("jira_version") < keys.index("issue_tracker_method")
    assert keys[-1] == "any_other_key"
    one = f"{BASE}/issue-tracker/{made['id']}/"

    # A list of statuses is taken too; null takes an extra away and clears the minimum.
    patched = world.script.patch(
        one,
        json={
            "params": {
                "sde_statuses_in_scope": ["Done"],
                "sde_businessunit": None,
                "sde_min_priority": None,
                "issue_tracker_parent_issue": "PB-1",
            }
        },
    ).json()["params"]
    assert patched["sde_statuses_in_scope"] == "Done"
    assert "sde_businessunit" not in patched
    assert "sde_min_priority" not in patched
    assert patched["issue_tracker_parent_issue"] == "PB-1"
    assert patched["jira_version"] == "5"

    # A script sends back the body it read (the connector's params as they are included,
    # the read-only fields too): nothing changes.
    read = world.script.get(one, params={"include": "last_job"}).json()
    again = world.script.patch(one, json=read)
    assert again.status_code == 200, again.text
    assert world.script.get(one, params={"include": "last_job"}).json() == read

    # Filtered by project, with and without the trailing slash (no redirect).
    other = new_connection(world, world.pc, alias="From PC")
    for path in (f"{BASE}/issue-tracker/", f"{BASE}/issue-tracker"):
        only = world.script.get(path, params={"project": world.pc})
        assert only.status_code == 200
        assert [c["id"] for c in only.json()["results"]] == [other["id"]]
    assert world.script.get(one.rstrip("/")).json()["id"] == made["id"]
    assert world.script.get(f"{BASE}/issue-tracker/", params={"project": 999}).json() == {
        "results": []
    }
    # include: unknown names are passed over.
    plain = world.script.get(one).json()
    assert world.script.get(one, params={"include": "nothing,else"}).json() == plain
    assert "last_job" not in plain


def test_a_run_is_a_job_and_its_result_is_the_last_job(
    services: Services, world: World, admin: httpx.Client
) -> None:
    create_issue(admin, "PA", "Fix the login", priority={"name": "High"})
    made = new_connection(world, world.pa)
    one = f"{BASE}/issue-tracker/{made['id']}"
    asked = world.script.post(f"{one}/run/")
    assert asked.status_code == 202, asked.text
    job = asked.json()
    assert list(job) == JOB_KEYS
    assert (job["ready"], job["succeeded"], job["automatic"]) == (False, None, False)
    assert job["triggered_by"] == _user_id(services, "admin")
    assert job["user"] is None
    assert LAST_RUN.match(job["last_run"]), job["last_run"]
    # Asked again while it waits: the same job.
    assert world.script.post(f"{one}/run").json()["id"] == job["id"]

    assert ConnectionJobs(services, "test-worker").run_due() == 1
    assert len(search_keys(admin, "project = PB")) == 1
    jobs = world.script.get(f"{one}/jobs/")
    assert jobs.status_code == 200
    (done,) = jobs.json()["results"]
    assert list(done) == JOB_KEYS
    assert (done["id"], done["ready"], done["succeeded"]) == (job["id"], True, True)
    assert "1 created" in done["result_message"]
    assert done["user"] == _user_id(services, "admin")  # the built-in side's sync user
    assert LAST_RUN.match(done["last_run"])
    assert world.script.get(f"{one}/jobs/{job['id']}/").json() == done
    assert world.script.get(f"{one}/jobs/{job['id']}").json() == done

    shown = world.script.get(f"{one}/", params={"include": "last_job"}).json()
    assert shown["last_job"] == done
    assert LAST_SUCCESSFUL_RUN.match(shown["params"]["last_successful_run"])
    assert list(shown["params"])[-1] == "last_successful_run"
    # A second job is listed first.
    world.script.post(f"{one}/run/")
    ids = [j["id"] for j in world.script.get(f"{one}/jobs/").json()["results"]]
    assert ids == [job["id"] + 1, job["id"]]


def _user_id(services: Services, name: str) -> int:
    with services.uow_factory(readonly=True) as uow:
        return int(uow.session.scalars(select(User.id).where(User.name == name)).one())


def test_the_connection_test_checks_the_tracker_and_the_title_format(world: World) -> None:
    test = f"{BASE}/test-issue-tracker/"
    # The stored connector, with the project that exists: every check passes.
    ok = world.script.post(
        test,
        json={
            "connector": world.connector,
            "system": {"id": "jira"},
            "params": {"issue_tracker_project": "PB"},
        },
    )
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"success": True}
    # No connector: the params say everything; a project that is not there fails its check.
    missing = world.script.post(
        test,
        json={
            "system": {"id": "jira", "name": "JIRA"},
            "params": {
                "issue_tracker_server": world.server,
                "issue_tracker_method": "http",
                "issue_tracker_user": "jirasync",
                "issue_tracker_pass": SYNC_PASSWORD,
                "issue_tracker_project": "NOPE",
                "issue_tracker_title_format": "$nope $title",
            },
        },
    ).json()
    assert missing["success"] is False
    checks = {e["check"]: e["message"] for e in missing["errors"]}
    assert "title format" in checks
    assert "$nope" in checks["title format"]
    assert len(checks) == 2, checks  # the project's check, and the title format
    # The stored connector with another password: the login fails, and no password is shown.
    wrong = world.script.post(
        test,
        json={
            "connector": world.connector,
            "system": {"id": "jira"},
            "params": {"issue_tracker_project": "PB", "issue_tracker_pass": "not-the-password-77"},
        },
    )
    assert wrong.json()["success"] is False
    assert "not-the-password-77" not in wrong.text
    assert SYNC_PASSWORD not in wrong.text


def test_tracker_connectors_are_shown_without_their_password(world: World) -> None:
    connectors = f"{BASE}/connectors/"
    listed = world.script.get(connectors)
    assert listed.status_code == 200
    (connector,) = listed.json()["results"]
    assert connector == {
        "id": world.connector,
        "name": "Local Jira",
        "system": {"id": "jira", "name": "JIRA", "short_name": "JIRA"},
        "params": {
            "issue_tracker_server": world.server,
            "issue_tracker_method": "http",
            "issue_tracker_validate_cert": True,
            "issue_tracker_auth_mode": "basic",
            "issue_tracker_user": "jirasync",
        },
    }
    one = f"{connectors}{world.connector}/"
    assert world.script.get(one).json() == connector
    # A change keeps what it leaves out (the password too); the connections follow it.
    made = new_connection(world, world.pa)
    changed = world.script.patch(
        one, json={"name": "Jira", "params": {"issue_tracker_validate_cert": False}}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Jira"
    assert changed.json()["params"]["issue_tracker_validate_cert"] is False
    assert changed.json()["params"]["issue_tracker_user"] == "jirasync"
    shown = world.script.get(f"{BASE}/issue-tracker/{made['id']}/").json()
    assert shown["params"]["issue_tracker_validate_cert"] is False
    tested = world.script.post(
        f"{BASE}/test-issue-tracker/",
        json={
            "connector": world.connector,
            "system": "jira",
            "params": {"issue_tracker_project": "PB"},
        },
    )
    assert tested.json() == {"success": True}  # the password was kept
    # A connector in use is not deleted; once its connection is gone, it is.
    used = world.script.delete(one)
    assert used.status_code == 409
    assert str(made["id"]) in used.json()["detail"]
    assert world.script.delete(f"{BASE}/issue-tracker/{made['id']}/").status_code == 204
    gone = world.script.delete(one)
    assert (gone.status_code, gone.content) == (204, b"")
    assert world.script.get(connectors).json() == {"results": []}
    # Another system's connector: GitHub by its own name, a token as its secret.
    github = world.script.post(
        connectors,
        json={
            "name": "GitHub",
            "system": "github",
            "params": {
                "issue_tracker_server": "api.github.com",
                "issue_tracker_auth_mode": "token",
                "issue_tracker_pass": "ghp_example",
            },
        },
    )
    assert github.status_code == 201, github.text
    assert github.json()["system"] == {"id": "github", "name": "GitHub", "short_name": "GitHub"}
    assert github.json()["params"]["issue_tracker_user"] is None
    assert "ghp_example" not in github.text
