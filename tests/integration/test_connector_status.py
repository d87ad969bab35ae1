"""The status block (seed 002) reads what the engine really does: processing, reconnecting, leases.

Everything runs for real: the built-in tracker, the store, the engine stepped in the
test's thread. What a monitoring client would see while a route works is read from
another session at the moment the route calls its tracker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Self

import httpx
import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Connection
from sync_helpers import Pair, integration_pair
from tracker_helpers import create_issue

from issuesync.api.backbone.documents.resync import ResyncRequest, request_resync
from issuesync.api.backbone.documents.status import status_json
from issuesync.application.integrations import connector_by_key, get_integration
from issuesync.engine.pipeline.route import Route
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.errors import TrackerOfflineError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorState

WRITES = frozenset({"create", "create_many", "update", "transition"})


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


class Watched:
    """The real adapter, telling ``on_call`` the name of each method before it runs."""

    def __init__(self, tracker: object, on_call: Callable[[str], None]) -> None:
        self.tracker = tracker
        self.on_call = on_call
        self.down = False  # while True, every call says the tracker is offline

    def __getattr__(self, name: str) -> Any:  # whatever the tracker has: a Tracker too
        attribute = getattr(self.tracker, name)
        if not callable(attribute) or name == "close":
            return attribute

        def call(*args: object, **kwargs: object) -> object:
            self.on_call(name)
            if self.down:
                raise TrackerOfflineError("connection refused: the tracker is down")
            return attribute(*args, **kwargs)

        return call


class Killed(BaseException):
    """The engine's process dies here: no ``except Exception`` of the engine sees it."""


def watch(engine: SyncRunner, connector_id: int, on_call: Callable[[str], None]) -> Watched:
    route = engine.route(connector_id)
    assert route is not None
    watched = Watched(route.tracker, on_call)
    route.tracker = watched
    return watched


def status(pair: Pair, *, now: int | None = None) -> dict[str, Any]:
    """The status block as another process reads it."""
    with pair.services.uow_factory(readonly=True) as uow:
        return status_json(uow.session, get_integration(uow.session, pair.key), now=now)


def first(pair: Pair, **kwargs: Any) -> dict[str, Any]:
    block: dict[str, Any] = status(pair, **kwargs)["firstConnector"]
    return block


def second(pair: Pair, **kwargs: Any) -> dict[str, Any]:
    block: dict[str, Any] = status(pair, **kwargs)["secondConnector"]
    return block


class Statements:
    """The SQL statements the database is sent, while counting."""

    def __init__(self, services: Services) -> None:
        self.engines = {services.database.write_engine, services.database.read_engine}
        self.seen: list[str] = []

    def _record(self, _conn: Connection, _cursor: object, statement: str, *_rest: object) -> None:
        self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> Self:
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._record)

    def writes(self, table: str = "") -> list[str]:
        return [
            s
            for s in self.seen
            if s.split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE") and table in s
        ]


def test_processing_shows_while_a_route_works_and_idle_after(pair: Pair) -> None:
    pair.engine.refresh()
    assert first(pair)["incomingProcessingStatus"] == "IDLE"
    assert first(pair)["outgoingProcessingStatus"] == "IDLE"
    seen_in: list[str] = []
    seen_out: list[str] = []

    def applying(name: str) -> None:
        if name in WRITES:
            seen_in.append(second(pair)["incomingProcessingStatus"])

    def polling(name: str) -> None:
        # With deletion_check_ms=0 every poll asks for deletions after it sent its pages.
        if name == "deleted_since":
            seen_out.append(first(pair)["outgoingProcessingStatus"])

    watch(pair.engine, pair.second_id, applying)
    watch(pair.engine, pair.first_id, polling)
    create_issue(pair.client, "PA", "Watched on its way")
    pair.settle()

    assert seen_in
    assert set(seen_in) == {"PROCESSING"}  # B's tracker was written during a run with work
    assert seen_out[0] == "PROCESSING"  # the poll that found the new issue
    assert seen_out[-1] == "IDLE"  # the polls after it found nothing
    for block in (first(pair), second(pair)):
        assert block["incomingProcessingStatus"] == "IDLE"
        assert block["outgoingProcessingStatus"] == "IDLE"
        assert block["incomingRouteStatus"] == block["externalRouteStatus"] == "STARTED"
        assert block["reconnecting"] is False


def test_a_resync_shows_the_outgoing_route_processing(pair: Pair) -> None:
    key = create_issue(pair.client, "PA", "Sent again")
    pair.settle()
    searches: list[str] = []

    def searching(name: str) -> None:
        if name == "changed_since":
            searches.append(first(pair)["outgoingProcessingStatus"])

    watch(pair.engine, pair.first_id, searching)
    with pair.services.uow_factory() as uow:
        request = ResyncRequest.parse({"jql": f"key = {key}", "sendStatusField": True})
        request_resync(uow.session, connector_by_key(uow.session, "PA-1").key, request)
        uow.commit()
    pair.engine.run_connector(pair.first_id, force=True)
    assert searches == ["IDLE", "PROCESSING"]  # the idle poll's search, the resync's
    assert first(pair)["outgoingProcessingStatus"] == "IDLE"


def test_a_batch_loop_writes_each_reading_once_and_an_idle_poll_writes_nothing(
    pair: Pair,
) -> None:
    engine = SyncRunner(pair.services, backoff_ms=0)  # deletions checked every 30 s: idle = 1 call
    try:
        engine.refresh()
        route: Route | None = engine.route(pair.second_id)
        assert route is not None
        route.batch_size = 2
        for number in range(5):
            create_issue(pair.client, "PA", f"Issue {number}")
        engine.run_connector(pair.first_id, force=True)  # five create messages for B

        applied: list[str] = []
        with Statements(pair.services) as statements:
            for _ in range(3):
                engine.run_connector(pair.second_id, force=True)
                applied.append(second(pair)["incomingProcessingStatus"])
            engine.run_connector(pair.second_id, force=True)  # nothing left
        # Between full batches the route stays PROCESSING; the run that empties it ends it.
        assert applied == ["PROCESSING", "PROCESSING", "IDLE"]
        assert len(pair.messages(pair.second_id, "archive")) == 5
        assert len(statements.writes("incoming_processing")) == 2

        engine.settle()
        calls: list[str] = []
        for connector_id in (pair.first_id, pair.second_id):
            watch(engine, connector_id, calls.append)
        with Statements(pair.services) as statements:
            engine.run_connector(pair.first_id, force=True)
            engine.run_connector(pair.second_id, force=True)
        assert statements.writes() == []
        # One search per connector reaches the tracker (its clock is only read).
        assert [c for c in calls if c != "clock_ms"] == ["changed_since", "changed_since"]
    finally:
        engine.stop()


def test_stopping_the_engine_mid_loop_leaves_the_routes_stopped_and_idle(pair: Pair) -> None:
    pair.engine.refresh()
    route = pair.engine.route(pair.second_id)
    assert route is not None
    route.batch_size = 1
    for number in range(3):
        create_issue(pair.client, "PA", f"Issue {number}")
    pair.engine.run_connector(pair.first_id, force=True)
    pair.engine.run_connector(pair.second_id, force=True)
    assert second(pair)["incomingProcessingStatus"] == "PROCESSING"
    assert "startTime" in second(pair)
    pair.engine.stop()
    block = second(pair)
    assert block["incomingProcessingStatus"] == block["outgoingProcessingStatus"] == "IDLE"
    assert block["incomingRouteStatus"] == block["externalRouteStatus"] == "STOPPED"
    assert "startTime" not in block


def test_reconnecting_while_the_tracker_is_unreachable(pair: Pair) -> None:
    pair.engine.refresh()
    switch = watch(pair.engine, pair.second_id, lambda _name: None)
    switch.down = True
    create_issue(pair.client, "PA", "While B is down")
    pair.engine.run_connector(pair.first_id, force=True)
    pair.engine.run_connector(pair.second_id, force=True)
    block = second(pair)
    assert block["online"] is False
    assert block["reconnecting"] is True
    assert block["incomingRouteStatus"] == "STARTED"
    assert block["incomingProcessingStatus"] == "IDLE"  # backing off, not applying
    assert "offline" in block["incomingDetails"]
    assert first(pair)["reconnecting"] is False

    switch.down = False
    pair.settle()
    block = second(pair)
    assert block["online"] is True
    assert block["reconnecting"] is False
    assert block["incomingDetails"] == ""


def test_a_dead_engine_is_not_shown_processing_once_its_lease_has_expired(pair: Pair) -> None:
    dead = SyncRunner(pair.services, shares=False)  # no worker row: it leaves none behind
    dead.refresh()
    seen: list[str] = []

    def die_while_applying(name: str) -> None:
        if name in WRITES:
            seen.append(second(pair)["incomingProcessingStatus"])
            raise Killed

    watch(dead, pair.second_id, die_while_applying)
    create_issue(pair.client, "PA", "Half way")
    dead.run_connector(pair.first_id, force=True)
    with pytest.raises(Killed):
        dead.run_connector(pair.second_id, force=True)
    assert seen == ["PROCESSING"]

    # Within its lease a dead engine cannot be told from a busy one...
    assert second(pair)["incomingProcessingStatus"] == "PROCESSING"
    with pair.services.uow_factory(readonly=True) as uow:
        lease_until = uow.session.get_one(ConnectorState, pair.second_id).lease_until_ms
    assert lease_until is not None
    # ...once the lease has expired the status says nothing runs the routes.
    block = second(pair, now=lease_until + 1)
    assert block["incomingProcessingStatus"] == block["outgoingProcessingStatus"] == "IDLE"
    assert block["incomingRouteStatus"] == block["outgoingRouteStatus"] == "STOPPED"
    assert block["externalRouteStatus"] == "STOPPED"
    assert block["reconnecting"] is False
    assert "startTime" not in block

    # The lease runs out; a new engine takes the connectors and starts IDLE.
    with pair.services.uow_factory() as uow:
        uow.session.execute(update(ConnectorState).values(lease_until_ms=now_ms() - 1))
        uow.commit()
    pair.engine.refresh()
    assert pair.engine.route(pair.second_id) is not None
    block = second(pair)
    assert block["incomingProcessingStatus"] == "IDLE"
    assert block["incomingRouteStatus"] == block["externalRouteStatus"] == "STARTED"
    assert "startTime" in block
    pair.settle()
    assert pair.fields(pair.twin("PA-1"))["summary"] == "Half way"
    assert second(pair)["incomingProcessingStatus"] == "IDLE"


def test_a_connector_handed_over_reads_stopped_if_no_engine_takes_it_up(pair: Pair) -> None:
    pair.engine.refresh()
    other = SyncRunner(pair.services, backoff_ms=0)
    try:
        other.refresh()  # alive now, but both connectors are leased
        pair.engine.refresh()  # two engines: the surplus is given back
        (handed,) = {pair.first_id, pair.second_id} - {r.id for r in pair.engine.routes()}
        block = status(pair)
        key = "firstConnector" if handed == pair.first_id else "secondConnector"
        assert block[key]["incomingRouteStatus"] == "STARTED"  # the other engine takes it
        assert block[key]["incomingProcessingStatus"] == "IDLE"
        with pair.services.uow_factory(readonly=True) as uow:
            state = uow.session.get_one(ConnectorState, handed)
            assert state.lease_owner is None
            handover_until = state.lease_until_ms
        assert handover_until is not None
        late = status(pair, now=handover_until + 1)[key]  # had it not done so in time
        assert late["incomingRouteStatus"] == late["externalRouteStatus"] == "STOPPED"
        other.refresh()
        assert other.route(handed) is not None
        assert status(pair, now=handover_until + 1)[key]["incomingRouteStatus"] == "STARTED"
    finally:
        other.stop()
