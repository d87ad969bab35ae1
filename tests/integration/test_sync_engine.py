"""End-to-end: two built-in projects kept in step by the engine, driven through the Jira API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sync_helpers import (
    Pair,
    integration_pair,
    local_body,
    make_project_admin,
    refused_priority_body,
)
from tracker_helpers import API, create_issue, transition_id

from issuesync.api.backbone.documents.resync import ResyncRequest, request_resync
from issuesync.api.backbone.documents.syncinfo import import_sync_info
from issuesync.api.backbone.documents.tasks import task_json
from issuesync.application.integrations import connector_by_key
from issuesync.domain.diff import Winner
from issuesync.engine.pipeline import incoming
from issuesync.engine.tasks import get_task, task_view
from issuesync.engine.transports import queues
from issuesync.errors import InvalidInputError, TrackerOfflineError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConflictRow, MessageRow, SyncInfo


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


def test_a_new_issue_gets_a_twin_with_its_fields_comments_and_attachments(pair: Pair) -> None:
    key = create_issue(
        pair.client,
        "PA",
        "Checkout fails",
        description="Steps: pay",
        priority={"name": "High"},
        labels=["shop", "urgent"],
        duedate="2026-12-24",
    )
    pair.comment(key, "First comment")
    files = {"file": ("log.txt", b"line 1\nline 2\n", "text/plain")}
    response = pair.client.post(
        f"{API}/issue/{key}/attachments", files=files, headers={"X-Atlassian-Token": "no-check"}
    )
    assert response.status_code == 200, response.text

    pair.settle()

    twin = pair.twin(key)
    assert twin.startswith("PB-")
    fields = pair.fields(twin)
    assert fields["summary"] == "Checkout fails"
    assert fields["description"] == "Steps: pay"
    assert fields["priority"]["name"] == "High"
    assert sorted(fields["labels"]) == ["shop", "urgent"]
    assert fields["duedate"] == "2026-12-24"
    # The sync user may not write in the admin's name in PB: it names the author instead.
    assert pair.comments(twin) == [f"*Administrator* wrote on {key}:\n\nFirst comment"]
    assert [a["filename"] for a in fields["attachment"]] == ["log.txt"]
    content = pair.client.get(fields["attachment"][0]["content"])
    assert content.content == b"line 1\nline 2\n"
    assert pair.twin(twin) == key  # both sides are linked


def test_edits_flow_both_ways_once_and_never_echo(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Original")
    pair.settle()
    twin = pair.twin(key)

    pair.edit(twin, summary="Edited on B")
    pair.settle()
    assert pair.fields(key)["summary"] == "Edited on B"

    pair.edit(key, summary="Edited on A", labels=["a"])
    pair.settle()
    assert pair.fields(twin)["summary"] == "Edited on A"
    assert pair.fields(twin)["labels"] == ["a"]

    # Quiet now: another round sends nothing, and each side archived exactly what was sent.
    assert pair.engine.step() == 0
    to_b = [m for m in pair.messages(pair.second_id) if m.kind != "response"]
    to_a = [m for m in pair.messages(pair.first_id) if m.kind != "response"]
    assert [m.sequence_id for m in to_b] == [1, 2][-len(to_b) :]
    assert all(m.state == "archive" for m in to_b + to_a)
    assert len(to_a) == 1


def test_status_follows_through_the_workflow(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Move me")
    pair.settle()
    twin = pair.twin(key)
    response = pair.client.post(
        f"{API}/issue/{key}/transitions",
        json={"transition": {"id": transition_id(pair.client, key, "Done")}},
    )
    assert response.status_code == 204, response.text
    pair.settle()
    assert pair.fields(twin)["status"]["name"] == "Done"


def test_comment_edits_and_deletes_follow_their_traces(pair: Pair) -> None:
    # Deleting the admin's comment on PA takes a sync user who administers PA.
    make_project_admin(pair.services, "backbone", "PA", "PB")
    key = create_issue(pair.client, "PA", "Talk")
    first = pair.comment(key, "one")
    pair.comment(key, "two")
    pair.settle()
    twin = pair.twin(key)
    assert pair.comments(twin) == ["one", "two"]

    response = pair.client.put(f"{API}/issue/{key}/comment/{first}", json={"body": "one, edited"})
    assert response.status_code == 200, response.text
    pair.settle()
    assert pair.comments(twin) == ["one, edited", "two"]

    twin_comments = pair.client.get(f"{API}/issue/{twin}/comment").json()["comments"]
    second_on_b = twin_comments[1]["id"]
    assert pair.client.delete(f"{API}/issue/{twin}/comment/{second_on_b}").status_code == 204
    pair.comment(twin, "three, from B")
    pair.settle()
    assert pair.comments(key) == ["one, edited", "three, from B"]
    assert pair.comments(twin) == ["one, edited", "three, from B"]


class Offline:
    """The real adapter behind a switch: while ``down``, every call says the tracker is offline."""

    def __init__(self, tracker: object) -> None:
        self.tracker = tracker
        self.down = True

    def __getattr__(self, name: str) -> Any:  # whatever the tracker has: a Tracker too
        attribute = getattr(self.tracker, name)
        if not callable(attribute) or not self.down or name == "close":
            return attribute

        def refuse(*_args: object, **_kwargs: object) -> object:
            raise TrackerOfflineError("connection refused: the tracker is down")

        return refuse


def test_messages_wait_offline_while_the_tracker_is_down_and_apply_in_order(pair: Pair) -> None:
    pair.engine.refresh()
    route = pair.engine.route(pair.second_id)
    assert route is not None
    switch = Offline(route.tracker)
    route.tracker = switch
    key = create_issue(pair.client, "PA", "While B is down")
    pair.engine.step()
    pair.edit(key, summary="Edited while B is down")
    pair.engine.step()
    states = [m.state for m in pair.messages(pair.second_id)]
    assert "offline" in states
    assert all(s in ("offline", "new") for s in states)

    switch.down = False
    pair.settle()
    twin = pair.twin(key)
    assert pair.fields(twin)["summary"] == "Edited while B is down"
    assert {m.state for m in pair.messages(pair.second_id)} == {"archive"}


def test_a_rejected_write_parks_that_issue_only(services: Services, admin: httpx.Client) -> None:
    with integration_pair(services, admin, refused_priority_body()) as pair:
        bad = create_issue(pair.client, "PA", "Bad", priority={"name": "Highest"})
        good = create_issue(pair.client, "PA", "Good")
        pair.settle()
        errors = pair.messages(pair.second_id, "error")
        assert [m.issue_key for m in errors] == [bad]
        assert "priority" in (errors[0].reason or "")
        assert pair.fields(pair.twin(good))["summary"] == "Good"

        pair.edit(bad, summary="Bad, edited")
        pair.settle()
        waiting = [m for m in pair.messages(pair.second_id) if m.issue_key == bad]
        assert [m.state for m in waiting] == ["error", "new"]  # held behind the error

        with services.uow_factory() as uow:
            rows = [uow.session.get(MessageRow, m.id) for m in waiting[:1]]
            queues.discard([r for r in rows if r], now_ms())
            uow.commit()
        pair.settle()
        # The create was given up; the next message creates the twin from its replica,
        # and the mapping still names a priority PB lacks: refused for the same reason.
        states = [(m.state, m.reason or "") for m in pair.messages(pair.second_id)]
        assert [s for s, _ in states if s in ("discard", "error")] == ["discard", "error"]
        assert "priority" in next(r for s, r in states if s == "error")


def test_a_sub_task_waits_for_its_parent(services: Services, admin: httpx.Client) -> None:
    body = local_body()
    body["firstConnector"]["configuration"] = {"sync": {"outgoingJqls": ["labels = sync"]}}
    with integration_pair(services, admin, body) as pair:
        parent = create_issue(pair.client, "PA", "Parent")
        child = create_issue(
            pair.client,
            "PA",
            "Child",
            issuetype="Sub-task",
            parent={"key": parent},
            labels=["sync"],
        )
        pair.settle()
        missing = pair.messages(pair.second_id, "issue-missing")
        assert [m.issue_key for m in missing] == [child]
        assert parent in (missing[0].reason or "")

        pair.edit(parent, labels=["sync"])
        pair.settle()
        twin_child = pair.fields(pair.twin(child))
        assert twin_child["parent"]["key"] == pair.twin(parent)
        assert twin_child["issuetype"]["name"] == "Sub-task"


def test_concurrent_edits_without_automatic_resolution_wait_for_a_person(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Base")
    pair.settle()
    twin = pair.twin(key)
    pair.edit(key, summary="A's idea")
    pair.edit(twin, summary="B's idea")
    pair.settle()
    errors = pair.messages(pair.first_id, "error") + pair.messages(pair.second_id, "error")
    assert errors
    assert all("conflict" in (m.reason or "") for m in errors)
    # Nothing was overwritten while nobody decided.
    assert pair.fields(key)["summary"] == "A's idea"
    assert pair.fields(twin)["summary"] == "B's idea"

    with services_of(pair).uow_factory() as uow:
        for message in errors:
            incoming.resolve(
                uow.session,
                message.connector_id,
                message.id,
                Winner.REMOTE if message.connector_id == pair.second_id else Winner.LOCAL,
            )
        uow.commit()
    pair.settle()
    assert pair.fields(key)["summary"] == "A's idea"
    assert pair.fields(twin)["summary"] == "A's idea"


def services_of(pair: Pair) -> Services:
    return pair.services


def test_concurrent_edits_with_automatic_resolution_converge_on_the_newer(
    services: Services, admin: httpx.Client
) -> None:
    with integration_pair(services, admin, local_body(automaticConflictResolution=True)) as pair:
        key = create_issue(pair.client, "PA", "Base")
        pair.settle()
        twin = pair.twin(key)
        pair.edit(key, summary="older, from A")
        pair.edit(twin, summary="newer, from B")
        pair.settle()
        assert pair.fields(key)["summary"] == "newer, from B"
        assert pair.fields(twin)["summary"] == "newer, from B"
        assert not pair.messages(pair.first_id, "error")
        assert not pair.messages(pair.second_id, "error")
        with services.uow_factory(readonly=True) as uow:
            recorded = list(uow.session.scalars(select(ConflictRow)))
            assert recorded
            assert {r.winner for r in recorded} <= {"remote", "local"}
            both = {'"older, from A"', '"newer, from B"'}
            assert any({r.local_value, r.remote_value} == both for r in recorded)


def test_a_deleted_issue_stops_syncing(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Short-lived")
    pair.settle()
    twin = pair.twin(key)
    assert pair.client.delete(f"{API}/issue/{key}").status_code == 204
    pair.settle()
    with pair.services.uow_factory(readonly=True) as uow:
        info = uow.session.scalar(
            select(SyncInfo).where(
                SyncInfo.connector_id == pair.second_id, SyncInfo.local_issue_key == twin
            )
        )
        assert info is not None
        assert info.incoming_changes_ignored
    pair.edit(twin, summary="Still here on B")
    pair.settle()  # nothing to send to a deleted issue, and nothing fails
    assert not pair.messages(pair.first_id, "error")
    assert pair.fields(twin)["summary"] == "Still here on B"


def test_a_resync_sends_the_chosen_mappings_again(services: Services, admin: httpx.Client) -> None:
    body = local_body()
    body["firstConnector"]["configuration"] = {
        "fieldMappings": [
            {
                "id": "5f513c5e-49ca-4d26-856f-8fce2d7597e8",
                "localField": "summary",
                "remoteField": "summary",
                "direction": "OUTGOING",
            },
            {"localField": "labels", "remoteField": "labels", "direction": "OUTGOING"},
        ]
    }
    with integration_pair(services, admin, body) as pair:
        key = create_issue(pair.client, "PA", "The truth", labels=["x"])
        other = create_issue(pair.client, "PA", "Not chosen by the JQL")
        pair.settle()
        twin = pair.twin(key)
        pair.edit(twin, summary="Drifted on B", labels=["y"])
        pair.settle()
        assert pair.fields(key)["summary"] == "The truth"  # B does not send summaries

        with services.uow_factory() as uow:
            first = connector_by_key(uow.session, "PA-1")
            task = request_resync(
                uow.session,
                first.key,
                ResyncRequest.parse(
                    {
                        "jql": f"key = {key}",
                        "fieldMappings": ["5f513c5e-49ca-4d26-856f-8fce2d7597e8"],
                        "responsibility": False,
                        "sendStatusField": False,
                    }
                ),
            )
            task_id = task.id
            uow.commit()
        pair.settle()
        with services.uow_factory(readonly=True) as uow:
            shown = task_json(task_view(get_task(uow.session, task_id)))
        assert shown["finished"] is True
        assert shown["hasFailed"] is False
        assert shown["progress"] == 100
        assert len(shown["id"]) == 32
        assert pair.fields(twin)["summary"] == "The truth"
        assert pair.fields(twin)["labels"] == ["y"]  # not a chosen mapping
        assert pair.fields(pair.twin(other))["summary"] == "Not chosen by the JQL"


def test_a_resync_request_names_what_is_wrong(pair: Pair) -> None:
    with pair.services.uow_factory() as uow:
        first = connector_by_key(uow.session, "PA-1")
        with pytest.raises(InvalidInputError) as unknown:
            request_resync(uow.session, first.key, ResyncRequest.parse({"fieldMappings": ["nope"]}))
        assert "fieldMappings[0]" in unknown.value.field_errors
        with pytest.raises(InvalidInputError) as bad_jql:
            request_resync(uow.session, first.key, ResyncRequest.parse({"jql": "project = "}))
        assert "jql" in bad_jql.value.field_errors
        with pytest.raises(InvalidInputError) as extra:
            ResyncRequest.parse({"jql": "x = 1", "colour": "red"})
        assert "colour" in extra.value.field_errors


def test_the_file_transport_syncs_through_folders_and_sets_bad_files_aside(
    services: Services, admin: httpx.Client
) -> None:
    body = local_body()
    queues_of = {
        "firstConnector": ("INT-1/PA-1_to_PB-2", "INT-1/PB-2_to_PA-1"),
        "secondConnector": ("INT-1/PB-2_to_PA-1", "INT-1/PA-1_to_PB-2"),
    }
    for side, (send, receive) in queues_of.items():
        body[side]["connection"]["connector"] = {
            "sendQueue": {"@type": "file", "path": send},
            "receiveQueue": {"@type": "file", "path": receive},
        }
    with integration_pair(services, admin, body) as pair:
        key = create_issue(pair.client, "PA", "Over files")
        pair.comment(key, "a comment in a file")
        pair.settle()
        twin = pair.twin(key)
        assert pair.comments(twin) == [f"*Administrator* wrote on {key}:\n\na comment in a file"]

        data = services.settings.home / "data" / "default"
        archived = list((data / "INT-1" / "PB-2" / "RECEIVE" / "archive").glob("*.bac"))
        assert archived, "the applied message's file is in RECEIVE/archive"
        exchange = data / "INT-1" / "PA-1_to_PB-2"
        (exchange / "PA-1_9_garbage.bac").write_text("{not json")
        (exchange / "notes.txt").write_text("not a message")
        pair.edit(key, summary="Over files, edited")
        pair.settle()
        invalid = data / "INT-1" / "PB-2" / "RECEIVE" / "invalid"
        names = sorted(p.name for p in invalid.iterdir() if not p.name.endswith(".reason.txt"))
        assert names == ["PA-1_9_garbage.bac"]  # named as a message: the engine's, set aside
        assert (exchange / "notes.txt").read_text() == "not a message"  # not its own: left
        assert pair.fields(twin)["summary"] == "Over files, edited"


def test_imported_links_pair_equal_comments_instead_of_copying_them(pair: Pair) -> None:
    # Two issues made apart, with the same comment, then linked by importing sync information.
    pair.engine.refresh()
    mine = create_issue(pair.client, "PA", "Made on A")
    theirs = create_issue(pair.client, "PB", "Made on A")
    pair.comment(mine, "We agreed on this.")
    pair.comment(theirs, "We agreed on this.")
    with pair.services.uow_factory() as uow:
        import_sync_info(uow.session, "PA-1", [{"localIssueKey": mine, "remoteIssueKey": theirs}])
        import_sync_info(uow.session, "PB-2", [{"localIssueKey": theirs, "remoteIssueKey": mine}])
        uow.commit()
    pair.settle()
    assert pair.comments(mine) == ["We agreed on this."]
    assert pair.comments(theirs) == ["We agreed on this."]
    pair.comment(mine, "And one more.")
    pair.settle()
    said = f"*Administrator* wrote on {mine}:\n\nAnd one more."  # by the sync user, for admin
    assert pair.comments(theirs) == ["We agreed on this.", said]
    assert pair.engine.step() == 0


def test_field_defaults_and_issue_type_mappings_shape_a_new_twin(
    services: Services, admin: httpx.Client
) -> None:
    body = local_body()
    body["firstConnector"]["configuration"] = {
        "fieldMappings": [{"localField": "summary", "remoteField": "summary"}],
        "issueTypeMappings": {"outgoing": [{"local": "Bug", "remote": "Story"}]},
    }
    body["secondConnector"]["configuration"] = {
        "fieldMappings": [{"localField": "summary", "remoteField": "summary"}],
        "fieldDefaults": [
            {"field": "labels", "value": ["from-partner"]},
            {"field": "priority", "value": "Low", "issueType": "Story"},
        ],
    }
    with integration_pair(services, admin, body) as pair:
        bug = create_issue(pair.client, "PA", "A bug", issuetype="Bug")
        task = create_issue(pair.client, "PA", "A task")
        pair.settle()
        twin_bug, twin_task = pair.fields(pair.twin(bug)), pair.fields(pair.twin(task))
        assert twin_bug["issuetype"]["name"] == "Story"
        assert twin_bug["labels"] == ["from-partner"]
        assert twin_bug["priority"]["name"] == "Low"
        assert twin_task["issuetype"]["name"] == "Task"
        assert twin_task["priority"]["name"] != "Low"


def test_retention_keeps_the_newest_messages_of_each_issue(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Edited often")
    other = create_issue(pair.client, "PA", "Edited once")
    pair.settle()
    for round_number in range(4):
        pair.edit(key, summary=f"Edited often, round {round_number}")
        pair.settle()
    archived = [m for m in pair.messages(pair.second_id, "archive") if m.issue_key == key]
    assert len(archived) == 5  # the engine swept before these arrived
    with pair.services.uow_factory() as uow:
        removed = queues.sweep(uow.session, pair.second_id, archived=2, discarded=2)
        uow.commit()
    assert removed == 3
    kept = [m for m in pair.messages(pair.second_id, "archive") if m.issue_key == key]
    assert [m.sequence_id for m in kept] == [4, 5]
    assert [m.issue_key for m in pair.messages(pair.second_id, "archive")].count(other) == 1
