# mypy: disallow-untyped-calls=False
# (atlassian-python-api ships py.typed but leaves most methods unannotated.)
"""Setting up projects through the two Jira clients, over real HTTP: ``create_project``
with its schemes and categories, components, Jira 8.4's paged create metadata and bulk
create; and, with raw requests, what Jira refuses and who may do what."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from atlassian import Jira as AtlassianJira
from jira import JIRA
from jira_client_helpers import atlassian_jira, pycontribs_jira  # noqa: F401

API = "/rest/api/2"


def _project(admin: httpx.Client, key: str, **extra: object) -> dict[str, object]:
    answer = admin.post(f"{API}/project", json={"key": key, "name": f"Project {key}", **extra})
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def _json(answer: object) -> Any:
    """What ``atlassian.Jira`` decoded (its methods say they may answer None)."""
    assert answer is not None
    return answer


# -- create_project ------------------------------------------------------------------------


def test_pycontribs_create_project_finds_the_schemes_and_the_category_and_stores_them(
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    admin: httpx.Client,
) -> None:
    category = admin.post(
        f"{API}/projectCategory", json={"name": "Default", "description": "Where projects go"}
    )
    assert category.status_code == 201, category.text
    assert pycontribs_jira.permissionschemes()[0]["name"] == "Default Permission Scheme"
    assert pycontribs_jira.issuesecurityschemes()[0]["id"] == 10000
    assert pycontribs_jira.notificationschemes()[0]["id"] == 10000
    assert pycontribs_jira.projectcategories()[0]["name"] == "Default"

    created = pycontribs_jira.create_project("PYC", name="Pycontribs", url="https://pyc.test/")

    assert created["key"] == "PYC"
    project = pycontribs_jira.project("PYC")
    assert project.name == "Pycontribs"
    assert project.lead.name == "admin"
    raw = admin.get(f"{API}/project/PYC").json()
    assert raw["url"] == "https://pyc.test/"
    assert raw["assigneeType"] == "PROJECT_LEAD"  # what pycontribs sends
    assert raw["projectTypeKey"] == "software"
    assert raw["projectCategory"] == category.json()
    listed = {p["key"]: p for p in admin.get(f"{API}/project").json()}
    assert listed["PYC"]["projectCategory"]["name"] == "Default"
    # PROJECT_LEAD is enforced: a new issue without an assignee goes to the lead.
    issue = pycontribs_jira.create_issue(
        project="PYC", summary="Lead's", issuetype={"name": "Task"}
    )
    assert issue.fields.assignee is not None
    assert issue.fields.assignee.name == "admin"


def test_atlassian_create_project_from_raw_json_takes_every_field_of_jiras_bean(
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
    admin: httpx.Client,
    make_client: Callable[..., httpx.Client],
) -> None:
    make_client("charlie")
    category = admin.post(f"{API}/projectCategory", json={"name": "Ops"}).json()
    assert _json(atlassian_jira.get_all_permissionschemes())[0]["id"] == 0
    assert _json(atlassian_jira.get_issue_security_schemes())[0]["name"] == "No Issue Security"
    assert atlassian_jira.get_all_notification_schemes()[0]["name"] == (
        "Default Notification Scheme"
    )
    assert [c["name"] for c in _json(atlassian_jira.get_all_project_categories())] == ["Ops"]

    atlassian_jira.create_project_from_raw_json(
        {
            "key": "EX",
            "name": "Example",
            "projectTypeKey": "business",
            "projectTemplateKey": (
                "com.atlassian.jira-core-project-templates:jira-core-project-management"
            ),
            "description": "Example Project description",
            "lead": "charlie",
            "url": "http://atlassian.test",
            "assigneeType": "UNASSIGNED",
            "avatarId": 10324,
            "issueSecurityScheme": 10000,
            "permissionScheme": 0,
            "notificationScheme": 10000,
            "categoryId": int(category["id"]),
        }
    )

    project = _json(atlassian_jira.project("EX"))
    assert project["description"] == "Example Project description"
    assert project["lead"]["name"] == "charlie"
    assert project["url"] == "http://atlassian.test"
    assert project["assigneeType"] == "UNASSIGNED"
    assert project["projectTypeKey"] == "business"
    assert project["projectCategory"]["id"] == category["id"]
    assert _json(atlassian_jira.get_project_permission_scheme("EX"))["id"] == 0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"permissionScheme": 10001}, "permissionScheme"),
        ({"notificationScheme": 1}, "notificationScheme"),
        ({"issueSecurityScheme": 10001}, "issueSecurityScheme"),
        ({"categoryId": 99999}, "categoryId"),
        ({"avatarId": 1}, "avatarId"),
        ({"assigneeType": "COMPONENT_LEAD"}, "assigneeType"),
        ({"url": "ftp://files.test"}, "projectUrl"),
        ({"projectTypeKey": "service_desk"}, "projectTypeKey"),
        ({"projectTemplateKey": "com.example:no-such-template"}, "projectTemplateKey"),
        (
            {
                "projectTypeKey": "software",
                "projectTemplateKey": (
                    "com.atlassian.jira-core-project-templates:jira-core-task-management"
                ),
            },
            "projectTemplateKey",
        ),
        ({"lead": "nobody-here"}, "projectLead"),
    ],
)
def test_a_value_the_tracker_has_not_is_a_400_naming_the_field(
    admin: httpx.Client, extra: dict[str, object], field: str
) -> None:
    answer = admin.post(f"{API}/project", json={"key": "BAD", "name": "Bad", **extra})

    assert answer.status_code == 400, answer.text
    assert field in answer.json()["errors"]
    assert admin.get(f"{API}/project/BAD").status_code == 404


def test_an_unknown_field_of_a_project_is_still_refused(admin: httpx.Client) -> None:
    answer = admin.post(f"{API}/project", json={"key": "BAD", "name": "Bad", "colour": "red"})

    assert answer.status_code == 400
    assert "colour" in answer.json()["errors"]


def test_only_administrators_create_projects_and_categories_and_read_the_schemes(
    make_client: Callable[..., httpx.Client],
) -> None:
    bob = make_client("bob", project_admin=("ANY",))

    assert bob.post(f"{API}/project", json={"key": "BOB", "name": "Bob's"}).status_code == 403
    assert bob.post(f"{API}/projectCategory", json={"name": "Bob's"}).status_code == 403
    for path in ("permissionscheme", "issuesecurityschemes", "notificationscheme"):
        answer = bob.get(f"{API}/{path}")
        assert answer.status_code == 403, path
        assert answer.json()["errorMessages"]
    # Categories are for everyone to read, as in Jira.
    assert bob.get(f"{API}/projectCategory").status_code == 200


def test_a_projects_schemes_are_for_its_admins_to_read(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    _project(admin, "SCH")
    bob = make_client("bob")
    pam = make_client("pam", project_admin=("SCH",))

    for kind in ("permissionscheme", "notificationscheme", "issuesecuritylevelscheme"):
        assert bob.get(f"{API}/project/SCH/{kind}").status_code == 403, kind
        assert pam.get(f"{API}/project/SCH/{kind}").status_code == 200, kind
    assert pam.get(f"{API}/project/SCH/notificationscheme").json()["id"] == 10000
    assert admin.get(f"{API}/project/NOPE/permissionscheme").status_code == 404


def test_scheme_and_category_lookups_by_id(admin: httpx.Client) -> None:
    grants = admin.get(f"{API}/permissionscheme/0", params={"expand": "permissions"}).json()
    by_permission = {g["permission"]: g["holder"]["type"] for g in grants["permissions"]}
    assert by_permission["CREATE_ISSUES"] == "applicationRole"
    assert by_permission["ADMINISTER_PROJECTS"] == "projectRole"
    assert admin.get(f"{API}/issuesecurityschemes/10000").json()["levels"] == []
    assert admin.get(f"{API}/permissionscheme/5").status_code == 404
    assert admin.get(f"{API}/notificationscheme/1").status_code == 404
    assert admin.get(f"{API}/projectCategory/123").status_code == 404
    made = admin.post(f"{API}/projectCategory", json={"name": "Core"}).json()
    assert admin.get(f"{API}/projectCategory/{made['id']}").json() == made
    again = admin.post(f"{API}/projectCategory", json={"name": "core"})
    assert again.status_code == 409
    assert "name" in again.json()["errors"]


# -- components ----------------------------------------------------------------------------


def test_pycontribs_components_keep_their_lead_description_and_assignee_type(
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    admin: httpx.Client,
    make_client: Callable[..., httpx.Client],
) -> None:
    make_client("dora")
    _project(admin, "CMP")

    made = pycontribs_jira.create_component(
        "Backend",
        "CMP",
        description="Servers",
        leadUserName="dora",
        assigneeType="COMPONENT_LEAD",
        isAssigneeTypeValid=False,
    )

    component = pycontribs_jira.component(made.id)
    assert component.name == "Backend"
    assert component.description == "Servers"
    assert component.lead.name == "dora"
    assert component.assigneeType == "COMPONENT_LEAD"
    assert component.realAssignee.name == "dora"
    assert component.isAssigneeTypeValid is True
    assert component.project == "CMP"
    listed = pycontribs_jira.project_components("CMP")
    assert [(c.name, c.leadUserName) for c in listed] == [("Backend", "dora")]
    # The component's lead is the default assignee of its new issues.
    issue = pycontribs_jira.create_issue(
        project="CMP", summary="Slow", issuetype={"name": "Bug"}, components=[{"name": "Backend"}]
    )
    assert issue.fields.assignee is not None
    assert issue.fields.assignee.name == "dora"

    component.delete()
    assert admin.get(f"{API}/component/{made.id}").status_code == 404


def test_atlassian_components_are_created_read_updated_and_deleted(
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
    admin: httpx.Client,
    make_client: Callable[..., httpx.Client],
) -> None:
    make_client("erin")
    project = _project(admin, "ATC")

    made = _json(
        atlassian_jira.create_component(
            {"name": "UI", "project": "ATC", "projectId": project["id"], "description": "Screens"}
        )
    )
    assert made["assigneeType"] == "PROJECT_DEFAULT"
    atlassian_jira.update_component_lead(int(made["id"]), "erin")  # its id as a number
    updated = _json(
        atlassian_jira.update_component(
            {"name": "Web UI", "assigneeType": "COMPONENT_LEAD"}, made["id"]
        )
    )

    assert updated["name"] == "Web UI"
    assert updated["leadUserName"] == "erin"
    assert updated["description"] == "Screens"
    assert _json(atlassian_jira.component(made["id"]))["assigneeType"] == "COMPONENT_LEAD"
    atlassian_jira.delete_component(made["id"])
    assert atlassian_jira.get_project_components("ATC") == []


def test_deleting_a_component_can_move_its_issues_to_another(admin: httpx.Client) -> None:
    _project(admin, "MV")
    old = admin.post(f"{API}/component", json={"name": "Old", "project": "MV"}).json()
    new = admin.post(f"{API}/component", json={"name": "New", "project": "MV"}).json()
    issue = admin.post(
        f"{API}/issue",
        json={
            "fields": {
                "project": {"key": "MV"},
                "summary": "Moves",
                "issuetype": {"name": "Task"},
                "components": [{"id": old["id"]}],
            }
        },
    ).json()
    before = admin.get(f"{API}/issue/{issue['key']}").json()["fields"]["updated"]

    answer = admin.delete(f"{API}/component/{old['id']}", params={"moveIssuesTo": new["id"]})

    assert answer.status_code == 204
    fields = admin.get(f"{API}/issue/{issue['key']}").json()["fields"]
    assert [c["name"] for c in fields["components"]] == ["New"]
    assert fields["updated"] >= before


def test_component_errors_and_who_may_change_components(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    _project(admin, "CE")
    _project(admin, "OTHER")
    made = admin.post(f"{API}/component", json={"name": "Core", "project": "CE"}).json()
    bob = make_client("bob")
    pam = make_client("pam", project_admin=("CE",))

    bad_type = admin.post(
        f"{API}/component", json={"name": "X", "project": "CE", "assigneeType": "SOMEONE"}
    )
    assert bad_type.status_code == 400
    assert "assigneeType" in bad_type.json()["errors"]
    bad_lead = admin.post(
        f"{API}/component", json={"name": "X", "project": "CE", "leadUserName": "ghost"}
    )
    assert bad_lead.status_code == 400
    assert "leadUserName" in bad_lead.json()["errors"]
    assert admin.put(f"{API}/component/{made['id']}", json={"project": "OTHER"}).status_code == 400
    elsewhere = admin.post(f"{API}/component", json={"name": "Far", "project": "OTHER"}).json()
    moved = admin.delete(f"{API}/component/{made['id']}", params={"moveIssuesTo": elsewhere["id"]})
    assert moved.status_code == 400
    assert "moveIssuesTo" in moved.json()["errors"]
    assert admin.get(f"{API}/component/99999").status_code == 404
    assert admin.get(f"{API}/component/not-a-number").status_code == 404
    # Project admins manage their project's components; other users only read them.
    assert bob.get(f"{API}/component/{made['id']}").status_code == 200
    assert bob.post(f"{API}/component", json={"name": "B", "project": "CE"}).status_code == 403
    assert bob.put(f"{API}/component/{made['id']}", json={"name": "B"}).status_code == 403
    assert bob.delete(f"{API}/component/{made['id']}").status_code == 403
    assert pam.put(f"{API}/component/{made['id']}", json={"name": "P"}).status_code == 200
    assert pam.post(f"{API}/component", json={"name": "O", "project": "OTHER"}).status_code == 403
    assert pam.delete(f"{API}/component/{made['id']}").status_code == 204


# -- Jira 8.4's paged create metadata --------------------------------------------------------


def test_both_clients_read_the_paged_create_metadata(
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
    admin: httpx.Client,
) -> None:
    _project(admin, "CM")
    old = admin.get(
        f"{API}/issue/createmeta",
        params={"projectKeys": "CM", "expand": "projects.issuetypes.fields"},
    ).json()["projects"][0]["issuetypes"]

    types = pycontribs_jira.project_issue_types("CM")
    assert [t.name for t in types] == [t["name"] for t in old]
    bug = next(t for t in old if t["name"] == "Bug")
    fields = pycontribs_jira.project_issue_fields("CM", bug["id"])
    assert {f.fieldId for f in fields} == set(bug["fields"])
    summary = next(f for f in fields if f.fieldId == "summary")
    assert summary.required is True

    page = _json(atlassian_jira.issue_createmeta_issuetypes("CM", start=1, limit=2))
    assert page["startAt"] == 1
    assert page["maxResults"] == 2
    assert page["total"] == len(old)
    assert [t["id"] for t in page["values"]] == [t["id"] for t in old[1:3]]
    assert page["isLast"] is (len(old) <= 3)
    field_page = _json(atlassian_jira.issue_createmeta_fieldtypes("CM", bug["id"]))
    assert field_page["total"] == len(bug["fields"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert pycontribs_jira.createmeta_issuetypes("CM")["total"] == len(old)


def test_the_paged_create_metadata_of_an_unknown_project_or_type_is_404(
    admin: httpx.Client,
) -> None:
    _project(admin, "CM")

    assert admin.get(f"{API}/issue/createmeta/NOPE/issuetypes").status_code == 404
    assert admin.get(f"{API}/issue/createmeta/CM/issuetypes/99999").status_code == 404
    bad_page = admin.get(f"{API}/issue/createmeta/CM/issuetypes", params={"startAt": -1})
    assert bad_page.status_code == 400
    assert bad_page.json()["errors"]


# -- bulk create -----------------------------------------------------------------------------


def test_pycontribs_create_issues_creates_the_good_ones_and_reports_the_bad_one(
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    admin: httpx.Client,
) -> None:
    _project(admin, "BK")

    results = pycontribs_jira.create_issues(
        [
            {"project": "BK", "summary": "One", "issuetype": {"name": "Task"}},
            {"project": "BK", "summary": "Two", "issuetype": "Bug", "priority": {"name": "Nope"}},
            {"project": "BK", "summary": "Three", "issuetype": "Task"},
        ]
    )

    assert [r["status"] for r in results] == ["Success", "Error", "Success"]
    assert [r["issue"].fields.summary for r in results if r["issue"]] == ["One", "Three"]
    assert "priority" in results[1]["error"]


def test_atlassian_create_issues_when_every_item_fails_is_a_400_with_each_error(
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
    admin: httpx.Client,
) -> None:
    _project(admin, "BA")
    good = _json(
        atlassian_jira.create_issues(
            [
                {
                    "fields": {
                        "project": {"key": "BA"},
                        "summary": "Fine",
                        "issuetype": {"name": "Task"},
                    }
                }
            ]
        )
    )
    assert good["errors"] == []
    assert good["issues"][0]["key"] == "BA-1"

    answer = admin.post(
        f"{API}/issue/bulk",
        json={
            "issueUpdates": [
                {"fields": {"project": {"key": "BA"}, "issuetype": {"name": "Task"}}},
                {"fields": {"project": {"key": "NOPE"}, "summary": "x", "issuetype": {"id": "1"}}},
                {"fieldz": {}},
            ]
        },
    )

    assert answer.status_code == 400
    body = answer.json()
    assert body["issues"] == []
    assert [e["failedElementNumber"] for e in body["errors"]] == [0, 1, 2]
    assert all(e["status"] == 400 for e in body["errors"])
    assert "summary" in body["errors"][0]["elementErrors"]["errors"]
    assert "project" in body["errors"][1]["elementErrors"]["errors"]
    assert "fieldz" in body["errors"][2]["elementErrors"]["errors"]
    assert admin.get(f"{API}/search", params={"jql": "project = BA"}).json()["total"] == 1


def test_bulk_create_is_bounded_at_fifty_items(admin: httpx.Client) -> None:
    _project(admin, "BB")
    item = {"fields": {"project": {"key": "BB"}, "summary": "x", "issuetype": {"name": "Task"}}}

    too_many = admin.post(f"{API}/issue/bulk", json={"issueUpdates": [item] * 51})
    fifty = admin.post(f"{API}/issue/bulk", json={"issueUpdates": [item] * 50})

    assert too_many.status_code == 400
    assert "issueUpdates" in too_many.json()["errors"]
    assert fifty.status_code == 201
    assert len(fifty.json()["issues"]) == 50
    assert admin.post(f"{API}/issue/bulk", json={}).status_code == 400


def test_a_plain_user_creates_in_bulk_and_a_bad_item_is_reported_alone(
    admin: httpx.Client, make_client: Callable[..., httpx.Client]
) -> None:
    _project(admin, "BQ")
    bob = make_client("bob")

    answer = bob.post(
        f"{API}/issue/bulk",
        json={
            "issueUpdates": [
                {
                    "fields": {
                        "project": {"key": "BQ"},
                        "summary": "a",
                        "issuetype": {"name": "Task"},
                    }
                },
                {
                    "fields": {
                        "project": {"key": "BQ"},
                        "summary": "b",
                        "issuetype": {"name": "Task"},
                        "reporter": {"name": "ghost"},
                    }
                },
            ]
        },
    )

    assert answer.status_code == 201
    body = answer.json()
    assert [i["key"] for i in body["issues"]] == ["BQ-1"]
    assert body["errors"][0]["failedElementNumber"] == 1
    assert body["errors"][0]["status"] == 400
