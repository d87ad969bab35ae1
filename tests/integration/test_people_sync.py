"""People between two built-in projects (issue 19, section 3), driven through the Jira API.

Both connectors are on one built-in tracker, so its users are the same people on both
sides: an assignee crosses by e-mail; ``userMappings`` says otherwise where a person wants
it; a mapping to nobody here falls back to the sync user. The sync user ``backbone``
administers no project at first, so the tracker writes a partner's comment in its own name:
the comment then starts with a header naming its author, which comes off again when the
comment goes back.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import Pair, integration_pair, local_body, make_project_admin
from tracker_helpers import API, create_issue

from issuesync.accounts import NewUser, create_user
from issuesync.domain.message import (
    ChangeAction,
    CommentChange,
    Message,
    MessageKind,
    ReceiveState,
)
from issuesync.engine.pipeline import people
from issuesync.services import Services

FIELDS = ("summary", "assignee", "reporter", "comment")


def body(**second: Any) -> dict[str, Any]:
    """PA and PB syncing summaries, assignees, reporters and comments; PB's extra settings."""
    made = copy.deepcopy(local_body(incomingInterval="1s"))
    mappings = [{"localField": name, "remoteField": name} for name in FIELDS]
    made["firstConnector"]["configuration"]["fieldMappings"] = mappings
    made["secondConnector"]["configuration"]["fieldMappings"] = mappings
    made["secondConnector"]["configuration"].update(second)
    return made


def add_users(services: Services) -> None:
    for name, email in (("alice", "alice@example.test"), ("bob", "bob@example.test")):
        create_user(
            services.uow_factory,
            NewUser(name=name, display_name=name.title() + " Smith", email=email, password=name),
        )


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    add_users(services)
    mapped = {
        "userMappings": [{"local": "bob", "remote": "carol"}, {"local": "ghost", "remote": "dan"}]
    }
    with integration_pair(services, admin, body(**mapped)) as made:
        yield made


def assign(pair: Pair, key: str, name: str) -> None:
    pair.edit(key, assignee={"name": name})


def assignee(pair: Pair, key: str) -> str | None:
    value = pair.fields(key)["assignee"]
    return value["name"] if value else None


def test_assignees_cross_by_e_mail_by_user_mapping_or_as_the_sync_user(
    pair: Pair, services: Services
) -> None:
    for name, email in (("carol", "carol@example.test"), ("dan", "dan@example.test")):
        create_user(services.uow_factory, NewUser(name=name, email=email, password=name))
    by_mail = create_issue(pair.client, "PA", "Alice's")
    assign(pair, by_mail, "alice")
    mapped = create_issue(pair.client, "PA", "Carol's")
    assign(pair, mapped, "carol")
    nobody = create_issue(pair.client, "PA", "Dan's")
    assign(pair, nobody, "dan")
    pair.settle()

    assert assignee(pair, pair.twin(by_mail)) == "alice"
    assert assignee(pair, pair.twin(mapped)) == "bob"  # PB's userMappings: carol is bob
    assert assignee(pair, pair.twin(nobody)) == "backbone"  # mapped to "ghost", not here
    notes = [m.reason for m in pair.messages(pair.second_id, ReceiveState.ARCHIVE)]
    assert any("dan" in (n or "") and "sync user" in (n or "") for n in notes), notes
    # The reporter follows the same rules (the admin is the admin on both sides).
    assert pair.fields(pair.twin(by_mail))["reporter"]["name"] == "admin"

    # The mapping is PB's; mirrored, it is PA's too: PB's bob is PA's carol.
    assign(pair, pair.twin(by_mail), "bob")
    pair.settle()
    assert assignee(pair, by_mail) == "carol"
    assert pair.settle() == 1  # a round that moves nothing: no echo


def test_a_comment_the_sync_user_posts_names_its_author_and_the_name_never_grows(
    pair: Pair, admin: httpx.Client, services: Services
) -> None:
    # The sync user administers PA (it edits the admin's comments there, and writes in
    # their names), not PB (there it writes as itself, under a header).
    make_project_admin(services, "backbone", "PA")
    key = create_issue(pair.client, "PA", "Talk")
    pair.comment(key, "First *words*.")
    pair.settle()
    twin = pair.twin(key)
    header = f"*Administrator* wrote on {key}:"
    assert pair.comments(twin) == [f"{header}\n\nFirst *words*."]

    # An edit on PB (its writer keeps the header) comes back to PA without it.
    comment = admin.get(f"{API}/issue/{twin}/comment").json()["comments"][0]
    edited = f"{header}\n\nFirst *words*, edited on PB."
    response = admin.put(f"{API}/issue/{twin}/comment/{comment['id']}", json={"body": edited})
    assert response.status_code == 200, response.text
    pair.settle()
    assert pair.comments(key) == ["First *words*, edited on PB."]
    assert pair.comments(twin) == [edited]

    # An edit on PA: PB's copy keeps its one header.
    original = admin.get(f"{API}/issue/{key}/comment").json()["comments"][0]
    response = admin.put(f"{API}/issue/{key}/comment/{original['id']}", json={"body": "Third."})
    assert response.status_code == 200, response.text
    pair.settle()
    assert pair.comments(twin) == [f"{header}\n\nThird."]
    assert pair.comments(key) == ["Third."]

    # A comment made on PB goes to PA in its author's name: no header needed there.
    pair.comment(twin, "From B.")
    pair.settle()
    comments = admin.get(f"{API}/issue/{key}/comment").json()["comments"]
    assert [(c["author"]["name"], c["body"]) for c in comments] == [
        ("admin", "Third."),
        ("admin", "From B."),
    ]
    assert pair.comments(twin) == [f"{header}\n\nThird.", "From B."]
    assert pair.settle() == 1


def test_a_sync_user_who_may_write_for_others_names_the_author_instead(
    pair: Pair, services: Services
) -> None:
    make_project_admin(services, "backbone", "PA", "PB")
    key = create_issue(pair.client, "PA", "Talk")
    pair.comment(key, "Said by the admin.")
    pair.settle()
    twin = pair.twin(key)
    comments = pair.client.get(f"{API}/issue/{twin}/comment").json()["comments"]
    assert [(c["author"]["name"], c["body"]) for c in comments] == [("admin", "Said by the admin.")]


def test_user_mappings_are_checked_at_the_edge(admin: httpx.Client, services: Services) -> None:
    add_users(services)
    create_user(services.uow_factory, NewUser(name="backbone", password="backbone"))
    from tracker_helpers import create_project  # noqa: PLC0415 - only this test makes projects

    create_project(admin, "PA")
    create_project(admin, "PB")
    refusals: dict[str, dict[str, Any]] = {
        "twice": {"userMappings": [{"local": "a", "remote": "x"}, {"local": "b", "remote": "x"}]},
        "long": {"userMappings": [{"local": "a" * 300, "remote": "x"}]},
        "many": {"userMappings": [{"local": "a", "remote": f"u{n}"} for n in range(1001)]},
        "header": {"commentHeader": "{author} said {secret}"},
        "no author": {"commentHeader": "From {key}"},
    }
    for what, extra in refusals.items():
        response = admin.post("/api/1/integrations", json=body(**extra))
        assert response.status_code == 400, (what, response.text)
        field = "userMappings" if "userMappings" in extra else "commentHeader"
        assert f"secondConnector.configuration.{field}" in response.text, (what, response.text)
    response = admin.post(
        "/api/1/integrations",
        json=body(userMappings=[{"local": "bob", "remote": "carol"}], commentHeader="{author}:"),
    )
    assert response.status_code == 200, response.text
    shown = response.json()
    second = shown["secondConnector"]["configuration"]
    first = shown["firstConnector"]["configuration"]
    assert second["userMappings"] == [{"local": "bob", "remote": "carol"}]
    assert second["commentHeader"] == "{author}:"
    assert first["userMappings"] == [{"local": "carol", "remote": "bob"}]  # mirrored
    assert "commentHeader" not in first  # the default, as seed 001's shape has no such key


def test_mentions_resolve_to_this_trackers_users_through_the_route(pair: Pair) -> None:
    """The resolver the markup conversion is given: PB's route, the built-in tracker's users."""
    pair.engine.refresh()
    route = pair.engine.route(pair.second_id)
    assert route is not None
    message = Message(
        integration_key=pair.key,
        from_connector="PA-1",
        to_connector="PB-2",
        source_issue_key="PA-1",
        sequence_id=1,
        kind=MessageKind.UPDATE,
        comments=[CommentChange(action=ChangeAction.ADD, source_id="1", body="hi @carol")],
    )
    resolve = people.mentions(route, message)
    assert resolve("carol") == "bob"  # PB's userMappings
    assert resolve("dan") is None  # mapped to "ghost", who is not here: plain text
    assert resolve("alice") == "alice"  # one tracker: the same alice
    assert resolve("mallory") is None  # nobody
    for_every_message = people.mentions(route)
    assert [for_every_message(n) for n in ("carol", "dan", "alice")] == ["bob", None, "alice"]
