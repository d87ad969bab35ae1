"""Connections run by jobs, through the application and the engine's job runner.

The tracker is issuesync's own built-in tracker served over real HTTP on 127.0.0.1 and
reached through the ``jira`` adapter (project PB), as a Jira Server would be; the
connection's project is the built-in PA. The schedule runs under an injected clock.
"""

from __future__ import annotations

import httpx
import pytest
from connections_helpers import (
    SYNC_PASSWORD,
    Clock,
    admin_principal,
    make_connection,
    projects_and_sync_user,
)
from pydantic import SecretStr
from tracker_helpers import API, create_issue, fields_of, search_keys

from issuesync.application.connections import (
    ConnectionView,
    connection_draft,
    get_connection,
    list_jobs,
    prepare_connection,
    request_run,
    update_connection_settings,
    update_tracker_server,
)
from issuesync.domain.schedule import HOUR_MS
from issuesync.domain.scheduled import ConflictPolicy
from issuesync.engine.runtime.jobs import ConnectionJobs
from issuesync.services import Services
from issuesync.store.connections import ConnectionRow, JobRow
from issuesync.testing.server import LiveServer


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the claims on PostgreSQL: test_connection_claims.py


@pytest.fixture
def tracker(services: Services, admin: httpx.Client) -> httpx.Client:
    projects_and_sync_user(services, admin)
    return admin


@pytest.fixture
def connection(
    services: Services, live_server: LiveServer, tracker: httpx.Client
) -> ConnectionView:
    return make_connection(services, live_server, tracker)


def _transition(client: httpx.Client, key: str, status: str) -> None:
    transitions = client.get(f"{API}/issue/{key}/transitions").json()["transitions"]
    chosen = next(t for t in transitions if t["to"]["name"] == status)
    response = client.post(
        f"{API}/issue/{key}/transitions", json={"transition": {"id": chosen["id"]}}
    )
    assert response.status_code == 204, response.text


def _jobs(services: Services, connection_id: int) -> list[tuple[str, bool | None, str]]:
    """Each job's state, success and message, oldest first."""
    with services.uow_factory(readonly=True) as uow:
        rows = uow.session.query(JobRow).filter_by(connection_id=connection_id).order_by(JobRow.id)
        return [(j.state, j.succeeded, j.result_message) for j in rows]


def test_a_job_creates_the_issues_in_scope_and_brings_the_status_back(
    services: Services, tracker: httpx.Client, connection: ConnectionView
) -> None:
    in_scope = create_issue(tracker, "PA", "Fix the login", priority={"name": "High"})
    too_low = create_issue(tracker, "PA", "Polish the icons", priority={"name": "Low"})
    done = create_issue(tracker, "PA", "Already done", priority={"name": "Highest"})
    _transition(tracker, done, "Done")
    clock = Clock(services.clock())
    jobs = ConnectionJobs(services, "test-worker", clock=clock)

    assert jobs.run_due() == 1  # hourly, never run: due at once
    made = search_keys(tracker, "project = PB")
    assert len(made) == 1
    assert fields_of(tracker, made[0])["summary"] == f"[{in_scope}] Fix the login"
    assert fields_of(tracker, made[0])["priority"]["name"] == "High"
    principal = admin_principal(services)
    with services.uow_factory(readonly=True) as uow:
        view = get_connection(uow.session, connection.id, principal)
    assert view.last_job is not None
    assert view.last_job.succeeded, view.last_job.result_message
    assert "1 created" in view.last_job.result_message
    assert view.last_successful_ms == view.last_job.started_ms
    assert view.last_job.automatic
    assert not view.in_progress
    del too_low

    # Nothing is due within the hour; a status changed in the tracker waits for the next job.
    _transition(tracker, made[0], "Done")
    clock.now += HOUR_MS - 1000
    assert jobs.run_due() == 0
    assert fields_of(tracker, in_scope)["status"]["name"] == "To Do"
    clock.now += 1000
    assert jobs.run_due() == 1
    assert fields_of(tracker, in_scope)["status"]["name"] == "Done"
    with services.uow_factory(readonly=True) as uow:
        last = list_jobs(uow.session, connection.id, principal)[0]
    assert last.succeeded
    assert "1 updated (1 now Done)" in last.result_message, last.result_message

    # A job asked for by hand runs at once, whatever the schedule; with nothing to do it says so.
    with services.uow_factory() as uow:
        asked = request_run(uow.session, connection.id, principal)
        uow.commit()
    assert not asked.automatic
    assert jobs.run_due() == 1
    with services.uow_factory(readonly=True) as uow:
        last = list_jobs(uow.session, connection.id, principal)[0]
    assert last.id == asked.id
    assert last.result_message == "No changes."
    assert last.triggered_by == principal.id


def test_a_status_both_sides_changed_goes_the_conflict_policys_way(
    services: Services, tracker: httpx.Client, connection: ConnectionView
) -> None:
    key = create_issue(tracker, "PA", "Both change it", priority={"name": "High"})
    clock = Clock(services.clock())
    jobs = ConnectionJobs(services, "w", clock=clock)
    jobs.run_due()
    (twin,) = search_keys(tracker, "project = PB")
    _transition(tracker, key, "In Progress")
    _transition(tracker, twin, "Done")
    clock.now += HOUR_MS
    jobs.run_due()
    # issue_tracker (the default) wins: both end Done.
    assert fields_of(tracker, key)["status"]["name"] == "Done"
    assert fields_of(tracker, twin)["status"]["name"] == "Done"

    principal = admin_principal(services)
    with services.uow_factory(readonly=True) as uow:
        draft = connection_draft(uow.session, connection.id, principal)
    settings = draft.settings.model_copy(update={"conflict_policy": ConflictPolicy.SDE})
    changed = draft.model_copy(update={"settings": settings})
    prepared = prepare_connection(services, changed, principal)
    with services.uow_factory() as uow:
        update_connection_settings(uow.session, services, connection.id, prepared, principal)
        uow.commit()
    _transition(tracker, key, "In Progress")
    _transition(tracker, twin, "To Do")
    clock.now += HOUR_MS
    jobs.run_due()
    assert fields_of(tracker, key)["status"]["name"] == "In Progress"
    assert fields_of(tracker, twin)["status"]["name"] == "In Progress"


@pytest.mark.usefixtures("tracker")
def test_a_connection_is_never_run_twice_at_once_and_a_dead_runs_job_is_closed(
    services: Services, connection: ConnectionView
) -> None:
    clock = Clock(services.clock())
    first = ConnectionJobs(services, "one", clock=clock)
    second = ConnectionJobs(services, "two", clock=clock)
    claimed = first.claim(connection.id)
    assert claimed is not None
    assert second.due() == []
    assert second.claim(connection.id) is None
    # "one" dies with its job under way; its claim lapses, "two" records it and runs anew.
    clock.now += 61_000
    with services.uow_factory() as uow:
        uow.session.get(ConnectionRow, connection.id).next_run_ms = clock.now  # type: ignore[union-attr]
        uow.commit()
    assert second.run_due() == 1
    (dead, ran) = _jobs(services, connection.id)
    assert dead[:2] == ("done", False)
    assert "interrupted" in dead[2]
    assert ran[:2] == ("done", True), ran


@pytest.mark.usefixtures("tracker")
def test_a_missed_run_runs_once_at_start_not_once_per_missed_slot(
    services: Services, connection: ConnectionView
) -> None:
    clock = Clock(services.clock())
    jobs = ConnectionJobs(services, "w", clock=clock)
    assert jobs.run_due() == 1
    clock.now += 5 * HOUR_MS + 17  # the server was down for five slots
    assert jobs.run_due() == 1
    assert jobs.run_due() == 0
    with services.uow_factory(readonly=True) as uow:
        row = uow.session.get(ConnectionRow, connection.id)
        assert row is not None
        assert row.next_run_ms == clock.now + HOUR_MS


def test_a_wrong_password_fails_the_job_and_marks_the_connection_inaccessible(
    services: Services, tracker: httpx.Client, connection: ConnectionView
) -> None:
    principal = admin_principal(services)
    with services.uow_factory() as uow:
        update_tracker_server(
            uow.session,
            connection.tracker_server.id,
            {"secret": SecretStr("wrong")},
            principal,
            services.secrets,
        )
        uow.commit()
    create_issue(tracker, "PA", "Waits", priority={"name": "High"})
    jobs = ConnectionJobs(services, "w", clock=Clock(services.clock()))
    assert jobs.run_due() == 1
    with services.uow_factory(readonly=True) as uow:
        view = get_connection(uow.session, connection.id, principal)
    assert view.inaccessible
    assert view.last_job is not None
    assert view.last_job.succeeded is False
    assert view.last_job.result_message.startswith("Failed:"), view.last_job.result_message
    assert "wrong" not in view.last_job.result_message
    assert view.last_successful_ms is None

    # The right password again: the next job applies what waited, and says so.
    with services.uow_factory() as uow:
        update_tracker_server(
            uow.session,
            connection.tracker_server.id,
            {"secret": SecretStr(SYNC_PASSWORD)},
            principal,
            services.secrets,
        )
        request_run(uow.session, connection.id, principal)
        uow.commit()
    assert jobs.run_due() == 1
    with services.uow_factory(readonly=True) as uow:
        view = get_connection(uow.session, connection.id, principal)
    assert view.last_job is not None
    assert view.last_job.succeeded, view.last_job.result_message
    assert "1 created" in view.last_job.result_message, view.last_job.result_message
    assert not view.inaccessible


def test_backbone_can_neither_start_nor_reconfigure_a_connections_integration(
    tracker: httpx.Client, connection: ConnectionView
) -> None:
    key = connection.integration_key
    started = tracker.put(f"/api/1/integrations/{key}/start")
    assert started.status_code == 409, started.text
    assert f"connection {connection.id}" in started.text
    body = tracker.get(f"/api/1/integrations/{key}").json()
    changed = tracker.put(f"/api/1/integrations/{key}", json=body)
    assert changed.status_code == 409, changed.text
    status = tracker.get(f"/api/1/integrations/{key}/status").json()
    assert "STARTED" not in str(status), status
