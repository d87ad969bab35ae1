"""GET /metrics and /readyz over real HTTP: the numbers move as the engine works.

Counters are of this process (a pytest worker), so each test compares a scrape
before with one after its work, never absolute values.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import pytest
from connections_helpers import SYNC_PASSWORD, make_connection, projects_and_sync_user
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select, text, update
from sync_helpers import Pair, integration_pair, refused_priority_body
from test_sync_engine import Offline
from tracker_helpers import create_issue

from conftest import ADMIN_PASSWORD
from issuesync.app import build_services, create_app
from issuesync.engine.runtime.jobs import ConnectionJobs
from issuesync.engine.runtime.readings import StoreReadings
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.engine.transports import queues
from issuesync.engine.transports.nodes.serving import queue_counts
from issuesync.metrics import METRICS, enabled, switch
from issuesync.services import Services
from issuesync.store.migrate import alembic_config
from issuesync.store.relations import BlobFailureRow, RelationRow
from issuesync.store.sync import ConnectorRow, ConnectorState, MessageRow
from issuesync.testing.server import LiveServer
from issuesync.throttle import LoginThrottle

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: httpx.Client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def ours(samples: Samples) -> Samples:
    return {key: v for key, v in samples.items() if key[0].startswith("issuesync_")}


def connector_keys(pair: Pair) -> tuple[str, str]:
    with pair.services.uow_factory(readonly=True) as uow:
        first = uow.session.get(ConnectorRow, pair.first_id)
        second = uow.session.get(ConnectorRow, pair.second_id)
        assert first is not None
        assert second is not None
        return first.key, second.key


# The store's readings are SQL of their own (counts by queue and state, cursors, leases,
# jobs, the migrations' head): the tests that read them run on both stores.
BOTH_STORES = pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """SQLite, unless a test asks for both stores (``BOTH_STORES``): the token, its
    throttle and the switch read no store."""
    name = "postgres_url" if getattr(request, "param", "sqlite") == "postgres" else "sqlite_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


@BOTH_STORES
def test_metrics_move_as_issues_sync_and_a_message_fails(
    pair: Pair, anonymous: httpx.Client
) -> None:
    before = scrape(anonymous)
    keys = [create_issue(pair.client, "PA", f"Issue {n}") for n in range(3)]
    pair.settle()
    after = scrape(anonymous)
    first_key, second_key = connector_keys(pair)
    first = {"integration": pair.key, "connector": first_key}
    second = {"integration": pair.key, "connector": second_key}

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("issuesync_changes_sent_total", **first) == 3
    assert moved("issuesync_changes_applied_total", **second) == 3
    assert moved("issuesync_propagation_latency_seconds_count", **second) == 3
    assert moved("issuesync_propagation_latency_seconds_bucket", le="+Inf", **second) == 3
    # From the source issue's update time to the apply's commit: seconds here, not hours.
    assert 0 < moved("issuesync_propagation_latency_seconds_sum", **second) < 3 * 30
    for route in ("incoming", "outgoing"):
        runs = moved("issuesync_route_runs_total", route=route, outcome="ok", **first)
        assert runs >= 1
        count = moved("issuesync_route_run_duration_seconds_count", route=route, **first)
        assert count == runs
    # The store's readings: the twins' creations archived on PB's side, nothing pending.
    archived = {"queue": "receive", "state": "archive"}
    assert value(after, "issuesync_messages", **second, **archived) >= 3
    assert value(after, "issuesync_messages", **second, queue="send", state="sent") >= 0
    assert value(after, "issuesync_oldest_pending_message_age_seconds", **second) == 0
    assert value(after, "issuesync_issues_in_error", **second) == 0
    assert value(after, "issuesync_connector_online", **first) == 1
    lag = value(after, "issuesync_cursor_lag_seconds", **first)
    assert 0 <= lag < 60

    # Bounded: more issues add no series, and no label names an issue.
    more = [create_issue(pair.client, "PA", f"More {n}") for n in range(3)]
    pair.settle()
    again = scrape(anonymous)
    assert set(ours(again)) == set(ours(after))
    label_values = {v for (_, labels) in ours(again) for (_, v) in labels}
    issue_keys = set(keys + more) - {first_key, second_key}
    assert not label_values & issue_keys
    for name, labels in ours(again):
        base = re.sub(r"_(bucket|sum|count|total|created)$", "", name)
        info = METRICS.get(base) or METRICS.get(f"{base}_total") or METRICS[name]
        assert {k for k, _ in labels} - {"le"} == set(info.labels), name


@BOTH_STORES
def test_a_refused_change_and_an_offline_tracker_show(
    services: Services, admin: httpx.Client, anonymous: httpx.Client
) -> None:
    with integration_pair(services, admin, refused_priority_body()) as pair:
        second = {"integration": pair.key, "connector": connector_keys(pair)[1]}
        create_issue(pair.client, "PA", "Refused", priority={"name": "Highest"})
        create_issue(pair.client, "PA", "Fine")
        pair.settle()
        refused = scrape(anonymous)
        assert value(refused, "issuesync_issues_in_error", **second) == 1
        receive_error = {"queue": "receive", "state": "error"}
        assert value(refused, "issuesync_messages", **second, **receive_error) == 1

        # The partner's tracker goes down: its route fails, its messages wait.
        route = pair.engine.route(pair.second_id)
        assert route is not None
        route.tracker = Offline(route.tracker)
        create_issue(pair.client, "PA", "While PB is down")
        pair.engine.step()
        down = scrape(anonymous)
        assert value(down, "issuesync_connector_online", **second) == 0
        failed = {"route": "incoming", "outcome": "failed"}
        runs = value(down, "issuesync_route_runs_total", **second, **failed)
        assert runs - value(refused, "issuesync_route_runs_total", **second, **failed) == 1
        assert value(down, "issuesync_messages", **second, queue="receive", state="offline") == 1
        assert value(down, "issuesync_oldest_pending_message_age_seconds", **second) > 0


@BOTH_STORES
def test_a_connection_job_and_its_tracker_requests_show(
    services: Services, live_server: LiveServer, admin: httpx.Client, anonymous: httpx.Client
) -> None:
    projects_and_sync_user(services, admin)
    connection = make_connection(services, live_server, admin)
    label = {"connection": str(connection.id)}
    before = scrape(anonymous)
    assert value(before, "issuesync_connection_jobs", **label, outcome="succeeded") == 0
    assert value(before, "issuesync_connection_job_in_progress", **label) == 0
    assert (
        "issuesync_connection_last_job_succeeded",
        (("connection", label["connection"]),),
    ) not in before

    create_issue(admin, "PA", "Fix the login", priority={"name": "High"})
    assert ConnectionJobs(services, "test-worker").run_due() == 1
    after = scrape(anonymous)
    assert value(after, "issuesync_connection_last_job_succeeded", **label) == 1
    assert value(after, "issuesync_connection_jobs", **label, outcome="succeeded") == 1
    assert value(after, "issuesync_connection_jobs", **label, outcome="failed") == 0
    assert value(after, "issuesync_connection_inaccessible", **label) == 0
    success = value(after, "issuesync_connection_last_success_timestamp_seconds", **label)
    assert abs(success - services.clock() / 1000) < 60
    # The job reached the tracker (the built-in one, as a Jira) through the HTTP edge.
    jira = {"system": "jira", "outcome": "2xx"}
    requests = value(after, "issuesync_tracker_requests_total", **jira)
    assert requests - value(before, "issuesync_tracker_requests_total", **jira) > 0
    latency = value(after, "issuesync_tracker_request_duration_seconds_count", system="jira")
    assert latency > value(
        before, "issuesync_tracker_request_duration_seconds_count", system="jira"
    )
    # No secret: the sync user's password and the admin's are nowhere in the scrape.
    body = anonymous.get("/metrics").text
    assert SYNC_PASSWORD not in body
    assert ADMIN_PASSWORD not in body


def test_the_metrics_token_is_asked_for_when_set(
    services: Services, anonymous: httpx.Client
) -> None:
    services.settings = services.settings.model_copy(
        update={"metrics_token": SecretStr("scrape-me-7")}
    )
    assert anonymous.get("/metrics").status_code == 401
    wrong = anonymous.get("/metrics", headers={"Authorization": "Bearer scrape-me-8"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert "scrape-me" not in wrong.text
    basic = anonymous.get("/metrics", auth=("admin", ADMIN_PASSWORD))
    assert basic.status_code == 401
    right = scrape(anonymous, Authorization="Bearer scrape-me-7")
    assert "scrape-me-7" not in str(right)


def test_wrong_metrics_tokens_are_throttled_per_address(
    services: Services, anonymous: httpx.Client
) -> None:
    services.settings = services.settings.model_copy(
        update={"metrics_token": SecretStr("scrape-me-7")}
    )
    now = [1000.0]
    # The API's throttle of failed logins, with a small limit and a clock the test moves.
    services.authenticator.throttle = LoginThrottle(
        per_address=3, window_s=60, max_lock_s=120, clock=lambda: now[0]
    )
    right = {"Authorization": "Bearer scrape-me-7"}
    for _ in range(5):  # a right token is never counted
        assert anonymous.get("/metrics", headers=right).status_code == 200
    assert anonymous.get("/metrics").status_code == 401  # no header: no guess, not counted
    for n in range(3):
        wrong = anonymous.get("/metrics", headers={"Authorization": f"Bearer guess-{n}"})
        assert wrong.status_code == 401
    # Locked: 429 before the token is looked at, the right one too (the answer says
    # nothing of a guess), and the API's logins from this address share the lock.
    for headers in (right, {"Authorization": "Bearer guess-3"}):
        locked = anonymous.get("/metrics", headers=headers)
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "60"
        assert "scrape-me" not in locked.text
    assert anonymous.get("/rest/api/2/myself", auth=("admin", ADMIN_PASSWORD)).status_code == 429

    # Prometheus at another address keeps scraping (the app in process, told its client).
    async def scrape_from(address: str) -> int:
        transport = httpx.ASGITransport(app=create_app(services), client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://issuesync") as client:
            return (await client.get("/metrics", headers=right)).status_code

    assert asyncio.run(scrape_from("192.0.2.7")) == 200
    now[0] += 61  # the lock ends: the right token works here again
    assert anonymous.get("/metrics", headers=right).status_code == 200
    assert anonymous.get("/metrics", headers={"Authorization": "Bearer guess-4"}).status_code == 401


def test_metrics_switched_off_count_nothing_and_are_not_served(
    services: Services, admin: httpx.Client, anonymous: httpx.Client
) -> None:
    # ISSUESYNC_METRICS_ENABLED=false: the composition root switches this process's off.
    build_services(services.settings.model_copy(update={"metrics_enabled": False})).close()
    try:
        assert not enabled()
        with integration_pair(services, admin) as pair:
            first_key, second_key = connector_keys(pair)
            sent = {"integration": pair.key, "connector": first_key}
            applied = {"integration": pair.key, "connector": second_key}

            def counted() -> tuple[float | None, float | None]:
                # This process's own registry (earlier tests' INT-1 may have counted here).
                return (
                    REGISTRY.get_sample_value("issuesync_changes_sent_total", sent),
                    REGISTRY.get_sample_value("issuesync_changes_applied_total", applied),
                )

            before = counted()
            create_issue(pair.client, "PA", "Synced, not counted")
            pair.settle()
            found = pair.client.get("/rest/api/2/search", params={"jql": "project = PB"})
            assert found.json()["total"] == 1
            assert counted() == before
            off = anonymous.get("/metrics")
            assert off.status_code == 404
            assert "ISSUESYNC_METRICS_ENABLED" in off.json()["error"]
    finally:
        switch(on=True)
    assert scrape(anonymous)


@BOTH_STORES
def test_readyz_says_what_is_not_ready(services: Services, admin: httpx.Client) -> None:
    # An engine in the process that has not taken the started integration's leases.
    app = create_app(services)
    engine = SyncRunner(services)
    app.state.engine = engine
    served = LiveServer()
    served.start(app)
    try:
        with httpx.Client(base_url=served.url, timeout=30) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["ready"] is True
            with integration_pair(services, admin) as pair:
                waiting = client.get("/readyz")
                assert waiting.status_code == 503
                body = waiting.json()
                assert body["ready"] is False
                assert body["checks"]["database"]["ok"] is True
                assert body["checks"]["migrations"]["ok"] is True
                assert body["checks"]["engine"]["ok"] is False
                assert body["checks"]["engine"]["connectors"] == sorted(connector_keys(pair))
                engine.refresh()  # takes the leases
                assert client.get("/readyz").status_code == 200
                # A lease that lapsed (its engine stalled) is not held.
                with services.uow_factory() as uow:
                    uow.session.execute(update(ConnectorState).values(lease_until_ms=0))
                    uow.commit()
                lapsed = client.get("/readyz").json()
                assert lapsed["checks"]["engine"]["connectors"] == sorted(connector_keys(pair))
                engine.stop()

            # A database behind the newest migration.
            from alembic.script import ScriptDirectory  # noqa: PLC0415

            script = ScriptDirectory.from_config(alembic_config(services.database.url))
            newest = script.get_current_head()
            assert newest is not None
            head = script.get_revision(newest)
            assert head is not None
            with services.uow_factory() as uow:
                uow.session.execute(
                    text("UPDATE alembic_version SET version_num = :old"),
                    {"old": head.down_revision},
                )
                uow.commit()
            behind = client.get("/readyz")
            assert behind.status_code == 503
            migrations = behind.json()["checks"]["migrations"]
            assert migrations["ok"] is False
            assert "issuesync db upgrade" in migrations["detail"]
    finally:
        served.stop()


@BOTH_STORES
def test_a_relations_readings_are_its_monitoring_routes_counts(pair: Pair) -> None:
    create_issue(pair.client, "PA", "Crosses to the partner node")
    pair.settle()
    now = pair.services.clock()
    with pair.services.uow_factory() as uow:
        session = uow.session
        relation = RelationRow(
            name="to-acme",
            role="inviter",
            state="active",
            project_key="PB",
            connector_id=pair.second_id,
            node="here",
            url="https://here.example.test",
            online=False,
            created_user="admin",
            created_ms=now,
            modified_ms=now,
        )
        session.add(relation)
        session.flush()
        row = session.scalars(
            select(MessageRow).where(
                MessageRow.connector_id == pair.second_id, MessageRow.queue == queues.RECEIVE
            )
        ).first()
        assert row is not None
        queues.set_state(row, "new", now, None)
        session.add(
            BlobFailureRow(
                relation_id=relation.id,
                message_uuid="m-1",
                sync_event_id=1,
                source_issue_key="ACME-1",
                blob_id="b-1",
                checksum="0" * 64,
                parked=True,
                created_ms=now,
                updated_ms=now,
            )
        )
        uow.commit()
        expected = queue_counts(session, relation)
    families = {f.name: f for f in StoreReadings(pair.services.uow_factory).collect()}

    def reading(name: str, **labels: str) -> float:
        (found,) = [s.value for s in families[name].samples if labels.items() <= s.labels.items()]
        return found

    relation_label = {"relation": "to-acme"}
    pending = "issuesync_relation_pending_messages"
    assert reading(pending, **relation_label, direction="in") == expected.pending_in == 1
    assert reading(pending, **relation_label, direction="out") == expected.pending_out
    errors = reading("issuesync_relation_messages_in_error", **relation_label)
    assert errors == expected.in_error == 1
    assert reading("issuesync_relation_online", **relation_label) == 0
