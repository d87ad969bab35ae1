"""A first walk through the built-in tracker over real HTTP."""

from __future__ import annotations

import httpx


def test_create_and_search(admin: httpx.Client) -> None:
    assert (
        admin.post("/rest/api/2/project", json={"key": "PA", "name": "Project A"}).status_code
        == 201
    )
    created = admin.post(
        "/rest/api/2/issue",
        json={
            "fields": {"project": {"key": "PA"}, "summary": "Hello", "issuetype": {"name": "Task"}}
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "PA-1"
    found = admin.get("/rest/api/2/search", params={"jql": "project = PA AND summary ~ hello"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total"] == 1
    assert [i["key"] for i in body["issues"]] == ["PA-1"]
