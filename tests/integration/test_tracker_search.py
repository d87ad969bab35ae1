"""The HTTP contract of search: GET and POST, paging, fields, ORDER BY and JQL errors.

The JQL compiler has its own tests; these check what a client of ``/search`` relies on.
"""

from __future__ import annotations

import httpx
from tracker_helpers import API, assert_error, create_issue, create_project, search_keys, send_raw


def _issues(admin: httpx.Client, count: int) -> list[str]:
    """``count`` issues in PA; priorities cycle so many issues share one (ties in ORDER BY)."""
    create_project(admin, "PA")
    priorities = ["High", "Low", "Medium"]
    return [
        create_issue(admin, "PA", f"Issue {n}", priority={"name": priorities[n % 3]})
        for n in range(count)
    ]


def test_search_get_and_post(admin: httpx.Client) -> None:
    keys = _issues(admin, 3)
    create_project(admin, "PB")
    create_issue(admin, "PB", "Elsewhere")

    got = admin.get(f"{API}/search", params={"jql": "project = PA ORDER BY key ASC"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["startAt"], body["maxResults"], body["total"]) == (0, 50, 3)
    assert [i["key"] for i in body["issues"]] == keys
    first = body["issues"][0]
    assert first["fields"]["summary"] == "Issue 0"
    assert first["self"].endswith(f"/rest/api/2/issue/{first['id']}")
    assert "comment" not in first["fields"]  # not navigable: not in a search by default

    posted = admin.post(f"{API}/search", json={"jql": "project = PA ORDER BY key ASC"})
    assert posted.status_code == 200, posted.text
    assert posted.json() == body

    everything = admin.get(f"{API}/search").json()
    assert everything["total"] == 4
    assert admin.post(f"{API}/search", json={}).json()["total"] == 4
    none = admin.get(f"{API}/search", params={"jql": "project = PA AND summary ~ nothing"}).json()
    assert (none["total"], none["issues"]) == (0, [])


def test_search_fields_and_expand(admin: httpx.Client) -> None:
    keys = _issues(admin, 2)
    admin.post(f"{API}/issue/{keys[0]}/comment", json={"body": "hi"})
    admin.put(f"{API}/issue/{keys[0]}", json={"fields": {"summary": "Renamed"}})
    jql = "project = PA ORDER BY key"

    only = admin.get(f"{API}/search", params={"jql": jql, "fields": "summary,priority"}).json()
    assert [set(i["fields"]) for i in only["issues"]] == [{"summary", "priority"}] * 2
    posted = admin.post(f"{API}/search", json={"jql": jql, "fields": ["summary"]}).json()
    assert [i["fields"] for i in posted["issues"]] == [
        {"summary": "Renamed"},
        {"summary": "Issue 1"},
    ]
    every = admin.post(f"{API}/search", json={"jql": jql, "fields": ["*all"]}).json()
    assert every["issues"][0]["fields"]["comment"]["total"] == 1
    minus = admin.get(f"{API}/search", params={"jql": jql, "fields": "*navigable,-summary"}).json()
    assert "summary" not in minus["issues"][0]["fields"]
    assert "status" in minus["issues"][0]["fields"]

    expanded = admin.get(f"{API}/search", params={"jql": jql, "expand": "changelog"}).json()
    items = expanded["issues"][0]["changelog"]["histories"][0]["items"]
    assert [(i["field"], i["fromString"], i["toString"]) for i in items] == [
        ("summary", "Issue 0", "Renamed")
    ]
    assert "changelog" not in only["issues"][0]
    posted_expand = admin.post(f"{API}/search", json={"jql": jql, "expand": ["changelog"]}).json()
    assert posted_expand["issues"][0]["changelog"]["total"] == 1


def test_order_by_and_paging_are_stable_and_complete(admin: httpx.Client) -> None:
    keys = _issues(admin, 13)
    by_key = search_keys(admin, "project = PA ORDER BY key DESC")
    assert by_key == sorted(keys, key=lambda k: int(k.split("-")[1]), reverse=True)

    for jql in ("project = PA ORDER BY priority DESC", "project = PA ORDER BY updated"):
        for method in ("GET", "POST"):
            pages: list[str] = []
            totals = set()
            for start in range(0, 15, 4):
                params = {"jql": jql, "startAt": start, "maxResults": 4}
                if method == "GET":
                    response = admin.get(f"{API}/search", params=params)
                else:
                    response = admin.post(f"{API}/search", json=params)
                assert response.status_code == 200, response.text
                body = response.json()
                assert (body["startAt"], body["maxResults"]) == (start, 4)
                totals.add(body["total"])
                pages.extend(i["key"] for i in body["issues"])
            assert totals == {13}
            assert sorted(pages) == sorted(keys), (jql, method)
            assert pages == search_keys(admin, jql), (jql, method)

    ranked = admin.get(
        f"{API}/search",
        params={"jql": "project = PA ORDER BY priority DESC, key ASC", "fields": "priority"},
    ).json()
    names = [i["fields"]["priority"]["name"] for i in ranked["issues"]]
    assert names == ["High"] * 5 + ["Medium"] * 4 + ["Low"] * 4

    empty_page = admin.get(f"{API}/search", params={"jql": "project = PA", "maxResults": 0}).json()
    assert (empty_page["total"], empty_page["issues"]) == (13, [])
    past_end = admin.get(f"{API}/search", params={"jql": "project = PA", "startAt": 50}).json()
    assert (past_end["total"], past_end["issues"]) == (13, [])
    capped = admin.get(f"{API}/search", params={"jql": "project = PA", "maxResults": 5000}).json()
    assert capped["maxResults"] <= 1000
    assert len(capped["issues"]) == 13


def test_invalid_search_requests_are_400(admin: httpx.Client) -> None:
    _issues(admin, 1)
    url = f"{API}/search"

    bad = assert_error(admin.get(url, params={"jql": "project = PA AND"}), 400)
    assert bad["errors"] == {}
    message = " ".join(bad["errorMessages"])
    assert "(line 1, character 17)" in message, message
    quoted = assert_error(admin.post(url, json={"jql": 'summary ~ "open'}), 400)
    assert "not terminated" in " ".join(quoted["errorMessages"])
    assert_error(admin.get(url, params={"jql": "project == PA"}), 400)
    assert_error(admin.get(url, params={"jql": "ORDER BY"}), 400)
    assert_error(admin.get(url, params={"jql": "nosuchfield = 1"}), 400, message="nosuchfield")
    assert_error(admin.get(url, params={"jql": "project = NOPE"}), 400, message="NOPE")
    assert_error(admin.get(url, params={"jql": "project = PA ORDER BY nosuchfield"}), 400)
    assert_error(admin.get(url, params={"jql": "summary ~ '\u0000'"}), 400)
    assert_error(admin.get(url, params={"startAt": -1}), 400, field="startAt")
    assert_error(admin.get(url, params={"maxResults": -1}), 400, field="maxResults")
    assert_error(admin.get(url, params={"startAt": "first"}), 400, field="startAt")
    assert_error(admin.get(url, params={"startAt": "9" * 30}), 400, field="startAt")
    assert_error(admin.post(url, json={"startAt": 2**63}), 400, field="startAt")
    assert_error(admin.post(url, json={"jql": 5}), 400, field="jql")
    assert_error(admin.post(url, json={"jql": "", "colour": "red"}), 400, field="colour")
    assert_error(admin.post(url, json={"fields": "summary"}), 400, field="fields")
    huge = "9" * 30
    assert_error(admin.get(url, params={"jql": f"key = PA-{huge}"}), 400, message="does not exist")
    for jql in (
        f"id = {huge}",
        f"id > {huge}",
        f"key < PA-{huge}",
        f"issue in ({huge})",
        f"id = {2**40}",
        f"key = PA-{2**40}",
        f"parent = {2**40}",
    ):
        response = admin.get(url, params={"jql": jql})
        assert response.status_code in (200, 400), (jql, response.text)
    assert_error(send_raw(admin, "POST", url, b'{"jql": "project = PA"'), 400, message="JSON")


def test_expand_names_and_schema(admin: httpx.Client) -> None:
    _issues(admin, 2)
    severity = admin.post(f"{API}/field", json={"name": "Severity", "type": "string"}).json()
    found = admin.get(
        f"{API}/search",
        params={
            "jql": "project = PA",
            "fields": f"summary,{severity['id']}",
            "expand": "names,schema",
        },
    ).json()
    assert found["names"] == {"summary": "Summary", severity["id"]: "Severity"}
    assert found["schema"]["summary"] == {"type": "string", "system": "summary"}
    assert found["schema"][severity["id"]]["type"] == "string"
    plain = admin.get(f"{API}/search", params={"jql": "project = PA"}).json()
    assert "names" not in plain
    assert "schema" not in plain
    one = admin.get(f"{API}/issue/PA-1", params={"expand": "names"}).json()
    assert one["names"]["summary"] == "Summary"
    assert "schema" not in one


def test_validate_query_false_skips_unknown_issue_keys_with_a_warning(admin: httpx.Client) -> None:
    keys = _issues(admin, 2)
    jql = f"key in ({keys[0]}, PA-99, {keys[1]}) ORDER BY key ASC"
    missing = "An issue with key 'PA-99' does not exist for field 'key'."
    # Validated (the default, and "true"): the unknown key fails the query, as in Jira.
    for params in ({}, {"validateQuery": "true"}):
        assert_error(
            admin.get(f"{API}/search", params={"jql": jql, **params}), 400, message=missing
        )
    for value in ("false", "False"):
        got = admin.get(f"{API}/search", params={"jql": jql, "validateQuery": value})
        assert got.status_code == 200, got.text
        assert [i["key"] for i in got.json()["issues"]] == keys
        assert got.json()["warningMessages"] == [missing]
    posted = admin.post(f"{API}/search", json={"jql": jql, "validateQuery": False})
    assert posted.status_code == 200, posted.text
    assert posted.json()["warningMessages"] == [missing]
    # Only unknown keys are forgiven: a query that cannot be read still fails.
    broken = {"jql": "key in (PA-1", "validateQuery": "false"}
    assert_error(admin.get(f"{API}/search", params=broken), 400)
    # And a search without unknown keys carries no warnings.
    clean = admin.get(f"{API}/search", params={"jql": "project = PA", "validateQuery": "false"})
    assert "warningMessages" not in clean.json()
