"""SD Elements' connections API (seed 004) refuses what it must, in Django REST framework's
shapes: ``{"detail"}`` for 401/403/404/405/409, ``{"field": [...]}`` for a wrong body
(``params`` keys nested under ``params``), ``{"non_field_errors": [...]}`` for a body that
is not a JSON object. Never a 500, and never a secret in an answer or the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from connections_helpers import (
    BASE,
    SYNC_PASSWORD,
    World,
    new_connection,
    token_client,
    world_of,
)

from issuesync.services import Services
from issuesync.testing.server import LiveServer

ISSUE_TRACKER = f"{BASE}/issue-tracker/"
CONNECTORS = f"{BASE}/connectors/"
TEST = f"{BASE}/test-issue-tracker/"
REQUIRED = ["This field is required."]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def world(
    services: Services, server: str, admin: httpx.Client, live_server: LiveServer
) -> Iterator[World]:
    yield from world_of(services, server, admin, live_server)


def _detail(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert list(body) == ["detail"], body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body["detail"]


def _fields(response: httpx.Response) -> Any:
    assert response.status_code == 400, (response.status_code, response.text)
    return response.json()


def test_every_route_needs_a_caller_and_takes_tokens_as_the_seed_writes_them(
    world: World, server: str, anonymous: httpx.Client
) -> None:
    made = new_connection(world, world.pa)
    one, connector = f"{ISSUE_TRACKER}{made['id']}/", f"{CONNECTORS}{world.connector}/"
    routes = [
        ("GET", ISSUE_TRACKER),
        ("POST", ISSUE_TRACKER),
        ("GET", one),
        ("PATCH", one),
        ("DELETE", one),
        ("POST", f"{one}run/"),
        ("GET", f"{one}jobs/"),
        ("GET", f"{one}jobs/1/"),
        ("POST", TEST),
        ("GET", CONNECTORS),
        ("POST", CONNECTORS),
        ("GET", connector),
        ("PATCH", connector),
        ("DELETE", connector),
    ]
    with token_client(server, "isy_not-a-token") as wrong:
        for method, path in routes:
            _detail(anonymous.request(method, path, json={}), 401)
            _detail(wrong.request(method, path, json={}), 401)
    _detail(anonymous.get(ISSUE_TRACKER, headers={"Authorization": 'Token ""'}), 401)
    # The token with or without its quotes, as Bearer, and Basic: all the same caller.
    with token_client(server, world.token, quoted=False) as bare:
        assert bare.get(one).json() == made
    bearer = {"Authorization": f"Bearer {world.token}"}
    assert anonymous.get(one, headers=bearer).json() == made
    assert world.admin.get(one).json() == made
    assert world.script.get(one).json() == made


def test_who_may_see_params_and_change_connections(
    world: World, make_client: Callable[..., httpx.Client]
) -> None:
    in_pa = new_connection(world, world.pa, alias="PA's")
    in_pc = new_connection(world, world.pc, alias="PC's")
    pa_admin = make_client("pa-admin", project_admin=("PA",))
    plain = make_client("plain")

    # Anyone reads connections and their jobs, without params unless they may edit them.
    for element in plain.get(ISSUE_TRACKER).json()["results"]:
        assert "params" not in element
    assert "params" not in plain.get(f"{ISSUE_TRACKER}{in_pa['id']}/").json()
    assert plain.get(f"{ISSUE_TRACKER}{in_pa['id']}/jobs/").json() == {"results": []}
    shown = {c["id"]: c for c in pa_admin.get(ISSUE_TRACKER).json()["results"]}
    assert shown[in_pa["id"]] == in_pa
    assert "params" not in shown[in_pc["id"]]
    assert "params" not in pa_admin.get(f"{ISSUE_TRACKER}{in_pc['id']}/").json()

    # Nobody but an administrator of the project changes, deletes or runs a connection.
    for client in (plain, pa_admin):
        one = f"{ISSUE_TRACKER}{in_pc['id']}/"
        _detail(client.patch(one, json={"alias": "mine"}), 403)
        _detail(client.delete(one), 403)
        _detail(client.post(f"{one}run/"), 403)
        _detail(client.post(ISSUE_TRACKER, json=_body(world, world.pc)), 403)
    _detail(plain.post(ISSUE_TRACKER, json=_body(world, world.pa)), 403)
    _detail(plain.post(TEST, json={"system": {"id": "jira"}, "params": {}}), 403)
    # A project administrator may not move their connection into another's project.
    mine = f"{ISSUE_TRACKER}{in_pa['id']}/"
    _detail(pa_admin.patch(mine, json={"project": world.pc}), 403)
    assert world.script.get(f"{ISSUE_TRACKER}{in_pc['id']}/").json() == in_pc

    # Their own project's connections they create, change and run.
    made = pa_admin.post(
        ISSUE_TRACKER,
        json=_body(world, world.pa, params={"issue_tracker_project": "Another Project"}),
    )
    assert made.status_code == 201, made.text
    assert pa_admin.patch(mine, json={"alias": "Renamed"}).json()["alias"] == "Renamed"
    assert pa_admin.post(f"{mine}run/").status_code == 202

    # Tracker connectors: administrators and project administrators read them; only
    # administrators make, change and delete them.
    assert pa_admin.get(CONNECTORS).status_code == 200
    _detail(plain.get(CONNECTORS), 403)
    _detail(plain.get(f"{CONNECTORS}{world.connector}/"), 403)
    _detail(pa_admin.post(CONNECTORS, json={"name": "x", "system": "jira", "params": {}}), 403)
    _detail(pa_admin.patch(f"{CONNECTORS}{world.connector}/", json={"name": "x"}), 403)
    _detail(pa_admin.delete(f"{CONNECTORS}{world.connector}/"), 403)


def _body(world: World, project: int, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "alias": "A connection",
        "connector": world.connector,
        "project": project,
        "params": {"issue_tracker_project": "PB"},
    }
    return body | changes


def test_unknown_ids_and_methods_are_drfs_404_and_405(world: World) -> None:
    made = new_connection(world, world.pa)
    one = f"{ISSUE_TRACKER}{made['id']}/"
    for path in (
        f"{ISSUE_TRACKER}999/",
        f"{ISSUE_TRACKER}abc/",
        f"{ISSUE_TRACKER}0/",
        f"{ISSUE_TRACKER}-1/",
        f"{ISSUE_TRACKER}2147483648/",
        f"{ISSUE_TRACKER}99999999999999999999999/",
        f"{ISSUE_TRACKER}999/jobs/",
        f"{one}jobs/999/",
        f"{one}jobs/x/",
        f"{CONNECTORS}999/",
        f"{CONNECTORS}1e3/",
        f"{BASE}/no-such-thing/",
    ):
        _detail(world.script.get(path), 404)
    _detail(world.script.patch(f"{ISSUE_TRACKER}999/", json={"alias": "x"}), 404)
    _detail(world.script.delete(f"{ISSUE_TRACKER}999/"), 404)
    _detail(world.script.post(f"{ISSUE_TRACKER}999/run/"), 404)
    _detail(world.script.put(one, json={}), 405)


def test_bad_bodies_name_their_fields(world: World) -> None:
    post = world.script.post
    # Not JSON, not an object: non_field_errors.
    for content in (b'{"alias": ', b"[1, 2]", b'"text"', b"NaN", b'{"alias": NaN}'):
        refused = post(ISSUE_TRACKER, content=content, headers={"Content-Type": "application/json"})
        assert list(_fields(refused)) == ["non_field_errors"], refused.text
    assert _fields(post(ISSUE_TRACKER, content=b"")) == {
        "alias": REQUIRED,
        "connector": REQUIRED,
        "project": REQUIRED,
        "params": REQUIRED,
    }
    # Missing and wrong fields, all named at once, in DRF's words.
    assert _fields(post(ISSUE_TRACKER, json={"params": {}})) == {
        "alias": REQUIRED,
        "connector": REQUIRED,
        "project": REQUIRED,
        "params": {"issue_tracker_project": REQUIRED},
    }
    wrong = _fields(
        post(
            ISSUE_TRACKER,
            json={
                "alias": 5,
                "connector": "x",
                "project": 1.5,
                "debug_mode": "yes",
                "frequency": "yearly",
                "params": "all",
            },
        )
    )
    assert wrong == {
        "alias": ["Not a valid string."],
        "connector": ["A valid integer is required."],
        "project": ["A valid integer is required."],
        "frequency": ["Not a valid choice: use one of hourly, daily, weekly, monthly, manually."],
        "debug_mode": ["Must be a valid boolean."],
        "params": ['Expected a dictionary of items but got type "str".'],
    }
    huge = _fields(post(ISSUE_TRACKER, json=_body(world, 2**31, alias="x" * 256)))
    assert huge == {
        "alias": ["Ensure this field has no more than 255 characters."],
        "project": ["Ensure this value is less than or equal to 2147483647."],
    }
    assert _fields(post(ISSUE_TRACKER, json=_body(world, world.pa, alias=None))) == {
        "alias": ["This field may not be null."]
    }
    # Unknown project or connector: the application's words, naming what there is.
    unknown = _fields(post(ISSUE_TRACKER, json=_body(world, 999)))
    assert unknown == {
        "project": [
            (
                f"There is no built-in project with id 999 (known: {world.pa} (PA), "
                f"{world.pb} (PB), {world.pc} (PC))."
            )
        ]
    }
    unknown = _fields(post(ISSUE_TRACKER, json=_body(world, world.pa, connector=999)))
    assert unknown == {
        "connector": [f"There is no tracker connector with id 999 (known: {world.connector})."]
    }
    # The params: types, ranges, the title format, the size of what is kept as given.
    params = _fields(
        post(
            ISSUE_TRACKER,
            json=_body(
                world,
                world.pa,
                params={
                    "issue_tracker_project": "",
                    "sde_min_priority": 11,
                    "conflict_policy": "mine",
                    "sde_statuses_in_scope": 7,
                    "issue_tracker_title_format": "$oops",
                    "huge": "x" * 5000,
                },
            ),
        )
    )["params"]
    assert params == {
        "issue_tracker_project": ["This field may not be blank."],
        "sde_min_priority": ["Ensure this value is less than or equal to 10."],
        "conflict_policy": ["Not a valid choice: use one of issue_tracker, sde."],
        "sde_statuses_in_scope": ["Give the statuses as a comma-separated string or a list."],
        "issue_tracker_title_format": [
            "Unknown placeholder $oops: use $project, $task_id, $title."
        ],
        "huge": ["Ensure this value has at most 4096 characters."],
    }
    many = {f"extra_{n}": n for n in range(51)}
    too_many = _fields(
        post(
            ISSUE_TRACKER,
            json=_body(world, world.pa, params={"issue_tracker_project": "PB", **many}),
        )
    )
    assert too_many == {"params": ["At most 50 params besides issuesync's own are kept."]}
    # The query: a project that is not a number.
    assert _fields(world.script.get(ISSUE_TRACKER, params={"project": "abc"})) == {
        "project": ["A valid integer is required."]
    }
    # The connection test: what it needs.
    assert _fields(post(TEST, json={})) == {"system": REQUIRED, "params": REQUIRED}
    assert _fields(post(TEST, json={"system": {"name": "JIRA"}, "params": {}})) == {
        "system": {"id": REQUIRED},
        "params": {"issue_tracker_server": REQUIRED, "issue_tracker_project": REQUIRED},
    }
    assert _fields(post(TEST, json={"connector": 999, "system": "jira", "params": {}})) == {
        "connector": ["There is no tracker connector with id 999."],
        "params": {"issue_tracker_project": REQUIRED},
    }
    # Tracker connectors: the system must be an installed adapter's, the params its own.
    system = _fields(
        post(
            CONNECTORS,
            json={"name": "Rally", "system": "rally", "params": {"issue_tracker_server": "r.test"}},
        )
    )
    assert system == {
        "system": ["Unknown system 'rally': use one of github, gitlab, jira, redmine."]
    }
    assert _fields(post(CONNECTORS, json={"system": {}, "params": {"x": 1}})) == {
        "name": REQUIRED,
        "system": {"id": REQUIRED},
        "params": {
            "x": [
                (
                    "Not a param of a tracker connector: use issue_tracker_server, "
                    "issue_tracker_method, issue_tracker_validate_cert, issue_tracker_auth_mode, "
                    "issue_tracker_user, issue_tracker_pass."
                )
            ],
            "issue_tracker_server": REQUIRED,
        },
    }
    taken = _fields(
        post(
            CONNECTORS,
            json={
                "name": "Local Jira",
                "system": "jira",
                "params": {"issue_tracker_server": "j.test"},
            },
        )
    )
    assert taken == {
        "name": [f"A tracker connector named 'Local Jira' exists (id {world.connector})."]
    }
    # Nothing was made by any of them.
    assert world.script.get(ISSUE_TRACKER).json() == {"results": []}
    assert len(world.script.get(CONNECTORS).json()["results"]) == 1


def test_a_connections_body_changes_no_connector_param_and_no_secret_is_shown(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = new_connection(world, world.pa)
    one = f"{ISSUE_TRACKER}{made['id']}/"
    moved = (
        f"This belongs to tracker connector {world.connector}: change it there, at "
        f"PATCH /api/v2/connections/connectors/{world.connector}/."
    )
    # The same values pass (the password too); others are the connector's to change.
    same = {"issue_tracker_server": world.server, "issue_tracker_pass": SYNC_PASSWORD}
    assert world.script.patch(one, json={"params": same}).status_code == 200
    refused = world.script.patch(
        one,
        json={
            "params": {
                "issue_tracker_server": "elsewhere.test",
                "issue_tracker_method": "https",
                "issue_tracker_user": "someone",
                "issue_tracker_validate_cert": False,
                "issue_tracker_auth_mode": "token",
                "issue_tracker_pass": "a-new-password-3141",
            }
        },
    )
    assert _fields(refused) == {
        "params": {
            "issue_tracker_server": [moved],
            "issue_tracker_method": [moved],
            "issue_tracker_user": [moved],
            "issue_tracker_validate_cert": [moved],
            "issue_tracker_auth_mode": [moved],
            "issue_tracker_pass": [moved],
        }
    }
    assert "a-new-password-3141" not in refused.text
    created = world.script.post(
        ISSUE_TRACKER,
        json=_body(
            world,
            world.pa,
            params={"issue_tracker_project": "PB", "issue_tracker_pass": "other-secret-2718"},
        ),
    )
    assert _fields(created) == {"params": {"issue_tracker_pass": [moved]}}
    assert world.script.get(one).json() == made

    # A connector's refusals repeat no value (pydantic's echo of its input is off).
    bad = world.script.post(
        CONNECTORS,
        json={
            "name": "Leaky",
            "system": "jira",
            "params": {
                "issue_tracker_server": "https://user:url-secret-1618@jira.test",
                "issue_tracker_pass": "pass-secret-1414",
            },
        },
    )
    assert list(_fields(bad)["params"]) == ["issue_tracker_server"]
    no_user = world.script.post(
        CONNECTORS,
        json={
            "name": "No user",
            "system": "jira",
            "params": {"issue_tracker_server": "j.test", "issue_tracker_pass": "pass-secret-1414"},
        },
    )
    assert _fields(no_user) == {
        "params": {"issue_tracker_user": ["A user is needed with a password (auth mode 'basic')."]}
    }
    changed = world.script.patch(
        f"{CONNECTORS}{world.connector}/",
        json={"params": {"issue_tracker_pass": "new-pass-secret-1732", "issue_tracker_method": 5}},
    )
    assert _fields(changed) == {
        "params": {"issue_tracker_method": ["Not a valid choice: use one of http, https."]}
    }
    # Every answer and every log line so far is free of every secret.
    shown = [
        world.script.get(ISSUE_TRACKER).text,
        world.script.get(CONNECTORS).text,
        world.script.get(f"{CONNECTORS}{world.connector}/").text,
    ]
    assert not [text for text in shown if "issue_tracker_pass" in text]
    answers = [
        *shown,
        refused.text,
        created.text,
        bad.text,
        no_user.text,
        changed.text,
    ]
    secrets = (
        SYNC_PASSWORD,
        "a-new-password-3141",
        "other-secret-2718",
        "url-secret-1618",
        "pass-secret-1414",
        "new-pass-secret-1732",
    )
    for secret in secrets:
        assert not [a for a in answers if secret in a], secret
        assert not [r for r in caplog.records if secret in r.getMessage()], secret
