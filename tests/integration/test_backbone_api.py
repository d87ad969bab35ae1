"""The Backbone management API over real HTTP: every route, its shapes and its bad paths.

The server here runs no engine (lifecycle tasks stay unfinished until one runs;
tests/e2e/test_backbone_user.py runs the whole flow with the engine).
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from integration_helpers import (
    BACKBONE_DATE,
    SEED_REQUEST,
    SEED_SYNC_INFO,
    stopped_connector_status,
)
from sqlalchemy import delete
from sync_helpers import integration_pair, local_body
from tracker_helpers import create_issue, create_project

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.application.integrations import project_checker, set_running
from issuesync.services import Services
from issuesync.store.users import User

BASE = "/plugins/servlet/backbone-issue-sync/api/1"
TASK_ID = re.compile(r"^[0-9A-F]{32}$")
TASK_TIMESTAMP = re.compile(r"^[A-Z][a-z]{2} \d{2}, \d{4} -- \d{2}:\d{2} [AP]M$")
TASK_KEYS = {
    "id",
    "startTimestamp",
    "finished",
    "cancelled",
    "hasFailed",
    "failureMessage",
    "progress",
    "message",
    "resourceLocation",
}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """These tests check the HTTP layer; the services below run on both stores elsewhere."""
    return sqlite_url


@pytest.fixture
def projects(admin: httpx.Client, services: Services) -> httpx.Client:
    """PA, PB and PC, and ``backbone``: the sync user the seed's bodies name must exist."""
    for key in ("PA", "PB", "PC"):
        create_project(admin, key)
    create_user(services.uow_factory, NewUser(name="backbone", email="backbone@example.test"))
    return admin


def create(client: httpx.Client, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = client.post(f"{BASE}/integrations", json=body or local_body())
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_error(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The Backbone error shape, with a message that says what is wrong."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status-code"] == status
    for word in words:
        assert word in body["message"] or word in str(body.get("errors")), body
    return body


def assert_task(body: dict[str, Any]) -> None:
    assert set(body) == TASK_KEYS
    assert TASK_ID.match(body["id"])
    assert TASK_TIMESTAMP.match(body["startTimestamp"])
    assert 0 <= body["progress"] <= 100


def no_secret(document: object, *secrets: str) -> None:
    text = str(document)
    for secret in secrets:
        assert secret not in text


# -- integrations -------------------------------------------------------------------------


def test_the_seeds_example_request_is_accepted_and_answered_in_its_shape(
    admin: httpx.Client,
) -> None:
    # Seed 001's body as it is: two Jira connections (baseUrl), a password on each.
    response = admin.post(f"{BASE}/integrations", json=SEED_REQUEST)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["integrationKey"] == "INT-1"
    assert body["summary"] == SEED_REQUEST["summary"]
    assert BACKBONE_DATE.match(body["createdDate"])
    assert body["createdUser"] == body["lastModifiedUser"] == "admin"
    first, second = body["firstConnector"], body["secondConnector"]
    assert (first["connectorKey"], second["connectorKey"]) == ("PA-1", "PB-2")
    assert first["projectConnectorKey"].startswith("k15t.backbone.syncinfo.")
    assert first["connection"]["application"]["baseUrl"] == "http://localhost:8510/jira"
    assert first["connection"]["application"]["user"] == "backbone"
    assert "password" not in first["connection"]["application"]
    assert first["connection"]["connector"]["sendQueue"] == {"@type": "vm", "name": "PA-1_PB-2"}
    assert first["configuration"]["sync"]["outgoingInterval"] == "5s"
    assert first["configuration"]["workflowMappings"][0]["id"] == "##GLOBAL##"
    no_secret(body, '"backbone"}', "password")

    # The same document under both base paths.
    assert admin.get(f"{BASE}/integrations/INT-1").json() == body
    assert admin.get("/api/1/integrations/int-1").json() == body


def test_list_embeds_each_status_and_filters_by_project(projects: httpx.Client) -> None:
    create(projects)
    body = local_body()
    body["secondConnector"]["projectKey"] = "PC"
    create(projects, body)
    listed = projects.get(f"{BASE}/integrations").json()
    assert [i["integrationKey"] for i in listed] == ["INT-1", "INT-2"]
    status = listed[0]["status"]
    assert status["status"] == "STOPPED"
    assert status["firstConnector"] == stopped_connector_status("PA-1")
    assert projects.get(f"{BASE}/integrations/INT-1/status").json() == status
    only_pc = projects.get(f"{BASE}/integrations", params={"projectKey": "pc"}).json()
    assert [i["integrationKey"] for i in only_pc] == ["INT-2"]
    assert projects.get(f"{BASE}/integrations", params={"projectKey": "ZZ"}).json() == []


def test_unknown_keys_answer_404_with_a_message(admin: httpx.Client) -> None:
    for path in (
        "/integrations/INT-9",
        "/integrations/INT-9/status",
        "/connectors/PA-9/syncInformation",
        "/connectors/PA-9/messages",
        "/tasks/0123456789ABCDEF0123456789ABCDEF",
        "/tasks/not-a-task",
    ):
        assert_error(admin.get(BASE + path), 404, "9" if "9" in path else "task")
    assert_error(admin.put(f"{BASE}/integrations/INT-9/start"), 404, "INT-9")
    assert_error(admin.delete(f"{BASE}/integrations/INT-9"), 404, "INT-9")
    assert_error(admin.get(f"{BASE}/nothing"), 404)


def test_a_malformed_body_is_a_400_naming_the_field(projects: httpx.Client) -> None:
    body = local_body()
    del body["firstConnector"]["projectKey"]
    assert_error(projects.post(f"{BASE}/integrations", json=body), 400, "firstConnector.projectKey")
    body = local_body()
    body["firstConnector"]["colour"] = "red"
    assert_error(projects.post(f"{BASE}/integrations", json=body), 400, "colour")
    body = local_body()
    body["firstConnector"]["projectKey"] = "NOPE"
    assert_error(projects.post(f"{BASE}/integrations", json=body), 400, "NOPE")
    response = projects.post(
        f"{BASE}/integrations", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "JSON")
    assert_error(projects.post(f"{BASE}/integrations", json=[1, 2]), 400)
    nul = local_body()
    nul["summary"] = "a\x00b"
    assert_error(projects.post(f"{BASE}/integrations", json=nul), 400, "NUL")
    assert projects.get(f"{BASE}/integrations").json() == []  # nothing half-created


def test_the_same_pair_again_is_a_409(projects: httpx.Client) -> None:
    create(projects)
    assert_error(projects.post(f"{BASE}/integrations", json=local_body()), 409, "INT-1")
    swapped = local_body()
    swapped["firstConnector"], swapped["secondConnector"] = (
        swapped["secondConnector"],
        swapped["firstConnector"],
    )
    assert_error(projects.post(f"{BASE}/integrations", json=swapped), 409, "INT-1")


def test_put_changes_the_integration_and_answers_a_task(projects: httpx.Client) -> None:
    created = create(projects)
    change = copy.deepcopy(created)  # a GET's document, edited and sent back
    change["summary"] = "Renamed"
    change["firstConnector"]["configuration"]["sync"]["outgoingInterval"] = "2s"
    change["firstConnector"]["connection"]["application"]["password"] = "new-secret"
    response = projects.put(f"{BASE}/integrations/INT-1", json=change)
    assert response.status_code == 200, response.text
    task = response.json()
    assert_task(task)
    assert task["finished"]  # stopped: nothing to restart
    shown = projects.get(f"{BASE}/integrations/INT-1").json()
    assert shown["summary"] == "Renamed"
    assert shown["firstConnector"]["configuration"]["sync"]["outgoingInterval"] == "2s"
    no_secret(shown, "new-secret")
    change["integrationKey"] = "INT-7"
    assert_error(projects.put(f"{BASE}/integrations/INT-1", json=change), 400, "integrationKey")


def test_delete_removes_the_integration(projects: httpx.Client) -> None:
    create(projects)
    response = projects.delete(f"{BASE}/integrations/INT-1")
    assert response.status_code == 200, response.text
    assert_error(projects.get(f"{BASE}/integrations/INT-1"), 404)
    create(projects)  # the pair is free again


def test_delete_of_a_running_integration_stops_it_first(projects: httpx.Client) -> None:
    create(projects)
    start = projects.put(f"{BASE}/integrations/INT-1/start").json()
    assert_task(start)
    assert not start["finished"]  # no engine runs in this server
    assert projects.get(f"{BASE}/integrations/INT-1/status").json()["status"] == "RUNNING"
    assert projects.delete(f"{BASE}/integrations/INT-1").status_code == 200
    assert_error(projects.get(f"{BASE}/tasks/{start['id']}"), 404)


# -- lifecycle tasks ----------------------------------------------------------------------


def test_start_and_stop_answer_tasks_that_can_be_read_and_cancelled(
    projects: httpx.Client,
) -> None:
    create(projects)
    start = projects.put(f"{BASE}/integrations/INT-1/start")
    assert start.status_code == 200
    task = start.json()
    assert_task(task)
    assert (task["finished"], task["cancelled"], task["hasFailed"]) == (False, False, False)
    read = projects.get(f"{BASE}/tasks/{task['id']}").json()
    assert read["id"] == task["id"]
    assert read["progress"] == 0  # no engine has taken the connectors
    assert projects.get(f"/api/1/tasks/{task['id'].lower()}").json()["id"] == task["id"]
    cancelled = projects.delete(f"{BASE}/tasks/{task['id']}").json()
    assert cancelled["cancelled"]
    assert cancelled["finished"]
    assert_error(projects.delete(f"{BASE}/tasks/{task['id']}"), 409, "finished")
    stop = projects.put(f"{BASE}/integrations/INT-1/stop").json()
    assert stop["finished"]
    assert not stop["hasFailed"]
    status = projects.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["status"] == "STOPPED"


def test_a_start_superseded_by_a_stop_fails_with_the_reason(projects: httpx.Client) -> None:
    create(projects)
    task = projects.put(f"{BASE}/integrations/INT-1/start").json()
    projects.put(f"{BASE}/integrations/INT-1/stop")
    read = projects.get(f"{BASE}/tasks/{task['id']}").json()
    assert read["finished"]
    assert read["hasFailed"]
    assert "stopped again" in read["failureMessage"]


def test_application_connection_updates_secrets_and_proxies(
    projects: httpx.Client, services: Services
) -> None:
    create(projects, SEED_REQUEST)  # remote connectors: a built-in one keeps no secret
    body = {
        "firstConnector": {
            "user": "backbone",
            "password": "rotated-password",
            "proxy": {"proxyUri": "http://127.0.0.1:3128", "username": "px", "password": "pxpw"},
        },
        "secondConnector": {"password": "other-password"},
    }
    response = projects.put(f"{BASE}/integrations/INT-1/applicationConnection", json=body)
    assert response.status_code == 200, response.text
    assert_task(response.json())
    shown = projects.get(f"{BASE}/integrations/INT-1").json()
    application = shown["firstConnector"]["connection"]["application"]
    assert application["proxy"] == {"proxyUri": "http://127.0.0.1:3128", "username": "px"}
    no_secret(shown, "rotated-password", "pxpw", "other-password")
    with services.uow_factory(readonly=True) as uow:
        from issuesync.application.integrations import connector_by_key, connector_secret  # noqa: PLC0415

        config = connector_by_key(uow.session, "PA-1")
        secret = connector_secret(uow.session, services.secrets, config.id)
    assert secret is not None
    assert "rotated-password" in str(secret)

    renamed = {"firstConnector": {"user": "someone-else", "password": "x"}}
    task = projects.put(f"{BASE}/integrations/INT-1/applicationConnection", json=renamed).json()
    assert "stays 'backbone'" in task["message"]  # not applied, and said so
    shown = projects.get(f"{BASE}/integrations/INT-1").json()
    assert shown["firstConnector"]["connection"]["application"]["user"] == "backbone"
    assert_error(
        projects.put(f"{BASE}/integrations/INT-1/applicationConnection", json={}),
        400,
        "firstConnector",
    )


# -- connectors (seed 000) ----------------------------------------------------------------


def test_sync_information_import_list_filter_and_delete(projects: httpx.Client) -> None:
    create(projects)
    path = f"{BASE}/connectors/PA-1/syncInformation"
    response = projects.post(path, json=SEED_SYNC_INFO)  # seed 000's example, as it is
    assert response.status_code == 200, response.text
    listed = projects.get(path).json()
    assert [(e["localIssueKey"], e["remoteIssueKey"]) for e in listed] == [
        ("PA-1", "PB-1"),
        ("PA-2", "PB-2"),
    ]
    assert listed[0] == {"id": listed[0]["id"], "connectorKey": "PA-1", **SEED_SYNC_INFO[0]}
    assert len(projects.get(path, params={"localIssueKey": "PA-2"}).json()) == 1
    assert projects.get(path, params={"remoteIssueKey": "PB-1"}).json()[0]["localIssueKey"] == (
        "PA-1"
    )
    assert projects.post(path, json=listed).status_code == 200  # a GET's list imports as is
    assert_error(projects.post(path, json=[{"localIssueKey": "PA-3"}]), 400, "remoteIssueKey")
    assert_error(
        projects.post(path, json=[{"localIssueKey": "PA-3", "remoteIssueKey": "PB-1"}]),
        400,
        "already linked",
    )
    assert projects.delete(path, params={"syncInfoId": listed[0]["id"]}).status_code == 200
    assert [e["localIssueKey"] for e in projects.get(path).json()] == ["PA-2"]
    assert_error(projects.delete(path, params={"syncInfoId": 99999}), 404, "99999")
    assert projects.delete(path).json()["count"] == 1  # all of the connector's
    assert projects.get(path).json() == []


def test_resync_checks_its_request(projects: httpx.Client) -> None:
    created = create(projects)
    path = f"{BASE}/connectors/PA-1/resync"
    seed_body = {
        "jql": "component = A",
        "fieldMappings": [
            "5f513c5e-49ca-4d26-856f-8fce2d7597e8",
            "468e9b09-e09d-4d90-ad6a-aa18dc336b4d",
        ],
        "responsibility": False,
        "sendStatusField": False,
    }
    assert_error(projects.post(path, json=seed_body), 409, "start it")
    projects.put(f"{BASE}/integrations/INT-1/start")
    assert_error(projects.post(path, json=seed_body), 400, "fieldMappings[0]")
    ids = [m["id"] for m in created["firstConnector"]["configuration"]["fieldMappings"]][:2]
    response = projects.post(
        path, json={**seed_body, "fieldMappings": ids, "jql": "priority = High"}
    )
    assert response.status_code == 200, response.text
    task = response.json()
    assert_task(task)
    assert task["message"] == "Starting resync for connector PA-1"
    bad_jql = {**seed_body, "fieldMappings": ids, "jql": "priority = = x"}
    assert_error(projects.post(path, json=bad_jql), 400, "jql")
    assert_error(projects.post(path, json={"jql": 5}), 400, "jql")


def test_messages_routes_and_their_bad_input(projects: httpx.Client) -> None:
    create(projects)
    path = f"{BASE}/connectors/PB-2/messages"
    assert projects.get(path).json() == []
    assert projects.get(path, params={"state": "error", "queue": "send"}).json() == []
    assert_error(projects.get(path, params={"state": "lost"}), 400, "state")
    assert_error(projects.get(f"{path}/12345"), 404, "12345")
    assert_error(projects.post(f"{path}/retry", json={}), 400, "ids")
    assert_error(projects.post(f"{path}/retry", json={"ids": [77]}), 404, "77")
    assert projects.post(f"{path}/discard", json={"state": "error"}).json()["count"] == 0
    assert_error(
        projects.put(f"{BASE}/integrations/INT-1/conflicts/5", json={"keep": "local"}), 404, "5"
    )
    assert_error(
        projects.put(f"{BASE}/integrations/INT-1/conflicts/5", json={"keep": "both"}), 400, "keep"
    )


# -- who may do what ----------------------------------------------------------------------


@pytest.fixture
def users(
    projects: httpx.Client, make_client: Callable[..., httpx.Client]
) -> dict[str, httpx.Client]:
    create(projects)  # INT-1: PA <> PB
    body = local_body()
    body["firstConnector"]["projectKey"] = "PC"
    create(projects, body)  # INT-2: PC <> PB
    return {
        "pa_admin": make_client("pa-admin", project_admin=("PA",)),
        "user": make_client("plain"),
    }


def test_a_project_admin_sees_and_steers_only_their_integrations(
    users: dict[str, httpx.Client],
) -> None:
    pa = users["pa_admin"]
    assert_error(pa.get(f"{BASE}/integrations"), 400, "projectKey")
    listed = pa.get(f"{BASE}/integrations", params={"projectKey": "PA"}).json()
    assert [i["integrationKey"] for i in listed] == ["INT-1"]
    assert_error(pa.get(f"{BASE}/integrations", params={"projectKey": "PC"}), 403, "PC")
    assert pa.get(f"{BASE}/integrations/INT-1/status").status_code == 200
    # What they may not see does not exist for them (tests/integration/test_security_access.py).
    assert_error(pa.get(f"{BASE}/integrations/INT-2"), 404, "INT-2")
    assert_error(pa.put(f"{BASE}/integrations/INT-2/start"), 404)
    assert_error(pa.get(f"{BASE}/connectors/PC-3/syncInformation"), 404)
    assert pa.get(f"{BASE}/connectors/PB-2/syncInformation").status_code == 200
    assert pa.put(f"{BASE}/integrations/INT-1/start").status_code == 200
    # Creating needs every built-in project of the pair.
    body = local_body()
    body["secondConnector"]["projectKey"] = "PC"
    assert_error(pa.post(f"{BASE}/integrations", json=body), 403, "PC")


def test_others_get_403_and_strangers_401(
    users: dict[str, httpx.Client], anonymous: httpx.Client
) -> None:
    plain = users["user"]
    for response in (
        plain.get(f"{BASE}/integrations"),
        plain.get(f"{BASE}/integrations/INT-1/status"),
        plain.put(f"{BASE}/integrations/INT-1/stop"),
        plain.post(f"{BASE}/integrations", json=local_body()),
    ):
        assert_error(response, 403)
    assert_error(anonymous.get(f"{BASE}/integrations"), 401)
    assert_error(anonymous.get("/api/1/integrations/INT-1/status"), 401)


def test_the_openapi_document_describes_every_route(admin: httpx.Client) -> None:
    document = admin.get("/openapi.json").json()
    paths = document["paths"]
    for prefix in (BASE, "/api/1"):
        for route in (
            "/integrations",
            "/integrations/{integrationKey}",
            "/integrations/{integrationKey}/status",
            "/integrations/{integrationKey}/conflicts",
            "/integrations/{integrationKey}/start",
            "/integrations/{integrationKey}/stop",
            "/integrations/{integrationKey}/applicationConnection",
            "/connectors/{connectorKey}/resync",
            "/connectors/{connectorKey}/syncInformation",
            "/connectors/{connectorKey}/messages",
            "/tasks/{taskId}",
        ):
            assert prefix + route in paths, prefix + route
    status = paths[f"{BASE}/integrations/{{integrationKey}}/status"]["get"]
    assert status["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "StatusOut"
    )
    assert admin.get("/docs").status_code == 200


def test_conflicts_of_a_sound_integration_and_of_a_broken_one(
    projects: httpx.Client, services: Services
) -> None:
    create(projects)  # defaults between two built-in projects
    assert projects.get(f"{BASE}/integrations/INT-1/conflicts").json() == []
    # The sync user must exist to be named; here it is deleted after that.
    with services.uow_factory() as uow:
        uow.session.execute(delete(User).where(User.name == "backbone"))
        uow.commit()
    broken = projects.get(f"{BASE}/integrations/INT-1/conflicts").json()
    assert {c["type"] for c in broken} == {"connectionFailed"}
    assert all("backbone" in c["message"] for c in broken)
    body = local_body()
    body["firstConnector"]["projectKey"] = "PC"
    body["firstConnector"]["configuration"] = {
        "fieldMappings": [{"localField": "colour", "remoteField": "summary"}]
    }
    body["firstConnector"]["connection"]["application"]["user"] = "admin"
    body["secondConnector"]["connection"]["application"]["user"] = "admin"
    create(projects, body)  # INT-2
    found = projects.get(f"{BASE}/integrations/INT-2/conflicts").json()
    kinds = {(c["category"], c["type"], c["connectorKey"]) for c in found}
    assert ("validation", "unknownField", "PC-3") in kinds
    unknown = next(c for c in found if c["type"] == "unknownField")
    assert "colour" in unknown["message"]
    assert unknown["resolution"]
    assert_error(projects.get(f"{BASE}/integrations/INT-9/conflicts"), 404, "INT-9")


def test_status_follows_changes_made_elsewhere(projects: httpx.Client, services: Services) -> None:
    # The board answers from a snapshot; changes of other processes show within its age.
    create(projects)
    assert projects.get(f"{BASE}/integrations/INT-1/status").json()["status"] == "STOPPED"
    body = local_body()
    body["secondConnector"]["projectKey"] = "PC"
    with services.uow_factory() as uow:  # as the CLI or another server would
        created = create_from_spec(
            uow.session,
            IntegrationSpec.model_validate(body),
            actor="cli",
            secrets=services.secrets,
            project_exists=project_checker(services),
            places=services.queue_places,
        )
        set_running(uow.session, "INT-1", running=True, actor="cli")
        uow.commit()
    assert created.key == "INT-2"
    # A key the snapshot does not know is looked up again at once, not a 404.
    assert projects.get(f"{BASE}/integrations/INT-2/status").json()["status"] == "STOPPED"
    deadline = time.monotonic() + 5
    while projects.get(f"{BASE}/integrations/INT-1/status").json()["status"] != "RUNNING":
        assert time.monotonic() < deadline, "the status never showed the change"
        time.sleep(0.05)
    listed = projects.get(f"{BASE}/integrations").json()
    assert [i["status"]["status"] for i in listed] == ["RUNNING", "STOPPED"]


# -- the seeds' other example requests, as they are ----------------------------------------

SEED_RESYNC: dict[str, Any] = {  # seed 000, "Trigger a resync"
    "jql": "component = A",
    "fieldMappings": [
        "5f513c5e-49ca-4d26-856f-8fce2d7597e8",
        "468e9b09-e09d-4d90-ad6a-aa18dc336b4d",
    ],
    "responsibility": False,
    "sendStatusField": False,
}


SEED_CONNECTION = {  # seed 001, "applicationConnection", the proxy example, as it is
    "firstConnector": {
        "baseUrl": "<new base url>",
        "user": "<syncuser username>",
        "password": "<syncuser password>",
        "proxy": {
            "proxyUri": "<proxy url:port>",
            "username": "<proxy username>",
            "password": "<proxy password>",
        },
    },
    "secondConnector": {
        "baseUrl": "<new base url>",
        "user": "<syncuser username>",
        "password": "<syncuser password>",
    },
}


def test_the_seeds_put_and_resync_examples_are_accepted(projects: httpx.Client) -> None:
    body = local_body()
    body["secondConnector"]["projectKey"] = "PC"
    create(projects, body)  # INT-1, so that the seed's POST makes INT-2 as its PUT expects
    assert create(projects, SEED_REQUEST)["integrationKey"] == "INT-2"
    put = copy.deepcopy(SEED_REQUEST) | {"integrationKey": "INT-2"}  # seed 001's PUT example
    response = projects.put(f"{BASE}/integrations/INT-2", json=put)
    assert response.status_code == 200, response.text
    assert_task(response.json())
    # The seed's URL placeholders are not URLs: refused, naming the fields (issue 16: every
    # URL a body carries is checked); with URLs in their places the example is accepted.
    path = f"{BASE}/integrations/INT-2/applicationConnection"
    refused = projects.put(path, json=SEED_CONNECTION)
    assert refused.status_code == 400, refused.text
    assert {"firstConnector.baseUrl", "firstConnector.proxy.proxyUri"} <= set(
        refused.json()["errors"]
    )
    text = json.dumps(SEED_CONNECTION).replace("<new base url>", "https://jira.example.test")
    with_urls = json.loads(text.replace("<proxy url:port>", "http://proxy.example.test:3128"))
    for example in (with_urls, {k: {**v, "proxy": None} for k, v in with_urls.items()}):
        plain = {k: {n: x for n, x in v.items() if x is not None} for k, v in example.items()}
        response = projects.put(path, json=plain)
        assert response.status_code == 200, response.text
        assert_task(response.json())
    shown = projects.get(f"{BASE}/integrations/INT-2").json()
    no_secret(shown, "<syncuser password>", "<proxy password>")
    proxy = shown["firstConnector"]["connection"]["application"]["proxy"]
    assert proxy == {"proxyUri": "http://proxy.example.test:3128", "username": "<proxy username>"}

    # A connector whose field mappings carry the ids seed 000's resync example names.
    mapped = local_body()
    mapped["firstConnector"]["projectKey"] = "PB"
    mapped["secondConnector"]["projectKey"] = "PC"
    mapped["firstConnector"]["configuration"] = {
        "fieldMappings": [
            {
                "id": SEED_RESYNC["fieldMappings"][0],
                "localField": "summary",
                "remoteField": "summary",
            },
            {
                "id": SEED_RESYNC["fieldMappings"][1],
                "localField": "labels",
                "remoteField": "labels",
            },
        ]
    }
    connector = create(projects, mapped)["firstConnector"]["connectorKey"]
    projects.put(f"{BASE}/integrations/INT-3/start")
    response = projects.post(f"{BASE}/connectors/{connector}/resync", json=SEED_RESYNC)
    assert response.status_code == 200, response.text
    assert_task(response.json())


# -- sync information of a real sync --------------------------------------------------------

SEED_000_NUMBERS = (  # typed long or integer by seed 000
    "firstSyncDate",
    "lastOutgoingChange",
    "lastChangeSeen",
    "outgoingMessageSequenceId",
    "lastIncomingChange",
    "incomingMessageSequenceId",
)


def test_sync_information_has_a_number_wherever_seed_000_types_one(
    services: Services, admin: httpx.Client
) -> None:
    """An issue that has only been sent has received nothing: ``lastIncomingChange`` is 0,
    never ``null``, on its side; the twin's side has sent nothing and says so with 0s."""
    with integration_pair(services, admin) as pair:
        key = create_issue(admin, "PA", "Only sent")
        pair.settle()
        twin = pair.twin(key)
        sent = admin.get(f"{BASE}/connectors/PA-1/syncInformation", params={"localIssueKey": key})
        received = admin.get(
            f"{BASE}/connectors/PB-2/syncInformation", params={"localIssueKey": twin}
        )
    for answer in (sent, received):
        assert answer.status_code == 200, answer.text
        (entry,) = answer.json()
        for name in SEED_000_NUMBERS:
            assert type(entry[name]) is int, (name, entry)
    (on_a,) = sent.json()
    assert on_a["outgoingMessageSequenceId"] == 1
    assert on_a["lastOutgoingChange"] > 0
    (on_b,) = received.json()
    assert on_b["incomingMessageSequenceId"] == 1
    assert on_b["lastIncomingChange"] > 0
    assert on_b["outgoingMessageSequenceId"] == 0
    assert on_b["lastOutgoingChange"] == 0

    # Entries imported with their keys only read the same way, and import again unchanged.
    imported = admin.post(
        f"{BASE}/connectors/PA-1/syncInformation",
        json=[{"localIssueKey": "PA-77", "remoteIssueKey": "PB-77"}],
    )
    assert imported.status_code == 200, imported.text
    listed = admin.get(
        f"{BASE}/connectors/PA-1/syncInformation", params={"localIssueKey": "PA-77"}
    ).json()
    assert [{name: listed[0][name] for name in SEED_000_NUMBERS}] == [
        dict.fromkeys(SEED_000_NUMBERS, 0)
    ]
    again = admin.post(f"{BASE}/connectors/PA-1/syncInformation", json=listed)
    assert again.status_code == 200, again.text
    assert (
        admin.get(
            f"{BASE}/connectors/PA-1/syncInformation", params={"localIssueKey": "PA-77"}
        ).json()
        == listed
    )


# -- messages and data conflicts of a real sync ---------------------------------------------


def test_a_data_conflict_is_listed_shown_retried_and_settled_over_http(
    services: Services, admin: httpx.Client
) -> None:
    with integration_pair(services, admin) as pair:
        key = create_issue(admin, "PA", "Base")
        pair.settle()
        twin = pair.twin(key)
        pair.edit(key, summary="A's idea")
        pair.edit(twin, summary="B's idea")
        pair.settle()

        found = admin.get(f"{BASE}/integrations/{pair.key}/conflicts").json()
        data = {c["connectorKey"]: c for c in found if c["category"] == "data"}
        assert set(data) == {"PA-1", "PB-2"}
        on_b = data["PB-2"]
        assert on_b["fields"] == [
            {"field": "summary", "localValue": "B's idea", "remoteValue": "A's idea"}
        ]
        in_error = admin.get(f"{BASE}/connectors/PB-2/messages", params={"state": "error"}).json()
        assert [m["id"] for m in in_error] == [on_b["messageId"]]
        assert "conflict" in in_error[0]["reason"]
        shown = admin.get(f"{BASE}/connectors/PB-2/messages/{on_b['messageId']}").json()
        assert shown["state"] == "error"
        assert shown["replica"]["hubIssue"]["key"] == key  # the sender's issue, decoded
        assert shown["message"]["sequenceId"] >= 1

        # A retry without a decision meets the same conflict again.
        retried = admin.post(
            f"{BASE}/connectors/PB-2/messages/retry", json={"ids": [on_b["messageId"]]}
        )
        assert retried.json()["count"] == 1
        pair.settle()
        assert (
            admin.get(f"{BASE}/integrations/{pair.key}/status").json()["secondConnector"][
                "issuesInError"
            ]
            == 1
        )

        for connector, keep in (("PB-2", "remote"), ("PA-1", "local")):
            settled = admin.put(
                f"{BASE}/integrations/{pair.key}/conflicts/{data[connector]['messageId']}",
                json={"keep": keep},
            )
            assert settled.status_code == 200, settled.text
            assert settled.json()["count"] == 1
        pair.settle()
        assert pair.fields(twin)["summary"] == pair.fields(key)["summary"] == "A's idea"
        assert admin.get(f"{BASE}/integrations/{pair.key}/conflicts").json() == []
        again = admin.put(
            f"{BASE}/integrations/{pair.key}/conflicts/{on_b['messageId']}", json={"keep": "local"}
        )
        assert_error(again, 400, "no conflict")
        discarded = admin.post(f"{BASE}/connectors/PB-2/messages/discard", json={"issueKey": key})
        assert discarded.json()["count"] == 0  # all archived: nothing left to give up
