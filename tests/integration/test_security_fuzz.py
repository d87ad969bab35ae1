"""Hostile bodies and queries over every route of every dialect: never a 500, never a hang.

Schemathesis (``test_tracker_fuzz.py``, ``test_backbone_fuzz.py``) generates what
the OpenAPI documents describe. An attacker sends what they do not: JSON nested
thousands of levels deep, megabytes of text, broken UTF-8, lone surrogates, NUL,
numbers no column can hold, the wrong content type. Each route of the app (read
from the app itself, so a new route is fuzzed without anyone adding it here) gets
each of those, over real HTTP against a served app, as the administrator (whose
requests reach furthest into the services), and must answer below 500 in its
dialect's error shape, with the server still answering afterwards. A bounded
hypothesis run adds random nested documents to every route that takes a body.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fuzz_helpers import make_fuzz_world
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from issuesync.app import bootstrap, build_services, create_app
from issuesync.config import Settings
from issuesync.services import Services
from issuesync.testing.server import LiveServer

PASSWORD = "fuzz-password"
TIMEOUT_S = 30.0  # a hang guard, not a performance figure


@dataclass(frozen=True)
class Target:
    """A served app with objects that the fuzzed paths name."""

    url: str
    paths: dict[str, str]  # path parameter name -> a real value
    routes: list[tuple[str, str]]  # (method, path template), deletions last


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    home: Path = tmp_path_factory.mktemp("hostile")
    server = LiveServer()
    services: Services = build_services(
        Settings(home=home, admin_password=SecretStr(PASSWORD), base_url=server.url)
    )
    bootstrap(services)
    task_id = make_fuzz_world(services, _basic("admin", PASSWORD))
    app = create_app(services)
    server.start(app)
    try:
        yield Target(url=server.url, paths=_real_path_values(task_id), routes=_routes(app))
    finally:
        server.stop()
        services.close()


def _real_path_values(task_id: str) -> dict[str, str]:
    """Path parameters by name (as the OpenAPI documents name them): the world's objects."""
    return {
        "key": "PA-1",
        "integrationKey": "INT-1",
        "connectorKey": "PA-1",
        "taskId": task_id,
        "messageId": "1",
        "comment_id": "1",
        "attachment_id": "1",
        "link_id": "1",
        "filename": "file.txt",
        "checksum": "0" * 64,
    }


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the routes -------------------------------------------------------------------------------

_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
WRITES = ("POST", "PUT", "PATCH")


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves, deletions last.

    Read from the app's OpenAPI document, which lists every route (none is hidden
    from it), so that a new route is fuzzed without anyone adding it here.
    """
    found = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    return sorted(found, key=lambda item: (item[0] == "DELETE", item[1], item[0]))


def _path(template: str, values: dict[str, str]) -> str:
    return _PARAM.sub(lambda found: values.get(found.group(1), "1"), template)


def test_the_fuzzed_routes_cover_every_dialect(target: Target) -> None:
    for prefix in (
        "/rest/api/2/",
        "/plugins/servlet/backbone-issue-sync/api/1/",
        "/api/1/",
        "/api/v2/connections/",
    ):
        assert sum(path.startswith(prefix) for _, path in target.routes) >= 10, prefix
    assert len(target.routes) > 90


# -- what an attacker sends -------------------------------------------------------------------


def _nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _nested_objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


HOSTILE_BODIES: dict[str, tuple[bytes, str]] = {
    "arrays nested 20,000 deep": (_nested_arrays(20_000), "application/json"),
    "objects nested 5,000 deep": (_nested_objects(5_000), "application/json"),
    "Jira fields nested 900 deep": (
        json.dumps(
            {
                "fields": {"summary": "deep", "project": {"key": "PA"}},
                "historyMetadata": _nested(900),
                "properties": [{"key": "k", "value": _nested(900)}],
            }
        ).encode(),
        "application/json",
    ),
    "a 3 MB string": (
        json.dumps({"body": "x" * 3_000_000, "summary": "y" * 3_000_000}).encode(),
        "application/json",
    ),
    "truncated JSON": (b'{"fields": {"summary": "x"', "application/json"),
    "invalid UTF-8": (b'{"body": "\xff\xfe\xc0\xaf"}', "application/json"),
    "a lone surrogate": (
        (
            b'{"body": "\\ud800", "summary": "\\udfff", "jql": "summary ~ \\"\\ud800\\"", '
            b'"fields": {"summary": "\\ud800"}, "name": "\\ud800"}'
        ),
        "application/json",
    ),
    "NUL": (b'{"body": "a\\u0000b", "fields": {"summary": "\\u0000"}}', "application/json"),
    "numbers no column holds": (
        (
            b'{"maxResults": 1e999, "startAt": -99999999999999999999999999, "id": 1e308, '
            b'"archivedMessagesPerIssue": 9223372036854775808, '
            b'"initialInternalPollingDelay": 1e30}'
        ),
        "application/json",
    ),
    "NaN and Infinity": (b'{"value": NaN, "other": Infinity}', "application/json"),
    "not an object": (b'"just a string"', "application/json"),
    "a list of nulls": (b"[null, null, null]", "application/json"),
    "JSON as text/plain": (b'{"body": "x"}', "text/plain"),
    "a form": (b"a=1&b=2", "application/x-www-form-urlencoded"),
    "broken multipart": (b"--x\r\nContent-Disposition: form-data\r\n\r\n", "multipart/form-data"),
}

HOSTILE_QUERIES: dict[str, str] = {
    "huge numbers": "startAt=99999999999999999999999&maxResults=-99999999999999999999",
    "a lone surrogate": "jql=summary%20~%20%22%ED%A0%80%22&query=%ED%A0%80&username=%ED%A0%80",
    "NUL": "jql=a%00b&query=%00",
    "long JQL": "jql=" + "summary%20~%20x%20OR%20" * 2_500 + "summary%20~%20x",
    "deep JQL": "jql=" + "(" * 2_000 + "summary%20~%20x" + ")" * 2_000,
}


def _dialect_error(path: str, response: httpx.Response) -> str | None:
    """What is wrong with an error answer's shape for its path's dialect, or None."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"an error that is not JSON: {response.text[:200]!r}"
    jira = path.startswith(("/rest/api/2", "/secure/attachment"))
    if jira and (not isinstance(body, dict) or not {"errorMessages", "errors"} <= body.keys()):
        return f"not Jira's error shape: {body!r:.200}"
    backbone = path.startswith(("/plugins/servlet/backbone-issue-sync/api/1", "/api/1"))
    if backbone and (not isinstance(body, dict) or body.get("status-code") != response.status_code):
        return f"not Backbone's error shape: {body!r:.200}"
    if path.startswith("/api/v2/") and not _drf_shaped(response.status_code, body):
        return f"not Django REST framework's error shape: {body!r:.200}"
    return None


def _drf_shaped(status: int, body: object) -> bool:
    """SD Elements' errors: ``{"detail": "..."}``, or a 400 naming fields (or non_field_errors)."""
    if not isinstance(body, dict) or not body:
        return False
    if status != 400:
        return list(body) == ["detail"] and isinstance(body["detail"], str)
    return "detail" not in body


def _check(method: str, path: str, send: Callable[[], httpx.Response], what: str) -> str | None:
    try:
        response = send()
    except httpx.HTTPError as exc:
        return f"{method} {path} with {what}: the request failed ({type(exc).__name__}: {exc})"
    if response.status_code >= 500:
        return f"{method} {path} with {what}: {response.status_code} {response.text[:300]!r}"
    problem = _dialect_error(path, response)
    if problem:
        return f"{method} {path} with {what}: {response.status_code} {problem}"
    return None


@pytest.fixture
def client(target: Target) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=target.url, auth=("admin", PASSWORD), timeout=TIMEOUT_S
    ) as connected:
        yield connected


def test_no_route_answers_hostile_bodies_with_a_server_error(
    target: Target, client: httpx.Client
) -> None:
    failures: list[str] = []
    for method, template in target.routes:
        path = _path(template, target.paths)
        for what, (content, content_type) in HOSTILE_BODIES.items():
            failure = _check(
                method,
                path,
                partial(
                    client.request,
                    method,
                    path,
                    content=content,
                    headers={"Content-Type": content_type},
                ),
                what,
            )
            if failure:
                failures.append(failure)
    assert client.get("/healthz").status_code == 200
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:60])


def test_no_route_answers_hostile_queries_with_a_server_error(
    target: Target, client: httpx.Client
) -> None:
    failures: list[str] = []
    for method, template in target.routes:
        path = _path(template, target.paths)
        for what, query in HOSTILE_QUERIES.items():
            failure = _check(
                method,
                path,
                partial(client.request, method, f"{path}?{query}"),
                what,
            )
            if failure:
                failures.append(failure)
    assert client.get("/healthz").status_code == 200
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:60])


# Any JSON document, including what no schema describes: deep, wide, huge numbers, any text.
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["fields", "summary", "body", "jql", "name", "value", "key", "id", "firstConnector"]
            )
            | st.text(max_size=10),
            children,
            max_size=4,
        )
    ),
    max_leaves=40,
)


def test_no_route_answers_random_documents_with_a_server_error(
    target: Target, client: httpx.Client
) -> None:
    writes = [(m, _path(t, target.paths)) for m, t in target.routes if m in WRITES]
    failures: list[str] = []

    @given(document=_DOCUMENTS)
    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(document: object) -> None:
        text = json.dumps(document)
        for method, path in writes:
            failure = _check(
                method,
                path,
                partial(
                    client.request,
                    method,
                    path,
                    content=text.encode(),
                    headers={"Content-Type": "application/json"},
                ),
                f"the document {text[:120]}",
            )
            if failure:
                failures.append(failure)

    fuzz()
    assert client.get("/healthz").status_code == 200
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures))[:60])
