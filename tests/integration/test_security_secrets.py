"""Secrets stay secret (issue 16, "Secrets"): URLs, trackers' error texts, proxies.

- A URL never carries a credential: every URL a body can give (``baseUrl``,
  ``proxy.proxyUri``, on create, update and ``applicationConnection``; the CLI's
  ``integration create``) is refused with a 400 that names the fields to use, and
  nothing is stored. Other schemes and query strings are refused too.
- A tracker that echoes the request (headers and all) in its errors leaks nothing:
  a GitHub and a GitLab connector point at such a tracker, served over real HTTP;
  after the engine ran, neither token shows in the status, the integration list,
  the conflicts, the messages, the CLI, the log, nor in the bytes of the SQLite
  database and its write-ahead log.
- A connector's proxy carries its traffic: pproxy (PyPI), a real HTTP proxy with a
  login, on loopback (``proxy_helpers``). The tracker's host name is known to the
  proxy only, so what reached the tracker went through the proxy; a proxy at a
  dead port makes the tracker offline and nothing reaches it directly.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from proxy_helpers import PROXIED_HOST, LoopbackProxy, free_port
from sync_helpers import local_body, wait_for
from sync_helpers import synced_twin as twin
from test_cli import run
from tracker_helpers import create_issue, create_project

from issuesync.errors import IssueSyncError
from issuesync.services import Services
from issuesync.testing.fake_github import FakeGitHub
from issuesync.testing.handler_server import HandlerServer
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.credentials import ProxySettings
from issuesync.trackers.github import github_adapter_for
from issuesync.trackers.gitlab import gitlab_adapter_for
from issuesync.trackers.jira import jira_adapter_for
from issuesync.trackers.redmine import redmine_adapter_for

BASE = "/api/1"
PASSWORD = "Pw-in-the-url-7f3a9"
REPO = "octo-org/widgets"
TYPES = ("Bug", "Task", "Story", "Epic")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the database file's bytes are read below


def run_cli(services: Services, *args: str) -> subprocess.CompletedProcess[str]:
    """``issuesync`` in a process of its own, on the test server's home and database."""
    database = {"ISSUESYNC_DATABASE_URL": services.settings.resolved_database_url}
    return run(services.settings.home, *args, env=database | {"COLUMNS": "200"})


def github_side(url: str, token: str, **application: Any) -> dict[str, Any]:
    """A GitHub repository's connector, its types and statuses mapped to PA's."""
    return {
        "projectKey": REPO,
        "connection": {
            "application": {"system": "github", "baseUrl": url, "token": token, **application}
        },
        "configuration": {
            "sync": {"outgoingInterval": "1s", "incomingInterval": "1s"},
            "issueTypeMappings": {"incoming": [{"local": "Issue", "remote": t} for t in TYPES]},
            "workflowMappings": [
                {
                    "id": "##GLOBAL##",
                    "statusMappings": [
                        {"local": "Open", "remote": "To Do"},
                        {"local": "Open", "remote": "In Progress"},
                        {"local": "Closed", "remote": "Done"},
                    ],
                }
            ],
        },
    }


def with_remote(project: str, second: dict[str, Any]) -> dict[str, Any]:
    """A built-in project's connector and ``second``."""
    body = local_body(outgoingInterval="1s")
    body["summary"] = f"{project} <> {second['projectKey']}"
    body["firstConnector"]["projectKey"] = project
    body["firstConnector"]["connection"]["application"] = {"user": "admin"}
    body["firstConnector"]["configuration"]["fieldMappings"] = [
        {"localField": name, "remoteField": name} for name in ("summary", "description")
    ]
    body["secondConnector"] = second
    return body


# --- 1. no credentials in URLs -----------------------------------------------------------------

APPLICATION = "secondConnector.connection.application"
REFUSED_URLS = [
    pytest.param(
        f"http://sync:{PASSWORD}@tracker.example.test", "'password' or 'token'", id="user"
    ),
    pytest.param(f"https://{PASSWORD}@tracker.example.test", "'password' or 'token'", id="token"),
    pytest.param(
        f"https://tracker.example.test/?private_token={PASSWORD}", "private_token", id="query"
    ),
    pytest.param(
        f"https://tracker.example.test/api?access_token={PASSWORD}&x=1", "access_token", id="oauth"
    ),
    pytest.param(f"https://tracker.example.test/?key={PASSWORD}", "(key)", id="key"),
    pytest.param(f"ftp://{PASSWORD}.example.test/", "http:// or https://", id="ftp"),
    pytest.param(f"file:///etc/{PASSWORD}", "http:// or https://", id="file"),
    pytest.param(f"javascript:alert('{PASSWORD}')", "http:// or https://", id="javascript"),
]


def refused(response: httpx.Response, field: str, says: str) -> None:
    assert response.status_code == 400, response.text
    assert PASSWORD not in response.text
    errors = response.json()["errors"]
    assert field in errors, errors
    assert says in errors[field]


@pytest.mark.parametrize(("url", "says"), REFUSED_URLS)
def test_a_base_url_with_a_credential_is_refused_on_create_and_nothing_is_stored(
    admin: httpx.Client, url: str, says: str
) -> None:
    create_project(admin, "PA")
    body = with_remote("PA", github_side(url, "ghp_not-used"))
    refused(admin.post(f"{BASE}/integrations", json=body), f"{APPLICATION}.baseUrl", says)
    listed = admin.get(f"{BASE}/integrations")
    assert listed.status_code == 200
    assert listed.json() == []


@pytest.mark.parametrize(("url", "says"), REFUSED_URLS)
def test_a_proxy_uri_with_a_credential_is_refused_and_names_the_proxy_fields(
    admin: httpx.Client, url: str, says: str
) -> None:
    create_project(admin, "PA")
    proxy = {"proxyUri": url, "username": "p", "password": "not-shown"}
    body = with_remote("PA", github_side("https://api.github.example.test", "t", proxy=proxy))
    says = says.replace("'password' or 'token'", "'proxy.username' and 'proxy.password'")
    refused(admin.post(f"{BASE}/integrations", json=body), f"{APPLICATION}.proxy.proxyUri", says)
    assert admin.get(f"{BASE}/integrations").json() == []


def test_updates_and_connection_changes_refuse_credentials_in_urls_and_keep_what_was_there(
    admin: httpx.Client,
) -> None:
    create_project(admin, "PA")
    good = "https://api.github.example.test"
    created = admin.post(f"{BASE}/integrations", json=with_remote("PA", github_side(good, "t")))
    assert created.status_code == 200, created.text
    dirty = f"https://sync:{PASSWORD}@api.github.example.test"

    update = with_remote("PA", github_side(dirty, "t"))
    refused(admin.put(f"{BASE}/integrations/INT-1", json=update), f"{APPLICATION}.baseUrl", "user")
    change = {"secondConnector": {"baseUrl": dirty}}
    path = f"{BASE}/integrations/INT-1/applicationConnection"
    refused(admin.put(path, json=change), "secondConnector.baseUrl", "'password' or 'token'")
    proxy = {"secondConnector": {"proxy": {"proxyUri": dirty}}}
    refused(admin.put(path, json=proxy), "secondConnector.proxy.proxyUri", "'proxy.password'")

    shown = admin.get(f"{BASE}/integrations/INT-1").json()
    assert shown["secondConnector"]["connection"]["application"]["baseUrl"] == good
    assert "proxy" not in shown["secondConnector"]["connection"]["application"]


def test_the_cli_refuses_a_credential_in_a_url_on_one_line(
    services: Services, admin: httpx.Client, tmp_path: Path
) -> None:
    create_project(admin, "PA")
    body = tmp_path / "body.json"
    url = f"http://sync:{PASSWORD}@tracker.example.test"
    body.write_text(json.dumps(with_remote("PA", github_side(url, "t"))))
    result = run_cli(services, "integration", "create", "--file", str(body))
    assert result.returncode == 1
    assert PASSWORD not in result.stdout + result.stderr
    assert result.stderr.startswith(f"error: The integration is not valid. ({APPLICATION}.baseUrl")
    assert "'password' or 'token'" in result.stderr
    assert admin.get(f"{BASE}/integrations").json() == []


def test_a_url_stored_with_a_credential_before_is_shown_without_it(
    services: Services, admin: httpx.Client
) -> None:
    from sqlalchemy import update  # noqa: PLC0415 - this test alone writes a row as old code did

    from issuesync.store.sync import ConnectorRow  # noqa: PLC0415

    create_project(admin, "PA")
    good = "https://api.github.example.test/api/v3"
    assert admin.post(f"{BASE}/integrations", json=with_remote("PA", github_side(good, "t")))
    with services.uow_factory() as uow:
        uow.session.execute(
            update(ConnectorRow)
            .where(ConnectorRow.position == 2)
            .values(
                base_url=f"https://sync:{PASSWORD}@api.github.example.test/api/v3?token=x",
                proxy_uri=f"http://proxy:{PASSWORD}@proxy.example.test:3128",
            )
        )
        uow.commit()
    for response in (
        admin.get(f"{BASE}/integrations"),
        admin.get(f"{BASE}/integrations/INT-1"),
        admin.get(f"{BASE}/integrations/INT-1/conflicts"),
    ):
        assert response.status_code == 200, response.text
        assert PASSWORD not in response.text
    application = admin.get(f"{BASE}/integrations/INT-1").json()["secondConnector"]["connection"]
    assert application["application"]["baseUrl"] == good
    assert application["application"]["proxy"]["proxyUri"] == "http://proxy.example.test:3128"
    shown = run_cli(services, "integration", "show", "INT-1")
    assert shown.returncode == 0, shown.stderr
    assert PASSWORD not in shown.stdout + shown.stderr


# --- 2. a tracker that echoes the request leaks nothing ------------------------------------------


class EchoingTracker:
    """Answers every request with an error that repeats it: the request line and headers
    as text, the headers as JSON, and the credential it found, bare and URL-encoded, first
    (where a tracker's message is cut). Only ``/user`` (who the token is) is answered, so
    that creates get as far as a write, whose refusal is the message's reason."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
            turn = self.requests
        credentials = [
            value.split()[-1]
            for name, value in request.headers.items()
            if name.lower() in {"authorization", "private-token"}
        ]
        bare = "; ".join(f"credential {c} ({quote(c, safe='')}) refused" for c in credentials)
        lines = [f"{request.method} {request.url.raw_path.decode()} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        dump = "\n".join(lines)
        headers = dict(request.headers)
        if request.url.path.rstrip("/").endswith("/user"):  # who the token is: an answer
            return httpx.Response(200, json={"id": 7, "login": "sync", "username": "sync"})
        if turn % 2:
            return httpx.Response(400, text=f"{bare}\n{dump}")
        errors = [{"resource": "Issue", "field": "title", "code": json.dumps(headers)}]
        return httpx.Response(422, json={"message": f"{bare}. {dump}", "errors": errors})


@pytest.fixture
def echoing() -> Iterator[tuple[EchoingTracker, HandlerServer]]:
    tracker = EchoingTracker()
    with HandlerServer(tracker) as server:
        yield tracker, server


def forms(secret: str) -> set[str]:
    """A secret as it may be written: raw, URL-encoded, in HTTP Basic, base64."""
    return {
        secret,
        quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f":{secret}".encode()).decode(),
    }


def test_a_tracker_echoing_the_request_leaks_no_token_anywhere(
    engine_client: httpx.Client,
    services: Services,
    echoing: tuple[EchoingTracker, HandlerServer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tracker, server = echoing
    github_token = "ghp_" + secrets.token_hex(18)
    gitlab_token = "Zq" + secrets.token_hex(12)  # no known prefix: only redaction by value
    create_project(engine_client, "PA")
    create_project(engine_client, "PB")
    create_issue(engine_client, "PA", "Sent to an echoing GitHub")
    create_issue(engine_client, "PB", "Sent to an echoing GitLab")
    gitlab = github_side(server.url, gitlab_token) | {"projectKey": "group/app"}
    gitlab["connection"]["application"]["system"] = "gitlab"
    for body in (
        with_remote("PA", github_side(server.url, github_token)),
        with_remote("PB", gitlab),
    ):
        created = engine_client.post(f"{BASE}/integrations", json=body)
        assert created.status_code == 200, created.text
    for key in ("INT-1", "INT-2"):
        assert engine_client.put(f"{BASE}/integrations/{key}/start").status_code == 200

    def echoed_everywhere() -> bool:
        keys = ("INT-1", "INT-2")
        states = [engine_client.get(f"{BASE}/integrations/{k}/status").json() for k in keys]
        details = all(s["secondConnector"]["outgoingDetails"] for s in states)
        reasons = [
            engine_client.get(f"{BASE}/connectors/{c}/messages", params={"state": "error"}).json()
            for c in ("OCTO_ORG_WIDGETS-2", "GROUP_APP-4")
        ]
        return details and all(r and r[0]["reason"] for r in reasons)

    wait_for("the echoed errors in the status and the messages", echoed_everywhere)
    shown = {
        "list": engine_client.get(f"{BASE}/integrations").text,
        "status": engine_client.get(f"{BASE}/integrations/INT-1/status").text
        + engine_client.get(f"{BASE}/integrations/INT-2/status").text,
        "conflicts": engine_client.get(f"{BASE}/integrations/INT-1/conflicts").text
        + engine_client.get(f"{BASE}/integrations/INT-2/conflicts").text,
        "messages": engine_client.get(f"{BASE}/connectors/OCTO_ORG_WIDGETS-2/messages").text
        + engine_client.get(f"{BASE}/connectors/GROUP_APP-4/messages").text,
        "cli show": run_cli(services, "integration", "show", "INT-1").stdout
        + run_cli(services, "integration", "show", "INT-2").stdout,
        "cli messages": run_cli(services, "messages", "list", "GROUP_APP-4", "--json").stdout,
        "log": caplog.text,
    }
    database = Path(services.settings.resolved_database_url.removeprefix("sqlite:///"))
    stored = b"".join(
        path.read_bytes()
        for path in (database, database.with_name(database.name + "-wal"))
        if path.exists()
    )
    assert stored, "the database file was not found"
    assert tracker.requests > 0
    for secret in (github_token, gitlab_token):
        for form in forms(secret):
            for where, text in shown.items():
                assert form not in text, f"{where} shows a token"
            assert form.encode() not in stored, "the database holds a token"
    # The tracker's answers are shown all the same, credentials blanked out.
    assert "GitHub answered" in shown["status"]
    assert "GitLab answered" in shown["status"]
    assert "***" in shown["status"]
    assert "answered" in shown["messages"]  # the reasons are the trackers' words
    assert "***" in shown["messages"]
    assert "connectionCheckFailed" in shown["conflicts"]
    reasons = engine_client.get(f"{BASE}/connectors/GROUP_APP-4/messages").json()
    assert all(len(m["reason"] or "") <= 2000 for m in reasons)


# --- 3. the proxy carries a connector's traffic ---------------------------------------------------

PROXY_USER = "relay"
PROXY_PASSWORD = "Proxy-pw-" + "4e1d"


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[LoopbackProxy]:
    with LoopbackProxy(
        tmp_path / "pproxy.log", username=PROXY_USER, password=PROXY_PASSWORD
    ) as running:
        yield running


class Recorder:
    """A tracker that answers 404 to anything and remembers each request's headers."""

    def __init__(self) -> None:
        self.seen: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.headers)
        return httpx.Response(404, json={"message": "Not Found", "errorMessages": ["none"]})


OPENERS: dict[str, tuple[Callable[[TrackerAccess], Tracker], str, tuple[str, str]]] = {
    "jira": (jira_adapter_for, "PA", ("password", "jira-pw")),
    "redmine": (redmine_adapter_for, "shop", ("token", "redmine-key-1")),
    "github": (github_adapter_for, REPO, ("token", "ghp_proxied-1")),
    "gitlab": (gitlab_adapter_for, "group/app", ("token", "glpat-proxied-1")),
}


@pytest.mark.parametrize("system", sorted(OPENERS))
def test_every_remote_adapter_goes_through_the_connectors_proxy(
    proxy: LoopbackProxy, system: str
) -> None:
    recorder = Recorder()
    opener, project, secret = OPENERS[system]

    def connect(access: TrackerAccess) -> str:
        """The connection test's words, whatever it found."""
        tracker = opener(access)
        try:
            return repr(tracker.test_connection())
        except IssueSyncError as exc:
            return exc.describe()
        finally:
            tracker.close()

    with HandlerServer(recorder) as target:
        url = f"http://{PROXIED_HOST}:{target.port}"  # known to the proxy alone
        settings = ProxySettings(proxy.uri, PROXY_USER, PROXY_PASSWORD)
        said = connect(TrackerAccess(system, project, url, "sync", secret, settings))
        assert PROXY_PASSWORD not in said
        assert recorder.seen, f"the {system} adapter reached nothing through the proxy"
        assert proxy.connections_to(target.port) >= 1
        # The tracker got the requests as sent to it, and never the proxy's login.
        assert all(h["host"] == f"{PROXIED_HOST}:{target.port}" for h in recorder.seen)
        assert not any("proxy-authorization" in h for h in recorder.seen)
        # Without the proxy the same tracker cannot be reached: the requests above went
        # through it, not around it.
        reached = len(recorder.seen)
        connect(TrackerAccess(system, project, url, "sync", secret, None))
        assert len(recorder.seen) == reached


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, HandlerServer]]:
    fake = FakeGitHub()
    fake.add_user("sync-bot", token="ghp_sync-bot-token-1")
    fake.add_user("octo-org", token="ghp_owner-token-1")
    fake.add_repo(REPO, roles={"sync-bot": "write"})
    with HandlerServer(fake) as server:
        yield fake, server


def test_the_engine_syncs_with_github_through_a_proxy_with_a_login(
    engine_client: httpx.Client,
    services: Services,
    github: tuple[FakeGitHub, HandlerServer],
    proxy: LoopbackProxy,
) -> None:
    fake, server = github
    create_project(engine_client, "PA")
    url = f"http://{PROXIED_HOST}:{server.port}"  # known to the proxy alone
    login = {"proxyUri": proxy.uri, "username": PROXY_USER, "password": PROXY_PASSWORD}
    body = with_remote("PA", github_side(url, "ghp_sync-bot-token-1", proxy=login))
    created = engine_client.post(f"{BASE}/integrations", json=body)
    assert created.status_code == 200, created.text
    conflicts = engine_client.get(f"{BASE}/integrations/INT-1/conflicts")
    assert "connection" not in conflicts.text, conflicts.text  # the check went through the proxy
    assert engine_client.put(f"{BASE}/integrations/INT-1/start").status_code == 200
    key = create_issue(engine_client, "PA", "Through the proxy")
    number = wait_for("PA's issue on GitHub", lambda: twin(engine_client, "PA-1", key))
    assert fake.repos[REPO].issues[int(number)].title == "Through the proxy"
    assert proxy.connections_to(server.port) >= 1
    outputs = [
        engine_client.get(f"{BASE}/integrations").text,
        engine_client.get(f"{BASE}/integrations/INT-1").text,
        conflicts.text,
        run_cli(services, "integration", "show", "INT-1").stdout,
    ]
    assert all(PROXY_PASSWORD not in text for text in outputs)
    assert all(proxy.uri in text for text in outputs[:2])  # the address and user are shown


def test_a_proxy_that_cannot_be_reached_makes_the_tracker_offline_and_nothing_goes_around_it(
    engine_client: httpx.Client, github: tuple[FakeGitHub, HandlerServer]
) -> None:
    fake, server = github
    create_project(engine_client, "PA")
    dead = {"proxyUri": f"http://127.0.0.1:{free_port()}", "username": "u", "password": "p"}
    # The tracker itself is reachable directly: only the proxy is dead.
    body = with_remote("PA", github_side(server.url, "ghp_sync-bot-token-1", proxy=dead))
    assert engine_client.post(f"{BASE}/integrations", json=body).status_code == 200
    conflicts = engine_client.get(f"{BASE}/integrations/INT-1/conflicts").json()
    assert any(c["type"] in {"connectionFailed", "connectionCheckFailed"} for c in conflicts)
    assert engine_client.put(f"{BASE}/integrations/INT-1/start").status_code == 200
    create_issue(engine_client, "PA", "Waits for the proxy")

    def offline() -> dict[str, Any] | None:
        status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()["secondConnector"]
        return status if not status["online"] and status["outgoingDetails"] else None

    status = wait_for("the GitHub side offline", offline)
    assert "through the proxy" in status["outgoingDetails"]
    assert sum(fake.calls.values()) == 0, fake.calls  # not one request went around the proxy


def test_a_proxy_that_refuses_the_login_says_which_fields_to_fix(
    github: tuple[FakeGitHub, HandlerServer], proxy: LoopbackProxy
) -> None:
    fake, server = github
    url = f"http://{PROXIED_HOST}:{server.port}"
    wrong = ProxySettings(proxy.uri, PROXY_USER, "not-the-password")
    tracker = github_adapter_for(TrackerAccess("github", REPO, url, None, ("token", "t"), wrong))
    try:
        with pytest.raises(IssueSyncError) as raised:
            tracker.describe()
    finally:
        tracker.close()
    assert "407" in raised.value.message
    assert "proxy.password" in raised.value.message
    assert "not-the-password" not in raised.value.describe()
    assert sum(fake.calls.values()) == 0


# --- 1b. a stored secret goes only where it was given for ----------------------------------------


class Listener:
    """A server of someone who would like the stored secrets: it notes every request."""

    def __init__(self) -> None:
        self.credentials: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.credentials += [
            value for name, value in request.headers.items() if "authorization" in name.lower()
        ]
        return httpx.Response(200, json={"login": "sync", "id": 7})


def test_a_connection_moved_elsewhere_needs_its_secret_again(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    token, proxy_password = "ghp_" + secrets.token_hex(18), "proxy-" + secrets.token_hex(8)
    proxy = {
        "proxyUri": "http://proxy.example.test:3128",
        "username": "p",
        "password": proxy_password,
    }
    side = github_side("https://api.github.example.test", token, proxy=proxy)
    assert admin.post(f"{BASE}/integrations", json=with_remote("PA", side)).status_code == 200
    pa_admin = make_client("pa-admin", project_admin=("PA",))
    listener = Listener()
    with HandlerServer(listener) as elsewhere:
        path = f"{BASE}/integrations/INT-1/applicationConnection"
        moved = {"secondConnector": {"baseUrl": elsewhere.url}}
        for client in (pa_admin, admin):  # nobody moves a stored secret, not even an admin
            refused(client.put(path, json=moved), "secondConnector.password", "again")
        update = with_remote("PA", github_side(elsewhere.url, "unused", proxy=proxy))
        del update["secondConnector"]["connection"]["application"]["token"]
        del update["secondConnector"]["connection"]["application"]["proxy"]["password"]
        refused(
            pa_admin.put(f"{BASE}/integrations/INT-1", json=update),
            f"{APPLICATION}.password",
            "tracker it was given for",
        )
        other_proxy = {"secondConnector": {"proxy": {"proxyUri": elsewhere.url}}}
        refused(pa_admin.put(path, json=other_proxy), "secondConnector.proxy.password", "again")
        shown = admin.get(f"{BASE}/integrations/INT-1").json()["secondConnector"]
        application = shown["connection"]["application"]
        assert application["baseUrl"] == "https://api.github.example.test"
        assert application["proxy"]["proxyUri"] == "http://proxy.example.test:3128"
        # The connection checks go where the connection is stored, never to the new place.
        assert admin.get(f"{BASE}/integrations/INT-1/conflicts").status_code == 200
        assert listener.credentials == []
        # With the secret given again, the move is the user's own.
        moved["secondConnector"]["token"] = "ghp_" + secrets.token_hex(18)
        assert pa_admin.put(path, json=moved).status_code == 200
