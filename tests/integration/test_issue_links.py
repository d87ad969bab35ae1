"""Issue links between two built-in projects, through the Jira API over real HTTP.

A link crosses when both of its ends are synchronized, typed by name and direction, and
is removed on the twins when it is removed; a link to an issue synchronized later arrives
when that issue does, once, whichever end the engine reads first.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sync_helpers import Pair, integration_pair, local_body, wait_for
from sync_helpers import synced_twin as twin
from test_gitlab_sync import _body as gitlab_body
from tracker_helpers import API, create_issue, create_project
from tracker_helpers import fields_of as fields

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services
from issuesync.store.sync import MessageRow
from issuesync.testing.fake_gitlab import MAINTAINER, FakeGitLab, GitLabProject
from issuesync.testing.handler_server import HandlerServer
from issuesync.testing.server import LiveServer


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


def link(client: httpx.Client, source: str, kind: str, target: str) -> None:
    """``source`` <kind's outward phrase> ``target`` (PA-1 blocks PA-2), as Jira's API takes it."""
    body = {"type": {"name": kind}, "inwardIssue": {"key": source}, "outwardIssue": {"key": target}}
    response = client.post(f"{API}/issueLink", json=body)
    assert response.status_code == 201, response.text


def links_of(pair: Pair, key: str) -> list[tuple[str, str, str]]:
    """An issue's links as (type, direction, other key), sorted."""
    return api_links(pair.client, key)


def api_links(client: httpx.Client, key: str) -> list[tuple[str, str, str]]:
    """An issue's links as (type, direction, other key), sorted, over the Jira API."""
    found: list[tuple[str, str, str]] = []
    for item in fields(client, key).get("issuelinks") or []:
        for direction in ("outward", "inward"):
            other: dict[str, Any] | None = item.get(f"{direction}Issue")
            if other is not None:
                found.append((item["type"]["name"], direction, other["key"]))
    return sorted(found)


def unlink(pair: Pair, key: str, other: str) -> None:
    """Remove the link between ``key`` and ``other``."""
    for item in pair.fields(key)["issuelinks"]:
        ends = [item.get("outwardIssue"), item.get("inwardIssue")]
        if any(end and end["key"] == other for end in ends):
            response = pair.client.delete(f"{API}/issueLink/{item['id']}")
            assert response.status_code == 204, response.text
            return
    pytest.fail(f"{key} has no link to {other}")


def test_a_link_between_synced_issues_crosses_typed_and_directed_then_goes_when_removed(
    pair: Pair,
) -> None:
    blocker = create_issue(pair.client, "PA", "The blocker")
    blocked = create_issue(pair.client, "PA", "The blocked")
    link(pair.client, blocker, "Blocks", blocked)

    pair.settle()

    twin_blocker, twin_blocked = pair.twin(blocker), pair.twin(blocked)
    assert links_of(pair, twin_blocker) == [("Blocks", "outward", twin_blocked)]
    assert links_of(pair, twin_blocked) == [("Blocks", "inward", twin_blocker)]
    # The link made on B is agreed at both its ends there: nothing is sent back to A.
    assert [m.kind for m in pair.messages(pair.first_id) if m.kind != "response"] == []

    # A link made on B crosses the other way; one removed on A is removed on B.
    extra = create_issue(pair.client, "PA", "Related")
    pair.settle()
    link(pair.client, twin_blocked, "Relates", pair.twin(extra))
    pair.settle()
    assert links_of(pair, blocked) == [("Blocks", "inward", blocker), ("Relates", "outward", extra)]

    unlink(pair, blocker, blocked)
    pair.settle()
    assert links_of(pair, twin_blocker) == []
    assert links_of(pair, twin_blocked) == [("Relates", "outward", pair.twin(extra))]
    assert links_of(pair, blocked) == [("Relates", "outward", extra)]
    assert pair.engine.step() == 0
    assert not pair.messages(pair.first_id, "error") + pair.messages(pair.second_id, "error")


def test_a_link_to_an_issue_synced_later_arrives_with_it_once(
    services: Services, admin: httpx.Client
) -> None:
    body = local_body(outgoingJqls=["labels = sync"])
    with integration_pair(services, admin, body) as pair:
        synced = create_issue(pair.client, "PA", "Synced now", labels=["sync"])
        later = create_issue(pair.client, "PA", "Synced later")
        link(pair.client, synced, "Duplicate", later)
        pair.settle()
        twin = pair.twin(synced)
        assert links_of(pair, twin) == []  # its other end is not synchronized yet

        pair.edit(later, labels=["sync"])
        pair.settle()

        twin_later = pair.twin(later)
        assert links_of(pair, twin) == [("Duplicate", "outward", twin_later)]
        assert links_of(pair, twin_later) == [("Duplicate", "inward", twin)]
        # Read again (an edit of each end), nothing is made twice or sent back.
        pair.edit(synced, summary="Synced now, edited")
        pair.edit(later, summary="Synced later, edited")
        pair.settle()
        assert links_of(pair, twin) == [("Duplicate", "outward", twin_later)]
        assert links_of(pair, synced) == [("Duplicate", "outward", later)]
        assert pair.engine.step() == 0


def test_links_made_in_one_initial_sync_cross_once(pair: Pair) -> None:
    keys = [create_issue(pair.client, "PA", f"Issue {n}") for n in range(4)]
    for source, target in itertools.pairwise(keys):
        link(pair.client, source, "Cloners", target)

    pair.settle()

    twins = [pair.twin(key) for key in keys]
    assert links_of(pair, twins[1]) == sorted(
        [("Cloners", "inward", twins[0]), ("Cloners", "outward", twins[2])]
    )
    assert links_of(pair, twins[3]) == [("Cloners", "inward", twins[2])]
    assert pair.engine.step() == 0


# -- built-in <> GitLab (the fake over real HTTP) ----------------------------------------------


@pytest.fixture
def gitlab() -> Iterator[tuple[FakeGitLab, HandlerServer]]:
    fake = FakeGitLab()
    server = HandlerServer(fake)
    server.start()
    try:
        yield fake, server
    finally:
        server.stop()


def gitlab_links(fake: FakeGitLab, project: GitLabProject, iid: str) -> list[tuple[str, str]]:
    """A GitLab issue's links as (link_type as GitLab lists them, other iid), sorted."""
    me = (project.id, int(iid))
    found = []
    for link in fake.links.values():
        if me == link.source:
            found.append((link.link_type, str(link.target[1])))
        elif me == link.target:
            reverse = {"blocks": "is_blocked_by", "is_blocked_by": "blocks"}
            found.append((reverse.get(link.link_type, link.link_type), str(link.source[1])))
    return sorted(found)


def test_links_cross_to_gitlab_and_back_by_type_name_and_fall_back_to_relates(
    engine_client: httpx.Client, services: Services, gitlab: tuple[FakeGitLab, HandlerServer]
) -> None:
    fake, server = gitlab
    sync = fake.add_user("sync", email="sync@example.test")
    project = fake.add_project("group/app", members={sync: MAINTAINER})
    create_project(engine_client, "PA")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    body = gitlab_body(server.url, sync.token)
    mappings = body["firstConnector"]["configuration"]["fieldMappings"]
    mappings.append({"localField": "issuelinks", "remoteField": "issuelinks"})
    created = engine_client.post("/api/1/integrations", json=body)
    assert created.status_code == 200, created.text
    assert engine_client.put("/api/1/integrations/INT-1/start").status_code < 300
    blocker = create_issue(engine_client, "PA", "Blocker")
    blocked = create_issue(engine_client, "PA", "Blocked")
    clone = create_issue(engine_client, "PA", "A clone")
    link(engine_client, blocker, "Blocks", blocked)
    link(engine_client, blocked, "Cloners", clone)  # GitLab has no such type: Relates

    def in_gitlab(key: str) -> str:
        return wait_for(f"{key} in GitLab", lambda: twin(engine_client, "PA-1", key))

    b1, b2, b3 = in_gitlab(blocker), in_gitlab(blocked), in_gitlab(clone)
    wait_for(
        "the links in GitLab",
        lambda: gitlab_links(fake, project, b2) == [("is_blocked_by", b1), ("relates_to", b3)],
    )
    assert gitlab_links(fake, project, b1) == [("blocks", b2)]
    with services.uow_factory(readonly=True) as uow:
        reasons = uow.session.scalars(
            select(MessageRow.reason).where(MessageRow.state == "archive")
        )
        assert "issuelinks: no link type 'Cloners' here; linked as 'Relates'" in set(reasons)

    # A link made in GitLab comes over; one removed there goes in PA.
    headers = {"PRIVATE-TOKEN": sync.token}
    base = f"{server.url}/api/v4/projects/{project.id}"
    with httpx.Client(base_url=base, headers=headers, timeout=10) as api:
        made = api.post(
            f"/issues/{b3}/links",
            json={"target_project_id": project.id, "target_issue_iid": b1, "link_type": "blocks"},
        )
        assert made.status_code == 201, made.text
        wait_for(
            "GitLab's link in PA",
            lambda: ("Blocks", "inward", clone) in api_links(engine_client, blocker),
        )
        [relates] = [
            item["issue_link_id"]
            for item in api.get(f"/issues/{b2}/links").json()
            if str(item["iid"]) == b3
        ]
        assert api.delete(f"/issues/{b2}/links/{relates}").status_code == 200
        wait_for(
            "the removal in PA",
            lambda: api_links(engine_client, blocked) == [("Blocks", "inward", blocker)],
        )
    assert api_links(engine_client, clone) == [("Blocks", "outward", blocker)]
    assert gitlab_links(fake, project, b1) == sorted([("blocks", b2), ("is_blocked_by", b3)])


# -- built-in <> the built-in tracker's Jira API through the ``jira`` adapter ------------------


def test_links_cross_through_the_jira_adapter_both_ways(
    engine_client: httpx.Client, services: Services, live_server: LiveServer
) -> None:
    create_project(engine_client, "PA")
    create_project(engine_client, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    body = local_body(outgoingInterval="1s")
    body["secondConnector"]["connection"]["application"] = {
        "system": "jira",
        "baseUrl": live_server.url,
        "user": "backbone",
        "password": "backbone",
    }
    created = engine_client.post("/api/1/integrations", json=body)
    assert created.status_code == 200, created.text
    assert engine_client.put("/api/1/integrations/INT-1/start").status_code < 300
    first, second = (
        create_issue(engine_client, "PA", "One"),
        create_issue(engine_client, "PA", "Two"),
    )
    link(engine_client, first, "Duplicate", second)

    def in_jira(key: str) -> str:
        return wait_for(f"{key} in Jira", lambda: twin(engine_client, "PA-1", key))

    b1, b2 = in_jira(first), in_jira(second)
    wait_for("the link in Jira", lambda: api_links(engine_client, b1))
    assert api_links(engine_client, b1) == [("Duplicate", "outward", b2)]

    # Made on the Jira side (through its API), it comes back to PA.
    third = create_issue(engine_client, "PB", "Three")
    back = wait_for("Jira's issue in PA", lambda: twin(engine_client, "PB-2", third))
    link(engine_client, third, "Blocks", b2)
    wait_for(
        "the Jira link in PA",
        lambda: ("Blocks", "inward", back) in api_links(engine_client, second),
    )
    assert api_links(engine_client, second) == sorted(
        [("Blocks", "inward", back), ("Duplicate", "inward", first)]
    )
    engine_client.put("/api/1/integrations/INT-1/stop")
    assert api_links(engine_client, b2) == sorted(
        [("Blocks", "inward", third), ("Duplicate", "inward", b1)]
    )
