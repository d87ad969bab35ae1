"""A restarted engine takes a dead predecessor's connectors at once, never a live one's.

Each engine holds an exclusive ``flock`` on ``<home>/engines/<owner>.lock`` for its
life (``engine/runtime/presence.py``); the kernel drops it when the process dies. With the
30 s default lease, a ``serve`` killed and started again used to wait for its own
old leases to lapse; now the new process proves the old one dead and takes them
before they lapse. A worker that is alive but stopped (SIGSTOP) keeps its leases.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_engine_processes import (
    ADMIN_PASSWORD,
    API,
    cli,
    environment,
    free_port,
    local_body,
    stop,
    summaries,
    wait_for,
)

from issuesync.store.uow import flock_holder

LEASE_MS = "30000"  # the default: what a restart used to wait for
# A few processes start in each test; on a loaded 2-core machine each start takes seconds.
pytestmark = pytest.mark.timeout(300)


class Home:
    """A home with PA, PB, INT-1 (started) and a server for the HTTP API."""

    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        self.env = environment(path, ISSUESYNC_PORT=str(port), ISSUESYNC_ENGINE_LEASE_MS=LEASE_MS)
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", auth=("admin", ADMIN_PASSWORD), timeout=30
        )
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: dict[int, Path] = {}

    def start(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        log = self.path.parent / f"{args[0]}-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 - our own entry point
                [sys.executable, "-m", "issuesync", *args],
                env=self.env | extra,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        self.logs[process.pid] = log
        return process

    def running(self, process: subprocess.Popen[bytes]) -> bool:
        """Whether it still runs (else fail with what it said)."""
        if process.poll() is None:
            return True
        pytest.fail(f"{process.args!r} ended: {self.logs[process.pid].read_text()}")

    def holds_write_turn(self, process: subprocess.Popen[bytes]) -> bool:
        """Whether the process holds the database's write turn (its ``flock``)."""
        return flock_holder(self.path / "issuesync.db.writelock") == process.pid

    def serve(self, **extra: str) -> subprocess.Popen[bytes]:
        process = self.start("serve", **extra)

        def up() -> bool:
            try:
                return self.client.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, "the server to answer", timeout=90)
        return process

    def leases(self) -> list[tuple[str | None, int | None, int | None]]:
        """(owner, start_ms, lease_until_ms) of each connector."""
        database = self.path / "issuesync.db"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
            return connection.execute(
                "SELECT lease_owner, start_ms, lease_until_ms FROM connector_states "
                "ORDER BY connector_id"
            ).fetchall()

    def engines(self) -> set[int | None]:
        """The pids of the engines that said they are alive (``engine_workers``)."""
        database = self.path / "issuesync.db"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
            return {
                _pid(owner) for (owner,) in connection.execute("SELECT owner FROM engine_workers")
            }

    def held_by(self, process: subprocess.Popen[bytes]) -> list[Any] | None:
        """The leases, when ``process`` holds both connectors' (else None)."""
        found = self.leases()
        owners = {_pid(owner) for owner, _, _ in found}
        return found if len(found) == 2 and owners == {process.pid} else None

    def lock_files(self) -> set[str]:
        return {p.name for p in (self.path / "engines").glob("*.lock")}

    def create(self, summary: str) -> None:
        fields = {"project": {"key": "PA"}, "summary": summary, "issuetype": {"name": "Task"}}
        response = self.client.post(f"{API}/issue", json={"fields": fields})
        assert response.status_code == 201, response.text


def _pid(owner: str | None) -> int | None:
    return int(owner.split(":")[1]) if owner else None


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    found = Home(tmp_path / "home", free_port())
    cli(found.env, "db", "upgrade")
    cli(found.env, "user", "create", "backbone", "--password", "backbone", "--email", "b@x.test")
    try:
        yield found
    finally:
        found.client.close()
        for process in found.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
            stop(process)


def _integration(home: Home, tmp_path: Path) -> None:
    for key in ("PA", "PB"):
        response = home.client.post(f"{API}/project", json={"key": key, "name": key})
        assert response.status_code == 201, response.text
    body = tmp_path / "body.json"
    body.write_text(json.dumps(local_body()))
    cli(home.env, "integration", "create", "--file", str(body))
    cli(home.env, "integration", "start", "INT-1")


def taken_over(home: Home, successor: subprocess.Popen[bytes], lapse: int) -> None:
    """``successor`` holds both connectors, taken before the dead one's leases lapsed
    (proven dead, not waited out), and an issue created now syncs."""
    taken = wait_for(lambda: home.held_by(successor), "the successor's leases", timeout=60)
    assert all(start_ms is not None and start_ms < lapse for _, start_ms, _ in taken), (
        taken,
        lapse,
    )
    home.create("after the kill")
    wait_for(lambda: "after the kill" in summaries(home.client, "PB"), "a twin after the kill")


def test_a_restarted_server_takes_its_killed_predecessors_connectors_at_once(
    home: Home, tmp_path: Path
) -> None:
    first = home.serve()
    _integration(home, tmp_path)
    wait_for(lambda: home.held_by(first), "the first server's leases")
    home.create("before the kill")
    wait_for(lambda: "before the kill" in summaries(home.client, "PB"), "the first twin")
    dead_lock = home.lock_files()

    first.kill()  # SIGKILL: no lease is given back
    first.wait(10)
    lapse = min(until for _, _, until in home.leases() if until is not None)
    taken_over(home, home.serve(), lapse)
    # The dead server's lock file goes once nothing names it any more.
    assert len(dead_lock) == 1
    wait_for(lambda: not (dead_lock & home.lock_files()), "the stale lock file to go")


def test_a_stopped_worker_keeps_its_leases_and_a_killed_one_loses_them_at_once(
    home: Home, tmp_path: Path
) -> None:
    home.serve(ISSUESYNC_ENGINE_ENABLED="false")  # the API only
    _integration(home, tmp_path)
    first = home.start("worker")
    wait_for(lambda: home.held_by(first), "the first worker's leases")

    # Alive, holding its lock file, doing nothing (stopped between two writes: one
    # stopped while it holds the write turn stops every writer, the second one too).
    for _ in range(50):
        first.send_signal(signal.SIGSTOP)
        time.sleep(0.1)
        if not home.holds_write_turn(first):
            break
        first.send_signal(signal.SIGCONT)
    second = home.start("worker")
    wait_for(
        lambda: home.running(second) and second.pid in home.engines(),
        "the second worker to start",
        timeout=90,
    )
    deadline = time.monotonic() + 4  # four of its refreshes
    while time.monotonic() < deadline:
        assert home.held_by(first), "a live worker's lease was taken before it lapsed"
        time.sleep(0.2)

    lapse = min(until for _, _, until in home.leases() if until is not None)
    first.kill()
    first.wait(10)
    taken_over(home, second, lapse)
