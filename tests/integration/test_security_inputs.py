"""Issue 16, "No input makes a 500": the door in front of every dialect, and the built-in
tracker's API, over real HTTP on SQLite and PostgreSQL.

Each finding of the issue is a test here; each asserts the answer's status and its
dialect's error shape, and that nothing changed. The classes behind them:

- the request guard (``api/guard.py``): NUL, text that is not UTF-8, lone surrogates,
  nesting and size, for every JSON body and query string of every dialect;
- a constraint violation anywhere in a request is a 409 (``api/errors.py``);
- JQL is bounded in length, nesting, conditions, values and numbers
  (``domain/jql/limits.py``), at search and when an integration is saved;
- a full disk is a 507, with nothing half-stored;
- an unexpected error is a 500 in the dialect's shape on a connection that stays usable;
- text fields have Jira's limits, on create, edit and the sync engine's writes, and a
  message stores a large value once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import SecretStr
from sqlalchemy import select, update
from sync_helpers import integration_pair, local_body
from tracker_helpers import API, create_issue, create_project, fields_of, search_keys

from issuesync.accounts import NewUser, create_user
from issuesync.app import bootstrap, build_services, create_app
from issuesync.config import Settings
from issuesync.domain.jql.limits import MAX_CLAUSES, MAX_DEPTH, MAX_ORDER_BY
from issuesync.services import Services
from issuesync.store.users import User
from issuesync.testing.server import LiveServer
from issuesync.trackers.local.models import Issue, Watcher
from support.fulldisk import full_disk

BACKBONE = "/plugins/servlet/backbone-issue-sync/api/1"
SHORT = "/api/1"
JSON = {"Content-Type": "application/json"}
NO_CHECK = {"X-Atlassian-Token": "no-check"}
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32767 characters."
ANSWER_WITHIN_S = 30.0  # a guard against a hang, not a measurement
PASSWORD = "admin-secret"  # the administrator's, as conftest makes it


def message_of(response: httpx.Response, status: int, dialect: str) -> str:
    """Assert ``status`` in the error shape of ``dialect``; the message and field errors."""
    assert response.status_code == status, f"{response.status_code} {response.text[:500]}"
    assert "Traceback" not in response.text
    body = response.json()
    if dialect == "jira":
        assert set(body) == {"errorMessages", "errors"}, body
        return " ".join([*body["errorMessages"], *body["errors"].values()])
    if dialect == "backbone":
        assert body["status-code"] == status, body
        return f"{body['message']} {json.dumps(body.get('errors', {}))}"
    assert body["status"] == status, body
    return str(body["message"])


def nested(levels: int) -> str:
    """JSON text of an object nested ``levels`` deep (``json.dumps`` would recurse)."""
    return '{"a": ' * (levels - 1) + '{"leaf": true' + "}" * levels


def issue_body(project: str = "PA", **fields: object) -> dict[str, Any]:
    """A create body for a task."""
    return {
        "fields": {
            "project": {"key": project},
            "issuetype": {"name": "Task"},
            "summary": "An issue",
            **fields,
        }
    }


def _state(admin: httpx.Client, key: str) -> tuple[list[str], int, int, list[object]]:
    """What the refusals must not change: issues, comments, watchers, integrations."""
    comments = admin.get(f"{API}/issue/{key}/comment").json()["total"]
    watchers = admin.get(f"{API}/issue/{key}/watchers").json()["watchCount"]
    return (
        search_keys(admin, "project = PA"),
        comments,
        watchers,
        admin.get(f"{SHORT}/integrations").json(),
    )


# -- the door: NUL, UTF-8, surrogates, depth and size for every dialect ----------------------


SURROGATE_BODIES: list[tuple[str, str, str, bytes]] = [
    (
        "jira",
        "POST",
        f"{API}/issue",
        (
            b'{"fields": {"project": {"key": "PA"}, '
            b'"issuetype": {"name": "Task"}, "summary": "a\\ud800"}}'
        ),
    ),
    ("jira", "PUT", f"{API}/issue/PA-1", b'{"fields": {"summary": "\\udc00b"}}'),
    ("jira", "POST", f"{API}/issue/PA-1/comment", b'{"body": "\\ud800"}'),
    ("jira", "POST", f"{API}/search", b'{"jql": "summary ~ \\"\\ud800\\""}'),
    ("jira", "POST", f"{API}/issue/PA-1/watchers", b'"\\ud800"'),
    ("jira", "POST", f"{API}/issue/PA-1/comment", b'{"body": "\\ud83d\\ud83d"}'),
    ("backbone", "POST", f"{SHORT}/integrations", b'{"summary": "\\udbff"}'),
    ("backbone", "POST", f"{BACKBONE}/integrations", b'{"summary": "x\\uDFFF"}'),
    ("plain", "POST", "/healthz", b'{"x": "\\ud800"}'),
]


def test_a_lone_surrogate_in_any_json_body_is_refused_at_the_door(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    before = _state(admin, key)
    for dialect, method, path, body in SURROGATE_BODIES:
        response = admin.request(method, path, content=body, headers=JSON)
        assert "surrogate" in message_of(response, 400, dialect), (method, path)
    # Raw bytes that are no UTF-8 (here, a surrogate encoded as if it were a character).
    raw = admin.post(f"{API}/issue/{key}/comment", content=b'{"body": "\xed\xa0\x80"}')
    assert "UTF-8" in message_of(raw, 400, "jira")
    bad = admin.post(f"{SHORT}/integrations", content=b'{"summary": "\xff"}', headers=JSON)
    assert "UTF-8" in message_of(bad, 400, "backbone")
    for dialect, path in (("jira", f"{API}/issue"), ("backbone", f"{SHORT}/integrations")):
        nul = admin.post(path, content=b'{"summary": "a\\u0000"}', headers=JSON)
        assert "NUL" in message_of(nul, 400, dialect)
    assert _state(admin, key) == before
    # The connection that carried the refusals still works, and nothing was half-done.
    assert fields_of(admin, key)["summary"] == "An issue"


def test_escapes_that_are_characters_still_pass(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    # A surrogate pair is one character; an escaped backslash before "ud800" is text.
    body = (
        b'{"fields": {"project": {"key": "PA"}, "issuetype": {"name": "Task"}, '
        b'"summary": "\\ud83d\\ude00 \\\\ud800 \\\\\\ud83d\\ude00"}}'
    )
    response = admin.post(f"{API}/issue", content=body, headers=JSON)
    assert response.status_code == 201, response.text
    assert fields_of(admin, response.json()["key"])["summary"] == "\U0001f600 \\ud800 \\\U0001f600"


def test_query_strings_and_paths_must_be_utf8_without_nul(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    for dialect, url in (
        ("jira", f"{API}/search?jql=summary%20~%20%ED%A0%80"),
        ("jira", f"{API}/search?jql=summary~%FF"),
        ("jira", f"{API}/project/P%00A"),
        ("backbone", f"{SHORT}/integrations?projectKey=%C0%AF"),
        ("backbone", f"{BACKBONE}/integrations?projectKey=PA%00"),
        ("plain", "/healthz?probe=%80"),
    ):
        message = message_of(admin.get(url), 400, dialect)
        assert "UTF-8" in message or "NUL" in message, url


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_jql_escape_that_is_no_character_is_refused(admin: httpx.Client, method: str) -> None:
    create_project(admin, "PA")
    create_issue(admin, "PA")
    for jql, word in (
        ('summary ~ "\\ud800"', "surrogate"),
        ('summary ~ "\\udc00\\ud800"', "surrogate"),
        ('summary ~ "a\\u0000"', "NUL"),
    ):
        response = _search(admin, method, jql)
        assert word in message_of(response, 400, "jira"), jql
    assert _search(admin, method, 'summary ~ "\\ud83d\\ude00"').status_code == 200


def test_json_nested_too_deep_is_refused_at_the_door(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    before = _state(admin, key)
    edit = f'{{"fields": {{"summary": "changed"}}, "historyMetadata": {nested(500)}}}'
    response = admin.put(f"{API}/issue/{key}", content=edit, headers=JSON)
    assert "64 levels" in message_of(response, 400, "jira")
    create = json.dumps(issue_body(summary="deep"))[:-1] + f', "properties": [{nested(989)}]}}'
    response = admin.post(f"{API}/issue", content=create, headers=JSON)
    assert "64 levels" in message_of(response, 400, "jira")
    brackets = admin.post(f"{API}/search", content=b"[" * 5000 + b"]" * 5000, headers=JSON)
    message_of(brackets, 400, "jira")
    deep_integration = f'{{"summary": "x", "firstConnector": {nested(300)}}}'
    deep = admin.post(f"{BACKBONE}/integrations", content=deep_integration, headers=JSON)
    assert "64 levels" in message_of(deep, 400, "backbone")
    assert _state(admin, key) == before
    # Up to the limit, the route decides (historyMetadata is taken and not kept).
    fine = (
        json.dumps(issue_body(summary="deep enough"))[:-1] + f', "historyMetadata": {nested(60)}}}'
    )
    assert admin.post(f"{API}/issue", content=fine, headers=JSON).status_code == 201


@pytest.fixture
def small_bodies(services: Services) -> Services:
    """Services whose app (made after this fixture) takes bodies of at most 64 KiB."""
    services.settings.max_request_size = 64 * 1024
    return services


def test_request_bodies_are_bounded_in_every_dialect(
    small_bodies: Services, admin: httpx.Client
) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    big = {"fields": {"summary": "x", "description": "d" * 70_000}}
    for dialect, method, path in (
        ("jira", "PUT", f"{API}/issue/{key}"),
        ("backbone", "POST", f"{SHORT}/integrations"),
        ("backbone", "POST", f"{BACKBONE}/integrations"),
        ("plain", "POST", "/healthz"),
    ):
        response = admin.request(method, path, json=big)
        assert "ISSUESYNC_MAX_REQUEST_SIZE" in message_of(response, 413, dialect)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"body": "'
        for _ in range(20):
            yield b"c" * 4096
        yield b'"}'

    chunked = admin.post(f"{API}/issue/{key}/comment", content=chunks(), headers=JSON)
    message_of(chunked, 413, "jira")
    assert admin.get(f"{API}/issue/{key}/comment").json()["total"] == 0
    # Uploads keep their own limit (ISSUESYNC_MAX_ATTACHMENT_SIZE, 1 MiB in these tests).
    url = f"{API}/issue/{key}/attachments"
    upload = admin.post(url, headers=NO_CHECK, files={"file": ("a.bin", b"a" * 200_000)})
    assert upload.status_code == 200, upload.text
    limit = small_bodies.settings.max_attachment_size
    too_big = admin.post(url, headers=NO_CHECK, files={"file": ("b.bin", b"b" * (2 * limit))})
    assert "ISSUESYNC_MAX_ATTACHMENT_SIZE" in message_of(too_big, 413, "jira")
    # The same upload without a Content-Length: counted as it streams into the route.
    framed = admin.build_request("POST", url, files={"file": ("c.bin", b"c" * (2 * limit))})
    content, content_type = framed.read(), framed.headers["Content-Type"]
    streamed = admin.post(
        url,
        headers={**NO_CHECK, "Content-Type": content_type},
        content=(content[i : i + 65_536] for i in range(0, len(content), 65_536)),
    )
    assert "ISSUESYNC_MAX_ATTACHMENT_SIZE" in message_of(streamed, 413, "jira")
    assert [a["filename"] for a in fields_of(admin, key)["attachment"]] == ["a.bin"]


# -- conflicts ---------------------------------------------------------------------------------


def test_the_same_issue_link_twice_is_created_once(admin: httpx.Client) -> None:
    # Jira: "If the link request duplicates a link, the response indicates that the
    # issue link was created."
    create_project(admin, "PA")
    first, second = create_issue(admin, "PA"), create_issue(admin, "PA")
    body = {
        "type": {"name": "Blocks"},
        "inwardIssue": {"key": first},
        "outwardIssue": {"key": second},
    }
    made = [admin.post(f"{API}/issueLink", json=body) for _ in range(2)]
    assert [r.status_code for r in made] == [201, 201], made[1].text
    assert made[0].json()["id"] == made[1].json()["id"]
    edit = {
        "update": {
            "issuelinks": [{"add": {"type": {"name": "Blocks"}, "outwardIssue": {"key": second}}}]
            * 2
        }
    }
    assert admin.put(f"{API}/issue/{first}", json=edit).status_code == 204
    assert len(fields_of(admin, first)["issuelinks"]) == 1
    assert len(fields_of(admin, second)["issuelinks"]) == 1


def _app_with(services: Services, extra: Callable[[FastAPI], None]) -> FastAPI:
    app = create_app(services)
    extra(app)
    return app


def test_a_constraint_violation_at_a_flush_is_a_409_in_the_dialects_shape(
    services: Services, live_server: LiveServer
) -> None:
    def duplicate_watcher() -> None:
        # A real write that breaks a primary key at a flush inside the operation.
        with services.uow_factory() as uow:
            admin = uow.session.scalar(select(User).where(User.name == "admin"))
            assert admin is not None
            issue_id = uow.session.scalar(select(Issue.id))
            uow.session.add(Watcher(issue_id=issue_id, user_id=admin.id))
            uow.session.flush()
            uow.session.add(Watcher(issue_id=issue_id, user_id=admin.id))
            uow.session.flush()
            uow.commit()

    def routes(app: FastAPI) -> None:
        for prefix in (API, SHORT, ""):
            app.add_api_route(f"{prefix}/test-conflict", duplicate_watcher, methods=["POST"])

    live_server.start(_app_with(services, routes))
    with httpx.Client(base_url=live_server.url, auth=("admin", PASSWORD), timeout=30) as c:
        create_project(c, "PA")
        key = create_issue(c, "PA")
        for dialect, prefix in (("jira", API), ("backbone", SHORT), ("plain", "")):
            response = c.post(f"{prefix}/test-conflict")
            assert "clashes" in message_of(response, 409, dialect)
            assert "INSERT" not in response.text
        assert c.get(f"{API}/issue/{key}/watchers").json()["watchCount"] == 0


# -- JQL -----------------------------------------------------------------------------------------


def _search(client: httpx.Client, method: str, jql: str) -> httpx.Response:
    if method == "GET":
        return client.get(f"{API}/search", params={"jql": jql}, timeout=ANSWER_WITHIN_S)
    return client.post(f"{API}/search", json={"jql": jql}, timeout=ANSWER_WITHIN_S)


OR_CHAIN = " OR ".join(f"summary ~ x{i}" for i in range(1_000))
REFUSED_JQL: list[tuple[str, str, str]] = [
    ("cf[99999999999999999999999] = x", "custom field id", "both"),
    ("created > -9999999999999999999999w", "years 1 to 9999", "both"),
    ("created > startOfDay(-99999999999999)", "years 1 to 9999", "both"),
    ("duedate < 99999-01-01", "invalid", "both"),
    ("project = PA ORDER BY " + ", ".join(["key"] * 5_000), "characters", "POST"),
    ("project = PA ORDER BY " + ", ".join(["key"] * (MAX_ORDER_BY + 1)), "ORDER BY", "both"),
    ('summary ~ "' + "a" * 50_001 + '"', "characters", "POST"),
    ('summary ~ "' + "a" * 1_001 + '"', "1,000", "both"),
    (OR_CHAIN, "characters", "POST"),
    (" OR ".join(f"key = PA-{i}" for i in range(MAX_CLAUSES + 1)), "conditions", "both"),
    ("summary ~ x AND " * MAX_DEPTH + "NOT " * MAX_DEPTH + "a = 1", "nesting", "both"),
    ('text ~ "' + " ".join(["w"] * 101) + '"', "words", "both"),
    ("x" * 1_000_000, "characters", "POST"),
    ("key in (" + ", ".join(["PA-1"] * 1_000_000) + ")", "characters", "POST"),
]


@pytest.mark.parametrize(("jql", "names", "methods"), REFUSED_JQL, ids=lambda v: str(v)[:40])
def test_jql_over_a_limit_is_a_400_that_names_it(
    admin: httpx.Client, caplog: pytest.LogCaptureFixture, jql: str, names: str, methods: str
) -> None:
    create_project(admin, "PA")
    create_issue(admin, "PA")
    caplog.set_level(logging.INFO)
    for method in ("GET", "POST") if methods == "both" else (methods,):
        started = time.monotonic()
        message = message_of(_search(admin, method, jql), 400, "jira")
        assert names in message, message[:300]
        assert time.monotonic() - started < ANSWER_WITHIN_S
        assert len(message) < 2_000  # the query is never quoted whole
    # Nothing logged the query or an SQL statement, let alone at error level.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(len(r.getMessage()) < 5_000 for r in caplog.records)


def test_jql_up_to_the_limits_answers(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    keys = [create_issue(admin, "PA", summary=f"word{n}") for n in range(3)]
    listed = "key in (" + ", ".join(f"PA-{n % 3 + 1}" for n in range(800)) + ")"
    deep = "summary ~ word1"
    for level in range(MAX_DEPTH - 1):
        deep = f"(summary ~ word{level % 3} {'AND' if level % 2 else 'OR'} {deep})"
    allowed = [
        (listed, keys),
        (" OR ".join(f"summary ~ word{n % 3}" for n in range(MAX_CLAUSES)), keys),
        (deep, None),
        ("project = PA ORDER BY " + ", ".join(["key", "updated", "created", "priority"] * 2), keys),
        ('text ~ "' + " ".join(["word1"] * 100) + '"', [keys[1]]),
        ("created > startOfYear(-2000)", keys),
    ]
    for jql, expected in allowed:
        for method in ("GET", "POST"):
            response = _search(admin, method, jql)
            assert response.status_code == 200, (jql[:60], response.text[:300])
            if expected is not None:
                found = sorted(i["key"] for i in response.json()["issues"])
                assert found == sorted(expected), jql[:60]


def test_an_integrations_queries_are_bounded_when_it_is_saved(
    admin: httpx.Client, services: Services
) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone"),
    )
    too_many = " OR ".join(f"summary ~ w{i}" for i in range(MAX_CLAUSES + 1))
    half = " OR ".join(f"summary ~ w{i}" for i in range(MAX_CLAUSES // 2 + 1))
    for queries, words in (
        ([too_many], "conditions"),
        ([half, half], "together"),
        (["x" * 20_000], "characters"),
        (["cf[99999999999999999999999] = 1"], "custom field id"),
    ):
        body = local_body(outgoingJqls=queries)
        response = admin.post(f"{SHORT}/integrations", json=body)
        message = message_of(response, 400, "backbone")
        assert words in message, message[:300]
        assert "outgoingJqls" in message
    assert admin.get(f"{SHORT}/integrations").json() == []
    fine = admin.post(f"{SHORT}/integrations", json=local_body(outgoingJqls=[half]))
    assert fine.status_code in (200, 201), fine.text
    key = fine.json()["integrationKey"]
    again = local_body(outgoingJqls=[half, half])
    response = admin.put(f"{SHORT}/integrations/{key}", json=again)
    assert "together" in message_of(response, 400, "backbone")


# -- a full disk ------------------------------------------------------------------------------


def test_an_upload_to_a_full_disk_is_a_507_and_keeps_nothing(
    admin: httpx.Client, services: Services
) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA")
    url = f"{API}/issue/{key}/attachments"
    with full_disk(services.settings.attachments_dir) as disk:
        disk.fill()
        for files in (
            {"file": ("report.txt", b"r" * 100_000)},
            [("file", ("one.txt", b"1")), ("file", ("two.txt", b"2" * 300_000))],
        ):
            response = admin.post(url, headers=NO_CHECK, files=files)
            assert "storage is full" in message_of(response, 507, "jira")
            # Nothing half-stored: no attachment row, no blob, no temporary file.
            assert fields_of(admin, key)["attachment"] == []
            assert disk.files() == []
        disk.free()
        response = admin.post(url, headers=NO_CHECK, files={"file": ("report.txt", b"ok")})
        assert response.status_code == 200, response.text
        assert [a["filename"] for a in fields_of(admin, key)["attachment"]] == ["report.txt"]
        assert len(disk.files()) == 1


def test_a_full_database_is_a_507_and_keeps_nothing(tmp_path: Path) -> None:
    with full_disk(tmp_path / "home", size="24m") as disk:
        server = LiveServer()
        services = build_services(
            Settings(
                home=disk.path,
                admin_password=SecretStr(PASSWORD),
                base_url=server.url,
                max_attachment_size=1024 * 1024,
            )
        )
        try:
            bootstrap(services)
            server.start(create_app(services))
            with httpx.Client(base_url=server.url, auth=("admin", PASSWORD), timeout=60) as client:
                create_project(client, "PA")
                create_issue(client, "PA")
                disk.fill()
                answers = []
                for number in range(60):
                    body = issue_body(summary=f"big {number}", description="d" * 30_000)
                    answers.append(client.post(f"{API}/issue", json=body, timeout=60))
                    if answers[-1].status_code != 201:
                        break
                assert "storage is full" in message_of(answers[-1], 507, "jira")
                created = sum(1 for a in answers if a.status_code == 201)
                assert len(search_keys(client, "project = PA")) == 1 + created
                disk.free()
                assert client.post(f"{API}/issue", json=issue_body()).status_code == 201
        finally:
            server.stop()
            services.close()


# -- an unexpected error ------------------------------------------------------------------------


def test_an_unexpected_error_answers_in_shape_and_keeps_the_connection(
    services: Services, live_server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise RuntimeError("an unexpected failure " + "y" * 400_000)

    async def peer(request: Request) -> dict[str, int]:
        assert request.client is not None
        return {"port": request.client.port}

    def routes(app: FastAPI) -> None:
        for prefix in (API, SHORT, ""):
            app.add_api_route(f"{prefix}/test-boom", boom)
        app.add_api_route("/test-peer", peer)

    live_server.start(_app_with(services, routes))
    caplog.set_level(logging.INFO)
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        port = client.get("/test-peer").json()["port"]
        for dialect, prefix in (("jira", API), ("backbone", SHORT), ("plain", ""), ("jira", API)):
            response = client.get(f"{prefix}/test-boom")
            assert "Internal error" in message_of(response, 500, dialect)
            assert "yyyy" not in response.text
        # The same connection carried every request: none was dropped after a 500.
        assert client.get("/test-peer").json()["port"] == port
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 4, [r.getMessage()[:200] for r in failures]
    for record in failures:
        logged = record.getMessage()
        assert "Traceback" in logged
        assert "RuntimeError: an unexpected failure" in logged
        assert len(logged) < 20_000  # cut short, never the whole 400 KB message


# -- sizes -----------------------------------------------------------------------------------


def test_text_fields_have_jiras_limits_on_create_and_edit(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    response = admin.post(f"{API}/field", json={"name": "Notes", "type": "text"})
    assert response.status_code == 201, response.text
    notes = response.json()["id"]
    key = create_issue(admin, "PA", description="short")
    longest, over = "d" * 32_767, "d" * 32_768
    refused: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", f"{API}/issue", issue_body(summary="s" * 256), "summary"),
        ("POST", f"{API}/issue", issue_body(description=over), "description"),
        ("POST", f"{API}/issue", issue_body(**{notes: over}), notes),
        ("PUT", f"{API}/issue/{key}", {"fields": {"description": over}}, "description"),
        ("PUT", f"{API}/issue/{key}", {"fields": {notes: over}}, notes),
        (
            "PUT",
            f"{API}/issue/{key}",
            {"update": {"comment": [{"add": {"body": over}}]}},
            "comment",
        ),
        ("POST", f"{API}/issue/{key}/comment", {"body": over}, "comment"),
        ("POST", f"{API}/issue/{key}/worklog", {"timeSpent": "1h", "comment": over}, "comment"),
        ("POST", f"{API}/project", {"key": "PZ", "name": "Z", "description": over}, "description"),
        (
            "POST",
            f"{API}/component",
            {"project": "PA", "name": "C", "description": over},
            "description",
        ),
    ]
    for method, url, body, field in refused:
        response = admin.request(method, url, json=body)
        assert response.status_code == 400, (url, field, response.text[:300])
        errors = response.json()["errors"]
        expected = "Summary must be less than 255 characters." if field == "summary" else TOO_LONG
        assert errors == {field: expected}, (url, errors)
    assert fields_of(admin, key)["description"] == "short"
    assert admin.get(f"{API}/issue/{key}/comment").json()["total"] == 0
    assert search_keys(admin, "project = PA") == [key]
    # At the limit, everything is taken.
    made = create_issue(admin, "PA", description=longest, **{notes: longest})
    assert fields_of(admin, made)["description"] == longest
    assert admin.post(f"{API}/issue/{made}/comment", json={"body": longest}).status_code == 201


def test_the_text_limit_is_a_setting(services: Services, admin: httpx.Client) -> None:
    services.tracker.text_limit = 1_000  # what ISSUESYNC_TEXT_FIELD_LIMIT=1000 makes
    create_project(admin, "PA")
    response = admin.post(f"{API}/issue", json=issue_body(description="d" * 1_001))
    assert response.json()["errors"] == {"description": TOO_LONG.replace("32767", "1000")}
    assert admin.post(f"{API}/issue", json=issue_body(description="d" * 1_000)).status_code == 201


def test_a_too_long_value_from_the_other_side_is_cut_with_its_full_text_attached(
    services: Services, admin: httpx.Client
) -> None:
    with integration_pair(services, admin, local_body()) as pair:
        key = create_issue(admin, "PA", summary="long")
        # A value as the other tracker has it: longer than this tracker takes (as a
        # Jira with a higher jira.text.field.character.limit would send it).
        with services.uow_factory() as uow:
            uow.session.execute(
                update(Issue).where(Issue.key == key).values(description="L" * 40_000)
            )
            uow.commit()
        pair.settle()
        states = [(m.state, m.reason) for m in pair.messages(pair.second_id)]
        assert all(state == "archive" for state, _ in states), states
        twin = pair.fields(pair.twin(key))
        assert twin["description"].endswith(
            f"… truncated by issuesync: the full text is attached as {key}-description.txt"
        )
        assert len(twin["description"]) <= 32_767
        assert [a["filename"] for a in twin["attachment"]] == [f"{key}-description.txt"]


def test_a_message_stores_a_large_value_once(services: Services, admin: httpx.Client) -> None:
    description = " ".join(f"word{n}" for n in range(6_000))[:32_767]
    with integration_pair(services, admin, local_body()) as pair:
        create_issue(admin, "PA", summary="large", description=description)
        pair.settle()
        (created,) = [m for m in pair.messages(pair.second_id) if m.kind == "create"]
        # The description once (JSON text) and a replica without it: not twice (in the
        # changes and again, base64, in the replica: 2.37 times the text before).
        assert len(created.body.encode()) < 1.3 * len(description)
        assert pair.fields(pair.twin("PA-1"))["description"] == description
