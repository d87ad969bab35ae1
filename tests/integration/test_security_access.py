"""Oracles and guessing (issue 16, "Access"), over real HTTP unless a function is the point.

- What a caller may not see answers exactly as what does not exist (Backbone API).
- A wrong password costs the same whether or not the user exists.
- Failed logins are throttled per user name and per client address (429, Retry-After).
- Other users' e-mail addresses are shown to administrators only, and find nobody.
- Any ``Authorization`` header is a 401 in the dialect's shape, never a 500.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from sync_helpers import local_body
from tracker_helpers import create_project

from issuesync.app import Services

BASE = "/plugins/servlet/backbone-issue-sync/api/1"
PASSWORD = "admin-secret"  # conftest's ADMIN_PASSWORD

BOTH_STORES = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite, unless a test asks for both stores (``BOTH_STORES``)."""
    name = "postgres_url" if getattr(request, "param", "sqlite") == "postgres" else "sqlite_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """``ISSUESYNC_*`` settings a test gives by indirect parametrization, without the prefix."""
    values: dict[str, str] = getattr(request, "param", {})
    for name, value in values.items():
        monkeypatch.setenv(f"ISSUESYNC_{name}", value)
    return values


@pytest.fixture
def services(environment: dict[str, str], services: Services) -> Services:
    """The conftest's services, built after ``environment`` set its variables."""
    del environment
    return services


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def jira_shaped(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}, body
    assert body["errorMessages"], body


def backbone_shaped(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status-code"] == status, body
    assert body["message"], body


# -- 1. What a caller may not see does not exist for them ------------------------------------

Route = tuple[str, str, object]  # method, path under BASE with {key}, body

INTEGRATION_ROUTES: list[Route] = [
    ("GET", "/integrations/{key}", None),
    ("PUT", "/integrations/{key}", "spec"),
    ("DELETE", "/integrations/{key}", None),
    ("GET", "/integrations/{key}/status", None),
    ("PUT", "/integrations/{key}/start", None),
    ("PUT", "/integrations/{key}/stop", None),
    ("PUT", "/integrations/{key}/applicationConnection", {"firstConnector": {"password": "x"}}),
    ("GET", "/integrations/{key}/conflicts", None),
    ("PUT", "/integrations/{key}/conflicts/1", {"keep": "local"}),
]
CONNECTOR_ROUTES: list[Route] = [
    ("POST", "/connectors/{key}/resync", {}),
    ("GET", "/connectors/{key}/syncInformation", None),
    ("POST", "/connectors/{key}/syncInformation", []),
    ("DELETE", "/connectors/{key}/syncInformation", None),
    ("GET", "/connectors/{key}/messages", None),
    ("GET", "/connectors/{key}/messages/1", None),
    ("POST", "/connectors/{key}/messages/retry", {"ids": [1]}),
    ("POST", "/connectors/{key}/messages/discard", {"ids": [1]}),
]
TASK_ROUTES: list[Route] = [("GET", "/tasks/{key}", None), ("DELETE", "/tasks/{key}", None)]
PROJECT_ROUTES: list[Route] = [
    ("GET", "/integrations?projectKey={key}", None),
    ("POST", "/integrations", "create"),
]


@dataclass
class World:
    """INT-1 syncs PA with PB (connectors PA-1, PB-2); INT-2 syncs PD with PC (PD-3, PC-4)."""

    admin: httpx.Client
    outsider: httpx.Client  # administers PD: INT-2 is theirs, INT-1 is not
    plain: httpx.Client  # administers nothing
    task: str  # a task of INT-1

    def families(self) -> list[tuple[list[Route], str, str, int]]:
        """Each family of routes, a key of it the outsider may not see, a missing key, and
        the status both answer the outsider."""
        missing_task = uuid.uuid4().hex.upper()
        return [
            (INTEGRATION_ROUTES, "INT-1", "INT-77", 404),
            (CONNECTOR_ROUTES, "PA-1", "PA-77", 404),
            (TASK_ROUTES, self.task, missing_task, 404),
            # Projects are no secret: one not theirs is a 403, existing or not.
            (PROJECT_ROUTES, "PA", "ZZ", 403),
        ]


@pytest.fixture
def world(admin: httpx.Client, make_client: Callable[..., httpx.Client]) -> World:
    for key in ("PA", "PB", "PC", "PD"):
        create_project(admin, key)
    assert admin.post(f"{BASE}/integrations", json=local_body()).status_code == 200
    second = local_body()
    second["firstConnector"]["projectKey"] = "PD"
    second["secondConnector"]["projectKey"] = "PC"
    assert admin.post(f"{BASE}/integrations", json=second).status_code == 200
    started = admin.put(f"{BASE}/integrations/INT-1/start")
    assert started.status_code == 200, started.text
    return World(
        admin=admin,
        outsider=make_client("pd-admin", project_admin=("PD",)),
        plain=make_client("plain"),
        task=started.json()["id"],
    )


def _body(body: object, key: str) -> object:
    if body == "spec":
        return local_body()
    if body == "create":
        created = local_body()
        created["firstConnector"]["projectKey"] = key
        created["secondConnector"]["projectKey"] = "PD"
        return created
    return body


def _answer(client: httpx.Client, route: Route, key: str) -> tuple[int, str]:
    """Status and body, with the key written as ``{key}`` so that two keys compare."""
    method, template, body = route
    response = client.request(method, BASE + template.format(key=key), json=_body(body, key))
    return response.status_code, response.text.replace(key, "{key}")


def test_what_a_caller_may_not_see_answers_exactly_as_what_does_not_exist(world: World) -> None:
    before = world.admin.get(f"{BASE}/integrations/INT-1").json()
    # The keys exist, for someone who may see them.
    assert world.admin.get(f"{BASE}/connectors/PA-1/syncInformation").status_code == 200
    assert world.admin.get(f"{BASE}/tasks/{world.task}").status_code == 200
    uniform_403: set[tuple[int, str]] = set()
    for routes, hidden, missing, status in world.families():
        for route in routes:
            seen = _answer(world.outsider, route, hidden)
            assert seen == _answer(world.outsider, route, missing), route
            assert seen[0] == status, (route, seen)
            if status == 404:
                assert '"status-code":404' in seen[1], seen
            # Who administers nothing gets one 403 for everything, whatever the key.
            refused = _answer(world.plain, route, hidden)
            assert refused == _answer(world.plain, route, missing), route
            uniform_403.add(refused)
    assert len(uniform_403) == 1, uniform_403
    assert next(iter(uniform_403))[0] == 403
    # The same under the short base path; and nothing the outsider sent changed anything.
    assert world.outsider.get("/api/1/integrations/INT-1").status_code == 404
    assert world.admin.get(f"{BASE}/integrations/INT-1").json() == before
    # Their own integration they see, as before.
    assert world.outsider.get(f"{BASE}/integrations/INT-2").status_code == 200
    assert world.outsider.get(f"{BASE}/connectors/PD-3/syncInformation").status_code == 200


def test_every_backbone_route_with_a_key_is_in_the_visibility_test(admin: httpx.Client) -> None:
    """A new route that names an integration, connector or task must join the test above."""
    covered = {
        (method, template.split("?")[0])
        for routes in (INTEGRATION_ROUTES, CONNECTOR_ROUTES, TASK_ROUTES, PROJECT_ROUTES)
        for method, template, _ in routes
    }
    served = set()
    for path, operations in admin.get("/openapi.json").json()["paths"].items():
        if path.startswith(BASE):
            path = path.removeprefix(BASE)  # noqa: PLW2901
            for name in ("{integrationKey}", "{connectorKey}", "{taskId}"):
                path = path.replace(name, "{key}")  # noqa: PLW2901
            path = path.replace("{messageId}", "1")  # noqa: PLW2901
            served |= {(method.upper(), path) for method in operations}
    assert served == covered | {("GET", "/integrations")}
