"""Issue 16, "a project administrator can act as any user": the sync user of a built-in project.

The engine writes to a built-in project as its connector's sync user, so naming
that user is acting as them. Over real HTTP: only a system administrator, the
user themselves, or someone who gives that user's password or API token may
name them (``POST``/``PUT /integrations``); a project administrator who names
nobody gets themselves, never the administrator. With the real engine: every
write into the built-in tracker has exactly the sync user's permissions, and a
refused one parks that issue's message in ``error`` with the permission it
lacked, while the other issues go on; once the right is granted, a retry
applies it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sync_helpers import make_project_admin
from tracker_helpers import API, create_issue, create_project, fields_of

from issuesync.accounts import create_token
from issuesync.application.integrations import connector_by_key, connector_rows, connector_secret
from issuesync.engine.runtime.ports import RuntimeServices
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.store.sync import ConnectorRow, SyncInfo
from issuesync.store.users import User

BASE = "/plugins/servlet/backbone-issue-sync/api/1"
USER = "firstConnector.connection.application.user"
SECOND_USER = "secondConnector.connection.application.user"

MakeClient = Callable[..., httpx.Client]


# Who may name whom is decided above the store: those tests run on SQLite only; the
# engine's writes run on both stores.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def pat(admin: httpx.Client, make_client: MakeClient) -> httpx.Client:
    """Projects PA, PB and PC; ``pat`` administers all three, ``bob`` and ``xavier`` none."""
    for key in ("PA", "PB", "PC"):
        create_project(admin, key)
    make_client("bob")
    make_client("xavier")
    return make_client("pat", project_admin=("PA", "PB", "PC"))


def body(first: str = "PA", second: str = "PB", **application: object) -> dict[str, Any]:
    """Two built-in projects; ``application`` is the first connector's (the second names none)."""
    return {
        "firstConnector": {"projectKey": first, "connection": {"application": application}},
        "secondConnector": {"projectKey": second},
    }


def post(client: httpx.Client, document: dict[str, Any]) -> httpx.Response:
    return client.post(f"{BASE}/integrations", json=document)


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    """Backbone's error shape, with the fields named."""
    assert response.status_code == status, response.text
    shown: dict[str, Any] = response.json()
    assert shown["status-code"] == status
    assert shown["message"]
    errors: dict[str, Any] = shown["errors"]
    return errors


def users(client: httpx.Client, key: str) -> tuple[str, str]:
    """The sync users GET shows for both connectors."""
    shown = client.get(f"{BASE}/integrations/{key}")
    assert shown.status_code == 200, shown.text
    return (
        shown.json()["firstConnector"]["connection"]["application"]["user"],
        shown.json()["secondConnector"]["connection"]["application"]["user"],
    )


def listed(client: httpx.Client, project: str) -> list[str]:
    response = client.get(f"{BASE}/integrations", params={"projectKey": project})
    assert response.status_code == 200, response.text
    return [i["integrationKey"] for i in response.json()]


# -- who may name a sync user -------------------------------------------------------------------


@sqlite_only
def test_a_project_admin_names_another_user_only_with_their_password_or_token(
    pat: httpx.Client, services: Services
) -> None:
    # The finding: the administrator, named without a password, was accepted.
    errors = error(post(pat, body(user="admin")), 403)
    assert "admin" in errors[USER]
    errors = error(post(pat, body(user="bob", password="not-bobs")), 403)
    assert errors == {
        "firstConnector.connection.application.password": "is not a valid password of user 'bob'"
    }
    pats_token = create_token(services.uow_factory, "pat")
    errors = error(post(pat, body(user="bob", token=pats_token)), 403)
    assert "firstConnector.connection.application.token" in errors
    assert listed(pat, "PA") == []  # nothing was made by any of these

    made = post(pat, body(user="bob", password="bob-password"))
    assert made.status_code == 200, made.text
    assert "bob-password" not in made.text
    key = made.json()["integrationKey"]
    assert users(pat, key) == ("bob", "pat")
    bobs_token = create_token(services.uow_factory, "bob")
    by_token = post(pat, body("PA", "PC", user="bob", token=bobs_token))
    assert by_token.status_code == 200, by_token.text
    assert bobs_token not in by_token.text
    assert users(pat, by_token.json()["integrationKey"]) == ("bob", "pat")
    # The password or token only proved who bob is: a built-in connector keeps no secret.
    with services.uow_factory(readonly=True) as uow:
        for row in (connector_by_key(uow.session, "PA-1"), connector_by_key(uow.session, "PA-3")):
            assert connector_secret(uow.session, services.secrets, row.id) is None


@sqlite_only
def test_a_user_who_cannot_sync_is_a_400_for_everyone(
    pat: httpx.Client, admin: httpx.Client, services: Services
) -> None:
    with services.uow_factory() as uow:
        uow.session.execute(update(User).where(User.name == "bob").values(active=False))
        uow.commit()
    for client in (pat, admin):
        errors = error(post(client, body(user="ghost")), 400)
        assert errors == {USER: "there is no active user 'ghost' in the built-in tracker"}
        errors = error(post(client, body(user="bob", password="bob-password")), 400)
        assert errors == {USER: "there is no active user 'bob' in the built-in tracker"}
    assert listed(admin, "PA") == []


@sqlite_only
def test_whoever_names_nobody_syncs_as_themselves_never_as_the_administrator(
    pat: httpx.Client, admin: httpx.Client, services: Services
) -> None:
    mine = post(pat, body())
    assert mine.status_code == 200, mine.text
    assert users(pat, "INT-1") == ("pat", "pat")  # stored, so GET shows it
    theirs = post(admin, body("PA", "PC"))
    assert theirs.status_code == 200, theirs.text
    assert users(admin, "INT-2") == ("admin", "admin")
    # An administrator, or a user naming themselves, needs no secret.
    by_admin = post(admin, body("PB", "PC", user="bob"))
    assert by_admin.status_code == 200, by_admin.text
    assert users(admin, "INT-3") == ("bob", "admin")
    # A connector stored without a user (before this rule) runs as its creator.
    with services.uow_factory() as uow:
        uow.session.execute(update(ConnectorRow).values(user=None))
        uow.commit()
    with services.uow_factory(readonly=True) as uow:
        assert connector_by_key(uow.session, "PA-1").user == "pat"
        assert connector_by_key(uow.session, "PA-3").user == "admin"


@sqlite_only
def test_an_edit_may_not_switch_the_sync_user_to_someone_else(
    pat: httpx.Client, admin: httpx.Client
) -> None:
    assert post(pat, body()).status_code == 200
    # The finding's reproduction: PUT naming the administrator without a password.
    errors = error(pat.put(f"{BASE}/integrations/INT-1", json=body(user="admin")), 403)
    assert "admin" in errors[USER]
    errors = error(pat.put(f"{BASE}/integrations/INT-1", json=body(user="xavier")), 403)
    assert "xavier" in errors[USER]
    assert users(pat, "INT-1") == ("pat", "pat")
    switched = pat.put(f"{BASE}/integrations/INT-1", json=body(user="bob", password="bob-password"))
    assert switched.status_code == 200, switched.text
    assert users(pat, "INT-1") == ("bob", "pat")

    # One the administrator set is not checked again when an edit leaves it as it is...
    made = post(admin, body("PB", "PC", user="xavier"))
    assert made.status_code == 200, made.text
    shown = pat.get(f"{BASE}/integrations/INT-2").json()
    shown["summary"] = "Renamed by pat"
    assert pat.put(f"{BASE}/integrations/INT-2", json=shown).status_code == 200
    left_out = body("PB", "PC")
    left_out["description"] = "no user named"
    del left_out["firstConnector"]["connection"]
    assert pat.put(f"{BASE}/integrations/INT-2", json=left_out).status_code == 200
    assert users(pat, "INT-2") == ("xavier", "admin")
    # ... but taking it back after a change is naming it again.
    assert pat.put(f"{BASE}/integrations/INT-2", json=body("PB", "PC", user="pat")).status_code == (
        200
    )
    error(pat.put(f"{BASE}/integrations/INT-2", json=body("PB", "PC", user="xavier")), 403)
    assert users(pat, "INT-2") == ("pat", "admin")


@sqlite_only
def test_a_remote_connector_turned_built_in_does_not_keep_its_remote_user(
    pat: httpx.Client, admin: httpx.Client
) -> None:
    remote = {
        "firstConnector": {"projectKey": "PA"},
        "secondConnector": {
            "projectKey": "PB",
            "connection": {
                "application": {
                    "system": "jira",
                    "baseUrl": "https://jira.example",
                    "user": "admin",
                    "password": "the remote jira's password",
                }
            },
        },
    }
    made = post(admin, remote)
    assert made.status_code == 200, made.text
    turned: dict[str, Any] = {
        "firstConnector": {"projectKey": "PA"},
        "secondConnector": {
            "projectKey": "PB",
            "connection": {"application": {"system": "local", "user": "admin"}},
        },
    }
    errors = error(pat.put(f"{BASE}/integrations/INT-1", json=turned), 403)
    assert "admin" in errors[SECOND_USER]
    del turned["secondConnector"]["connection"]["application"]["user"]
    assert pat.put(f"{BASE}/integrations/INT-1", json=turned).status_code == 200
    assert users(pat, "INT-1") == ("admin", "pat")


@sqlite_only
def test_application_connection_keeps_the_user_and_no_secret_of_a_built_in_side(
    pat: httpx.Client, services: Services
) -> None:
    assert post(pat, body()).status_code == 200
    change = {"firstConnector": {"user": "admin", "password": "guess"}}
    response = pat.put(f"{BASE}/integrations/INT-1/applicationConnection", json=change)
    assert response.status_code == 200, response.text
    assert "stays 'pat'" in response.json()["message"]
    assert "not stored" in response.json()["message"]
    assert users(pat, "INT-1") == ("pat", "pat")
    with services.uow_factory(readonly=True) as uow:
        first, _ = connector_rows(uow.session, connector_by_key(uow.session, "PA-1").integration_id)
        assert first.secret is None


# -- the engine writes with exactly the sync user's permissions ----------------------------------


def synced(
    admin: httpx.Client, make_client: MakeClient, first_user: str, second_user: str
) -> httpx.Client:
    """PA and PB kept in step by INT-1 with these sync users (a new one has no role),
    set and started by the administrator; returns the client of ``xavier``, a plain user."""
    for key in ("PA", "PB"):
        create_project(admin, key)
    for name in {first_user, second_user} - {"admin"}:
        make_client(name)
    document = {
        "firstConnector": {
            "projectKey": "PA",
            "connection": {"application": {"user": first_user}},
        },
        "secondConnector": {
            "projectKey": "PB",
            "connection": {"application": {"user": second_user}},
        },
    }
    assert post(admin, document).status_code == 200
    assert admin.put(f"{BASE}/integrations/INT-1/start").status_code == 200
    return make_client("xavier")


def comment(client: httpx.Client, key: str, text: str) -> None:
    response = client.post(f"{API}/issue/{key}/comment", json={"body": text})
    assert response.status_code == 201, response.text


def twin(engine: SyncRunner, key: str) -> str:
    """The other side's key of an issue, once the engine has linked it."""
    engine.settle()
    found = twin_of(engine.services, key)
    assert found is not None, f"{key} has no twin"
    return found


def twin_of(services: RuntimeServices, key: str) -> str | None:
    with services.uow_factory(readonly=True) as uow:
        return uow.session.scalar(
            select(SyncInfo.remote_issue_key).where(SyncInfo.local_issue_key == key)
        )


def comments(client: httpx.Client, key: str) -> list[tuple[str, str]]:
    """(author, body) of an issue's comments."""
    response = client.get(f"{API}/issue/{key}/comment")
    assert response.status_code == 200, response.text
    return [(c["author"]["name"], c["body"]) for c in response.json()["comments"]]


def messages(client: httpx.Client, connector: str, state: str) -> list[dict[str, Any]]:
    response = client.get(f"{BASE}/connectors/{connector}/messages", params={"state": state})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def retry(client: httpx.Client, connector: str) -> int:
    response = client.post(f"{BASE}/connectors/{connector}/messages/retry", json={"state": "error"})
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


def test_a_plain_sync_user_cannot_delete_another_users_comment_until_granted(
    admin: httpx.Client, make_client: MakeClient, services: Services, engine: SyncRunner
) -> None:
    xavier = synced(admin, make_client, "admin", "syncb")  # syncb: no role in PB
    on_b = create_issue(xavier, "PB", "Xavier's issue")
    comment(xavier, on_b, "Xavier's comment")
    other_b = create_issue(admin, "PB", "Another issue")
    on_a, other_a = twin(engine, on_b), twin(engine, other_b)
    # PA's sync user (an administrator) writes comments in their authors' names.
    ((author, text),) = comments(admin, on_a)
    assert (author, text) == ("xavier", "Xavier's comment")

    comment_id = admin.get(f"{API}/issue/{on_a}/comment").json()["comments"][0]["id"]
    assert admin.delete(f"{API}/issue/{on_a}/comment/{comment_id}").status_code == 204
    admin.put(f"{API}/issue/{other_a}", json={"fields": {"summary": "Renamed on A"}})
    engine.settle()

    # syncb may not delete xavier's comment (xavier could not make it delete it either).
    assert comments(admin, on_b) == [("xavier", "Xavier's comment")]
    (parked,) = messages(admin, "PB-2", "error")
    assert parked["issueKey"] == on_a
    reason = parked["reason"]
    for words in ("syncb", "DELETE_ALL_COMMENTS", "project PB", "retry"):
        assert words in reason, reason
    # The other issue went on, and the route is not failing.
    assert fields_of(admin, other_b)["summary"] == "Renamed on A"
    status = admin.get(f"{BASE}/integrations/INT-1/status").json()["secondConnector"]
    assert status["issuesInError"] == 1
    assert status["incomingDetails"] == ""

    make_project_admin(services, "syncb", "PB")
    assert retry(admin, "PB-2") == 1
    engine.settle()
    assert comments(admin, on_b) == []
    assert messages(admin, "PB-2", "error") == []


def test_edits_and_deletions_of_other_users_things_are_refused_whole(
    admin: httpx.Client, make_client: MakeClient, services: Services, engine: SyncRunner
) -> None:
    xavier = synced(admin, make_client, "admin", "syncb")
    commented = create_issue(xavier, "PB", "Commented")
    comment(xavier, commented, "As xavier wrote it")
    attached = create_issue(xavier, "PB", "Attached")
    files = {"file": ("notes.txt", b"xavier's notes", "text/plain")}
    headers = {"X-Atlassian-Token": "no-check"}
    uploaded = xavier.post(f"{API}/issue/{attached}/attachments", files=files, headers=headers)
    assert uploaded.status_code == 200, uploaded.text
    twin_c, twin_a = twin(engine, commented), twin(engine, attached)

    # One message that changes a field and edits xavier's comment: nothing of it is applied.
    comment_id = admin.get(f"{API}/issue/{twin_c}/comment").json()["comments"][0]["id"]
    edited = admin.put(f"{API}/issue/{twin_c}/comment/{comment_id}", json={"body": "Edited on A"})
    assert edited.status_code == 200, edited.text
    admin.put(f"{API}/issue/{twin_c}", json={"fields": {"summary": "Renamed on A"}})
    attachment_id = fields_of(admin, twin_a)["attachment"][0]["id"]
    assert admin.delete(f"{API}/attachment/{attachment_id}").status_code == 204
    engine.settle()

    assert comments(admin, commented) == [("xavier", "As xavier wrote it")]
    assert fields_of(admin, commented)["summary"] == "Commented"
    assert [a["filename"] for a in fields_of(admin, attached)["attachment"]] == ["notes.txt"]
    reasons = {m["issueKey"]: m["reason"] for m in messages(admin, "PB-2", "error")}
    assert "EDIT_ALL_COMMENTS" in reasons[twin_c]
    assert "DELETE_ALL_ATTACHMENTS" in reasons[twin_a]

    make_project_admin(services, "syncb", "PB")
    assert retry(admin, "PB-2") == 2
    engine.settle()
    assert comments(admin, commented) == [("xavier", "Edited on A")]
    assert fields_of(admin, commented)["summary"] == "Renamed on A"
    assert fields_of(admin, attached)["attachment"] == []


def test_only_a_sync_user_who_administers_the_project_writes_in_authors_names(
    admin: httpx.Client, make_client: MakeClient, services: Services, engine: SyncRunner
) -> None:
    xavier = synced(admin, make_client, "synca", "admin")  # synca: no role in PA
    # Before the first sync: the twin is made with its comments in one batch.
    on_b = create_issue(xavier, "PB", "Xavier's issue")
    comment(xavier, on_b, "first")
    on_a = twin(engine, on_b)
    # synca writes as itself, under a header naming the author (docs/trackers.md, People).
    assert comments(admin, on_a) == [("synca", f"*xavier* wrote on {on_b}:\n\nfirst")]
    # One by one, later.
    comment(xavier, on_b, "second")
    engine.settle()
    assert comments(admin, on_a)[1] == ("synca", f"*xavier* wrote on {on_b}:\n\nsecond")

    # The role counts from the next write, without a restart.
    make_project_admin(services, "synca", "PA")
    comment(xavier, on_b, "third")
    later = create_issue(xavier, "PB", "Made after the grant")
    comment(xavier, later, "fourth")
    engine.settle()
    assert comments(admin, on_a)[2] == ("xavier", "third")
    assert comments(admin, twin(engine, later)) == [("xavier", "fourth")]


def test_a_deactivated_sync_user_writes_nothing(
    admin: httpx.Client, make_client: MakeClient, services: Services, engine: SyncRunner
) -> None:
    synced(admin, make_client, "admin", "syncb")
    engine.settle()  # the routes are open, as syncb
    with services.uow_factory() as uow:
        uow.session.execute(update(User).where(User.name == "syncb").values(active=False))
        uow.commit()
    key = create_issue(admin, "PA", "Made while syncb is deactivated")
    engine.settle()
    assert twin_of(services, key) is None
    found = admin.get(f"{API}/search", params={"jql": "project = PB"}).json()
    assert found["total"] == 0
    status = admin.get(f"{BASE}/integrations/INT-1/status").json()["secondConnector"]
    assert "syncb" in status["incomingDetails"]
    assert "deactivated" in status["incomingDetails"]
