"""The incoming route's batch path: many new issues at once, as in an initial sync."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sync_helpers import Pair, integration_pair
from tracker_helpers import create_issue

from issuesync.engine.pipeline import outgoing
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.engine.transports.base import Transport
from issuesync.services import Services
from issuesync.store.sync import MessageRow, TraceRow
from issuesync.trackers.adapter import CreatedIssue, NewIssue, Tracker
from issuesync.trackers.local.models import Comment, Issue, Project


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


class Counting:
    """The route's real tracker, counting the calls the engine makes of it."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.calls: Counter[str] = Counter()

    def create_many(self, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
        self.calls["create_many"] += 1
        self.calls["issues"] += len(new_issues)
        return self.tracker.create_many(new_issues)

    def __getattr__(self, name: str) -> Any:
        self.calls[name] += 1
        return getattr(self.tracker, name)


class CrashingOnce:
    """A transport whose first batch of deliveries fails, as a crash before the commit would."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.crashed = False

    def deliver_many(self, *args: Any, **kwargs: Any) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("the process died here")
        self.transport.deliver_many(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def said(key: str, text: str) -> str:
    """A comment of the admin's on ``key``, as the sync user posts it in PB (it may not write
    in the admin's name there): under a header naming the author."""
    return f"*Administrator* wrote on {key}:\n\n{text}"


def _route_tracker(engine: SyncRunner, connector_id: int) -> Counting:
    engine.refresh()
    route = engine.route(connector_id)
    assert route is not None
    counting = Counting(route.tracker)
    route.tracker = counting
    return counting


def _issues_and_comments(services: Services, project: str) -> tuple[int, Counter[str]]:
    with services.uow_factory(readonly=True) as uow:
        session = uow.session
        project_id = session.scalar(select(Project.id).where(Project.key == project))
        count = session.scalar(
            select(func.count()).select_from(Issue).where(Issue.project_id == project_id)
        )
        bodies = Counter(
            session.scalars(select(Comment.body).join(Issue).where(Issue.project_id == project_id))
        )
    return int(count or 0), bodies


def test_new_issues_are_created_in_batches_with_their_comments(pair: Pair) -> None:
    keys = [create_issue(pair.client, "PA", f"Issue {n}", labels=[f"l{n}"]) for n in range(25)]
    for key in keys:
        pair.comment(key, f"{key} first")
        pair.comment(key, f"{key} second")
    counting = _route_tracker(pair.engine, pair.second_id)

    pair.settle()

    assert counting.calls["create_many"] >= 1
    assert counting.calls["issues"] == len(keys)
    assert counting.calls["create"] == 0
    assert counting.calls["add_comment"] == 0
    for key in keys:
        twin = pair.twin(key)
        assert pair.twin(twin) == key  # the answer linked the other side too
        assert pair.comments(twin) == [said(key, f"{key} first"), said(key, f"{key} second")]
        assert pair.fields(twin)["labels"] == [pair.fields(key)["labels"][0]]
    with pair.services.uow_factory(readonly=True) as uow:
        unanswered = uow.session.scalar(
            select(func.count()).select_from(TraceRow).where(TraceRow.remote_id.is_(None))
        )
    assert unanswered == 0  # every comment knows its twin's id on both sides
    assert pair.engine.step() == 0  # and nothing echoes back

    # The traces the batch wrote carry later edits of the comments.
    first = pair.client.get(f"/rest/api/2/issue/{keys[0]}/comment").json()["comments"][0]
    response = pair.client.put(
        f"/rest/api/2/issue/{keys[0]}/comment/{first['id']}", json={"body": "edited"}
    )
    assert response.status_code == 200, response.text
    pair.settle()
    edited = [said(keys[0], "edited"), said(keys[0], f"{keys[0]} second")]
    assert pair.comments(pair.twin(keys[0])) == edited  # the header stays


def test_a_crash_before_the_batch_commits_makes_no_duplicate(pair: Pair) -> None:
    keys = [create_issue(pair.client, "PA", f"Issue {n}") for n in range(10)]
    for key in keys:
        pair.comment(key, f"note on {key}")
    pair.engine.refresh()
    route = pair.engine.route(pair.second_id)
    assert route is not None
    crashing = CrashingOnce(route.transport)
    route.transport = crashing

    pair.settle()  # the first batch's commit fails after the tracker made the twins
    pair.settle()

    assert crashing.crashed
    count, bodies = _issues_and_comments(pair.services, "PB")
    assert count == len(keys)
    # Nor an echo: the twins made before the failed commit were never sent back as new.
    assert _issues_and_comments(pair.services, "PA")[0] == len(keys)
    assert all(bodies[said(key, f"note on {key}")] == 1 for key in keys), bodies
    for key in keys:
        assert pair.comments(pair.twin(key)) == [said(key, f"note on {key}")]
    assert {m.state for m in pair.messages(pair.second_id)} == {"archive"}


def test_a_sub_task_in_the_same_batch_as_its_parent_follows_it(pair: Pair) -> None:
    parent = create_issue(pair.client, "PA", "Parent")
    child = create_issue(pair.client, "PA", "Child", issuetype="Sub-task", parent={"key": parent})

    pair.settle()

    twin_child = pair.fields(pair.twin(child))
    assert twin_child["parent"]["key"] == pair.twin(parent)
    assert not pair.messages(pair.second_id, "error")


def test_a_message_that_does_not_parse_does_not_stop_the_batch(pair: Pair) -> None:
    keys = [create_issue(pair.client, "PA", f"Issue {n}") for n in range(3)]
    pair.engine.refresh()
    first = pair.engine.route(pair.first_id)
    assert first is not None
    outgoing.poll(first)
    bad = pair.messages(pair.second_id)[0]
    with pair.services.uow_factory() as uow:
        row = uow.session.get(MessageRow, bad.id)
        assert row is not None
        row.content.body = '{"not": "a message"}'
        uow.commit()

    pair.settle()

    states = {m.issue_key: m.state for m in pair.messages(pair.second_id)}
    assert states[bad.issue_key] == "invalid"
    others = [key for key in keys if key != bad.issue_key]
    assert [pair.fields(pair.twin(key))["summary"] for key in others] == [
        f"Issue {keys.index(key)}" for key in others
    ]


def test_a_replica_that_does_not_decode_parks_its_message_as_invalid(pair: Pair) -> None:
    """A create without a status is made from its replica: one that is not the base64 of
    a replica parks that message in ``invalid``, and the other issues go on."""
    keys = [create_issue(pair.client, "PA", f"Issue {n}") for n in range(3)]
    pair.engine.refresh()
    first = pair.engine.route(pair.first_id)
    assert first is not None
    outgoing.poll(first)
    bad = pair.messages(pair.second_id)[0]
    with pair.services.uow_factory() as uow:
        row = uow.session.get(MessageRow, bad.id)
        assert row is not None
        body = json.loads(row.content.body)
        del body["changes"]["status"]
        body["replica"]["encodedPayload"] = "bm90IGpzb24="  # base64, but of "not json"
        row.content.body = json.dumps(body)
        uow.commit()

    pair.settle()

    parked = {m.issue_key: m for m in pair.messages(pair.second_id)}[bad.issue_key]
    assert parked.state == "invalid"
    assert parked.reason is not None
    assert "not a base64 JSON payload" in parked.reason
    others = [key for key in keys if key != bad.issue_key]
    assert [pair.fields(pair.twin(key))["summary"] for key in others] == [
        f"Issue {keys.index(key)}" for key in others
    ]


class Later:
    """The route's real tracker, its clock ``ahead_ms`` ahead (polls that come later)."""

    def __init__(self, tracker: Tracker, ahead_ms: int) -> None:
        self.tracker = tracker
        self.ahead_ms = ahead_ms

    def clock_ms(self) -> int:
        return self.tracker.clock_ms() + self.ahead_ms

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tracker, name)


def test_the_outgoing_route_remembers_its_twins_beyond_the_look_back_window(pair: Pair) -> None:
    """The twins the batch made are known to the receiving side's outgoing route, and still
    are after a poll the look-back window and more later: a tracker that widens the window
    (JQL: to the minute) would otherwise list them and have them read whole again."""
    for n in range(3):
        create_issue(pair.client, "PA", f"Issue {n}")
    pair.settle()
    route = pair.engine.route(pair.second_id)
    assert route is not None
    twins = dict(route.seen)
    assert len(twins) == 3
    route.tracker = Later(route.tracker, route.lookback_ms + outgoing.SEEN_MARGIN_MS // 2)
    outgoing.poll(route)
    assert twins.items() <= route.seen.items()
    route.tracker = Later(route.tracker.tracker, route.lookback_ms + outgoing.SEEN_MARGIN_MS * 2)
    outgoing.poll(route)
    assert not twins.keys() & route.seen.keys()  # forgotten once no window can list them
