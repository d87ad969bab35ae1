"""Small helpers for the built-in tracker's HTTP tests: create things, check Jira's error shape."""

from __future__ import annotations

import re
from typing import Any

import httpx

API = "/rest/api/2"

# Jira's timestamp format, with millisecond precision: 2026-11-22T21:40:11.123+0000
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def create_project(client: httpx.Client, key: str, name: str | None = None) -> dict[str, Any]:
    """Create a project (the client must be an administrator); returns the response body."""
    response = client.post(f"{API}/project", json={"key": key, "name": name or f"Project {key}"})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def create_issue(
    client: httpx.Client,
    project: str,
    summary: str = "An issue",
    issuetype: str = "Task",
    **fields: object,
) -> str:
    """Create an issue; returns its key."""
    body = {
        "fields": {
            "project": {"key": project},
            "summary": summary,
            "issuetype": {"name": issuetype},
            **fields,
        }
    }
    response = client.post(f"{API}/issue", json=body)
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def issue(client: httpx.Client, key: str, **params: str) -> dict[str, Any]:
    """GET an issue; returns the whole body (JSON, as decoded)."""
    response = client.get(f"{API}/issue/{key}", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fields_of(client: httpx.Client, key: str) -> dict[str, Any]:
    """The ``fields`` of an issue, as GET shows them."""
    fields = issue(client, key)["fields"]
    assert isinstance(fields, dict)
    return fields


def transition_id(client: httpx.Client, key: str, name: str) -> str:
    """The id of the transition called ``name`` available on the issue now."""
    response = client.get(f"{API}/issue/{key}/transitions")
    assert response.status_code == 200, response.text
    for transition in response.json()["transitions"]:
        if transition["name"] == name:
            found: str = transition["id"]
            return found
    msg = f"no transition {name!r} on {key}"
    raise AssertionError(msg)


def search_keys(client: httpx.Client, jql: str, **params: str) -> list[str]:
    """The keys of every issue a search finds (first page of up to 1000)."""
    response = client.get(f"{API}/search", params={"jql": jql, "maxResults": 1000, **params})
    assert response.status_code == 200, response.text
    return [i["key"] for i in response.json()["issues"]]


def assert_error(
    response: httpx.Response, status: int, *, field: str | None = None, message: str | None = None
) -> dict[str, Any]:
    """Assert a Jira-shaped error: the status, and a named field error or a message."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"errorMessages", "errors"}, body
    assert isinstance(body["errorMessages"], list)
    assert isinstance(body["errors"], dict)
    assert body["errorMessages"] or body["errors"], body
    if field is not None:
        assert field in body["errors"], body
    if message is not None:
        text = " ".join([*body["errorMessages"], *body["errors"].values()])
        assert message.lower() in text.lower(), body
    result: dict[str, Any] = body
    return result


def send_raw(client: httpx.Client, method: str, url: str, content: bytes | str) -> httpx.Response:
    """Send a raw (possibly malformed) JSON body."""
    headers = {"Content-Type": "application/json"}
    return client.request(method, url, content=content, headers=headers)
