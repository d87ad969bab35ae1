"""A connection's job runs in one process at a time: claims raced on SQLite and PostgreSQL.

Eight runners, each with its own owner and its own database connections, ask for the
same due connection at the same instant, several times over; exactly one claim wins
each round, and a lapsed claim is taken over once.
"""

from __future__ import annotations

import threading

import httpx
import pytest
from connections_helpers import Clock, make_connection, projects_and_sync_user

from issuesync.engine.runtime.jobs import Claimed, ConnectionJobs
from issuesync.services import Services
from issuesync.store.connections import ConnectionRow
from issuesync.testing.server import LiveServer

RUNNERS = 8
ROUNDS = 5


def _race(runners: list[ConnectionJobs], connection_id: int) -> list[Claimed]:
    """Every runner claims the connection at the same instant; the claims that won."""
    start = threading.Barrier(len(runners))
    won: list[Claimed] = []
    lock = threading.Lock()

    def race(jobs: ConnectionJobs) -> None:
        start.wait(timeout=30)
        claimed = jobs.claim(connection_id)
        if claimed is not None:
            with lock:
                won.append(claimed)

    threads = [threading.Thread(target=race, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return won


@pytest.mark.usefixtures("server")
def test_one_claim_wins_however_many_runners_race_for_a_due_connection(
    services: Services, live_server: LiveServer, admin: httpx.Client
) -> None:
    projects_and_sync_user(services, admin)
    connection = make_connection(services, live_server, admin)
    clock = Clock(services.clock())
    runners = [ConnectionJobs(services, f"runner-{n}", clock=clock) for n in range(RUNNERS)]
    for _ in range(ROUNDS):
        won = _race(runners, connection.id)
        assert len(won) == 1, won
        with services.uow_factory(readonly=True) as uow:
            row = uow.session.get(ConnectionRow, connection.id)
            assert row is not None
            owner = row.job_owner
        assert owner is not None
        assert owner.startswith("runner-")
        # The winner dies; its claim lapses and the schedule is due again.
        clock.now += 61_000
        with services.uow_factory() as uow:
            row = uow.session.get(ConnectionRow, connection.id)
            assert row is not None
            row.next_run_ms = clock.now
            uow.commit()
