"""createmeta, editmeta and mypermissions: what a sync tool asks before it writes."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from tracker_helpers import API, assert_error, create_issue, create_project


def test_createmeta_lists_fields_required_and_allowed_values(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    assert admin.post(f"{API}/component", json={"project": "PA", "name": "Backend"}).is_success
    severity = admin.post(
        f"{API}/field", json={"name": "Severity", "type": "option", "options": ["S1", "S2"]}
    ).json()

    bare = admin.get(f"{API}/issue/createmeta", params={"projectKeys": "PA"}).json()
    assert [p["key"] for p in bare["projects"]] == ["PA"]
    types = {t["name"]: t for t in bare["projects"][0]["issuetypes"]}
    assert {"Bug", "Task", "Story", "Epic", "Sub-task"} <= set(types)
    assert "fields" not in types["Bug"]

    meta = admin.get(
        f"{API}/issue/createmeta",
        params={
            "projectKeys": "PA",
            "issuetypeNames": "Bug",
            "expand": "projects.issuetypes.fields",
        },
    ).json()
    (bug,) = meta["projects"][0]["issuetypes"]
    fields = bug["fields"]
    required = {name for name, field in fields.items() if field["required"]}
    assert required == {"summary", "issuetype", "project"}
    assert [c["name"] for c in fields["components"]["allowedValues"]] == ["Backend"]
    assert fields["components"]["operations"] == ["add", "set", "remove"]
    assert fields["priority"]["defaultValue"]["name"] == "Medium"
    assert [o["value"] for o in fields[severity["id"]]["allowedValues"]] == ["S1", "S2"]
    assert "parent" not in fields

    subtask = admin.get(
        f"{API}/issue/createmeta",
        params={
            "projectKeys": "PA",
            "issuetypeNames": "Sub-task",
            "expand": "projects.issuetypes.fields",
        },
    ).json()["projects"][0]["issuetypes"][0]["fields"]
    assert subtask["parent"]["required"] is True

    both = admin.get(f"{API}/issue/createmeta", params={"projectKeys": "PA,PB"}).json()
    assert [p["key"] for p in both["projects"]] == ["PA", "PB"]


def test_editmeta_describes_the_fields_of_one_issue(admin: httpx.Client) -> None:
    create_project(admin, "PA")
    key = create_issue(admin, "PA", "Edit me", issuetype="Bug")
    fields = admin.get(f"{API}/issue/{key}/editmeta").json()["fields"]
    assert "project" not in fields
    assert "resolution" in fields
    assert {t["name"] for t in fields["issuetype"]["allowedValues"]} == {
        "Bug",
        "Task",
        "Story",
        "Epic",
    }
    assert_error(admin.get(f"{API}/issue/PA-99/editmeta"), 404)


def test_mypermissions_follow_the_roles(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PA")
    create_project(admin, "PB")
    lead = make_client("lead", project_admin=("PA",))
    url = f"{API}/mypermissions"

    def have(client: httpx.Client, **params: str) -> dict[str, bool]:
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        return {k: v["havePermission"] for k, v in response.json()["permissions"].items()}

    in_pa, in_pb = have(lead, projectKey="PA"), have(lead, projectKey="PB")
    for permission in ("CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES", "ADD_COMMENTS"):
        assert in_pa[permission]
        assert in_pb[permission]
    assert in_pa["CREATE_ATTACHMENTS"] is True
    assert in_pa["DELETE_ISSUES"] is True
    assert in_pb["DELETE_ISSUES"] is False
    assert in_pa["ADMINISTER"] is False
    assert have(admin, projectKey="PB")["DELETE_ISSUES"] is True
    assert have(admin)["ADMINISTER"] is True
    only = have(lead, projectKey="PA", permissions="CREATE_ISSUES,DELETE_ISSUES")
    assert only == {"CREATE_ISSUES": True, "DELETE_ISSUES": True}

    assert_error(lead.get(url, params={"permissions": "FLY"}), 400, field="permissions")
    assert_error(lead.get(url, params={"projectKey": "NOPE"}), 404)


def test_what_mypermissions_denies_is_refused(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    create_project(admin, "PB")
    key = create_issue(admin, "PB")
    lead = make_client("lead", project_admin=("PA",))
    denied = lead.get(f"{API}/mypermissions", params={"projectKey": "PB"}).json()["permissions"]
    assert denied["DELETE_ISSUES"]["havePermission"] is False
    assert_error(lead.delete(f"{API}/issue/{key}"), 403)
    assert admin.get(f"{API}/issue/{key}").status_code == 200
