"""Issues over real HTTP: create, read, edit, delete, transitions, sub-tasks and history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from tracker_helpers import (
    API,
    TIMESTAMP,
    assert_error,
    create_issue,
    create_project,
    fields_of,
    issue,
    search_keys,
    send_raw,
    transition_id,
)


def _custom_fields(admin: httpx.Client) -> dict[str, str]:
    """One custom field of every type; returns type -> field id."""
    ids = {}
    for kind in (
        "string",
        "text",
        "number",
        "date",
        "datetime",
        "option",
        "options",
        "user",
        "users",
    ):
        body: dict[str, object] = {"name": f"CF {kind}", "type": kind}
        if kind.startswith("option"):
            body["options"] = ["Red", "Green", "Blue"]
        response = admin.post(f"{API}/field", json=body)
        assert response.status_code == 201, response.text
        ids[kind] = response.json()["id"]
    return ids


def _parts(admin: httpx.Client, project: str = "PA") -> None:
    for name in ("Backend", "Frontend"):
        admin.post(f"{API}/component", json={"project": project, "name": name})
    for name in ("1.0", "2.0"):
        admin.post(f"{API}/version", json={"project": project, "name": name})


def _changelog(admin: httpx.Client, key: str) -> list[dict[str, Any]]:
    histories = issue(admin, key, expand="changelog")["changelog"]["histories"]
    assert isinstance(histories, list)
    return histories


def test_create_and_get_issue(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    created = admin.post(
        f"{API}/issue",
        json={
            "fields": {
                "project": {"key": "PA"},
                "summary": "First",
                "issuetype": {"name": "Bug"},
                "description": "Steps",
            }
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"] == "PA-1"
    assert body["self"].endswith(f"/rest/api/2/issue/{body['id']}")

    got = issue(admin, "PA-1")
    assert got["key"] == "PA-1"
    assert got["id"] == body["id"]
    fields = got["fields"]
    assert fields["summary"] == "First"
    assert fields["description"] == "Steps"
    assert fields["issuetype"]["name"] == "Bug"
    assert fields["project"]["key"] == "PA"
    assert fields["status"]["name"] == "To Do"
    assert fields["priority"]["name"] == "Medium"
    assert fields["resolution"] is None
    assert fields["resolutiondate"] is None
    assert fields["reporter"]["name"] == "admin"
    assert fields["creator"]["name"] == "admin"
    assert fields["assignee"] is None
    assert fields["labels"] == []
    assert fields["subtasks"] == []
    assert fields["issuelinks"] == []
    assert fields["comment"]["comments"] == []
    assert fields["attachment"] == []
    assert TIMESTAMP.match(fields["created"]), fields["created"]
    assert TIMESTAMP.match(fields["updated"]), fields["updated"]

    assert issue(admin, body["id"])["key"] == "PA-1"
    assert issue(admin, "pa-1")["key"] == "PA-1"

    only = issue(admin, "PA-1", fields="summary,status")["fields"]
    assert set(only) == {"summary", "status"}
    as_list = admin.get(f"{API}/issue/PA-1", params=[("fields", "summary"), ("fields", "labels")])
    assert set(as_list.json()["fields"]) == {"summary", "labels"}
    without = issue(admin, "PA-1", fields="*all,-description")["fields"]
    assert "description" not in without
    assert "summary" in without
    assert "changelog" not in got
    assert "changelog" in issue(admin, "PA-1", expand="changelog")

    assert_error(admin.get(f"{API}/issue/PA-99"), 404)
    assert_error(admin.get(f"{API}/issue/NOPE-1"), 404)
    assert_error(admin.get(f"{API}/issue/999999"), 404)
    assert_error(admin.get(f"{API}/issue/{'9' * 30}"), 404)
    assert_error(admin.get(f"{API}/issue/{2**40}"), 404)
    assert_error(admin.get(f"{API}/issue/PA-{2**40}"), 404)
    assert_error(admin.get(f"{API}/issue/\u00b2"), 404)
    assert_error(admin.get(f"{API}/issue/PA-1%00"), 400)


def test_create_with_every_kind_of_field(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    _parts(admin)
    make_client("alice")
    make_client("bob")
    cf = _custom_fields(admin)
    custom: dict[str, Any] = {  # JSON values, keyed by field ids only known now
        cf["string"]: "short",
        cf["text"]: "long\ntext",
        cf["number"]: 4.5,
        cf["date"]: "2026-01-31",
        cf["datetime"]: "2026-01-31T10:00:00.250+0000",
        cf["option"]: {"value": "Green"},
        cf["options"]: [{"value": "Red"}, {"value": "Blue"}],
        cf["user"]: {"name": "alice"},
        cf["users"]: [{"name": "alice"}, {"name": "bob"}],
    }
    key = create_issue(
        admin,
        "PA",
        "Everything",
        priority={"name": "High"},
        assignee={"name": "alice"},
        reporter={"name": "bob"},
        labels=["red", "blue"],
        components=[{"name": "Backend"}],
        fixVersions=[{"name": "2.0"}],
        versions=[{"name": "1.0"}],
        duedate="2026-12-24",
        **custom,
    )
    fields = fields_of(admin, key)
    assert fields["priority"]["name"] == "High"
    assert fields["assignee"]["name"] == "alice"
    assert fields["reporter"]["name"] == "bob"
    assert fields["creator"]["name"] == "admin"
    assert fields["labels"] == ["blue", "red"]
    assert [c["name"] for c in fields["components"]] == ["Backend"]
    assert [v["name"] for v in fields["fixVersions"]] == ["2.0"]
    assert [v["name"] for v in fields["versions"]] == ["1.0"]
    assert fields["duedate"] == "2026-12-24"
    assert fields[cf["string"]] == "short"
    assert fields[cf["text"]] == "long\ntext"
    assert fields[cf["number"]] == 4.5
    assert fields[cf["date"]] == "2026-01-31"
    assert fields[cf["datetime"]] == "2026-01-31T10:00:00.250+0000"
    assert fields[cf["option"]]["value"] == "Green"
    assert [o["value"] for o in fields[cf["options"]]] == ["Red", "Blue"]
    assert fields[cf["user"]]["name"] == "alice"
    assert [u["name"] for u in fields[cf["users"]]] == ["alice", "bob"]

    plain = fields_of(admin, create_issue(admin, "PA", "Plain"))
    assert all(plain[cf[kind]] is None for kind in cf)


def test_rejected_create_changes_nothing_and_consumes_no_number(admin: httpx.Client) -> None:  # noqa: PLR0915 - one line per rejected input
    create_project(admin, "PA")
    create_project(admin, "PB")
    cf = _custom_fields(admin)
    assert create_issue(admin, "PA", "One") == "PA-1"
    url = f"{API}/issue"

    def fields(**extra: object) -> dict[str, object]:
        base: dict[str, object] = {
            "project": {"key": "PA"},
            "summary": "Bad",
            "issuetype": {"name": "Task"},
        }
        base.update(extra)
        return {"fields": {k: v for k, v in base.items() if v is not None}}

    assert_error(send_raw(admin, "POST", url, b'{"fields": {"summary": "x"'), 400, message="JSON")
    assert_error(send_raw(admin, "POST", url, b"not json"), 400, message="JSON")
    assert_error(send_raw(admin, "POST", url, b""), 400)
    assert_error(admin.post(url, json={"fields": "summary"}), 400, field="fields")
    assert_error(admin.post(url, json={**fields(), "colour": "red"}), 400, field="colour")
    assert_error(admin.post(url, json={}), 400, field="project")
    assert_error(admin.post(url, json=fields(summary=None)), 400, field="summary")
    assert_error(admin.post(url, json=fields(summary="  ")), 400, field="summary")
    assert_error(admin.post(url, json=fields(summary="x" * 256)), 400, field="summary")
    assert_error(admin.post(url, json=fields(project=None)), 400, field="project")
    assert_error(admin.post(url, json=fields(project={"key": "NOPE"})), 400, field="project")
    assert_error(admin.post(url, json=fields(issuetype=None)), 400, field="issuetype")
    assert_error(admin.post(url, json=fields(issuetype={"name": "Saga"})), 400, field="issuetype")
    assert_error(admin.post(url, json=fields(colour="red")), 400, field="colour")
    assert_error(admin.post(url, json=fields(status={"name": "Done"})), 400, field="status")
    assert_error(admin.post(url, json=fields(priority={"name": "Urgent"})), 400, field="priority")
    assert_error(admin.post(url, json=fields(assignee={"name": "ghost"})), 400, field="assignee")
    assert_error(admin.post(url, json=fields(labels=["has space"])), 400, field="labels")
    assert_error(admin.post(url, json=fields(labels="notalist")), 400, field="labels")
    assert_error(admin.post(url, json=fields(components=[{"name": "X"}])), 400, field="components")
    assert_error(
        admin.post(url, json=fields(fixVersions=[{"id": "999"}])), 400, field="fixVersions"
    )
    assert_error(admin.post(url, json=fields(duedate="tomorrow")), 400, field="duedate")
    assert_error(admin.post(url, json=fields(**{cf["number"]: "four"})), 400, field=cf["number"])
    assert_error(admin.post(url, json=fields(**{cf["number"]: True})), 400, field=cf["number"])
    assert_error(admin.post(url, json=fields(**{cf["number"]: 10**400})), 400, field=cf["number"])
    assert_error(admin.post(url, json=fields(summary="a\u0000b")), 400)
    assert_error(admin.post(url, json=fields(priority={"id": "\u00b2"})), 400, field="priority")
    assert_error(admin.post(url, json=fields(project={"id": "9" * 30})), 400, field="project")
    assert_error(
        admin.post(url, json=fields(components=[{"id": "\u00b2"}])), 400, field="components"
    )
    assert_error(
        admin.post(url, json=fields(issuetype={"name": "Sub-task"}, parent={"id": 10**30})),
        400,
        field="parent",
    )
    assert_error(admin.post(url, json=fields(**{cf["date"]: "31/01/2026"})), 400, field=cf["date"])
    assert_error(
        admin.post(url, json=fields(**{cf["datetime"]: "noon"})), 400, field=cf["datetime"]
    )
    assert_error(admin.post(url, json=fields(**{cf["option"]: {"value": "Pink"}})), 400)
    assert_error(admin.post(url, json=fields(**{cf["users"]: [{"name": "ghost"}]})), 400)
    assert_error(admin.post(url, json=fields(**{cf["string"]: 42})), 400, field=cf["string"])
    # Several mistakes at once are all reported.
    both = assert_error(
        admin.post(url, json=fields(priority={"name": "Urgent"}, labels=["a b"])), 400
    )
    assert {"priority", "labels"} <= set(both["errors"])
    # A valid comment and link with an invalid field: nothing is created.
    assert_error(
        admin.post(
            url,
            json={
                **fields(colour="red"),
                "update": {
                    "comment": [{"add": {"body": "hello"}}],
                    "issuelinks": [
                        {"add": {"type": {"name": "Blocks"}, "outwardIssue": {"key": "PA-1"}}}
                    ],
                },
            },
        ),
        400,
        field="colour",
    )
    # A link to a missing issue fails after the issue row would have been written.
    assert_error(
        admin.post(
            url,
            json={
                **fields(),
                "update": {
                    "issuelinks": [
                        {"add": {"type": {"name": "Blocks"}, "outwardIssue": {"key": "PA-99"}}}
                    ]
                },
            },
        ),
        400,
        field="issuelinks",
    )
    assert_error(
        admin.post(url, json={**fields(), "update": {"labels": [{"add": "a", "remove": "b"}]}}),
        400,
        field="labels",
    )

    assert search_keys(admin, "project in (PA, PB)") == ["PA-1"]
    assert fields_of(admin, "PA-1")["issuelinks"] == []
    assert fields_of(admin, "PA-1")["comment"]["total"] == 0
    assert create_issue(admin, "PA", "Two") == "PA-2"
    assert create_issue(admin, "PB", "Three") == "PB-1"


def test_edit_with_fields(admin: httpx.Client, make_client: Callable[..., httpx.Client]) -> None:
    create_project(admin, "PA")
    make_client("alice")
    key = create_issue(admin, "PA", "Before", description="old")
    before = fields_of(admin, key)

    response = admin.put(
        f"{API}/issue/{key}",
        json={
            "fields": {
                "summary": "After",
                "description": None,
                "priority": {"id": before["priority"]["id"]},
                "assignee": {"name": "alice"},
                "issuetype": {"name": "Bug"},
                "duedate": "2027-01-01",
                "labels": ["x"],
            }
        },
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    after = fields_of(admin, key)
    assert after["summary"] == "After"
    assert after["description"] is None
    assert after["assignee"]["name"] == "alice"
    assert after["issuetype"]["name"] == "Bug"
    assert after["duedate"] == "2027-01-01"
    assert after["labels"] == ["x"]
    assert after["updated"] > before["updated"]
    assert after["created"] == before["created"]

    unassign = admin.put(f"{API}/issue/{key}", json={"fields": {"assignee": None, "duedate": None}})
    assert unassign.status_code == 204, unassign.text
    cleared = fields_of(admin, key)
    assert cleared["assignee"] is None
    assert cleared["duedate"] is None

    # An empty edit is allowed and changes no field.
    assert admin.put(f"{API}/issue/{key}", json={}).status_code == 204
    assert fields_of(admin, key)["summary"] == "After"


def test_edit_with_update_operations(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    _parts(admin)
    make_client("alice")
    make_client("bob")
    cf = _custom_fields(admin)
    key = create_issue(admin, "PA", "Ops", labels=["a", "b"])

    def update(ops: dict[str, list[dict[str, object]]]) -> dict[str, Any]:
        response = admin.put(f"{API}/issue/{key}", json={"update": ops})
        assert response.status_code == 204, response.text
        return fields_of(admin, key)

    fields = update({"labels": [{"add": "c"}, {"remove": "a"}, {"add": "c"}]})
    assert fields["labels"] == ["b", "c"]
    assert update({"labels": [{"set": ["z"]}]})["labels"] == ["z"]

    fields = update(
        {
            "components": [{"add": {"name": "Backend"}}, {"add": {"name": "Frontend"}}],
            "fixVersions": [{"add": {"name": "1.0"}}],
            "versions": [{"set": [{"name": "1.0"}, {"name": "2.0"}]}],
        }
    )
    assert [c["name"] for c in fields["components"]] == ["Backend", "Frontend"]
    assert [v["name"] for v in fields["fixVersions"]] == ["1.0"]
    assert [v["name"] for v in fields["versions"]] == ["1.0", "2.0"]
    fields = update(
        {
            "components": [{"remove": {"name": "Backend"}}],
            "fixVersions": [{"remove": {"name": "1.0"}}, {"add": {"name": "2.0"}}],
            "versions": [{"remove": {"name": "2.0"}}],
        }
    )
    assert [c["name"] for c in fields["components"]] == ["Frontend"]
    assert [v["name"] for v in fields["fixVersions"]] == ["2.0"]
    assert [v["name"] for v in fields["versions"]] == ["1.0"]

    fields = update(
        {
            cf["options"]: [{"add": {"value": "Red"}}, {"add": {"value": "Blue"}}],
            cf["users"]: [{"add": {"name": "alice"}}, {"add": {"name": "bob"}}],
            cf["option"]: [{"set": {"value": "Green"}}],
            cf["number"]: [{"set": 7}],
        }
    )
    assert [o["value"] for o in fields[cf["options"]]] == ["Red", "Blue"]
    assert [u["name"] for u in fields[cf["users"]]] == ["alice", "bob"]
    assert fields[cf["option"]]["value"] == "Green"
    assert fields[cf["number"]] == 7
    fields = update(
        {
            cf["options"]: [{"remove": {"value": "Red"}}],
            cf["users"]: [{"remove": {"name": "alice"}}],
        }
    )
    assert [o["value"] for o in fields[cf["options"]]] == ["Blue"]
    assert [u["name"] for u in fields[cf["users"]]] == ["bob"]
    assert update({cf["options"]: [{"set": []}]})[cf["options"]] is None

    fields = update({"comment": [{"add": {"body": "Via edit"}}]})
    assert [c["body"] for c in fields["comment"]["comments"]] == ["Via edit"]
    assert fields["comment"]["comments"][0]["author"]["name"] == "admin"

    # fields and update together, on different fields.
    both = admin.put(
        f"{API}/issue/{key}",
        json={"fields": {"summary": "Both"}, "update": {"labels": [{"add": "y"}]}},
    )
    assert both.status_code == 204, both.text
    fields = fields_of(admin, key)
    assert fields["summary"] == "Both"
    assert fields["labels"] == ["y", "z"]


def test_rejected_edit_changes_nothing(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    _parts(admin)
    cf = _custom_fields(admin)
    key = create_issue(admin, "PA", "Stable", labels=["keep"], components=[{"name": "Backend"}])
    before = issue(admin, key, expand="changelog")
    url = f"{API}/issue/{key}"

    # One bad field among good ones: the good ones must not be applied.
    assert_error(
        admin.put(
            url,
            json={
                "fields": {"summary": "Changed", "labels": ["new"], "priority": {"name": "Urgent"}},
                "update": {"comment": [{"add": {"body": "should not land"}}]},
            },
        ),
        400,
        field="priority",
    )
    assert_error(
        admin.put(url, json={"fields": {"summary": "Changed", "nonsense": 1}}),
        400,
        field="nonsense",
    )
    assert_error(
        admin.put(url, json={"fields": {"summary": "Changed", cf["number"]: "x"}}),
        400,
        field=cf["number"],
    )
    assert_error(admin.put(url, json={"fields": {"status": {"name": "Done"}}}), 400, field="status")
    assert_error(admin.put(url, json={"fields": {"project": {"key": "PB"}}}), 400, field="project")
    assert_error(admin.put(url, json={"fields": {"created": "2020-01-01"}}), 400, field="created")
    assert_error(admin.put(url, json={"fields": {"summary": ""}}), 400, field="summary")
    assert_error(
        admin.put(url, json={"fields": {"issuetype": {"name": "Sub-task"}}}), 400, field="issuetype"
    )
    assert_error(
        admin.put(url, json={"fields": {"labels": ["a"]}, "update": {"labels": [{"add": "b"}]}}),
        400,
        field="labels",
    )
    assert_error(
        admin.put(url, json={"update": {"labels": [{"rename": "x"}], "summary": [{"set": "C"}]}}),
        400,
        field="labels",
    )
    assert_error(admin.put(url, json={"update": {"summary": [{"add": "C"}]}}), 400, field="summary")
    assert_error(admin.put(url, json={"update": {"labels": {"add": "x"}}}), 400)
    assert_error(
        admin.put(url, json={"update": {"components": [{"add": {"name": "Nope"}}]}}),
        400,
        field="components",
    )
    assert_error(admin.put(url, json={"update": {"comment": [{"add": {"body": ""}}]}}), 400)
    assert_error(admin.put(url, json={"update": {"comment": [{"remove": {"id": "1"}}]}}), 400)
    assert_error(admin.put(url, json={"fields": {"summary": "C"}, "extra": 1}), 400, field="extra")
    assert_error(send_raw(admin, "PUT", url, b'{"fields": {"summary": "C"}'), 400, message="JSON")
    assert_error(send_raw(admin, "PUT", url, b'"summary"'), 400)
    assert_error(admin.put(f"{API}/issue/PA-99", json={"fields": {"summary": "C"}}), 404)

    after = issue(admin, key, expand="changelog")
    assert after == before


def test_changelog_records_field_changes(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    _parts(admin)
    make_client("alice")
    cf = _custom_fields(admin)
    key = create_issue(admin, "PA", "Old title", labels=["a"])
    assert _changelog(admin, key) == []

    edit = admin.put(
        f"{API}/issue/{key}",
        json={
            "fields": {
                "summary": "New title",
                "priority": {"name": "High"},
                "assignee": {"name": "alice"},
                cf["option"]: {"value": "Red"},
            },
            "update": {"labels": [{"add": "b"}], "components": [{"add": {"name": "Backend"}}]},
        },
    )
    assert edit.status_code == 204, edit.text
    histories = _changelog(admin, key)
    assert len(histories) == 1
    history = histories[0]
    assert history["author"]["name"] == "admin"
    assert TIMESTAMP.match(history["created"]), history["created"]
    items = {i["field"]: i for i in history["items"]}
    assert (items["summary"]["fromString"], items["summary"]["toString"]) == (
        "Old title",
        "New title",
    )
    assert (items["priority"]["fromString"], items["priority"]["toString"]) == ("Medium", "High")
    assert (items["assignee"]["from"], items["assignee"]["to"]) == (None, "alice")
    assert (items["labels"]["fromString"], items["labels"]["toString"]) == ("a", "a b")
    assert items["Component"]["toString"] == "Backend"
    assert items["CF option"]["toString"] == "Red"
    assert items["CF option"]["fieldtype"] == "custom"
    assert items["CF option"]["fieldId"] == cf["option"]
    assert items["summary"]["fieldtype"] == "jira"

    # An edit that changes nothing adds no history.
    assert (
        admin.put(f"{API}/issue/{key}", json={"fields": {"summary": "New title"}}).status_code
        == 204
    )
    assert len(_changelog(admin, key)) == 1

    done = admin.post(
        f"{API}/issue/{key}/transitions",
        json={"transition": {"id": transition_id(admin, key, "Done")}},
    )
    assert done.status_code == 204, done.text
    last = {i["field"]: i for i in _changelog(admin, key)[-1]["items"]}
    assert (last["status"]["fromString"], last["status"]["toString"]) == ("To Do", "Done")
    assert (last["resolution"]["fromString"], last["resolution"]["toString"]) == (None, "Done")


def test_transitions_set_and_clear_the_resolution(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA", "Flow")
    listed = admin.get(f"{API}/issue/{key}/transitions")
    assert listed.status_code == 200, listed.text
    names = {t["name"]: t for t in listed.json()["transitions"]}
    assert set(names) == {"Start Progress", "Done"}
    assert names["Start Progress"]["to"]["name"] == "In Progress"

    url = f"{API}/issue/{key}/transitions"
    start = admin.post(url, json={"transition": {"id": names["Start Progress"]["id"]}})
    assert start.status_code == 204, start.text
    fields = fields_of(admin, key)
    assert fields["status"]["name"] == "In Progress"
    assert fields["resolution"] is None

    by_name = admin.post(url, json={"transition": {"name": "Done"}})
    assert by_name.status_code == 204, by_name.text
    fields = fields_of(admin, key)
    assert fields["status"]["name"] == "Done"
    assert fields["resolution"]["name"] == "Done"
    assert TIMESTAMP.match(fields["resolutiondate"]), fields["resolutiondate"]
    assert search_keys(admin, "resolution = Done") == [key]

    reopen = admin.post(url, json={"transition": {"id": transition_id(admin, key, "Reopen")}})
    assert reopen.status_code == 204, reopen.text
    fields = fields_of(admin, key)
    assert fields["status"]["name"] == "To Do"
    assert fields["resolution"] is None
    assert fields["resolutiondate"] is None

    # A resolution given with the transition wins over the default, with other fields.
    wont = admin.post(
        url,
        json={
            "transition": {"id": transition_id(admin, key, "Done")},
            "fields": {"resolution": {"name": "Won't Do"}},
            "update": {"comment": [{"add": {"body": "Closing"}}]},
        },
    )
    assert wont.status_code == 204, wont.text
    fields = fields_of(admin, key)
    assert fields["resolution"]["name"] == "Won't Do"
    assert [c["body"] for c in fields["comment"]["comments"]] == ["Closing"]

    # ... and so does one given as an update operation.
    reopen = admin.post(url, json={"transition": {"id": transition_id(admin, key, "Reopen")}})
    assert reopen.status_code == 204, reopen.text
    duplicate = admin.post(
        url,
        json={
            "transition": {"id": transition_id(admin, key, "Done")},
            "update": {"resolution": [{"set": {"name": "Duplicate"}}]},
        },
    )
    assert duplicate.status_code == 204, duplicate.text
    assert fields_of(admin, key)["resolution"]["name"] == "Duplicate"


def test_impossible_transition_changes_nothing(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA", "Stuck")
    other = create_issue(admin, "PA", "Other")
    admin.post(
        f"{API}/issue/{other}/transitions",
        json={"transition": {"id": transition_id(admin, other, "Done")}},
    )
    reopen_id = transition_id(admin, other, "Reopen")
    before = issue(admin, key, expand="changelog")
    url = f"{API}/issue/{key}/transitions"

    assert_error(
        admin.post(url, json={"transition": {"id": reopen_id}}),
        400,
        message="not valid for the current state",
    )
    assert_error(admin.post(url, json={"transition": {"id": "99999"}}), 400)
    assert_error(admin.post(url, json={"transition": {"name": "Teleport"}}), 400)
    assert_error(admin.post(url, json={"transition": {}}), 400)
    assert_error(admin.post(url, json={}), 400, field="transition")
    assert_error(admin.post(url, json={"transition": "11"}), 400, field="transition")
    assert_error(send_raw(admin, "POST", url, b'{"transition": '), 400, message="JSON")
    done_id = transition_id(admin, key, "Done")
    assert_error(
        admin.post(
            url,
            json={
                "transition": {"id": done_id},
                "fields": {"resolution": {"name": "Because"}, "summary": "Changed"},
            },
        ),
        400,
        field="resolution",
    )
    assert_error(
        admin.post(url, json={"transition": {"id": done_id}, "fields": {"bogus": 1}}),
        400,
        field="bogus",
    )
    assert_error(
        admin.post(f"{API}/issue/PA-99/transitions", json={"transition": {"id": done_id}}), 404
    )
    assert_error(admin.get(f"{API}/issue/PA-99/transitions"), 404)

    assert issue(admin, key, expand="changelog") == before


def test_subtasks(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    parent = create_issue(admin, "PA", "Parent")
    foreign = create_issue(admin, "PB", "Elsewhere")
    sub = create_issue(admin, "PA", "Child", "Sub-task", parent={"key": parent})
    sub_by_id = create_issue(
        admin, "PA", "Child 2", "Sub-task", parent={"id": issue(admin, parent)["id"]}
    )
    assert (sub, sub_by_id) == ("PA-2", "PA-3")

    fields = fields_of(admin, sub)
    assert fields["parent"]["key"] == parent
    assert fields["parent"]["fields"]["summary"] == "Parent"
    assert fields["issuetype"]["subtask"] is True
    subtasks = fields_of(admin, parent)["subtasks"]
    assert [s["key"] for s in subtasks] == [sub, sub_by_id]
    assert subtasks[0]["fields"]["status"]["name"] == "To Do"
    assert "parent" not in fields_of(admin, parent)

    url = f"{API}/issue"

    def body(**fields: object) -> dict[str, object]:
        return {"fields": {"project": {"key": "PA"}, "summary": "S", **fields}}

    assert_error(admin.post(url, json=body(issuetype={"name": "Sub-task"})), 400, field="parent")
    assert_error(
        admin.post(url, json=body(issuetype={"name": "Sub-task"}, parent={"key": foreign})),
        400,
        field="parent",
    )
    assert_error(
        admin.post(url, json=body(issuetype={"name": "Sub-task"}, parent={"key": sub})),
        400,
        field="parent",
    )
    assert_error(
        admin.post(url, json=body(issuetype={"name": "Sub-task"}, parent={"key": "PA-99"})),
        400,
        field="parent",
    )
    assert_error(
        admin.post(url, json=body(issuetype={"name": "Task"}, parent={"key": parent})),
        400,
        field="issuetype",
    )
    assert_error(admin.put(f"{API}/issue/{parent}", json={"fields": {"parent": {"key": sub}}}), 400)

    assert [s["key"] for s in fields_of(admin, parent)["subtasks"]] == [sub, sub_by_id]
    assert create_issue(admin, "PA", "Next") == "PA-4"


def test_delete_issue(admin: httpx.Client, make_client: Callable[..., httpx.Client]) -> None:
    create_project(admin, "PA")
    lead = make_client("lead", project_admin=("PA",))
    bob = make_client("bob")
    own = create_issue(bob, "PA", "Bob's own")
    assert_error(bob.delete(f"{API}/issue/{own}"), 403)
    assert issue(admin, own)["key"] == own

    parent = create_issue(admin, "PA", "Parent")
    sub = create_issue(admin, "PA", "Child", "Sub-task", parent={"key": parent})
    other = create_issue(admin, "PA", "Linked")
    assert (
        admin.post(
            f"{API}/issueLink",
            json={
                "type": {"name": "Blocks"},
                "inwardIssue": {"key": parent},
                "outwardIssue": {"key": other},
            },
        ).status_code
        == 201
    )
    admin.post(f"{API}/issue/{sub}/comment", json={"body": "note"})

    assert_error(lead.delete(f"{API}/issue/{parent}"), 400, message="deleteSubtasks")
    assert issue(admin, parent)["key"] == parent
    assert issue(admin, sub)["key"] == sub

    gone = lead.delete(f"{API}/issue/{parent}", params={"deleteSubtasks": "true"})
    assert gone.status_code == 204, gone.text
    assert_error(admin.get(f"{API}/issue/{parent}"), 404)
    assert_error(admin.get(f"{API}/issue/{sub}"), 404)
    assert fields_of(admin, other)["issuelinks"] == []

    assert admin.delete(f"{API}/issue/{own}").status_code == 204
    assert_error(admin.delete(f"{API}/issue/{own}"), 404)
    assert_error(admin.delete(f"{API}/issue/PA-99"), 404)
    assert search_keys(admin, "project = PA") == [other]
    # Deleted numbers are not reused.
    assert create_issue(admin, "PA", "After") == "PA-5"


def test_transition_ids_belong_to_the_workflow_not_the_project(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    first, second = create_issue(admin, "PA", "One"), create_issue(admin, "PB", "Two")
    ids = [
        {
            t["name"]: t["id"]
            for t in admin.get(f"{API}/issue/{key}/transitions").json()["transitions"]
        }
        for key in (first, second)
    ]
    assert ids[0] == ids[1] == {"Start Progress": "11", "Done": "31"}
    moved = admin.post(f"{API}/issue/{second}/transitions", json={"transition": {"id": "11"}})
    assert moved.status_code == 204, moved.text
    assert fields_of(admin, second)["status"]["name"] == "In Progress"
