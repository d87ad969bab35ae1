"""Oracles and guessing (issue 16, "Access"), over real HTTP unless a function is the point.

- What a caller may not see answers exactly as what does not exist (Backbone API).
- A wrong password costs the same whether or not the user exists.
- Failed logins are throttled per user name and per client address (429, Retry-After).
- Other users' e-mail addresses are shown to administrators only, and find nobody.
- Any ``Authorization`` header is a 401 in the dialect's shape, never a 500.
"""

from __future__ import annotations

import base64
import http.client
import socket
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sync_helpers import integration_pair, local_body
from tracker_helpers import API, create_issue, create_project

from issuesync.accounts import NewUser, create_token, create_user
from issuesync.auth import Authenticator
from issuesync.errors import AuthenticationError, ConfigurationError, ThrottledError
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.throttle import LoginThrottle
from issuesync.trackers.local.adapter import local_adapter_for

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
    ("GET", "/integrations/{key}/proposal", None),
    ("PUT", "/integrations/{key}/proposal", None),
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
    ("POST", "/integrations/proposal", "create"),
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
    make_client("backbone")  # the sync user the bodies name
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


# -- 2. A wrong password costs the same, whoever it is for -----------------------------------


def test_an_unknown_user_costs_as_much_as_a_wrong_password(services: Services) -> None:
    """Function level: the answer's time must not tell which names exist.

    Medians over alternating tries; a generous factor (the difference was 30x).
    """
    factory = services.uow_factory
    create_user(factory, NewUser(name="known", password="right-password"))
    create_user(factory, NewUser(name="inactive", password="right-password"))
    create_user(factory, NewUser(name="nopassword"))
    with factory() as uow:
        uow.session.execute(update(User).where(User.name == "inactive").values(active=False))
        uow.commit()
    quiet = LoginThrottle(per_user=10**6, per_address=10**6)
    authenticator = Authenticator(factory, throttle=quiet)
    names = ("known", "nobody-by-this-name", "inactive", "nopassword")
    times: dict[str, list[float]] = {name: [] for name in names}
    for attempt in range(15):
        for name in names:
            header = basic(name, f"wrong-{attempt}")["Authorization"]
            started = time.perf_counter()
            with pytest.raises(AuthenticationError) as refused:
                authenticator.authenticate(header, "192.0.2.1")
            times[name].append(time.perf_counter() - started)
            assert refused.value.message == "The user name or password is wrong."
    known = statistics.median(times["known"])
    for name in names[1:]:
        assert statistics.median(times[name]) >= 0.5 * known, (name, times)
    # The right password still works, through all of that.
    assert authenticator.authenticate(basic("known", "right-password")["Authorization"]).name == (
        "known"
    )


# -- 3. Failed logins are throttled -----------------------------------------------------------


def test_guessing_a_password_is_throttled_per_user_in_each_dialects_shape(
    anonymous: httpx.Client, make_client: Callable[..., httpx.Client], services: Services
) -> None:
    """Defaults: 5 failures per name, 20 per address, within 5 minutes."""
    # The scheme's case makes another header with the same credentials.
    remembered = {"Authorization": basic("admin", PASSWORD)["Authorization"].lower()[:6]}
    remembered["Authorization"] += basic("admin", PASSWORD)["Authorization"][6:]
    assert anonymous.get(f"{API}/myself", headers=remembered).status_code == 200
    bob = make_client("bob")
    assert bob.get(f"{API}/myself").status_code == 200
    token = create_token(services.uow_factory, "admin", "ci")

    def guess(n: int) -> httpx.Response:
        return anonymous.get(f"{API}/myself", headers=basic("admin", f"guess-{n}"))

    answers = [guess(n) for n in range(10)]
    # Locked: the header remembered as valid still works (for its 10 seconds).
    assert anonymous.get(f"{API}/myself", headers=remembered).json()["name"] == "admin"
    answers += [guess(n) for n in range(10, 100)]
    statuses = [response.status_code for response in answers]
    assert statuses == [401] * 5 + [429] * 95, statuses
    for response in answers[5:]:
        jira_shaped(response, 429)
        assert 1 <= int(response.headers["Retry-After"]) <= 300
    # Locked: the right password is refused too, unchecked, in each dialect's shape.
    jira_shaped(anonymous.get(f"{API}/myself", headers=basic("admin", PASSWORD)), 429)
    locked = anonymous.get(f"{BASE}/integrations", headers=basic("admin", PASSWORD))
    backbone_shaped(locked, 429)
    assert 1 <= int(locked.headers["Retry-After"]) <= 300
    backbone_shaped(anonymous.get(f"{BASE}/integrations", headers=basic("admin", "x")), 429)
    # What keeps working: another user, and the user's token.
    assert anonymous.get(f"{API}/myself", headers=basic("bob", "bob-password")).status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert anonymous.get(f"{BASE}/integrations", headers=bearer).status_code == 200
    assert anonymous.get(f"{API}/myself", headers=basic("admin", token)).status_code == 200

    # 15 more failures (other names) make 20 from this address: then everything from it waits.
    for n in range(15):
        response = anonymous.get(f"{API}/myself", headers=basic(f"nobody-{n}", "x"))
        jira_shaped(response, 401)
    services.authenticator.forget()  # no header is remembered any more
    for headers in (basic("bob", "bob-password"), bearer, basic("carol", "x")):
        jira_shaped(anonymous.get(f"{API}/myself", headers=headers), 429)
    backbone_shaped(anonymous.get(f"{BASE}/integrations", headers=bearer), 429)


@pytest.mark.parametrize(
    "environment",
    [
        {
            "LOGIN_FAILURES_PER_USER": "3",
            "LOGIN_FAILURE_WINDOW_S": "1",
            "LOGIN_LOCKOUT_MAX_S": "2",
        }
    ],
    indirect=True,
)
def test_the_right_password_works_again_after_the_lock(
    anonymous: httpx.Client, services: Services
) -> None:
    right = basic("admin", PASSWORD)
    for expected_wait in (1, 2, 2):  # each lock twice the one before, up to the longest
        for n in range(3):
            jira_shaped(anonymous.get(f"{API}/myself", headers=basic("admin", f"x{n}")), 401)
        locked = anonymous.get(f"{API}/myself", headers=right)
        jira_shaped(locked, 429)
        wait = int(locked.headers["Retry-After"])
        # Whole seconds left of the lock (tests/unit/test_login_throttle.py checks exact lengths).
        assert max(1, expected_wait - 1) <= wait <= expected_wait
        time.sleep(wait + 0.2)
        assert anonymous.get(f"{API}/myself", headers=right).status_code == 200
        # A success forgets the failures (as many wrong ones are allowed again), not the
        # backoff. Forget the header remembered as valid, which would pass any lock.
        services.authenticator.forget()


def test_x_forwarded_for_does_not_choose_the_address(anonymous: httpx.Client) -> None:
    for n in range(20):
        spoofed = {**basic(f"nobody-{n}", "x"), "X-Forwarded-For": f"198.51.100.{n}"}
        jira_shaped(anonymous.get(f"{API}/myself", headers=spoofed), 401)
    spoofed = {**basic("admin", PASSWORD), "X-Forwarded-For": "198.51.100.200"}
    jira_shaped(anonymous.get(f"{API}/myself", headers=spoofed), 429)


# /metrics takes no user's login: open, or ISSUESYNC_METRICS_TOKEN (a long random value,
# compared in constant time; docs/operations.md), whose wrong guesses count in the same
# throttle when it is set (test_metrics.py); open here.
PUBLIC = {"/healthz", "/readyz", "/metrics", "/attachments/shared/{checksum}/{filename}"}
# The node API's partner routes take a one-request JWT signed with a 256-bit secret, and
# pairing a 256-bit one-time token: nothing a throttle of password guesses protects
# (docs/issuehub.md); their refusals are tested in test_nodes.py.
SIGNED = ("/rest/issuehub/2.4/relations/", "/rest/issuehub/2.4/pairings")


def test_every_route_that_needs_a_caller_goes_through_the_throttle(
    admin: httpx.Client, anonymous: httpx.Client
) -> None:
    """One door for every dialect: once an address is locked, every route says 429.

    (Each route's 401s are checked in test_tracker_auth.py and the fuzz tests.)
    """
    document = admin.get("/openapi.json").json()
    for n in range(20):  # the default limit per address
        assert anonymous.get(f"{API}/myself", headers=basic(f"nobody-{n}", "x")).status_code == 401
    refused = 0
    for path, operations in document["paths"].items():
        url = path.format_map(_Filled())
        for method in operations:
            response = anonymous.request(method.upper(), url, headers=basic("admin", PASSWORD))
            if path in PUBLIC or path.startswith(SIGNED):
                assert response.status_code != 429, (method, path)
                continue
            assert response.status_code == 429, (method, path, response.text)
            assert int(response.headers["Retry-After"]) >= 1
            if path.startswith((API, "/secure/")):
                jira_shaped(response, 429)
            elif path.startswith((BASE, "/api/1")):
                backbone_shaped(response, 429)
            refused += 1
    assert refused >= 80  # every operation of every dialect but the two public ones


class _Filled(dict[str, str]):
    """Any path parameter: "1"."""

    def __missing__(self, key: str) -> str:
        return "1"


# -- 4. Other users' e-mail addresses --------------------------------------------------------

ALICE = "alice@corp.test"
BOB = "bob@corp.test"


class People(TypedDict):
    alice: httpx.Client
    bob: httpx.Client
    attachment: str  # the id of an attachment Alice added to PA-1


@pytest.fixture
def people(admin: httpx.Client, make_client: Callable[..., httpx.Client]) -> People:
    """Alice and Bob, plain users; PA led by Alice, PA-1 with every part that names a user."""
    alice = make_client("alice", email=ALICE)
    bob = make_client("bob", email=BOB)
    response = admin.post(f"{API}/project", json={"key": "PA", "name": "A", "lead": "alice"})
    assert response.status_code == 201, response.text
    field = admin.post(f"{API}/field", json={"name": "Reviewer", "type": "user"})
    assert field.status_code == 201, field.text
    custom = field.json()["id"]
    key = create_issue(alice, "PA", "Alice's", assignee={"name": "alice"}, **{custom: "alice"})
    assert (
        alice.put(f"{API}/issue/{key}", json={"fields": {"summary": "Edited"}}).status_code == 204
    )
    assert alice.post(f"{API}/issue/{key}/comment", json={"body": "Hi"}).status_code == 201
    worklog = {"timeSpent": "1h", "comment": "w"}
    assert alice.post(f"{API}/issue/{key}/worklog", json=worklog).status_code == 201
    assert alice.post(f"{API}/issue/{key}/watchers").status_code == 204
    files = {"file": ("a.txt", b"abc")}
    headers = {"X-Atlassian-Token": "no-check"}
    attached = alice.post(f"{API}/issue/{key}/attachments", files=files, headers=headers)
    assert attached.status_code == 200, attached.text
    return {"alice": alice, "bob": bob, "attachment": attached.json()[0]["id"]}


def _user_views(client: httpx.Client, attachment: str) -> list[httpx.Response]:
    """Every read of the built-in tracker that shows users."""
    return [
        client.get(f"{API}/issue/PA-1", params={"expand": "changelog"}),
        client.get(f"{API}/search", params={"jql": "project = PA", "fields": "*all"}),
        client.post(f"{API}/search", json={"jql": "project = PA", "expand": ["changelog"]}),
        client.get(f"{API}/issue/PA-1/comment"),
        client.get(f"{API}/issue/PA-1/worklog"),
        client.get(f"{API}/issue/PA-1/watchers"),
        client.get(f"{API}/attachment/{attachment}"),
        client.get(f"{API}/project/PA"),
        client.get(f"{API}/user", params={"username": "alice"}),
        client.get(f"{API}/user/search", params={"username": "a"}),
    ]


def test_other_users_email_addresses_are_for_administrators(
    admin: httpx.Client, people: People
) -> None:
    bob, attachment = people["bob"], people["attachment"]
    for response in _user_views(bob, attachment):
        assert response.status_code == 200, response.text
        assert ALICE not in response.text, response.url
        assert "alice" in response.text, response.url  # the user is shown, without the address
    assert bob.get(f"{API}/user", params={"username": "alice"}).json()["emailAddress"] is None
    # One's own address is no secret to oneself.
    assert bob.get(f"{API}/myself").json()["emailAddress"] == BOB
    assert bob.get(f"{API}/user", params={"username": "bob"}).json()["emailAddress"] == BOB
    # An administrator sees them all, everywhere.
    for response in _user_views(admin, attachment):
        assert ALICE in response.text, response.url


def test_a_hidden_address_finds_nobody(admin: httpx.Client, people: People) -> None:
    """Else each look-up would say whether an address belongs to someone here."""
    bob = people["bob"]

    def same(ask: Callable[[str], httpx.Response]) -> httpx.Response:
        hidden, unknown = ask(ALICE), ask("nobody@corp.test")
        assert hidden.status_code == unknown.status_code, (hidden.text, unknown.text)
        assert hidden.text.replace(ALICE, "@") == unknown.text.replace("nobody@corp.test", "@")
        return hidden

    assert same(lambda a: bob.get(f"{API}/user", params={"username": a})).status_code == 404
    for prefix in ("alice@", "alice@corp.test", "ALICE@CORP"):
        assert bob.get(f"{API}/user/search", params={"username": prefix}).json() == []
    jql = same(lambda a: bob.get(f"{API}/search", params={"jql": f'assignee = "{a}"'}))
    assert jql.status_code == 400
    assign = same(
        lambda a: bob.put(f"{API}/issue/PA-1", json={"fields": {"assignee": {"emailAddress": a}}})
    )
    assert assign.status_code == 400
    assert same(lambda a: bob.post(f"{API}/issue/PA-1/watchers", json=a)).status_code == 404
    assert (
        same(lambda a: bob.delete(f"{API}/issue/PA-1/watchers", params={"username": a})).status_code
        == 404
    )
    # By their own address, and an administrator by anyone's, users are found as before.
    assert bob.get(f"{API}/user", params={"username": BOB}).json()["name"] == "bob"
    assert [
        u["name"] for u in bob.get(f"{API}/user/search", params={"username": "bob@"}).json()
    ] == ["bob"]
    assert admin.get(f"{API}/user", params={"username": ALICE}).json()["name"] == "alice"
    found = admin.get(f"{API}/search", params={"jql": f'assignee = "{ALICE}"'})
    assert [i["key"] for i in found.json()["issues"]] == ["PA-1"]
    assert admin.get(f"{API}/issue/PA-1").json()["fields"]["assignee"]["name"] == "alice"


@pytest.mark.usefixtures("people")
def test_a_connectors_query_finds_nobody_by_address(services: Services) -> None:
    """A project administrator writes them, and would read the answer in what is synced."""
    adapter = local_adapter_for(services.tracker, "PA", "bob")

    def refusal(address: str) -> str:
        with pytest.raises(ConfigurationError) as refused:
            list(adapter.changed_since(None, [f'assignee = "{address}"']))
        return refused.value.message.replace(address, "@")

    assert refusal(ALICE) == refusal("nobody@corp.test")
    pages = list(adapter.changed_since(None, ["assignee = alice"]))
    assert [replica.key for page in pages for replica in page] == ["PA-1"]


@pytest.mark.parametrize("environment", [{"SHOW_EMAIL_ADDRESSES": "true"}], indirect=True)
def test_a_setting_shows_every_address_to_everyone(people: People) -> None:
    bob = people["bob"]
    assert bob.get(f"{API}/user", params={"username": "alice"}).json()["emailAddress"] == ALICE
    assert bob.get(f"{API}/user", params={"username": ALICE}).json()["name"] == "alice"
    assert ALICE in bob.get(f"{API}/issue/PA-1").text


# -- 5. Any Authorization header is a 401, never a 500 ---------------------------------------

RAW_HEADERS = [
    b"Basic \xe9\xe9\xe9",  # Latin-1 bytes
    "Basic w6k=é".encode(),  # UTF-8 bytes
    b"Bearer \x80\xff",
    b"Basic " + base64.b64encode(b"\xff\xfe:password"),  # decodes to no UTF-8
    b"Basic " + base64.b64encode(b"a\x00b:password"),  # NUL in the name: PostgreSQL refuses it
    b"Basic " + base64.b64encode(b":"),  # no name, no password
    b"Basic " + base64.b64encode(b"admin"),  # no colon
    b"Basic ====",
    b"Basic " + b"A" * 12_000,  # longer than any credentials
    b"\xe9",
]


def _raw_get(server: str, path: str, authorization: bytes) -> tuple[int, dict[str, str], bytes]:
    """A GET whose Authorization header is exactly these bytes, over a plain socket."""
    url = urlsplit(server)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + url.netloc.encode() + b"\r\n"
            b"Authorization: " + authorization + b"\r\nConnection: close\r\n\r\n"
        )
        response = http.client.HTTPResponse(sock)
        response.begin()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()


@BOTH_STORES
def test_any_authorization_header_is_a_401_in_the_dialects_shape(
    server: str, admin: httpx.Client
) -> None:
    import json  # noqa: PLC0415

    for authorization in RAW_HEADERS:
        for path, shape in ((f"{API}/myself", "jira"), (f"{BASE}/integrations", "backbone")):
            status, headers, raw = _raw_get(server, path, authorization)
            assert status == 401, (authorization[:40], raw[:300])
            body = json.loads(raw)
            if shape == "jira":
                assert set(body) == {"errorMessages", "errors"}, body
                assert body["errorMessages"], body
            else:
                assert body["status-code"] == 401, body
            assert headers["www-authenticate"].startswith("Basic")
    # The connection and the server are fine: the right password still works.
    assert admin.get(f"{API}/myself").status_code == 200


TEXT = st.text(st.characters(codec="utf-8"), max_size=60) | st.text(max_size=60)
HEADERS = (
    TEXT
    | st.builds(lambda s: "Basic " + s, TEXT)
    | st.builds(lambda s: "Bearer " + s, TEXT)
    | st.builds(lambda b: "Basic " + base64.b64encode(b).decode(), st.binary(max_size=60))
    | st.builds(
        lambda n, p: (
            "Basic " + base64.b64encode(f"{n}:{p}".encode("utf-8", "surrogatepass")).decode()
        ),
        TEXT,
        TEXT,
    )
)


@BOTH_STORES
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(header=HEADERS)
def test_authenticate_takes_any_text(services: Services, header: str) -> None:
    """Any header value: a principal, a 401 or a 429; no other error, whatever the store."""
    try:
        principal = services.authenticator.authenticate(header, "192.0.2.7")
    except (AuthenticationError, ThrottledError):
        return
    assert isinstance(principal, Principal)


def test_a_message_shows_addresses_only_to_whom_the_jira_api_shows_them(
    services: Services, admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    """A message carries its issue's people (the engine matches them by address); the
    Backbone API shows it to a project administrator without the addresses, in the decoded
    replica and inside its base64 ``encodedPayload`` alike."""
    body = local_body()
    for side in ("firstConnector", "secondConnector"):
        body[side]["configuration"] = {
            "fieldMappings": [
                {"localField": name, "remoteField": name} for name in ("summary", "assignee")
            ]
        }
    make_client("alice", email=ALICE)
    carol = make_client("carol", project_admin=("PA",))
    with integration_pair(services, admin, body) as pair:
        create_issue(admin, "PA", "Alice's", assignee={"name": "alice"})
        pair.settle()
        (message,) = [m for m in pair.messages(pair.second_id) if m.kind == "create"]
    path = f"/api/1/connectors/PB-2/messages/{message.id}"
    shown = admin.get(path)
    assert shown.status_code == 200, shown.text
    assert ALICE in shown.text
    hidden = carol.get(path)
    assert hidden.status_code == 200, hidden.text
    assert ALICE not in hidden.text
    payload = hidden.json()["message"]["replica"]["encodedPayload"]
    assert ALICE not in base64.b64decode(payload).decode()
    replica = hidden.json()["replica"]  # the rest of the message stays
    assert replica["hubIssue"]["summary"] == "Alice's"
    assert replica["hubIssue"]["assignee"]["username"] == "alice"
