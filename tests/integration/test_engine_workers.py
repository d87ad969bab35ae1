"""Several engines on one store share the connectors fairly, and still sync correctly."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sync_helpers import Pair, integration_pair, local_body
from tracker_helpers import create_issue

from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.store.sync import ConnectorState, EngineWorker, SyncInfo


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


def held(engine: SyncRunner) -> set[int]:
    return {route.id for route in engine.routes()}


def owners(services: Services) -> dict[int, str | None]:
    with services.uow_factory(readonly=True) as uow:
        return {
            state.connector_id: state.lease_owner
            for state in uow.session.scalars(select(ConnectorState))
        }


def test_a_second_engine_gets_its_share_and_the_first_takes_all_back_when_it_stops(
    pair: Pair,
) -> None:
    first, both = pair.engine, {pair.first_id, pair.second_id}
    first.refresh()
    assert held(first) == both  # alone: everything
    second = SyncRunner(pair.services, backoff_ms=0)
    try:
        second.refresh()
        assert held(second) == set()  # both leased by the first engine
        first.refresh()  # two engines now: one connector each, the surplus goes back
        second.refresh()
        assert len(held(first)) == len(held(second)) == 1
        assert held(first) | held(second) == both
        assert owners(pair.services) == {
            pair.first_id: first.owner,
            pair.second_id: second.owner,
        }

        # Split over two engines, the integration still syncs both ways.
        key = create_issue(pair.client, "PA", summary="made while shared")
        for _ in range(20):
            if first.step() + second.step() == 0:
                break
        twin = pair.twin(key)
        assert pair.fields(twin)["summary"] == "made while shared"
        pair.edit(twin, summary="edited on the other side")
        for _ in range(20):
            if first.step() + second.step() == 0:
                break
        assert pair.fields(key)["summary"] == "edited on the other side"
    finally:
        second.stop()
    with pair.services.uow_factory(readonly=True) as uow:
        assert uow.session.get(EngineWorker, second.owner) is None  # stopped: gone at once
    first.refresh()
    assert held(first) == both


def test_a_one_off_engine_does_not_take_a_share_from_the_running_one(pair: Pair) -> None:
    pair.engine.refresh()
    one_off = SyncRunner(pair.services, shares=False)
    try:
        one_off.refresh()
        pair.engine.refresh()
        assert held(pair.engine) == {pair.first_id, pair.second_id}
        assert held(one_off) == set()
    finally:
        one_off.stop()


@pytest.fixture
def slow_incoming(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    """INT-1 polling every second, but applying received messages only every hour."""
    body = local_body(outgoingInterval="1s", incomingInterval="1h")
    for side in ("firstConnector", "secondConnector"):
        connection = body[side]["connection"]
        connection["connector"] = {
            **connection.get("connector", {}),
            "initialInternalPollingDelay": 0,
        }
    with integration_pair(services, admin, body) as made:
        yield made


def test_messages_from_another_engine_are_applied_without_waiting_for_the_interval(
    slow_incoming: Pair,
) -> None:
    pair = slow_incoming
    first, second = pair.engine, SyncRunner(pair.services, backoff_ms=0)
    first.refresh()
    second.refresh()
    first.refresh()  # gives the second engine its share
    second.refresh()
    assert len(held(first)) == len(held(second)) == 1
    key = create_issue(pair.client, "PA", summary="crosses to the other engine")
    first.start()
    second.start()
    try:
        # Without a look across processes, PB would apply the create after an hour.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not twin_of(pair, key):
            time.sleep(0.1)
        twin = twin_of(pair, key)
        assert twin is not None, "the other engine's message waited for the interval"
        assert pair.fields(twin)["summary"] == "crosses to the other engine"
    finally:
        second.stop()
        first.stop()


def twin_of(pair: Pair, key: str) -> str | None:
    with pair.services.uow_factory(readonly=True) as uow:
        return uow.session.scalar(
            select(SyncInfo.remote_issue_key).where(
                SyncInfo.connector_id == pair.first_id, SyncInfo.local_issue_key == key
            )
        )
