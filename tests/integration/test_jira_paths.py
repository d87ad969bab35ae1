"""``/rest/api/latest`` answers as ``/rest/api/2``; an unknown path or a path that names no
resource is Jira's 404; a wrong method on a resource is a 405; Backbone keeps its shape."""

from __future__ import annotations

import httpx
import pytest
from tracker_helpers import API, assert_error, create_issue, create_project

LATEST = "/rest/api/latest"


def test_latest_answers_every_route_as_api_2(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA", "Through latest")
    for path in ("/myself", "/project/PA", f"/issue/{key}", "/issuetype", "/field"):
        v2, latest = admin.get(API + path), admin.get(LATEST + path)
        assert v2.status_code == latest.status_code == 200, latest.text
        assert latest.json() == v2.json()
    # A write through latest is a write.
    created = admin.post(f"{LATEST}/issue/{key}/comment", json={"body": "written through latest"})
    assert created.status_code == 201, created.text
    comments = admin.get(f"{API}/issue/{key}/comment").json()["comments"]
    assert [c["body"] for c in comments] == ["written through latest"]
    # The query string survives the rewrite.
    found = admin.get(f"{LATEST}/search", params={"jql": "project = PA", "maxResults": 1})
    assert found.status_code == 200, found.text
    assert [i["key"] for i in found.json()["issues"]] == [key]


def test_latest_is_guarded_as_api_2(anonymous: httpx.Client) -> None:
    # The door and the error shape see the rewritten path: Jira's 401 without credentials.
    assert_error(anonymous.get(f"{LATEST}/myself"), 401)


def test_the_openapi_document_lists_each_jira_route_once(admin: httpx.Client) -> None:
    paths = admin.get("/openapi.json").json()["paths"]
    assert f"{API}/issue/{{key}}" in paths
    assert not [p for p in paths if p.startswith(LATEST)]


@pytest.mark.parametrize("prefix", [API, LATEST])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/no-such-resource"),
        ("POST", "/no-such-resource"),
        ("GET", "/issue/PA-1/no-such-part"),
        # Jira's own literal paths that a template here would swallow: not resources.
        ("POST", "/issue/archive"),  # Jira Data Center's archiving, not served here
        ("GET", "/project/PA/no-such-part"),
        ("DELETE", "/issue/picker"),
    ],
)
def test_a_path_that_names_no_resource_is_jiras_404(
    admin: httpx.Client, prefix: str, method: str, path: str
) -> None:
    response = admin.request(method, prefix + path, json={} if method == "POST" else None)
    # Jira's shape; the message is the route's own where one takes it ("no issue picker").
    body = assert_error(response, 404)
    assert body["errors"] == {}


@pytest.mark.parametrize("prefix", [API, LATEST])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/serverInfo"),
        ("POST", "/issue/PA-1"),
        ("POST", "/project/PA"),
        ("PUT", "/attachment/10000"),
        ("POST", "/issue/PA-1/editmeta"),
        ("POST", "/issue/createmeta"),  # Jira's createmeta is a GET resource too
    ],
)
def test_a_wrong_method_on_a_resource_is_a_405(
    admin: httpx.Client, prefix: str, method: str, path: str
) -> None:
    # As Jira (Jersey) answers it: the resource exists, the method is not one of its.
    assert_error(admin.request(method, prefix + path), 405, message="is not allowed")


@pytest.mark.parametrize("prefix", ["/plugins/servlet/backbone-issue-sync/api/1", "/api/1"])
def test_backbone_keeps_its_own_error_shape(admin: httpx.Client, prefix: str) -> None:
    missing = admin.get(f"{prefix}/no-such-resource")
    assert missing.status_code == 404
    assert missing.json()["status-code"] == 404
    assert "errorMessages" not in missing.json()
    wrong = admin.request("PATCH", f"{prefix}/integrations")
    assert wrong.status_code == 405
    assert wrong.json()["status-code"] == 405
