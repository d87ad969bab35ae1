"""The process's log lines (issue 22, "Logs"): one event per line, JSON or console; context
on the engine's lines and a request id on the API's; no secret on any line.

The lines are read as ``serve`` writes them: :func:`issuesync.logs.configure_logging` with a
stream of the test's, at debug level (every tracker request is an event).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from connections_helpers import BASE as CONNECTIONS
from connections_helpers import SYNC_PASSWORD, projects_and_sync_user, token_client
from sync_helpers import integration_pair, refused_priority_body, wait_for
from test_security_secrets import BASE, forms, github_side, run_cli, with_remote
from tracker_helpers import API, create_issue, create_project

from issuesync.accounts import create_token
from issuesync.api.request_id import request_id
from issuesync.config import Settings
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.logs import FIRST_KEYS, configure_logging, default_format
from issuesync.services import Services
from issuesync.testing.handler_server import HandlerServer
from issuesync.testing.server import LiveServer
from issuesync.trackers.http import RestClient

ADMIN_PASSWORD = "admin-secret"  # conftest's: every admin request sends it


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The process's log lines as ``serve --log-format json`` writes them, at debug level."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging("debug", "json", stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(capture=False)
    structlog.reset_defaults()


def events(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line of ``stream`` as the JSON object it must be."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


# --- the format ----------------------------------------------------------------------------------


def test_json_lines_are_one_object_each_with_the_first_keys_context_and_keys(
    log_stream: io.StringIO,
) -> None:
    log = logging.getLogger("issuesync.engine.example")
    with structlog.contextvars.bound_contextvars(integration="INT-1", connector="PA-1"):
        log.info("applied %d messages", 3, extra={"count": 3})
        try:
            _ = 1 / 0
        except ZeroDivisionError:
            log.exception("the route failed\nand said so on two lines")
    structlog.get_logger("issuesync.example").warning("a structlog event", attempt=2)
    # As uvicorn writes (its own logger's level depends on the servers earlier tests ran).
    logging.getLogger("example.server").info("Started", extra={"color_message": "\x1b[1mStarted"})
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == 4  # a traceback stays on its event's line
    found = events(log_stream)
    for event in found:
        assert tuple(event)[:4] == FIRST_KEYS
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", event["timestamp"])
    applied, failed, struct, uvicorn = found
    assert applied | {"timestamp": "-"} == {
        "timestamp": "-",
        "level": "info",
        "event": "applied 3 messages",
        "logger": "issuesync.engine.example",
        "integration": "INT-1",
        "connector": "PA-1",
        "count": 3,
    }
    assert failed["level"] == "error"
    assert "ZeroDivisionError" in failed["exception"]
    assert failed["event"] == "the route failed\nand said so on two lines"
    assert (struct["level"], struct["attempt"], struct["logger"]) == (
        "warning",
        2,
        "issuesync.example",
    )
    assert "connector" not in struct  # the context ended with its block
    assert "color_message" not in uvicorn


def test_console_lines_are_readable_text(log_stream: io.StringIO) -> None:
    stream = io.StringIO()
    configure_logging("info", "console", stream=stream)
    with structlog.contextvars.bound_contextvars(connector="PA-1"):
        logging.getLogger("issuesync.example").warning("the tracker is slow", extra={"status": 503})
    line = stream.getvalue().strip()
    assert "\x1b[" not in line  # no colours but on a terminal
    assert re.fullmatch(
        r"\d{4}-\S+Z \[warning\s*\] the tracker is slow \[issuesync\.example\] "
        r"connector=PA-1 status=503",
        line,
    ), line
    assert log_stream.getvalue() == ""  # configuring again replaced the handler


def test_the_format_is_console_on_a_terminal_and_json_elsewhere_unless_set() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert default_format(io.StringIO()) == "json"
    assert default_format(Terminal()) == "console"
    assert Settings(log_format=" JSON ").log_format == "json"
    assert Settings(log_format="").log_format is None
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")


def test_at_debug_httpcores_traces_stay_out_and_issuesyncs_debug_events_are_written(
    log_stream: io.StringIO,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"path": request.url.path})

    with HandlerServer(answer) as tracker:
        client = RestClient(tracker.url, None, vendor="Fake")
        try:
            assert client.get("issues") == {"path": "/issues"}
        finally:
            client.close()
        with httpx.Client(base_url=tracker.url) as plain:  # httpx used directly: the same
            assert plain.get("/ping").status_code == 200

    found = events(log_stream)
    assert [(e["level"], e["logger"], e["path"], e["status"]) for e in found] == [
        ("debug", "issuesync.trackers.http", "/issues", 200)
    ]
    assert found[0]["event"].startswith("tracker request GET /issues: 200 in")
    assert "connect_tcp" not in log_stream.getvalue()


# --- the request id -------------------------------------------------------------------------------


def test_a_request_id_is_echoed_when_acceptable_and_made_when_not(anonymous: httpx.Client) -> None:
    given = anonymous.get("/healthz", headers={"X-Request-ID": "proxy-7:a1.B2_c3"})
    assert given.headers["X-Request-ID"] == "proxy-7:a1.B2_c3"
    made = anonymous.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert anonymous.get("/healthz").headers["X-Request-ID"] != made
    for refused in ("a b", "x" * 129, "id\\n", "<script>", ""):
        answered = anonymous.get("/healthz", headers={"X-Request-ID": refused})
        assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["X-Request-ID"]), refused
    # Errors too, and one header only.
    missing = anonymous.get("/api/1/nothing-here", headers={"X-Request-ID": "r-404"})
    assert missing.headers.get_list("X-Request-ID") == ["r-404"]
    assert request_id("é".encode("latin-1")) != "é"


# --- context and secrets through failures ---------------------------------------------------------


def jira_side(url: str, user: str, password: str) -> dict[str, Any]:
    """A Jira project's connector (the server's own Jira API), mapped as GitHub's is."""
    side = github_side(url, "unused")
    side["projectKey"] = "PB"
    side["connection"]["application"] = {
        "system": "jira",
        "baseUrl": url,
        "user": user,
        "password": password,
    }
    return side


def failing_connection(
    script: httpx.Client, params: dict[str, Any], *, request_id: str | None = None
) -> str:
    """Through SD Elements' API: a tracker connector with ``params`` (whose tracker refuses
    or fails), its connection test (failed), and a connection PD -> PB whose job is asked
    to run; returns the connection's path."""
    made = script.post(
        f"{CONNECTIONS}/connectors/",
        json={"name": "Failing Jira", "system": {"id": "jira"}, "params": params},
    )
    assert made.status_code == 201, made.text
    tested = script.post(
        f"{CONNECTIONS}/test-issue-tracker/",
        json={"system": {"id": "jira"}, "params": params | {"issue_tracker_project": "PB"}},
        headers={"X-Request-ID": request_id} if request_id else {},
    )
    assert tested.status_code == 200, tested.text
    assert tested.json()["success"] is False
    project = script.get("/rest/api/2/project/PD").json()["id"]
    connection = script.post(
        f"{CONNECTIONS}/issue-tracker/",
        json={
            "alias": "To PB",
            "connector": made.json()["id"],
            "project": int(project),
            "params": {"issue_tracker_project": "PB"},
        },
    )
    assert connection.status_code == 201, connection.text
    one = f"{CONNECTIONS}/issue-tracker/{connection.json()['id']}/"
    assert script.post(f"{one}run/").status_code == 202
    return one


def job_done(script: httpx.Client, one: str) -> bool:
    """Whether the newest job of the connection at ``one`` has ended."""
    jobs = script.get(f"{one}jobs/").json()["results"]
    return bool(jobs) and bool(jobs[0]["ready"])


def test_no_secret_reaches_a_log_line_through_failures_and_engine_lines_carry_their_context(
    engine_client: httpx.Client,
    services: Services,
    live_server: LiveServer,
    log_stream: io.StringIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_connector = "Wrong-connector-pw-" + secrets.token_hex(6)
    wrong_remote = "Wrong-remote-pw-" + secrets.token_hex(6)
    github_token = "Zq" + secrets.token_hex(12)  # no known prefix: redacted by value only
    api_token = create_token(services.uow_factory, "admin", "logs-script")
    known = {
        "admin password": ADMIN_PASSWORD,
        "sync password": SYNC_PASSWORD,
        "connector password": wrong_connector,
        "remote password": wrong_remote,
        "github token": github_token,
        "api token": api_token,
    }

    def failing(request: httpx.Request) -> httpx.Response:
        # A 500 that repeats the credential it was sent, asking for a retry at once.
        said = request.headers.get("authorization", "")
        return httpx.Response(500, text=f"failed for {said}", headers={"Retry-After": "0"})

    with HandlerServer(failing) as broken:
        # The API and the engine: a Backbone integration whose remote password is wrong
        # (the server's own Jira API refuses it), one whose GitHub answers 500.
        projects_and_sync_user(services, engine_client)
        create_project(engine_client, "PC")
        create_project(engine_client, "PD")  # the connection's
        create_issue(engine_client, "PA", "Sent to a Jira that refuses the password")
        create_issue(engine_client, "PC", "Sent to a GitHub that fails")
        for body in (
            with_remote("PA", jira_side(live_server.url, "jirasync", wrong_remote)),
            with_remote("PC", github_side(broken.url, github_token)),
        ):
            created = engine_client.post(f"{BASE}/integrations", json=body)
            assert created.status_code == 200, created.text
        for key in ("INT-1", "INT-2"):
            assert engine_client.put(f"{BASE}/integrations/{key}/start").status_code == 200

        # A tracker connector with a wrong password (SD Elements' API, an API token), a
        # connection test in a request and a connection's job, both refused.
        host = live_server.url.removeprefix("http://")
        params = {
            "issue_tracker_server": host,
            "issue_tracker_method": "http",
            "issue_tracker_user": "jirasync",
            "issue_tracker_pass": wrong_connector,
        }
        with token_client(live_server.url, api_token) as script:
            one = failing_connection(script, params, request_id="connection-test-1")

            def failed_everywhere() -> bool:
                states = [
                    engine_client.get(f"{BASE}/integrations/{k}/status").json()
                    for k in ("INT-1", "INT-2")
                ]
                return all(s["secondConnector"]["outgoingDetails"] for s in states)

            wait_for("both integrations failing", failed_everywhere)
            wait_for("the connection's job to end", lambda: job_done(script, one))
            jobs_text = script.get(f"{one}jobs/").text
        cli = run_cli(services, "integration", "show", "INT-1")
        cli_text = cli.stdout + cli.stderr

    found = events(log_stream)
    lines = log_stream.getvalue()
    # Every secret in each of its forms, and the HTTP Basic credentials of the users.
    shown = {"log lines": lines, "caplog": caplog.text, "cli": cli_text, "jobs": jobs_text}
    for name, secret in known.items():
        written = forms(secret) | {
            base64.b64encode(f"{user}:{secret}".encode()).decode() for user in ("admin", "jirasync")
        }
        for form in written:
            for where, text in shown.items():
                assert form not in text, f"the {name} is in the {where}"

    assert_events_carry_their_context(found, lines)


def assert_events_carry_their_context(found: list[dict[str, Any]], lines: str) -> None:
    """What the failing integrations, connection test and job wrote, with their context."""
    # The tracker edge: one debug event per request, its path without a query.
    requests = [e for e in found if e["event"].startswith("tracker request")]
    assert requests, lines[-3000:]
    assert all(e["level"] == "debug" and "?" not in e["path"] for e in requests)
    assert {e["status"] for e in requests} >= {401, 500}
    assert not any(e["logger"] == "httpx" for e in found)
    # The engine's requests name their connector and integration.
    engine = [e for e in requests if "connector" in e and "integration" in e]
    assert {e["integration"] for e in engine} >= {"INT-1", "INT-2"}, engine[:3]
    # Those made while one incoming message is applied name the message and its issue.
    assert any(e.get("message_id") and e.get("issue") for e in engine)
    # A 500 asking for a retry is a warning of its own.
    retries = [e for e in found if e["level"] == "warning" and e.get("status") == 500]
    assert retries
    assert retries[0]["integration"] == "INT-2"
    # The connection test's requests carry the request's id, the job's the connection's.
    assert any(e.get("request_id") == "connection-test-1" for e in requests)
    assert any("connection_id" in e and "job_id" in e for e in requests)


# --- the engine's lines name the issue and the message they concern -----------------------------


def test_a_refused_batch_names_its_issues_and_a_parked_message_its_issue(
    admin: httpx.Client, services: Services, log_stream: io.StringIO
) -> None:
    # PB's tracker refuses one of PA's new issues (a priority it lacks): the batch goes one
    # by one, and that issue's message waits in ``error``.
    with integration_pair(services, admin, refused_priority_body()) as pair:
        keys = [create_issue(admin, "PA", f"Issue {n}") for n in range(3)]
        refused = create_issue(admin, "PA", "Refused", priority={"name": "Highest"})
        pair.settle()
        second = f"PB-{pair.second_id}"

    found = events(log_stream)
    batch = [e for e in found if e["event"].startswith("a batch of 4 creates goes one by one")]
    assert len(batch) == 1, [e for e in found if not e["logger"].startswith("httpcore")]
    (line,) = batch
    assert (line["integration"], line["connector"]) == ("INT-1", second)
    assert line["issues"].split(", ") == [*keys, refused]
    ids = line["message_ids"].split(", ")
    assert len(ids) == len(keys) + 1
    assert "issue" not in line  # it concerns all of them
    (parked,) = [e for e in found if e["event"].startswith("the message waits in error")]
    assert parked | {"event": "-", "timestamp": "-"} == {
        "timestamp": "-",
        "level": "warning",
        "event": "-",
        "logger": "issuesync.engine.pipeline.incoming",
        "integration": "INT-1",
        "connector": second,
        "message_id": int(ids[-1]),
        "issue": refused,
        "state": "error",
    }
    assert "priority" in parked["event"].lower()  # the reason


def test_the_outgoing_routes_requests_for_one_issue_name_it(
    admin: httpx.Client,
    services: Services,
    live_server: LiveServer,
    engine: SyncRunner,
    log_stream: io.StringIO,
) -> None:
    # PB is reached over HTTP (the server's own Jira API); its outgoing route reads a new
    # issue's attachment from it to send the content.
    projects_and_sync_user(services, admin)
    body = with_remote("PA", jira_side(live_server.url, "jirasync", SYNC_PASSWORD))
    for side in ("firstConnector", "secondConnector"):
        body[side]["configuration"]["fieldMappings"] = [
            {"localField": name, "remoteField": name} for name in ("summary", "attachment")
        ]
    assert admin.post(f"{BASE}/integrations", json=body).status_code == 200
    assert admin.put(f"{BASE}/integrations/INT-1/start").status_code == 200
    engine.settle()  # the routes are open: what is made from now on is sent
    key = create_issue(admin, "PB", "With an attachment")
    create_issue(admin, "PB", "Without one")
    uploaded = admin.post(
        f"{API}/issue/{key}/attachments",
        files={"file": ("notes.txt", b"the notes", "text/plain")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert uploaded.status_code == 200, uploaded.text

    engine.settle()

    found = events(log_stream)
    requests = [e for e in found if e["event"].startswith("tracker request")]
    reads = [e for e in requests if "/attachment/" in e["path"]]
    assert reads, [(e["method"], e["path"]) for e in requests]
    for read in reads:
        assert (read["integration"], read["issue"]) == ("INT-1", key), read
        assert read["connector"].startswith("PB-")
    # The poll's search concerns no one issue, and the context ends with the issue's work.
    searches = [e for e in requests if e["path"].endswith("/search")]
    assert searches
    assert not any("issue" in e for e in searches)
