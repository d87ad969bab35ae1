# mypy: disallow-untyped-calls=False
# (atlassian-python-api ships py.typed but leaves most methods unannotated.)
"""The built-in tracker driven through ``jira`` (pycontribs) and ``atlassian-python-api``
over real HTTP, as scripts written for Jira Server 8.20 call it.

Each test does what a script does and then reads the result back (through the library, or
through plain HTTP where the library has no reader), so it fails when the tracker answers
something the library cannot use or does not do what was asked. The calls of project
administration and of an issue's sub-resources are tested in more depth, with their errors,
in ``test_jira_clients_projects.py`` and ``test_jira_clients_issues.py``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest
from atlassian import Jira as AtlassianJira
from jira import JIRA
from jira.resources import Issue
from jira_client_helpers import atlassian_jira, pycontribs_jira  # noqa: F401
from tracker_helpers import API, create_issue, create_project

P = "PA"  # the project every test works in

T = TypeVar("T")


def ok(answer: T | None) -> T:
    """An answer of atlassian-python-api, which annotates each as possibly None."""
    assert answer is not None
    return answer


@pytest.fixture
def project(admin: httpx.Client) -> str:
    """An empty project, created over plain HTTP (the libraries' project bodies are another
    helper's)."""
    create_project(admin, P, "Client project")
    return P


def _new(jira: JIRA, summary: str = "From pycontribs", **fields: Any) -> Issue:
    return jira.create_issue(
        fields={"project": {"key": P}, "summary": summary, "issuetype": {"name": "Task"}, **fields}
    )


def _created(atl: AtlassianJira, summary: str = "From atlassian", **fields: Any) -> str:
    created = atl.issue_create(
        fields={"project": {"key": P}, "summary": summary, "issuetype": {"name": "Task"}, **fields}
    )
    key: str = created["key"]
    return key


# -- the server, the caller, reference data ------------------------------------------------


def test_server_info_and_myself(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    for info in (pycontribs_jira.server_info(), ok(atlassian_jira.get_server_info())):
        assert info["versionNumbers"] == [8, 20, 0]
        assert info["deploymentType"] == "Server"
    assert pycontribs_jira.myself()["name"] == "admin"
    assert atlassian_jira.myself()["name"] == "admin"
    assert pycontribs_jira.current_user() == "admin"


def test_projects_list_and_get(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    assert [p.key for p in pycontribs_jira.projects()] == [project]
    assert [p["key"] for p in atlassian_jira.projects()] == [project]
    got = pycontribs_jira.project(project)
    assert (got.key, got.name) == (project, "Client project")
    assert atlassian_jira.project(project)["name"] == "Client project"
    assert atlassian_jira.get_project(project)["key"] == project


def test_project_statuses_components_and_versions(
    project: str,
    admin: httpx.Client,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    statuses = ok(atlassian_jira.get_status_for_project(project))
    names = {s["name"] for t in statuses for s in t["statuses"]}
    assert {"To Do", "In Progress", "Done"} <= names
    assert admin.get(f"{API}/project/{project}/statuses").json() == statuses
    assert atlassian_jira.get_project_components(project) == []
    assert pycontribs_jira.project_components(project) == []
    atlassian_jira.create_component({"name": "Backend", "project": project})
    assert [c.name for c in pycontribs_jira.project_components(project)] == ["Backend"]
    assert [c["name"] for c in atlassian_jira.get_project_components(project)] == ["Backend"]
    pycontribs_jira.create_version("1.0", project, description="first")
    atlassian_jira.add_version(project, pycontribs_jira.project(project).id, "2.0")
    assert [v.name for v in pycontribs_jira.project_versions(project)] == ["1.0", "2.0"]
    assert [v["name"] for v in atlassian_jira.get_project_versions(project)] == ["1.0", "2.0"]


def test_versions_create_and_get(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    created = pycontribs_jira.create_version("3.0", project, description="third")
    assert pycontribs_jira.version(created.id).name == "3.0"
    assert atlassian_jira.get_version(created.id)["description"] == "third"


def test_reference_lists(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    types = {"Bug", "Task", "Story", "Epic", "Sub-task"}
    assert {t.name for t in pycontribs_jira.issue_types()} == types
    assert {t["name"] for t in atlassian_jira.get_issue_types()} == types
    priorities = ["Highest", "High", "Medium", "Low", "Lowest"]
    assert [p.name for p in pycontribs_jira.priorities()] == priorities
    assert [p["name"] for p in ok(atlassian_jira.get_all_priorities())] == priorities
    statuses = {"To Do", "In Progress", "Done"}
    assert {s.name for s in pycontribs_jira.statuses()} >= statuses
    assert {s["name"] for s in ok(atlassian_jira.get_all_statuses())} >= statuses
    assert "Won't Do" in {r.name for r in pycontribs_jira.resolutions()}
    assert "Won't Do" in {r["name"] for r in ok(atlassian_jira.get_all_resolutions())}
    link_types = {"Blocks", "Cloners", "Duplicate", "Relates"}
    assert {t.name for t in pycontribs_jira.issue_link_types()} == link_types
    assert {t["name"] for t in atlassian_jira.get_issue_link_types()} == link_types
    # Each one by its id, as the libraries read a row's self link.
    task = pycontribs_jira.issue_type_by_name("Task")
    assert pycontribs_jira.issue_type(task.id).name == "Task"
    assert pycontribs_jira.priority(pycontribs_jira.priorities()[0].id).name == "Highest"
    done = next(s for s in pycontribs_jira.statuses() if s.name == "Done")
    assert pycontribs_jira.status(done.id).name == "Done"
    wont = next(r for r in pycontribs_jira.resolutions() if r.name == "Won't Do")
    assert pycontribs_jira.resolution(wont.id).name == "Won't Do"
    blocks = next(t for t in pycontribs_jira.issue_link_types() if t.name == "Blocks")
    assert pycontribs_jira.issue_link_type(blocks.id).outward == "blocks"
    assert ok(atlassian_jira.get_issue_link_type(blocks.id))["inward"] == "is blocked by"


def test_fields_list_and_create_custom_field(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    assert {"summary", "status", "assignee"} <= {f["id"] for f in pycontribs_jira.fields()}
    created = ok(
        atlassian_jira.create_custom_field(
            "Severity",
            "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
            search_key="com.atlassian.jira.plugin.system.customfieldtypes:textsearcher",
            description="How bad",
        )
    )
    assert created["id"].startswith("customfield_")
    by_id = {f["id"]: f for f in ok(atlassian_jira.get_all_fields())}
    assert by_id[created["id"]]["name"] == "Severity"
    assert created["id"] in {f["id"] for f in pycontribs_jira.fields()}
    # The field takes a value through the library, and shows it back.
    issue = _new(pycontribs_jira, **{created["id"]: "Blocker"})
    assert getattr(pycontribs_jira.issue(issue.key).fields, created["id"]) == "Blocker"


# -- issues ---------------------------------------------------------------------------------


def test_pycontribs_issue_create_get_update_delete(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    del project
    issue = _new(pycontribs_jira, "First", description="Words", labels=["a"])
    assert issue.key == "PA-1"
    got = pycontribs_jira.issue(issue.key, fields="summary,labels")
    assert got.fields.summary == "First"
    assert got.fields.labels == ["a"]
    assert not hasattr(got.fields, "description")  # only the fields asked for
    issue.update(fields={"summary": "First, renamed"}, update={"labels": [{"add": "b"}]})
    assert issue.fields.summary == "First, renamed"  # reloaded by the library
    again = pycontribs_jira.issue(issue.key, expand="changelog")
    assert sorted(again.fields.labels) == ["a", "b"]
    changed = {i.field for h in again.changelog.histories for i in h.items}
    assert {"summary", "labels"} <= changed
    issue.update(summary="Second rename", priority={"name": "High"})
    got = pycontribs_jira.issue(issue.key)
    assert (got.fields.summary, got.fields.priority.name) == ("Second rename", "High")
    issue.delete()
    with pytest.raises(Exception, match="404"):
        pycontribs_jira.issue(issue.key)


def test_atlassian_issue_create_get_update_delete(
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    key = _created(atlassian_jira, "First", labels=["a"])
    got = atlassian_jira.get_issue(key, fields="summary,labels")
    assert got["fields"] == {"summary": "First", "labels": ["a"]}
    assert atlassian_jira.issue(key)["fields"]["summary"] == "First"
    atlassian_jira.update_issue_field(key, {"summary": "Renamed"})
    atlassian_jira.edit_issue(key, {"labels": [{"add": "b"}]})
    got = atlassian_jira.get_issue(key, expand="changelog")
    assert got["fields"]["summary"] == "Renamed"
    assert sorted(got["fields"]["labels"]) == ["a", "b"]
    assert {i["field"] for h in got["changelog"]["histories"] for i in h["items"]} >= {
        "summary",
        "labels",
    }
    atlassian_jira.delete_issue(key)
    assert atlassian_jira.issue_exists(key) is False


def test_atlassian_issue_update_with_notify_users_in_the_body(
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    key = _created(atlassian_jira)
    atlassian_jira.issue_update(key, {"summary": "Through issue_update"})
    assert atlassian_jira.get_issue(key)["fields"]["summary"] == "Through issue_update"


def test_sub_tasks_and_delete_with_sub_tasks(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    parent = _new(pycontribs_jira, "Parent")
    sub = pycontribs_jira.create_issue(
        fields={
            "project": {"key": P},
            "parent": {"key": parent.key},
            "summary": "Child one",
            "issuetype": {"name": "Sub-task"},
        }
    )
    child = atlassian_jira.issue_create(
        fields={
            "project": {"key": P},
            "parent": {"key": parent.key},
            "summary": "Child two",
            "issuetype": {"name": "Sub-task"},
        }
    )
    subtasks = pycontribs_jira.issue(parent.key).fields.subtasks
    assert [s.key for s in subtasks] == [sub.key, child["key"]]
    assert pycontribs_jira.issue(sub.key).fields.parent.key == parent.key
    listed = atlassian_jira.get_issue(parent.key, fields="subtasks")["fields"]["subtasks"]
    assert [s["fields"]["summary"] for s in listed] == ["Child one", "Child two"]
    atlassian_jira.delete_issue(parent.key, delete_subtasks=True)
    for key in (parent.key, sub.key, child["key"]):
        assert atlassian_jira.issue_exists(key) is False


def test_pycontribs_delete_with_sub_tasks(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    del project
    parent = _new(pycontribs_jira, "Parent")
    sub = pycontribs_jira.create_issue(
        fields={
            "project": {"key": P},
            "parent": {"key": parent.key},
            "summary": "Child",
            "issuetype": {"name": "Sub-task"},
        }
    )
    parent.delete(deleteSubtasks=True)
    assert pycontribs_jira.search_issues(f"project = {P}") == []
    with pytest.raises(Exception, match="404"):
        pycontribs_jira.issue(sub.key)


def test_transitions_list_and_do(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    issue = _new(pycontribs_jira)
    names = {t["name"] for t in pycontribs_jira.transitions(issue)}
    assert names == {"Start Progress", "Done"}
    pycontribs_jira.transition_issue(issue, "Start Progress")
    assert pycontribs_jira.issue(issue.key).fields.status.name == "In Progress"
    assert {t["name"] for t in atlassian_jira.get_issue_transitions(issue.key)} == {
        "Done",
        "Stop Progress",
    }
    atlassian_jira.set_issue_status(issue.key, "Done")
    assert atlassian_jira.get_issue_status(issue.key) == "Done"
    assert pycontribs_jira.issue(issue.key).fields.resolution is not None
    atlassian_jira.issue_transition(issue.key, "To Do")
    assert atlassian_jira.get_issue_status(issue.key) == "To Do"


# -- comments, attachments, worklogs, watchers, links -------------------------------------


def test_comments_add_list_get_edit_delete(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    issue = _new(pycontribs_jira)
    first = pycontribs_jira.add_comment(issue, "One")
    second = atlassian_jira.issue_add_comment(issue.key, "Two")
    assert [c.body for c in pycontribs_jira.comments(issue)] == ["One", "Two"]
    listed = ok(atlassian_jira.issue_get_comments(issue.key))
    assert (listed["total"], [c["body"] for c in listed["comments"]]) == (2, ["One", "Two"])
    assert pycontribs_jira.comment(issue.key, second["id"]).body == "Two"
    assert ok(atlassian_jira.issue_get_comment(issue.key, first.id))["body"] == "One"
    first.update(body="One, edited")
    atlassian_jira.issue_edit_comment(issue.key, second["id"], "Two, edited")
    assert [c.body for c in pycontribs_jira.comments(issue)] == ["One, edited", "Two, edited"]
    first.delete()
    assert [c.id for c in pycontribs_jira.comments(issue)] == [second["id"]]


def test_attachments_add_list_content_delete(
    project: str,
    tmp_path: Path,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    issue = _new(pycontribs_jira)
    on_disk = tmp_path / "notes.txt"
    on_disk.write_bytes(b"from a file\n")
    from_file = pycontribs_jira.add_attachment(issue.key, str(on_disk))
    from_bytes = pycontribs_jira.add_attachment(
        issue.key, io.BytesIO(b"\x00\x01binary"), filename="data.bin"
    )
    atlassian_jira.add_attachment(issue.key, str(on_disk))
    atlassian_jira.add_attachment_object(issue.key, io.BytesIO(b"object"))
    listed = pycontribs_jira.issue(issue.key).fields.attachment
    assert sorted(a.filename for a in listed) == ["data.bin", "file", "notes.txt", "notes.txt"]
    assert from_file.get() == b"from a file\n"
    assert pycontribs_jira.attachment(from_bytes.id).get() == b"\x00\x01binary"
    assert ok(atlassian_jira.get_attachment(from_bytes.id))["size"] == len(b"\x00\x01binary")
    assert atlassian_jira.get_attachment_content(from_file.id) == b"from a file\n"
    ids = {a["attachment_id"] for a in atlassian_jira.get_attachments_ids_from_issue(issue.key)}
    assert {from_file.id, from_bytes.id} <= {str(i) for i in ids}
    assert ok(atlassian_jira.get_attachment_meta())["enabled"] is True
    pycontribs_jira.delete_attachment(from_file.id)
    atlassian_jira.remove_attachment(from_bytes.id)
    left = [a.filename for a in pycontribs_jira.issue(issue.key).fields.attachment]
    assert sorted(left) == ["file", "notes.txt"]


def test_worklogs_add_and_list(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    issue = _new(pycontribs_jira)
    pycontribs_jira.add_worklog(issue, timeSpent="1h", comment="first hour")
    atlassian_jira.issue_worklog(issue.key, "2026-12-01T10:00:00.000+0000", 1800, "half")
    logged = pycontribs_jira.worklogs(issue.key)
    assert [(w.timeSpentSeconds, w.comment) for w in logged] == [
        (3600, "first hour"),
        (1800, "half"),
    ]
    listed = atlassian_jira.issue_get_worklog(issue.key)
    assert listed["total"] == 2
    assert sum(w["timeSpentSeconds"] for w in listed["worklogs"]) == 5400


def test_watchers_add_list_remove(
    project: str,
    make_client: Callable[..., httpx.Client],
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    make_client("bob").close()
    make_client("carol").close()
    issue = _new(pycontribs_jira)
    pycontribs_jira.add_watcher(issue, "bob")
    atlassian_jira.issue_add_watcher(issue.key, "carol")
    watching = {w.name for w in pycontribs_jira.watchers(issue).watchers}
    assert {"bob", "carol"} <= watching
    pycontribs_jira.remove_watcher(issue, "bob")
    atlassian_jira.issue_delete_watcher(issue.key, "carol")
    left = {w["name"] for w in atlassian_jira.issue_get_watchers(issue.key)["watchers"]}
    assert not {"bob", "carol"} & left


def test_issue_links_create_get_delete(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    one, two, three = (_new(pycontribs_jira, f"Linked {n}") for n in range(3))
    pycontribs_jira.create_issue_link("Blocks", one.key, two.key)
    atlassian_jira.create_issue_link(
        {
            "type": {"name": "Relates"},
            "inwardIssue": {"key": one.key},
            "outwardIssue": {"key": three.key},
        }
    )
    links = pycontribs_jira.issue(one.key).fields.issuelinks
    assert sorted(link.type.name for link in links) == ["Blocks", "Relates"]
    blocks = next(link for link in links if link.type.name == "Blocks")
    assert pycontribs_jira.issue_link(blocks.id).outwardIssue.key == two.key
    relates = next(link for link in links if link.type.name == "Relates")
    assert ok(atlassian_jira.get_issue_link(relates.id))["type"]["name"] == "Relates"
    pycontribs_jira.delete_issue_link(blocks.id)
    atlassian_jira.remove_issue_link(relates.id)
    assert pycontribs_jira.issue(one.key).fields.issuelinks == []


# -- search ---------------------------------------------------------------------------------


def test_search_pages(
    project: str,
    admin: httpx.Client,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    keys = [create_issue(admin, project, f"Searchable {n}") for n in range(7)]
    jql = f"project = {project} ORDER BY key ASC"
    # Page by page, as a script pages.
    seen: list[str] = []
    for start in range(0, 7, 3):
        page = pycontribs_jira.search_issues(jql, startAt=start, maxResults=3)
        assert page.total == 7
        seen += [i.key for i in page]
    assert seen == keys
    # maxResults=False: the library fetches every page itself.
    assert [i.key for i in pycontribs_jira.search_issues(jql, maxResults=False)] == keys
    assert [i.key for i in pycontribs_jira.search_issues(jql, use_post=True)] == keys
    found = ok(atlassian_jira.jql(jql, start=3, limit=2, fields="summary"))
    assert (found["startAt"], found["total"]) == (3, 7)
    assert [i["key"] for i in found["issues"]] == keys[3:5]
    # atlassian's own paging helper, from an offset, without a limit.
    tickets = atlassian_jira.jql_get_list_of_tickets(jql, fields="summary", start=2)
    assert [i["key"] for i in tickets] == keys[2:]
    # Without validation, a key deleted meanwhile matches nothing instead of failing.
    listed = f"key in ({keys[0]}, {project}-99)"
    assert [i.key for i in pycontribs_jira.search_issues(listed, validate_query=False)] == [keys[0]]
    assert atlassian_jira.get_project_issues_count(project) == 7
    all_keys = atlassian_jira.get_project_issuekey_all(project)
    assert sorted(all_keys) == sorted(keys)


# -- users, meta, permissions ---------------------------------------------------------------


def test_users_get_and_search(
    project: str,
    make_client: Callable[..., httpx.Client],
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    make_client("bob", email="bob@example.test").close()
    assert pycontribs_jira.user("bob").emailAddress == "bob@example.test"
    assert atlassian_jira.user("bob")["name"] == "bob"
    assert [u.name for u in pycontribs_jira.search_users(user="bo")] == ["bob"]
    found = atlassian_jira.user_find_by_user_string(username="bob")
    assert [u["name"] for u in ok(found)] == ["bob"]
    # "." is every user, as atlassian-python-api documents for Jira Server.
    everyone = atlassian_jira.user_find_by_user_string(username=".")
    assert [u["name"] for u in ok(everyone)] == ["admin", "bob"]


def test_createmeta_editmeta_and_mypermissions(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    # The pre-8.4 createmeta that scripts still call; both libraries warn that it is old.
    with pytest.warns(DeprecationWarning, match="deprecated in JIRA 8.4"):
        meta = pycontribs_jira.createmeta(
            projectKeys=project, issuetypeNames="Task", expand="projects.issuetypes.fields"
        )
    [only] = meta["projects"]
    assert only["key"] == project
    assert "summary" in only["issuetypes"][0]["fields"]
    with pytest.warns(DeprecationWarning, match="fail from Jira 9"):
        meta = ok(atlassian_jira.issue_createmeta(project))
    assert {t["name"] for t in meta["projects"][0]["issuetypes"]} >= {"Task", "Sub-task"}
    issue = _new(pycontribs_jira)
    assert "summary" in pycontribs_jira.editmeta(issue.key)["fields"]
    assert "labels" in atlassian_jira.issue_editmeta(issue.key)["fields"]
    permissions = pycontribs_jira.my_permissions(projectKey=project)["permissions"]
    assert cast("object", permissions["BROWSE_PROJECTS"]["havePermission"]) is True
    theirs = ok(atlassian_jira.get_permissions("CREATE_ISSUES", project_key=project))
    assert theirs["permissions"]["CREATE_ISSUES"]["havePermission"] is True


def test_atlassian_createmeta_issuetypes(
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    types = atlassian_jira.issue_createmeta_issuetypes(project)
    assert "Task" in {t["name"] for t in types["values"]}


# -- what other helpers of issue 18 are adding (the lead removes each mark at merge) -------


def test_pycontribs_create_project(
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    # It reads the permission schemes and categories, then posts Jira's whole project bean.
    assert pycontribs_jira.create_project("PZ", "Made by pycontribs")
    assert pycontribs_jira.project("PZ").name == "Made by pycontribs"


def test_atlassian_project_schemes(
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    assert atlassian_jira.get_project_permission_scheme(project)["name"]
    assert atlassian_jira.get_project_notification_scheme(project)["name"]
    project_id = int(ok(atlassian_jira.get_project(project))["id"])
    assert "levels" in ok(atlassian_jira.get_project_issue_security_scheme(project_id))


def test_atlassian_project_categories(
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del project
    assert isinstance(atlassian_jira.get_all_project_categories(), list)


def test_pycontribs_create_component(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    pycontribs_jira.create_component("Frontend", project, description="UI")
    assert [c.name for c in pycontribs_jira.project_components(project)] == ["Frontend"]


def test_pycontribs_create_issues_in_bulk(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    made = pycontribs_jira.create_issues(
        [
            {"project": {"key": project}, "summary": f"Bulk {n}", "issuetype": {"name": "Task"}}
            for n in range(2)
        ]
    )
    assert [m["status"] for m in made] == ["Success", "Success"]
    assert len(pycontribs_jira.search_issues(f"project = {project}")) == 2


def test_pycontribs_assign_issue(
    project: str,
    make_client: Callable[..., httpx.Client],
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    del project
    make_client("bob").close()
    issue = _new(pycontribs_jira)
    assert pycontribs_jira.assign_issue(issue, "bob")
    assignee = pycontribs_jira.issue(issue.key).fields.assignee
    assert assignee is not None
    assert assignee.name == "bob"


def test_pycontribs_worklog_by_id(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    del project
    issue = _new(pycontribs_jira)
    logged = pycontribs_jira.add_worklog(issue, timeSpent="2h")
    assert pycontribs_jira.worklog(issue.key, logged.id).timeSpentSeconds == 7200


def test_pycontribs_remote_links(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    del project
    issue = _new(pycontribs_jira)
    pycontribs_jira.add_simple_link(issue.key, {"url": "https://example.test/", "title": "Ex"})
    assert [r.object.url for r in pycontribs_jira.remote_links(issue.key)] == [
        "https://example.test/"
    ]


def test_search_with_an_epoch_millisecond_date(
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    issue = _new(pycontribs_jira)
    # 2001-09-09: every issue made now was created after it.
    found = pycontribs_jira.search_issues(f"project = {project} AND created >= 1000000000000")
    assert [i.key for i in found] == [issue.key]
