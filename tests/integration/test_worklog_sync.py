"""Work logs kept in step between two built-in projects, through the Jira API over HTTP.

Each work log crosses once, as the sync user, with its author named in its comment;
edits and deletions follow its trace; the header never grows on the way back; a crash
between the tracker's write and the engine's commit makes no second work log.
"""

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
    synced_twin,
    wait_for,
)
from tracker_helpers import API, create_issue, create_project

from issuesync.accounts import NewUser, create_user
from issuesync.domain.message import TraceType
from issuesync.engine.pipeline import worklogs as engine_worklogs
from issuesync.errors import TrackerOfflineError
from issuesync.services import Services
from issuesync.store.sync import TraceRow

FIELDS = ("summary", "description", "comment", "worklog")


def worklog_body(**sync: object) -> dict[str, Any]:
    """Two built-in projects whose connectors sync summaries, comments and work logs."""
    body = local_body(**sync)
    mappings = [{"localField": name, "remoteField": name} for name in FIELDS]
    body["firstConnector"].setdefault("configuration", {})["fieldMappings"] = mappings
    return body


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin, worklog_body()) as made:
        make_project_admin(services, "backbone", "PA", "PB")
        yield made


def log_work(client: httpx.Client, key: str, seconds: int, comment: str, **extra: object) -> str:
    response = client.post(
        f"{API}/issue/{key}/worklog",
        json={"timeSpentSeconds": seconds, "comment": comment, **extra},
    )
    assert response.status_code == 201, response.text
    worklog_id: str = response.json()["id"]
    return worklog_id


def worklogs(client: httpx.Client, key: str) -> list[dict[str, Any]]:
    response = client.get(f"{API}/issue/{key}/worklog")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["worklogs"]
    return found


def summary(client: httpx.Client, key: str) -> list[tuple[int, str, str]]:
    """Each work log's seconds, comment and author's login."""
    return [
        (w["timeSpentSeconds"], w["comment"], w["author"]["name"]) for w in worklogs(client, key)
    ]


def test_a_work_log_crosses_once_naming_its_author(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Log me")
    log_work(pair.client, key, 5400, "fixed the login", started="2026-11-02T09:30:00.000+0000")
    pair.settle()
    twin = pair.twin(key)

    (mirrored,) = worklogs(pair.client, twin)
    assert mirrored["timeSpentSeconds"] == 5400
    assert mirrored["comment"] == "Administrator logged: fixed the login"
    assert mirrored["author"]["name"] == "backbone"  # the sync user posts it
    assert mirrored["started"].startswith("2026-11-02T09:30:00")

    # Quiet: the mirror is not sent back, and the original is not logged twice.
    assert pair.engine.step() == 0
    assert summary(pair.client, key) == [(5400, "fixed the login", "admin")]


def test_edits_and_deletions_follow_the_trace_and_the_header_never_grows(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Edit me")
    original = log_work(pair.client, key, 3600, "first try")
    pair.settle()
    twin = pair.twin(key)
    (mirror,) = worklogs(pair.client, twin)

    # Edited on A: the mirror on B keeps its header over the new comment.
    edited = pair.client.put(
        f"{API}/issue/{key}/worklog/{original}",
        json={"timeSpentSeconds": 7200, "comment": "second try"},
    )
    assert edited.status_code == 200, edited.text
    pair.settle()
    assert summary(pair.client, twin) == [(7200, "Administrator logged: second try", "backbone")]

    # Edited on B, header and all: A's original gets the text without the header.
    edited = pair.client.put(
        f"{API}/issue/{twin}/worklog/{mirror['id']}",
        json={"timeSpentSeconds": 1800, "comment": "Administrator logged: third try"},
    )
    assert edited.status_code == 200, edited.text
    pair.settle()
    assert summary(pair.client, key) == [(1800, "third try", "admin")]
    assert summary(pair.client, twin) == [(1800, "Administrator logged: third try", "backbone")]
    assert pair.engine.step() == 0

    # Deleted on B: gone on A too.
    deleted = pair.client.delete(f"{API}/issue/{twin}/worklog/{mirror['id']}")
    assert deleted.status_code == 204, deleted.text
    pair.settle()
    assert worklogs(pair.client, key) == []
    assert pair.engine.step() == 0


def test_work_logs_from_both_sides_each_cross_once(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Both")
    log_work(pair.client, key, 600, "on A")
    pair.settle()
    twin = pair.twin(key)
    log_work(pair.client, twin, 900, "on B")
    log_work(pair.client, key, 1200, "")
    pair.settle()
    assert sorted(summary(pair.client, key)) == [
        (600, "on A", "admin"),
        (900, "Administrator logged: on B", "backbone"),
        (1200, "", "admin"),
    ]
    assert sorted(summary(pair.client, twin)) == [
        (600, "Administrator logged: on A", "backbone"),
        (900, "on B", "admin"),
        (1200, "Administrator logged.", "backbone"),
    ]
    assert pair.engine.step() == 0


def test_a_crash_after_the_tracker_wrote_makes_no_second_work_log(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_issue(pair.client, "PA", "Crash")
    pair.settle()
    twin = pair.twin(key)
    log_work(pair.client, key, 3600, "once")

    real_add = engine_worklogs.add_worklogs

    def add_then_fail(*args: Any, **kwargs: Any) -> None:
        real_add(*args, **kwargs)  # the tracker has the work log ...
        raise TrackerOfflineError("the engine lost its answer")  # ... the commit never came

    monkeypatch.setattr("issuesync.engine.pipeline.subobjects.add_worklogs", add_then_fail)
    pair.settle()
    assert len(worklogs(pair.client, twin)) == 1  # written, not yet recorded
    with pair.services.uow_factory(readonly=True) as uow:
        traced = uow.session.scalars(
            select(TraceRow).where(
                TraceRow.connector_id == pair.second_id, TraceRow.kind == str(TraceType.WORKLOG)
            )
        ).all()
    assert traced == []

    monkeypatch.undo()
    pair.settle()  # the retry finds the work log its key made
    assert summary(pair.client, twin) == [(3600, "Administrator logged: once", "backbone")]
    assert pair.engine.step() == 0


def test_without_the_worklog_mapping_nothing_crosses(
    services: Services, admin: httpx.Client
) -> None:
    with integration_pair(services, admin) as pair:  # the default mappings: no work logs
        key = create_issue(pair.client, "PA", "Not logged")
        log_work(pair.client, key, 3600, "stays here")
        pair.settle()
        assert worklogs(pair.client, pair.twin(key)) == []


def test_work_logs_cross_through_the_jira_adapter(
    services: Services, admin: httpx.Client, server: str
) -> None:
    """PB is reached through the ``jira`` adapter, over the built-in tracker's Jira API."""
    body = worklog_body()
    body["secondConnector"]["connection"]["application"] = {
        "system": "jira",
        "baseUrl": server,
        "user": "backbone",
        "password": "backbone",
    }
    with integration_pair(services, admin, body) as pair:
        make_project_admin(services, "backbone", "PA", "PB")
        key = create_issue(pair.client, "PA", "Through Jira")
        log_work(pair.client, key, 2700, "in PA", started="2026-11-03T08:00:00.000+0000")
        pair.settle()
        twin = pair.twin(key)
        assert summary(pair.client, twin) == [(2700, "Administrator logged: in PA", "backbone")]
        assert worklogs(pair.client, twin)[0]["started"].startswith("2026-11-03T08:00:00")

        # More work logs than a search carries (20): all are read, none taken for deleted.
        for n in range(21):
            log_work(pair.client, twin, 60 * (n + 1), f"in PB {n}")
        pair.settle()
        assert len(worklogs(pair.client, key)) == 22
        assert len(worklogs(pair.client, twin)) == 22
        assert pair.engine.step() == 0

        (mirror,) = [w for w in worklogs(pair.client, twin) if w["author"]["name"] == "backbone"]
        edited = pair.client.put(
            f"{API}/issue/{key}/worklog/{worklogs(pair.client, key)[0]['id']}",
            json={"timeSpentSeconds": 3000, "comment": "in PA, longer"},
        )
        assert edited.status_code == 200, edited.text
        pair.settle()
        assert [
            (w["timeSpentSeconds"], w["comment"])
            for w in worklogs(pair.client, twin)
            if w["id"] == mirror["id"]
        ] == [(3000, "Administrator logged: in PA, longer")]

        gone = pair.client.delete(f"{API}/issue/{twin}/worklog/{mirror['id']}")
        assert gone.status_code == 204, gone.text
        pair.settle()
        assert len(worklogs(pair.client, key)) == 21
        assert pair.engine.step() == 0


def test_an_integration_created_with_keys_only_syncs_work_logs(
    engine_client: httpx.Client, services: Services
) -> None:
    """The mappings proposed from both built-in projects' schemas switch work logs on."""
    create_project(engine_client, "PA")
    create_project(engine_client, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone", admin=True),
    )
    created = engine_client.post("/api/1/integrations", json=local_body(outgoingInterval="1s"))
    assert created.status_code == 200, created.text
    mappings = engine_client.get("/api/1/integrations/INT-1").json()["firstConnector"]
    assert {"localField": "worklog", "remoteField": "worklog"}.items() <= next(
        m for m in mappings["configuration"]["fieldMappings"] if m["localField"] == "worklog"
    ).items()
    assert engine_client.put("/api/1/integrations/INT-1/start").status_code < 300
    key = create_issue(engine_client, "PA", "Proposed")
    log_work(engine_client, key, 900, "by default")
    twin = wait_for("PA's issue in PB", lambda: synced_twin(engine_client, "PA-1", key))
    wait_for("the work log in PB", lambda: worklogs(engine_client, twin))
    assert summary(engine_client, twin) == [(900, "Administrator logged: by default", "backbone")]
    engine_client.put("/api/1/integrations/INT-1/stop")
