# mypy: disallow-untyped-calls=False
# (atlassian-python-api ships py.typed but leaves most methods unannotated.)
"""The two most used Python Jira clients assign issues, log and edit work, keep remote links,
update issues with their notification flags and search by epoch dates, over real HTTP.

Each call goes through ``jira`` (pycontribs) and ``atlassian-python-api`` where the library
has a method for it; error cases and other users' rights: ``test_jira_issue_extras.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import httpx
import pytest
from atlassian import Jira as AtlassianJira
from jira import JIRA, JIRAError
from jira_client_helpers import atlassian_jira, pycontribs_jira  # noqa: F401
from requests import HTTPError
from tracker_helpers import API, create_issue, create_project, fields_of

PROJECT = "PA"


@pytest.fixture
def project(admin: httpx.Client) -> str:
    """A project led by the administrator; its default assignee is no one (Jira's
    UNASSIGNED, the default)."""
    create_project(admin, PROJECT)
    return PROJECT


@pytest.fixture
def bob(make_client: Callable[..., httpx.Client]) -> httpx.Client:
    """A user with no role, over plain HTTP."""
    return make_client("bob")


@pytest.fixture
def bob_jira(server: str, bob: httpx.Client) -> Iterator[JIRA]:
    """``jira.JIRA`` logged in as bob, who administers nothing."""
    del bob  # made for the user
    client = JIRA(
        server=server,
        basic_auth=("bob", "bob-password"),
        options={"rest_api_version": "2"},
        max_retries=0,
        timeout=30,
    )
    yield client
    client.close()


@pytest.fixture
def bob_atlassian(server: str, bob: httpx.Client) -> Iterator[AtlassianJira]:
    """``atlassian.Jira`` logged in as bob."""
    del bob
    client = AtlassianJira(url=server, username="bob", password="bob-password", timeout=30)
    yield client
    client.close()


def _assignee(admin: httpx.Client, key: str) -> str | None:
    assignee = fields_of(admin, key)["assignee"]
    return None if assignee is None else str(assignee["name"])


# -- assignee -----------------------------------------------------------------------------


def test_both_clients_assign_unassign_and_assign_automatically(
    admin: httpx.Client,
    project: str,
    bob: httpx.Client,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    del bob  # an assignable user
    key = create_issue(admin, project)

    # jira: its assign_issue looks the user up, then PUTs to /rest/api/latest/.../assignee.
    assert pycontribs_jira.assign_issue(key, "bob") is True
    assert _assignee(admin, key) == "bob"
    pycontribs_jira.assign_issue(key, None)
    assert _assignee(admin, key) is None
    pycontribs_jira.assign_issue(key, "bob")
    pycontribs_jira.assign_issue(key, "-1")  # automatic: the project's default, no one
    assert _assignee(admin, key) is None

    atlassian_jira.assign_issue(key, "bob")
    assert _assignee(admin, key) == "bob"
    atlassian_jira.assign_issue(key, None)
    assert _assignee(admin, key) is None
    atlassian_jira.assign_issue(key, "bob")
    atlassian_jira.assign_issue(key, "-1")
    assert _assignee(admin, key) is None

    # In a project whose default assignee is its lead, automatic assigns the lead.
    led = admin.post(
        f"{API}/project",
        json={"key": "LED", "name": "Led", "lead": "admin", "assigneeType": "PROJECT_LEAD"},
    )
    assert led.status_code == 201, led.text
    other = create_issue(admin, "LED", assignee={"name": "bob"})
    pycontribs_jira.assign_issue(other, "-1")
    assert _assignee(admin, other) == "admin"
    atlassian_jira.assign_issue(other, "bob")
    atlassian_jira.assign_issue(other, "-1")
    assert _assignee(admin, other) == "admin"

    history = admin.get(f"{API}/issue/{key}", params={"expand": "changelog"}).json()
    changes = [
        (i["from"], i["to"])
        for h in history["changelog"]["histories"]
        for i in h["items"]
        if i["field"] == "assignee"
    ]
    assert changes[:4] == [(None, "bob"), ("bob", None), (None, "bob"), ("bob", None)]


def test_an_unknown_user_is_refused_to_both_clients(
    admin: httpx.Client,
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    key = create_issue(admin, project)
    with pytest.raises(JIRAError):  # the library finds no such user to assign
        pycontribs_jira.assign_issue(key, "nobody")
    with pytest.raises(HTTPError, match="does not exist"):
        atlassian_jira.assign_issue(key, "nobody")
    assert _assignee(admin, key) is None


# -- work logs and the remaining estimate -------------------------------------------------


def _estimates(admin: httpx.Client, key: str) -> tuple[int | None, int | None, int | None]:
    fields = fields_of(admin, key)
    return fields["timeoriginalestimate"], fields["timeestimate"], fields["timespent"]


def test_jira_logs_edits_and_deletes_work_moving_the_remaining_estimate(
    admin: httpx.Client,
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    key = create_issue(admin, project)
    issue = pycontribs_jira.issue(key)
    issue.update(fields={"timetracking": {"originalEstimate": "1d", "remainingEstimate": "1d"}})
    assert _estimates(admin, key) == (8 * 3600, 8 * 3600, None)
    assert fields_of(admin, key)["timetracking"]["remainingEstimate"] == "1d"

    two_hours = pycontribs_jira.add_worklog(key, timeSpent="2h", comment="first")  # auto
    assert two_hours.timeSpentSeconds == 7200
    assert _estimates(admin, key) == (28800, 6 * 3600, 7200)
    pycontribs_jira.add_worklog(key, timeSpent="1h", adjustEstimate="new", newEstimate="3h")
    assert _estimates(admin, key) == (28800, 3 * 3600, 3 * 3600)
    pycontribs_jira.add_worklog(key, timeSpent="30m", adjustEstimate="manual", reduceBy="1h")
    assert _estimates(admin, key)[1] == 2 * 3600
    pycontribs_jira.add_worklog(key, timeSpent="1h", adjustEstimate="leave")
    assert _estimates(admin, key)[1] == 2 * 3600

    found = pycontribs_jira.worklog(key, two_hours.id)
    assert (found.comment, found.author.name) == ("first", "admin")
    found.update(timeSpent="3h", comment="edited")  # auto: one more hour spent
    assert (found.timeSpentSeconds, found.comment) == (3 * 3600, "edited")
    assert _estimates(admin, key)[1:] == (3600, (3 + 1 + 0.5 + 1) * 3600)

    found.delete(adjustEstimate="manual", increaseBy="2h")
    assert _estimates(admin, key)[1] == 3 * 3600
    rest = pycontribs_jira.worklogs(key)
    assert len(rest) == 3
    rest[0].delete()  # auto: the log's hour goes back on the estimate
    assert _estimates(admin, key)[1] == 4 * 3600
    rest[1].delete(adjustEstimate="new", newEstimate="1d")
    assert _estimates(admin, key)[1] == 8 * 3600
    assert [w.id for w in pycontribs_jira.worklogs(key)] == [rest[2].id]


def test_atlassian_logs_and_reads_work(
    admin: httpx.Client,
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    key = create_issue(admin, project)
    atlassian_jira.update_issue_field(key, {"timetracking": {"remainingEstimate": "4h"}})
    atlassian_jira.issue_worklog(key, "2026-12-01T09:00:00.000+0000", 5400, "reviewed")
    logs = atlassian_jira.issue_get_worklog(key)["worklogs"]
    assert [(w["timeSpentSeconds"], w["comment"]) for w in logs] == [(5400, "reviewed")]
    assert logs[0]["started"] == "2026-12-01T09:00:00.000+0000"
    assert _estimates(admin, key)[1:] == (4 * 3600 - 5400, 5400)
    # No method reads one log: the library's own GET does.
    one = atlassian_jira.get(f"rest/api/2/issue/{key}/worklog/{logs[0]['id']}")
    assert one is not None
    assert one["id"] == logs[0]["id"]


# -- remote links -------------------------------------------------------------------------


def test_jira_adds_reads_updates_and_deletes_remote_links(
    admin: httpx.Client,
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
) -> None:
    key = create_issue(admin, project)
    # The library asks for the server's application links first and goes on without.
    with pytest.warns(Warning, match="applicationlinks"):
        link = pycontribs_jira.add_remote_link(
            key,
            {"url": "https://support.example.com/case/1", "title": "CASE-1"},
            globalId="system=support&id=1",
            application={"type": "com.example.support", "name": "Support"},
            relationship="causes",
        )
    simple = pycontribs_jira.add_simple_link(
        key, {"url": "https://wiki.example.com/page", "title": "Design page"}
    )
    assert link.id != simple.id

    links = pycontribs_jira.remote_links(key)
    assert [lk.object.title for lk in links] == ["CASE-1", "Design page"]
    first = pycontribs_jira.remote_link(key, link.id)
    assert first.globalId == "system=support&id=1"
    assert first.relationship == "causes"
    assert first.application.name == "Support"
    assert first.object.url == "https://support.example.com/case/1"

    first.update(
        {"url": "https://support.example.com/case/1", "title": "CASE-1 (closed)"},
        globalId="system=support&id=1",
    )
    assert first.object.title == "CASE-1 (closed)"
    assert "relationship" not in first.raw  # a PUT replaces the whole link, as Jira's

    first.delete()
    assert [lk.id for lk in pycontribs_jira.remote_links(key)] == [simple.id]


def test_atlassian_creates_then_updates_a_remote_link_by_its_global_id(
    admin: httpx.Client,
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    key = create_issue(admin, project)
    made = atlassian_jira.create_or_update_issue_remote_links(
        key,
        "https://ci.example.com/build/7",
        "Build 7",
        global_id="ci-build-7",
        relationship="built by",
        icon_url="https://ci.example.com/favicon.png",
        icon_title="CI",
    )
    again = atlassian_jira.create_or_update_issue_remote_links(
        key,
        "https://ci.example.com/build/7",
        "Build 7 (green)",
        global_id="ci-build-7",
        status_resolved=True,
    )
    assert again["id"] == made["id"]
    assert again["self"].endswith(f"/rest/api/2/issue/{key}/remotelink/{made['id']}")

    links = atlassian_jira.get_issue_remote_links(key)
    assert len(links) == 1
    assert links[0]["object"]["title"] == "Build 7 (green)"
    assert links[0]["object"]["status"] == {"resolved": True}
    one = atlassian_jira.get_issue_remote_links(key, global_id="ci-build-7")
    assert one["id"] == made["id"]
    assert atlassian_jira.get_issue_remote_link_by_id(key, made["id"])["globalId"] == "ci-build-7"

    atlassian_jira.update_issue_remote_link_by_id(
        key, made["id"], "https://ci.example.com/build/8", "Build 8", global_id="ci-build-8"
    )
    moved = atlassian_jira.get_issue_remote_link_by_id(key, made["id"])
    assert (moved["globalId"], moved["object"]["url"]) == (
        "ci-build-8",
        "https://ci.example.com/build/8",
    )
    atlassian_jira.delete_issue_remote_link_by_id(key, made["id"])
    assert atlassian_jira.get_issue_remote_links(key) == []


# -- edits with the notification flag -----------------------------------------------------


def test_atlassian_updates_with_notify_users_in_the_body_and_the_query(
    admin: httpx.Client,
    project: str,
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
    bob_atlassian: AtlassianJira,
) -> None:
    key = create_issue(admin, project)
    # issue_update sends "notifyUsers" in the body, where Jira ignores it.
    atlassian_jira.issue_update(key, {"summary": "Renamed"}, notify_users=False)
    assert fields_of(admin, key)["summary"] == "Renamed"
    bob_atlassian.issue_update(key, {"summary": "Renamed by bob"}, notify_users=False)
    assert fields_of(admin, key)["summary"] == "Renamed by bob"
    # update_issue_field sends ?notifyUsers=: false needs a project admin, as in Jira.
    atlassian_jira.update_issue_field(key, {"labels": ["quiet"]}, notify_users=False)
    assert fields_of(admin, key)["labels"] == ["quiet"]
    bob_atlassian.update_issue_field(key, {"labels": ["loud"]}, notify_users=True)
    assert fields_of(admin, key)["labels"] == ["loud"]
    with pytest.raises(HTTPError, match="admin or project admin"):
        bob_atlassian.update_issue_field(key, {"labels": ["hush"]}, notify_users=False)
    assert fields_of(admin, key)["labels"] == ["loud"]


def test_jira_updates_an_issue_with_and_without_notifying(
    admin: httpx.Client,
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    bob_jira: JIRA,
) -> None:
    key = create_issue(admin, project)
    pycontribs_jira.issue(key).update(notify=False, summary="Quietly")
    assert fields_of(admin, key)["summary"] == "Quietly"
    bob_jira.issue(key).update(summary="Loudly")
    assert fields_of(admin, key)["summary"] == "Loudly"
    with pytest.raises(JIRAError) as refused:
        bob_jira.issue(key).update(notify=False, summary="Hush")
    assert refused.value.status_code == 403
    assert fields_of(admin, key)["summary"] == "Loudly"


# -- searching by epoch milliseconds ------------------------------------------------------


def test_both_clients_search_updated_after_epoch_milliseconds(
    admin: httpx.Client,
    project: str,
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    key = create_issue(admin, project)
    updated = dt.datetime.strptime(fields_of(admin, key)["updated"], "%Y-%m-%dT%H:%M:%S.%f%z")
    ms = int(updated.timestamp() * 1000)
    for jql, found in (
        (f"project = {project} AND updated >= {ms}", [key]),
        (f'project = {project} AND updated >= "{ms}"', [key]),
        (f"project = {project} AND updated > {ms}", []),
        (f"project = {project} AND updated < {ms + 1}", [key]),
    ):
        assert [i.key for i in pycontribs_jira.search_issues(jql)] == found, jql
        page = atlassian_jira.jql(jql)
        assert page is not None
        assert [i["key"] for i in page["issues"]] == found, jql
