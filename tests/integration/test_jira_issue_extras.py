"""The assignee, work-log, remote-link, edit-flag and epoch-date calls of the built-in
tracker's Jira API over plain HTTP: Jira's errors, the bounds, and each role's rights.

(The same calls through the ``jira`` and ``atlassian-python-api`` libraries:
``test_jira_clients_issues.py``.)
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select, text
from tracker_helpers import API, assert_error, create_issue, create_project, fields_of

from issuesync.services import Services
from issuesync.store.users import User
from issuesync.trackers.local import remotelinks
from issuesync.trackers.local.jql_values import EARLIEST_MS, LATEST_MS
from issuesync.trackers.local.models import RemoteLink

PROJECT = "PA"
LINK = {"object": {"url": "https://example.com/ticket/1", "title": "Ticket 1"}}


@pytest.fixture
def key(admin: httpx.Client) -> str:
    """An issue in a project led by the administrator."""
    create_project(admin, PROJECT)
    return create_issue(admin, PROJECT)


def _deactivate(services: Services, name: str) -> None:
    with services.uow_factory() as uow:
        user = uow.session.scalars(select(User).where(User.name == name)).one()
        user.active = False
        uow.commit()


# -- assignee -----------------------------------------------------------------------------


def test_assign_refuses_unknown_and_deactivated_users_and_missing_issues(
    admin: httpx.Client, key: str, make_client: Callable[..., httpx.Client], services: Services
) -> None:
    url = f"{API}/issue/{key}/assignee"
    assert_error(admin.put(url, json={"name": "nobody"}), 400, field="assignee")
    make_client("gone")
    _deactivate(services, "gone")
    assert_error(
        admin.put(url, json={"name": "gone"}), 400, field="assignee", message="cannot be assigned"
    )
    assert_error(admin.put(f"{API}/issue/PA-99/assignee", json={"name": "admin"}), 404)
    assert_error(admin.put(url, json={"name": ["admin"]}), 400)
    assert_error(admin.put(url, json={"name": "admin", "colour": "red"}), 400)
    assert fields_of(admin, key)["assignee"] is None


def test_every_user_may_assign_by_name_key_or_number(
    admin: httpx.Client, key: str, make_client: Callable[..., httpx.Client]
) -> None:
    bob = make_client("bob")
    url = f"{API}/issue/{key}/assignee"
    assert bob.put(url, json={"name": "bob", "displayName": "Bob"}).status_code == 204
    assert fields_of(admin, key)["assignee"]["name"] == "bob"
    assert bob.put(url, json={"key": "admin"}).status_code == 204
    assert fields_of(admin, key)["assignee"]["name"] == "admin"
    assert bob.put(url, json={"name": None}).status_code == 204
    assert fields_of(admin, key)["assignee"] is None
    assert bob.put(url, json={"name": "bob"}).status_code == 204
    # Automatic, as jira sends it: the project's default assignee, no one (UNASSIGNED).
    assert bob.put(url, json={"name": -1}).status_code == 204
    assert fields_of(admin, key)["assignee"] is None


def test_automatic_assignment_leaves_an_issue_unassigned_without_an_active_lead(
    admin: httpx.Client, make_client: Callable[..., httpx.Client], services: Services
) -> None:
    make_client("lead")
    body = {"key": "PB", "name": "B", "lead": "lead", "assigneeType": "PROJECT_LEAD"}
    response = admin.post(f"{API}/project", json=body)
    assert response.status_code == 201, response.text
    key = create_issue(admin, "PB")
    url = f"{API}/issue/{key}/assignee"
    assert admin.put(url, json={"name": None}).status_code == 204
    assert admin.put(url, json={"name": "-1"}).status_code == 204
    assert fields_of(admin, key)["assignee"]["name"] == "lead"
    _deactivate(services, "lead")
    assert admin.put(url, json={"name": "-1"}).status_code == 204
    assert fields_of(admin, key)["assignee"] is None


def test_rest_api_latest_is_rest_api_2(admin: httpx.Client, key: str) -> None:
    found = admin.get(f"/rest/api/latest/issue/{key}")
    assert found.status_code == 200, found.text
    assert found.json()["self"].endswith(f"/rest/api/2/issue/{found.json()['id']}")
    assert admin.put(f"/rest/api/latest/issue/{key}/assignee", json={"name": "admin"}).is_success
    assert_error(admin.get("/rest/api/latest/issue/PA-99"), 404)
    assert admin.get("/rest/api/latestx/issue").status_code == 404


# -- work logs ----------------------------------------------------------------------------


def _worklog(client: httpx.Client, key: str, spent: str = "1h", **params: str) -> httpx.Response:
    return client.post(f"{API}/issue/{key}/worklog", params=params, json={"timeSpent": spent})


def _remaining(admin: httpx.Client, key: str) -> int | None:
    value: int | None = fields_of(admin, key)["timeestimate"]
    return value


def test_adjust_estimate_combinations_are_checked_as_jira_does(
    admin: httpx.Client, key: str
) -> None:
    url = f"{API}/issue/{key}/worklog"
    assert_error(_worklog(admin, key, adjustEstimate="sideways"), 400, field="adjustEstimate")
    assert_error(_worklog(admin, key, adjustEstimate="new"), 400, field="newEstimate")
    assert_error(_worklog(admin, key, adjustEstimate="new", newEstimate="soon"), 400)
    assert_error(_worklog(admin, key, adjustEstimate="manual"), 400, field="reduceBy")
    assert_error(
        _worklog(admin, key, adjustEstimate="manual", reduceBy="99999999999w"),
        400,
        field="reduceBy",
    )
    assert_error(_worklog(admin, key, spent="1y"), 400, field="timeLogged")
    assert_error(_worklog(admin, key, spent="99999999999w"), 400, field="timeLogged")
    assert admin.get(url).json()["total"] == 0

    made = _worklog(admin, key)
    assert made.status_code == 201, made.text
    one = f"{url}/{made.json()['id']}"
    assert_error(admin.put(one, params={"adjustEstimate": "manual"}, json={}), 400)
    assert_error(admin.delete(one, params={"adjustEstimate": "manual"}), 400, field="increaseBy")
    assert_error(admin.delete(one, params={"adjustEstimate": "new"}), 400, field="newEstimate")
    assert admin.get(one).status_code == 200


def test_the_remaining_estimate_never_goes_below_zero_and_none_stays_none(
    admin: httpx.Client, key: str
) -> None:
    assert _worklog(admin, key).status_code == 201
    assert _remaining(admin, key) is None  # no estimate to move
    assert fields_of(admin, key)["timetracking"] == {"timeSpent": "1h", "timeSpentSeconds": 3600}
    edit = admin.put(
        f"{API}/issue/{key}",
        json={"update": {"timetracking": [{"edit": {"remainingEstimate": "2h"}}]}},
    )
    assert edit.status_code == 204, edit.text
    assert fields_of(admin, key)["timeoriginalestimate"] is None
    assert _worklog(admin, key, spent="3h").status_code == 201
    assert _remaining(admin, key) == 0
    assert _worklog(admin, key, adjustEstimate="new", newEstimate="0m").status_code == 201
    assert _remaining(admin, key) == 0


def test_only_the_author_or_a_project_admin_changes_a_work_log(
    admin: httpx.Client, key: str, make_client: Callable[..., httpx.Client]
) -> None:
    bob = make_client("bob")
    carol = make_client("carol", project_admin=(PROJECT,))
    url = f"{API}/issue/{key}/worklog"
    admins = f"{url}/{_worklog(admin, key).json()['id']}"
    bobs = f"{url}/{_worklog(bob, key, '2h').json()['id']}"

    assert bob.get(admins).status_code == 200
    assert_error(bob.put(admins, json={"comment": "mine now"}), 403)
    assert_error(bob.delete(admins), 403)
    edited = bob.put(bobs, json={"comment": "by bob"})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["comment"], edited.json()["timeSpentSeconds"]) == ("by bob", 7200)
    by_carol = carol.put(bobs, json={"timeSpentSeconds": 60})
    assert by_carol.status_code == 200, by_carol.text
    assert by_carol.json()["updateAuthor"]["name"] == "carol"
    assert by_carol.json()["author"]["name"] == "bob"
    assert carol.delete(admins).status_code == 204
    assert bob.delete(bobs).status_code == 204
    assert admin.get(url).json()["total"] == 0


def test_a_work_log_is_found_only_on_its_own_issue(admin: httpx.Client, key: str) -> None:
    other = create_issue(admin, PROJECT)
    made = _worklog(admin, key).json()
    assert_error(admin.get(f"{API}/issue/{other}/worklog/{made['id']}"), 404)
    assert_error(admin.delete(f"{API}/issue/{other}/worklog/{made['id']}"), 404)
    assert_error(admin.get(f"{API}/issue/{key}/worklog/x1"), 404)
    assert_error(admin.get(f"{API}/issue/{key}/worklog/99999999999999999999"), 404)


def test_a_work_log_body_takes_jiras_read_only_parts_and_nothing_unknown(
    admin: httpx.Client, key: str
) -> None:
    url = f"{API}/issue/{key}/worklog"
    author = {"name": "someone", "displayName": "Someone", "active": False}
    made = admin.post(url, json={"timeSpent": "1h", "author": author, "updateAuthor": author})
    assert made.status_code == 201, made.text
    assert made.json()["author"]["name"] == "admin"  # the caller, as in Jira
    assert_error(admin.post(url, json={"timeSpent": "1h", "notifyUsers": False}), 400)


def test_timetracking_values_are_checked(admin: httpx.Client, key: str) -> None:
    url = f"{API}/issue/{key}"
    for bad in (
        {"originalEstimate": "soon"},
        {"originalEstimateSeconds": -1},
        {"remainingEstimateSeconds": "60"},
        {"spent": "1h"},
        "1h",
    ):
        assert_error(admin.put(url, json={"fields": {"timetracking": bad}}), 400)
    made = admin.put(url, json={"fields": {"timetracking": {"originalEstimate": "1w 2d"}}})
    assert made.status_code == 204, made.text
    fields = fields_of(admin, key)
    assert fields["timetracking"]["originalEstimate"] == "1w 2d"
    assert fields["timeestimate"] == 7 * 8 * 3600  # a first estimate is also what remains
    assert admin.put(url, json={"fields": {"timetracking": None}}).status_code == 204
    assert fields_of(admin, key)["timetracking"] == {}
    made_with = create_issue(admin, PROJECT, timetracking={"originalEstimate": "2h"})
    assert fields_of(admin, made_with)["timetracking"] == {
        "originalEstimate": "2h",
        "remainingEstimate": "2h",
        "originalEstimateSeconds": 7200,
        "remainingEstimateSeconds": 7200,
    }


# -- remote links -------------------------------------------------------------------------


def test_a_global_id_makes_a_post_update_its_link(admin: httpx.Client, key: str) -> None:
    url = f"{API}/issue/{key}/remotelink"
    first = admin.post(url, json={**LINK, "globalId": "t-1"})
    assert first.status_code == 201, first.text
    again = admin.post(url, json={"globalId": "t-1", "object": {**LINK["object"], "title": "T1"}})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert admin.post(url, json={**LINK, "globalId": "t-2"}).status_code == 201
    assert admin.post(url, json=LINK).status_code == 201  # no global id: always a new link
    listed = admin.get(url).json()
    assert [lk.get("globalId") for lk in listed] == ["t-1", "t-2", None]
    assert listed[0]["object"] == {
        "url": LINK["object"]["url"],
        "title": "T1",
        "icon": {},
        "status": {},
    }


def test_remote_links_refuse_what_they_cannot_show_safely(
    admin: httpx.Client, key: str, services: Services
) -> None:
    url = f"{API}/issue/{key}/remotelink"
    for body, field in (
        ({"object": {"url": "javascript:alert(1)", "title": "x"}}, "url"),
        ({"object": {"url": "data:text/html,<b>x</b>", "title": "x"}}, "url"),
        ({"object": {"url": "https://", "title": "x"}}, "url"),
        ({"object": {"url": "https://e.com/" + "a" * 2048, "title": "x"}}, "url"),
        ({"object": {"title": "x"}}, "url"),
        ({"object": {"url": "https://e.com", "title": ""}}, "title"),
        ({"object": {"url": "https://e.com", "title": "t" * 256}}, "title"),
        ({**LINK, "globalId": "g" * 256}, "globalId"),
        ({**LINK, "relationship": 7}, "relationship"),
        ({**LINK, "colour": "red"}, "colour"),
        ({"object": {**LINK["object"], "body": "x"}}, "object.body"),
        ({"object": {**LINK["object"], "icon": {"url16x16": "javascript:x"}}}, "icon.url16x16"),
        ({"object": {**LINK["object"], "status": {"resolved": "yes"}}}, "status.resolved"),
        ({**LINK, "application": {"name": "n" * 256}}, "application.name"),
        ({"globalId": "x"}, "object"),
    ):
        assert_error(admin.post(url, json=body), 400, field=field)
    assert_error(admin.post(url, json=[LINK]), 400)
    with services.uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(RemoteLink)) == 0


def test_remote_links_are_found_by_id_and_global_id_on_their_issue_only(
    admin: httpx.Client, key: str
) -> None:
    other = create_issue(admin, PROJECT)
    url = f"{API}/issue/{key}/remotelink"
    made = admin.post(url, json={**LINK, "globalId": "g-1"}).json()
    assert admin.get(f"{url}/{made['id']}").json()["globalId"] == "g-1"
    assert_error(admin.get(f"{url}/abc"), 400)
    assert_error(admin.get(f"{API}/issue/{other}/remotelink/{made['id']}"), 400)
    assert_error(admin.get(f"{url}/999"), 404)
    assert_error(admin.get(url, params={"globalId": "g-2"}), 404)
    assert_error(admin.delete(url), 400)  # delete by global id needs one
    assert_error(admin.delete(f"{API}/issue/{other}/remotelink", params={"globalId": "g-1"}), 404)
    assert admin.delete(url, params={"globalId": "g-1"}).status_code == 204
    assert_error(admin.delete(url, params={"globalId": "g-1"}), 404)
    assert_error(admin.put(f"{url}/{made['id']}", json=LINK), 404)


def test_an_update_may_not_take_another_links_global_id(admin: httpx.Client, key: str) -> None:
    url = f"{API}/issue/{key}/remotelink"
    first = admin.post(url, json={**LINK, "globalId": "a"}).json()
    admin.post(url, json={**LINK, "globalId": "b"})
    assert_error(admin.put(f"{url}/{first['id']}", json={**LINK, "globalId": "b"}), 400)
    assert admin.get(f"{url}/{first['id']}").json()["globalId"] == "a"


def test_an_issue_holds_a_bounded_number_of_remote_links(
    admin: httpx.Client, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remotelinks, "MAX_REMOTE_LINKS", 2)  # the server runs in this process
    url = f"{API}/issue/{key}/remotelink"
    assert admin.post(url, json={**LINK, "globalId": "1"}).status_code == 201
    assert admin.post(url, json={**LINK, "globalId": "2"}).status_code == 201
    assert_error(admin.post(url, json={**LINK, "globalId": "3"}), 400, field="remotelink")
    assert admin.post(url, json={**LINK, "globalId": "2"}).status_code == 200  # an update
    assert len(admin.get(url).json()) == 2


def test_every_user_keeps_remote_links_and_deleting_the_issue_deletes_them(
    admin: httpx.Client, key: str, make_client: Callable[..., httpx.Client], services: Services
) -> None:
    bob = make_client("bob")
    url = f"{API}/issue/{key}/remotelink"
    made = bob.post(url, json=LINK)
    assert made.status_code == 201, made.text
    assert bob.put(f"{url}/{made.json()['id']}", json=LINK).status_code == 204
    assert admin.post(url, json=LINK).status_code == 201
    assert admin.delete(f"{API}/issue/{key}").status_code == 204
    with services.uow_factory() as uow:
        assert uow.session.scalar(select(func.count()).select_from(RemoteLink)) == 0
        assert uow.session.execute(text("SELECT count(*) FROM tracker_time_tracking")).scalar() == 0


# -- edits: body properties and the notification flag -------------------------------------


def test_issue_bodies_take_jiras_query_parameters_and_nothing_else_unknown(
    admin: httpx.Client, key: str
) -> None:
    made = admin.post(
        f"{API}/issue",
        json={
            "fields": {"project": {"key": PROJECT}, "summary": "S", "issuetype": {"name": "Task"}},
            "updateHistory": True,
            "notifyUsers": False,
        },
    )
    assert made.status_code == 201, made.text
    url = f"{API}/issue/{key}"
    for extra in (
        {"notifyUsers": "false"},
        {"overrideScreenSecurity": True},
        {"overrideEditableFlag": 1},
    ):
        assert admin.put(url, json={"fields": {"summary": "T"}, **extra}).status_code == 204
    assert_error(admin.put(url, json={"feilds": {"summary": "U"}}), 400)
    assert_error(admin.put(url, json={"fields": {"colour": "red"}}), 400, field="colour")
    assert fields_of(admin, key)["summary"] == "T"


def test_only_a_project_admin_may_edit_without_notifying(
    admin: httpx.Client, key: str, make_client: Callable[..., httpx.Client]
) -> None:
    bob = make_client("bob")
    carol = make_client("carol", project_admin=(PROJECT,))
    url = f"{API}/issue/{key}"
    quiet = {"notifyUsers": "false"}
    assert_error(bob.put(url, params=quiet, json={"fields": {"summary": "B"}}), 403)
    # As Jira reads a Java Boolean: anything but "true" asks for silence.
    assert_error(bob.put(url, params={"notifyUsers": "1"}, json={"fields": {"summary": "B"}}), 403)
    assert fields_of(admin, key)["summary"] == "An issue"
    assert bob.put(
        url, params={"notifyUsers": "TRUE"}, json={"fields": {"summary": "B"}}
    ).is_success
    assert carol.put(url, params=quiet, json={"fields": {"summary": "C"}}).status_code == 204
    assert fields_of(admin, key)["summary"] == "C"


# -- epoch dates in JQL -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        str(LATEST_MS + 1),
        str(EARLIEST_MS - 1),
        '"99999999999999999"',
        "9" * 40,
        "-" + "9" * 900,  # far more digits than int() is asked to read
    ],
)
def test_epoch_dates_outside_the_years_1_to_9999_are_refused(
    admin: httpx.Client, key: str, value: str
) -> None:
    del key
    response = admin.get(f"{API}/search", params={"jql": f"updated > {value}"})
    assert_error(response, 400, message="out of range")
    assert value.strip('"')[:20] in response.text


def test_epoch_dates_at_the_bounds_are_taken(admin: httpx.Client, key: str) -> None:
    for jql in (f"updated > {EARLIEST_MS}", f"updated < {LATEST_MS}", "duedate < 0"):
        found = admin.get(f"{API}/search", params={"jql": jql})
        assert found.status_code == 200, found.text
    keys = [
        i["key"] for i in admin.get(f"{API}/search", params={"jql": "updated > 0"}).json()["issues"]
    ]
    assert keys == [key]
