"""Several engines on one store share the connectors fairly, and still sync correctly."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sync_helpers import Pair, integration_pair
from tracker_helpers import create_issue

from issuesync.app import Services
from issuesync.engine.runner import Engine
from issuesync.store.sync import ConnectorState, EngineWorker


@pytest.fixture
def pair(services: Services, admin: httpx.Client) -> Iterator[Pair]:
    with integration_pair(services, admin) as made:
        yield made


def held(engine: Engine) -> set[int]:
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
    second = Engine(pair.services, backoff_ms=0)
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
    one_off = Engine(pair.services, shares=False)
    try:
        one_off.refresh()
        pair.engine.refresh()
        assert held(pair.engine) == {pair.first_id, pair.second_id}
        assert held(one_off) == set()
    finally:
        one_off.stop()
