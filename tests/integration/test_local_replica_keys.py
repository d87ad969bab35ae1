"""The built-in tracker's replicas carry the seed's keys beyond the synced fields.

Issue 20: a replica sent as ``encodedPayload`` shows what the seed's decoded example
shows: the project's lead, versions and components, the watchers and their count, the
remaining estimate and the time spent. The built-in tracker has no votes and no
environment, so its replicas leave ``voters``, ``votes`` and ``environment`` out.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor

from issuesync.accounts import NewUser, create_user
from issuesync.domain.replica import FieldValue, Replica, canonical_fields
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.adapter import IssueDraft, WorklogDraft
from issuesync.trackers.local import catalog, issues, subresources
from issuesync.trackers.local.adapter import LocalAdapter, local_adapter_for

PAYLOADS = Path(__file__).parent.parent / "fixtures" / "issuehub" / "seed_payloads.json"
SEED: dict[str, Any] = json.loads(
    base64.b64decode(json.loads(PAYLOADS.read_text())["syncrequest"])
)["hubIssue"]

# The keys of the seed's hubIssue that the built-in tracker has nothing for (nor has
# it a version's start date).
NOT_IN_THE_BUILT_IN_TRACKER = {"voters", "votes", "environment"}


@pytest.fixture
def adapter(services: Services) -> LocalAdapter:
    for name in ("sync", "alice", "bob"):
        create_user(services.uow_factory, NewUser(name=name, email=f"{name}@example.test"))
    with services.tracker.write(_admin(services)) as op:
        catalog.create_project(op, {"key": "AC", "name": "All content", "lead": "alice"})
        catalog.create_version(
            op,
            {
                "project": "AC",
                "name": "1.0",
                "description": "The initial release",
                "released": True,
                "releaseDate": "2015-07-03",
            },
        )
        catalog.create_version(op, {"project": "AC", "name": "2.0"})
        catalog.create_component(
            op, {"project": "AC", "name": "Test Component", "description": "admin"}
        )
    return local_adapter_for(services.tracker, "AC", "sync")


def _admin(services: Services) -> Principal:
    with services.uow_factory(readonly=True) as uow:
        admin = uow.session.scalar(select(User).where(User.name == "admin"))
        assert admin is not None
        return Principal.of(admin)


def _issue(services: Services, adapter: LocalAdapter, name: str, watchers: list[str]) -> str:
    """An issue with every field the seed shows set, two work logs, an estimate, watchers."""
    fields: dict[str, FieldValue] = {
        "summary": name,
        "description": f"{name} description",
        "labels": ["Review"],
        "components": ["Test Component"],
        "versions": ["1.0"],
        "fixVersions": ["2.0"],
        "duedate": "2016-01-01",
        "assignee": {"email": None, "username": "bob"},
    }
    key = adapter.create(IssueDraft(issue_type="Task", fields=fields), idempotency_key=name).key
    adapter.add_comment(key, "Houston, we have a problem.", None, idempotency_key=f"{name}-c")
    for number, seconds in enumerate((3600, 32400)):
        draft = WorklogDraft(time_spent=seconds, started=None, comment="Working")
        adapter.add_worklog(key, draft, idempotency_key=f"{name}-w{number}")
    with services.tracker.write(_admin(services)) as op:
        issues.edit_issue(op, key, {"timetracking": {"remainingEstimate": "2h"}}, {})
        for watcher in watchers:
            subresources.add_watcher(op, key, watcher)
    return key


def _get(adapter: LocalAdapter, key: str) -> Replica:
    replica = adapter.get(key)
    assert replica is not None
    return replica


def _payload(replica: Replica) -> dict[str, Any]:
    """The hubIssue as the partner decodes it from ``encodedPayload``."""
    hub: dict[str, Any] = json.loads(base64.b64decode(replica.encode()))["hubIssue"]
    return hub


def test_the_payload_has_the_seeds_keys_and_values(
    services: Services, adapter: LocalAdapter
) -> None:
    key = _issue(services, adapter, "AllContent", watchers=["bob", "alice"])
    replica = _get(adapter, key)
    assert [r for page in adapter.changed_since(None, []) for r in page] == [replica]
    hub = _payload(replica)

    assert set(SEED) - NOT_IN_THE_BUILT_IN_TRACKER <= set(hub)
    assert NOT_IN_THE_BUILT_IN_TRACKER.isdisjoint(hub)
    project = hub["project"]
    assert set(project) == set(SEED["project"])
    assert (project["key"], project["name"]) == ("AC", "All content")
    assert project["lead"] == {
        "key": "alice",
        "username": "alice",
        "email": "alice@example.test",
        "displayName": "alice",
        "active": True,
    }
    assert set(project["lead"]) == set(SEED["project"]["lead"])
    first, second = project["versions"]
    assert set(first) == set(SEED["project"]["versions"][0]) - {"startDate"}
    assert first | {"id": None} == {
        "id": None,
        "name": "1.0",
        "description": "The initial release",
        "archived": False,
        "released": True,
        "releaseDate": 1435881600000,  # 2015-07-03T00:00Z, as the seed's
        "projectKey": "AC",
    }
    assert (second["name"], second["released"], "releaseDate" in second) == ("2.0", False, False)
    (component,) = project["components"]
    assert set(component) == set(SEED["project"]["components"][0])
    assert component | {"id": None} == {
        "id": None,
        "name": "Test Component",
        "description": "admin",
        "projectId": project["id"],
        "projectKey": "AC",
        "assigneeType": "PROJECT_DEFAULT",
    }
    assert [w["username"] for w in hub["watchers"]] == ["alice", "bob"]
    assert set(hub["watchers"][0]) == set(SEED["watchers"][0])
    assert hub["watches"] == 2
    assert hub["estimate"] == 7200  # seconds: the remaining estimate
    assert hub["spent"] == 36000  # seconds: 1 h + 9 h of work logs, as the seed's
    assert hub["labels"] == [{"label": "Review"}]
    (comment,) = hub["comments"]
    assert set(SEED["comments"][0]) <= set(comment)
    (worklog, _) = hub["workLogs"]
    assert set(SEED["workLogs"][0]) <= set(worklog)


def test_an_issue_without_watchers_or_estimate_says_so(adapter: LocalAdapter) -> None:
    key = adapter.create(IssueDraft("Task", {"summary": "Bare"}), idempotency_key="bare").key
    hub = _payload(_get(adapter, key))
    assert (hub["watchers"], hub["watches"], hub["spent"]) == ([], 0, 0)
    assert "estimate" not in hub  # none set: not an estimate of 0


def test_watchers_and_time_are_no_synced_fields(services: Services, adapter: LocalAdapter) -> None:
    key = _issue(services, adapter, "Watched", watchers=["bob"])
    before = _get(adapter, key)
    with services.tracker.write(_admin(services)) as op:
        subresources.add_watcher(op, key, "alice")
        issues.edit_issue(op, key, {"timetracking": {"remainingEstimate": "1h"}}, {})
    after = _get(adapter, key)
    assert (after.hub_issue.watches, after.hub_issue.estimate) == (2, 3600)
    assert canonical_fields(after.hub_issue) == canonical_fields(before.hub_issue)


def test_a_page_of_replicas_is_read_in_a_fixed_number_of_queries(
    services: Services, adapter: LocalAdapter
) -> None:
    """Watchers, projects, versions and components are read once for a page, not per issue."""
    statements: list[str] = []

    def count(_conn: Connection, _cursor: DBAPICursor, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and statement.strip() != "SELECT 1":
            statements.append(statement)

    def queries_for_a_page() -> int:
        statements.clear()
        engine = services.database.read_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            (page,) = list(adapter.changed_since(None, [], page_size=100))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert all(r.hub_issue.watches for r in page)
        return len(statements)

    _issue(services, adapter, "First", watchers=["alice"])
    list(adapter.changed_since(None, []))  # warms the adapter's caches
    one = queries_for_a_page()
    for number in range(5):
        _issue(services, adapter, f"More {number}", watchers=["alice", "bob", "sync"])
    assert queries_for_a_page() == one
