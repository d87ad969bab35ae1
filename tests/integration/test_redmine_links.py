"""Issue links between a built-in project and a real Redmine project's relations.

Redmine runs from :mod:`support.redmine_server` (in CI; skipped where none can run). A
Blocks link made in PA becomes a ``blocks`` relation; a ``precedes`` relation made in
Redmine (after which its issue is edited: Redmine may not move ``updated_on`` for a
relation) becomes a Relates link in PA, which has no Precedes type, and does not come
back to Redmine as a second relation; a link removed in PA is removed in Redmine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sync_helpers import synced_twin as twin
from sync_helpers import wait_for
from test_issue_links import api_links, link
from test_redmine_sync import BASE, WAIT_S, _body
from tracker_helpers import API, create_issue, create_project

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services
from support.redmine_server import RedmineServer, redmine_session


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    yield from redmine_session()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def relations(rm: httpx.Client, issue: str) -> list[tuple[str, str, str]]:
    """A Redmine issue's relations as (issue_id, relation_type, issue_to_id), sorted."""
    found: list[dict[str, Any]] = rm.get(f"/issues/{issue}/relations.json").json()["relations"]
    return sorted((str(r["issue_id"]), r["relation_type"], str(r["issue_to_id"])) for r in found)


def undirected(links: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """Links as (type, other key): Relates reads alike from both ends."""
    return [(kind, other) for kind, _, other in links]


def test_links_and_redmine_relations_cross_both_ways(
    engine_client: httpx.Client, services: Services, redmine: RedmineServer
) -> None:
    project = redmine.new_project()
    create_project(engine_client, "PA")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    body = _body(redmine, project)
    mappings = body["firstConnector"]["configuration"]["fieldMappings"]
    mappings.append({"localField": "issuelinks", "remoteField": "issuelinks"})
    created = engine_client.post(f"{BASE}/integrations", json=body)
    assert created.status_code == 200, created.text
    assert engine_client.put(f"{BASE}/integrations/INT-1/start").status_code < 300
    first, second, third = (create_issue(engine_client, "PA", f"Issue {n}") for n in range(3))
    link(engine_client, first, "Blocks", second)

    def in_redmine(key: str) -> str:
        return wait_for(f"{key} in Redmine", lambda: twin(engine_client, "PA-1", key), WAIT_S)

    r1, r2, r3 = in_redmine(first), in_redmine(second), in_redmine(third)
    with redmine.admin() as rm:
        wait_for("the relation in Redmine", lambda: relations(rm, r1), WAIT_S)
        assert relations(rm, r1) == [(r1, "blocks", r2)]

        made = rm.post(
            f"/issues/{r3}/relations.json",
            json={"relation": {"issue_to_id": int(r1), "relation_type": "precedes"}},
        )
        assert made.status_code == 201, made.text
        rm.put(f"/issues/{r3}.json", json={"issue": {"subject": "Issue 2, precedes"}})
        wait_for(
            "Redmine's relation in PA",
            lambda: ("Relates", third) in undirected(api_links(engine_client, first)),
            WAIT_S,
        )

        [blocks] = [
            item["id"]
            for item in engine_client.get(f"{API}/issue/{first}").json()["fields"]["issuelinks"]
            if item["type"]["name"] == "Blocks"
        ]
        assert engine_client.delete(f"{API}/issueLink/{blocks}").status_code == 204
        wait_for("the removal in Redmine", lambda: relations(rm, r2) == [], WAIT_S)
        assert relations(rm, r1) == [(r3, "precedes", r1)]
    assert undirected(api_links(engine_client, first)) == [("Relates", third)]
    status = engine_client.get(f"{BASE}/integrations/INT-1/status").json()
    assert status["firstConnector"]["issuesInError"] == 0
    assert status["secondConnector"]["issuesInError"] == 0
    engine_client.put(f"{BASE}/integrations/INT-1/stop")
