"""Projects, their components and versions, reference lists, fields and users over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from tracker_helpers import API, TIMESTAMP, assert_error, create_project, send_raw

from issuesync.services import Services


def test_server_info_and_myself(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    info = admin.get(f"{API}/serverInfo")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["deploymentType"] == "Server"
    assert body["versionNumbers"][0] >= 8
    assert TIMESTAMP.match(body["serverTime"]), body["serverTime"]
    assert body["baseUrl"].startswith("http://127.0.0.1")

    me = admin.get(f"{API}/myself").json()
    assert me["name"] == "admin"
    assert me["key"] == "admin"
    assert me["active"] is True
    assert me["groups"]["items"] == [{"name": "jira-administrators"}]

    bob = make_client("bob", email="bob@example.test")
    mine = bob.get(f"{API}/myself").json()
    assert (mine["name"], mine["emailAddress"]) == ("bob", "bob@example.test")
    assert mine["groups"]["items"] == [{"name": "jira-users"}]


def test_reference_lists(admin: httpx.Client) -> None:
    types = {t["name"]: t for t in admin.get(f"{API}/issuetype").json()}
    assert {"Bug", "Task", "Story", "Epic", "Sub-task"} <= set(types)
    assert types["Sub-task"]["subtask"] is True
    assert types["Task"]["subtask"] is False

    priorities = [p["name"] for p in admin.get(f"{API}/priority").json()]
    assert priorities == ["Highest", "High", "Medium", "Low", "Lowest"]

    statuses = {s["name"]: s for s in admin.get(f"{API}/status").json()}
    assert statuses["Done"]["statusCategory"]["key"] == "done"
    assert statuses["To Do"]["statusCategory"]["key"] == "new"
    assert statuses["In Progress"]["statusCategory"]["key"] == "indeterminate"

    resolutions = [r["name"] for r in admin.get(f"{API}/resolution").json()]
    assert "Done" in resolutions
    assert "Won't Do" in resolutions

    link_types = {t["name"]: t for t in admin.get(f"{API}/issueLinkType").json()["issueLinkTypes"]}
    assert link_types["Blocks"]["outward"] == "blocks"
    assert link_types["Blocks"]["inward"] == "is blocked by"

    fields = {f["id"]: f for f in admin.get(f"{API}/field").json()}
    assert fields["summary"]["custom"] is False
    assert fields["summary"]["schema"] == {"type": "string", "system": "summary"}
    assert fields["labels"]["schema"]["items"] == "string"
    assert not [f for f in fields.values() if f["custom"]]


def test_project_create_list_get(admin: httpx.Client) -> None:
    created = create_project(admin, "PA", "Project A")
    assert created["key"] == "PA"
    assert str(created["self"]).endswith(f"/rest/api/2/project/{created['id']}")
    create_project(admin, "AB", "Another")

    listed = admin.get(f"{API}/project").json()
    assert [p["key"] for p in listed] == ["AB", "PA"]

    by_key = admin.get(f"{API}/project/PA").json()
    by_id = admin.get(f"{API}/project/{created['id']}").json()
    by_lower = admin.get(f"{API}/project/pa").json()
    assert by_key == by_id == by_lower
    assert by_key["name"] == "Project A"
    assert by_key["lead"]["name"] == "admin"
    assert {t["name"] for t in by_key["issueTypes"]} >= {"Task", "Sub-task"}
    assert by_key["components"] == []
    assert by_key["versions"] == []

    statuses = admin.get(f"{API}/project/PA/statuses").json()
    task = next(t for t in statuses if t["name"] == "Task")
    assert [s["name"] for s in task["statuses"]] == ["To Do", "In Progress", "Done"]


def test_project_create_rejects_bad_input_and_changes_nothing(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA", "Project A")
    url = f"{API}/project"

    assert_error(send_raw(admin, "POST", url, b'{"key": "PB", "name": '), 400, message="JSON")
    assert_error(send_raw(admin, "POST", url, b""), 400)
    assert_error(send_raw(admin, "POST", url, b"[1, 2]"), 400)
    assert_error(admin.post(url, json={"key": "PB"}), 400, field="name")
    assert_error(admin.post(url, json={"name": "No key"}), 400, field="key")
    assert_error(
        admin.post(url, json={"key": "PB", "name": "B", "colour": "red"}), 400, field="colour"
    )
    assert_error(admin.post(url, json={"key": "pb", "name": "B"}), 400, field="projectKey")
    assert_error(admin.post(url, json={"key": "P-B", "name": "B"}), 400, field="projectKey")
    assert_error(admin.post(url, json={"key": "PB", "name": "  "}), 400, field="projectName")
    assert_error(admin.post(url, json={"key": "PB", "name": "n" * 256}), 400, field="projectName")
    assert_error(admin.post(url, json={"key": "PB", "name": "a\u0000b"}), 400)
    assert_error(admin.post(url, json={"key": "PA", "name": "Other"}), 409, field="projectKey")
    assert_error(admin.post(url, json={"key": "PB", "name": "project a"}), 409, field="projectName")
    assert_error(
        admin.post(url, json={"key": "PB", "name": "B", "lead": "nobody"}), 400, field="projectLead"
    )
    bob = make_client("bob", project_admin=("PB",))
    assert_error(bob.post(url, json={"key": "PB", "name": "B"}), 403)

    assert [p["key"] for p in admin.get(url).json()] == ["PA"]
    assert_error(admin.get(f"{API}/project/PB"), 404)


def test_unknown_project_is_404(admin: httpx.Client) -> None:
    for path in ("", "/statuses", "/components", "/versions"):
        assert_error(admin.get(f"{API}/project/NOPE{path}"), 404)
    assert_error(admin.get(f"{API}/project/424242"), 404)
    assert_error(admin.get(f"{API}/project/{'9' * 30}"), 404)
    assert_error(admin.get(f"{API}/project/\u00b2"), 404)
    assert_error(admin.get(f"{API}/project/P%00A"), 400)
    assert_error(admin.post(f"{API}/component", json={"project": "9" * 30, "name": "X"}), 400)
    assert_error(admin.post(f"{API}/version", json={"projectId": 10**30, "name": "X"}), 400)


def test_components_and_versions(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    lead = make_client("lead", project_admin=("PA",))

    component = lead.post(
        f"{API}/component", json={"project": "PA", "name": "Backend", "description": "API"}
    )
    assert component.status_code == 201, component.text
    assert component.json()["name"] == "Backend"
    project_id = int(admin.get(f"{API}/project/PA").json()["id"])
    assert component.json()["projectId"] == project_id
    by_id = admin.post(f"{API}/component", json={"projectId": project_id, "name": "Frontend"})
    assert by_id.status_code == 201, by_id.text

    version = lead.post(
        f"{API}/version", json={"project": "PA", "name": "1.0", "releaseDate": "2026-12-01"}
    )
    assert version.status_code == 201, version.text
    assert version.json()["releaseDate"] == "2026-12-01"
    assert version.json()["released"] is False
    released = admin.post(f"{API}/version", json={"project": "PA", "name": "0.9", "released": True})
    assert released.json()["released"] is True

    components = admin.get(f"{API}/project/PA/components").json()
    assert [c["name"] for c in components] == ["Backend", "Frontend"]
    versions = admin.get(f"{API}/project/PA/versions").json()
    assert [v["name"] for v in versions] == ["1.0", "0.9"]
    project = admin.get(f"{API}/project/PA").json()
    assert [c["name"] for c in project["components"]] == ["Backend", "Frontend"]
    assert [v["name"] for v in project["versions"]] == ["1.0", "0.9"]

    # Rejected: none of these may add a component or a version.
    comp_url, ver_url = f"{API}/component", f"{API}/version"
    assert_error(admin.post(comp_url, json={"project": "PA", "name": "backend"}), 409)
    assert_error(admin.post(ver_url, json={"project": "PA", "name": "1.0"}), 409)
    assert_error(admin.post(comp_url, json={"project": "NOPE", "name": "X"}), 400, field="project")
    assert_error(admin.post(ver_url, json={"project": "NOPE", "name": "X"}), 400, field="project")
    assert_error(admin.post(comp_url, json={"name": "X"}), 400, field="project")
    assert_error(admin.post(comp_url, json={"project": "PA"}), 400, field="name")
    assert_error(admin.post(ver_url, json={"project": "PA", "name": ""}), 400, field="name")
    assert_error(admin.post(comp_url, json={"project": "PA", "name": "X", "y": 1}), 400, field="y")
    assert_error(
        admin.post(ver_url, json={"project": "PA", "name": "2.0", "releaseDate": "soon"}),
        400,
        field="releaseDate",
    )
    assert_error(send_raw(admin, "POST", comp_url, b"{name: X}"), 400, message="JSON")
    assert_error(lead.post(comp_url, json={"project": "PB", "name": "X"}), 403)
    assert_error(lead.post(ver_url, json={"project": "PB", "name": "X"}), 403)

    assert len(admin.get(f"{API}/project/PA/components").json()) == 2
    assert len(admin.get(f"{API}/project/PA/versions").json()) == 2
    assert admin.get(f"{API}/project/PB/components").json() == []
    assert admin.get(f"{API}/project/PB/versions").json() == []


CUSTOM_TYPES = {
    "string": ("string", None),
    "text": ("string", None),
    "number": ("number", None),
    "date": ("date", None),
    "datetime": ("datetime", None),
    "option": ("option", None),
    "options": ("array", "option"),
    "user": ("user", None),
    "users": ("array", "user"),
}


def test_custom_fields_of_every_type(admin: httpx.Client) -> None:
    created = {}
    for kind in CUSTOM_TYPES:
        body: dict[str, object] = {"name": f"My {kind}", "type": kind}
        if kind.startswith("option"):
            body["options"] = ["Red", "Green"]
        response = admin.post(f"{API}/field", json=body)
        assert response.status_code == 201, response.text
        created[kind] = response.json()
    jira_key = admin.post(
        f"{API}/field",
        json={"name": "Via key", "type": "com.atlassian.jira.plugin.system.customfieldtypes:float"},
    )
    assert jira_key.status_code == 201, jira_key.text
    assert jira_key.json()["schema"]["type"] == "number"

    listed = {f["id"]: f for f in admin.get(f"{API}/field").json()}
    for kind, (schema_type, items) in CUSTOM_TYPES.items():
        field = created[kind]
        assert field["id"].startswith("customfield_")
        assert field["custom"] is True
        assert field["schema"]["type"] == schema_type
        assert field["schema"].get("items") == items
        assert listed[field["id"]] == field


def test_custom_field_rejections_change_nothing(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    assert admin.post(f"{API}/field", json={"name": "Size", "type": "string"}).status_code == 201
    before = admin.get(f"{API}/field").json()
    url = f"{API}/field"

    assert_error(admin.post(url, json={"name": "X", "type": "colour"}), 400, field="type")
    assert_error(admin.post(url, json={"name": "X"}), 400, field="type")
    assert_error(admin.post(url, json={"type": "string"}), 400, field="name")
    assert_error(admin.post(url, json={"name": "size", "type": "number"}), 409)
    assert_error(
        admin.post(url, json={"name": "X", "type": "string", "options": ["a"]}),
        400,
        field="options",
    )
    assert_error(
        admin.post(url, json={"name": "X", "type": "option", "options": [""]}), 400, field="options"
    )
    assert_error(
        admin.post(url, json={"name": "X", "type": "option", "options": ["o" * 256]}),
        400,
        field="options",
    )
    assert_error(admin.post(url, json={"name": "X" * 256, "type": "string"}), 400, field="name")
    assert_error(
        admin.post(url, json={"name": "X", "type": "string", "bogus": True}), 400, field="bogus"
    )
    assert_error(send_raw(admin, "POST", url, b'{"name": "X", "type": "string"'), 400)
    bob = make_client("bob")
    assert_error(bob.post(url, json={"name": "X", "type": "string"}), 403)

    assert admin.get(f"{API}/field").json() == before


def test_users(admin: httpx.Client, make_client: Callable[..., httpx.Client]) -> None:
    make_client("alice", email="alice@example.test")
    make_client("albert")
    make_client("bob")

    alice = admin.get(f"{API}/user", params={"username": "alice"})
    assert alice.status_code == 200, alice.text
    assert alice.json()["emailAddress"] == "alice@example.test"
    assert alice.json()["self"].endswith("/rest/api/2/user?username=alice")
    assert admin.get(f"{API}/user", params={"username": "ALICE"}).json()["name"] == "alice"
    assert_error(admin.get(f"{API}/user", params={"username": "nobody"}), 404)
    assert_error(admin.get(f"{API}/user"), 400)

    found = admin.get(f"{API}/user/search", params={"username": "al"}).json()
    assert [u["name"] for u in found] == ["albert", "alice"]
    page = admin.get(f"{API}/user/search", params={"username": "al", "startAt": 1}).json()
    assert [u["name"] for u in page] == ["alice"]
    one = admin.get(f"{API}/user/search", params={"username": "a", "maxResults": 1}).json()
    assert [u["name"] for u in one] == ["admin"]
    assert admin.get(f"{API}/user/search", params={"username": "zz"}).json() == []
    assert admin.get(f"{API}/user/search", params={"username": "%"}).json() == []
    # "." is Jira Server's "every user"; "a." is a prefix like any other.
    every = admin.get(f"{API}/user/search", params={"username": "."}).json()
    assert [u["name"] for u in every] == ["admin", "albert", "alice", "bob"]
    assert admin.get(f"{API}/user/search", params={"username": "a."}).json() == []
    assert_error(admin.get(f"{API}/user/search", params={"startAt": -1}), 400)
    assert_error(admin.get(f"{API}/user/search", params={"maxResults": "many"}), 400)


def test_a_version_by_its_id(admin: httpx.Client, make_client: Callable[..., httpx.Client]) -> None:
    create_project(admin, "PA")
    created = admin.post(f"{API}/version", json={"project": "PA", "name": "1.0"}).json()
    # Any user reads it (every project is browsable), by the id its self link names.
    got = make_client("bob").get(created["self"])
    assert got.status_code == 200, got.text
    assert got.json() == created
    for missing in ("999999", "abc", str(10**30)):
        assert_error(admin.get(f"{API}/version/{missing}"), 404, message="version")


def test_each_reference_row_by_its_self_link(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    bob = make_client("bob")
    lists = {
        "issuetype": admin.get(f"{API}/issuetype").json(),
        "priority": admin.get(f"{API}/priority").json(),
        "status": admin.get(f"{API}/status").json(),
        "resolution": admin.get(f"{API}/resolution").json(),
        "issueLinkType": admin.get(f"{API}/issueLinkType").json()["issueLinkTypes"],
    }
    for name, rows in lists.items():
        assert rows, name
        for row in rows:
            got = bob.get(row["self"])
            assert got.status_code == 200, got.text
            assert got.json() == row
        for missing in ("999999", "abc", str(10**30)):
            assert_error(admin.get(f"{API}/{name}/{missing}"), 404, message="does not exist")
    # Jira finds a status by its name too.
    in_progress = admin.get(f"{API}/status/in progress")
    assert in_progress.json()["name"] == "In Progress"


def test_attachment_settings(admin: httpx.Client, services: Services) -> None:
    meta = admin.get(f"{API}/attachment/meta")
    assert meta.status_code == 200, meta.text
    assert meta.json() == {"enabled": True, "uploadLimit": services.settings.max_attachment_size}
