"""Metrics with several processes: prometheus-client's multiprocess mode under
``serve --workers N``, and an ``issuesync worker`` beside ``serve`` sharing one
``PROMETHEUS_MULTIPROC_DIR`` (docs/operations.md says why it, and not one endpoint per
process)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from proxy_helpers import free_port
from sync_helpers import local_body
from test_cli import environment_of, run
from test_cli_serve import ADMIN_PASSWORD, Serve

from issuesync.api.metrics import build_registry
from issuesync.metrics import MULTIPROC_ENV
from issuesync.services import Services

RECORD = """
from issuesync.metrics import CHANGES_SENT, process_exited
import os
CHANGES_SENT.labels("INT-9", "PA-9").inc({n})
process_exited(os.getpid())
"""


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # the folder's files are the same whatever the database


def test_the_counts_of_exited_processes_are_summed(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir(mode=0o700)
    env = {**os.environ, MULTIPROC_ENV: str(folder)}
    for n in (2, 3):
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", RECORD.format(n=n)], env=env, check=False, capture_output=True
        )
        assert done.returncode == 0, done.stderr
    monkeypatch.setenv(MULTIPROC_ENV, str(folder))
    from prometheus_client import generate_latest  # noqa: PLC0415

    text = generate_latest(build_registry(services)).decode()
    sent = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "issuesync_changes_sent_total" and sample.labels["connector"] == "PA-9"
    ]
    assert sent == [5]


def test_serve_with_two_workers_shares_its_metrics_in_a_private_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "db", "upgrade").returncode == 0
    stale = home / "metrics" / "counter_1.db"  # a stopped server's: not this one's
    stale.parent.mkdir(mode=0o700, parents=True)
    stale.write_bytes(b"")
    server = Serve(home, free_port(), tmp_path / "serve.log", "--workers", "2")
    try:
        server.serving_line()
        for _ in range(4):  # whichever worker answers
            response = httpx.get(f"{server.url}/metrics", timeout=90)
            assert response.status_code == 200, response.text
            assert "# HELP issuesync_messages " in response.text
            # Multiprocess mode: no one worker's own process_* metrics.
            assert "process_cpu_seconds_total" not in response.text
    finally:
        server.stop()
    folder = home / "metrics"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not stale.exists()


def test_a_workers_counts_show_in_the_servers_scrape(tmp_path: Path) -> None:
    """As docs/operations.md says: ``serve`` and ``issuesync worker`` on one host with the
    same folder. The server runs no engine, so every change counted is the worker's."""
    home = tmp_path / "home"
    folder = tmp_path / "metrics"
    folder.mkdir(mode=0o700)
    shared = {MULTIPROC_ENV: str(folder), "ISSUESYNC_ENGINE_LEASE_MS": "1500"}
    setup: list[tuple[str, ...]] = [
        ("db", "upgrade"),
        ("user", "create", "backbone", "--password", "backbone", "--email", "bb@example.test"),
    ]
    for command in setup:
        done = run(home, *command)
        assert done.returncode == 0, done.stderr
    server = Serve(
        home, free_port(), tmp_path / "serve.log", ISSUESYNC_ENGINE_ENABLED="false", **shared
    )
    worker: subprocess.Popen[bytes] | None = None
    try:
        server.serving_line()
        admin = httpx.Client(base_url=server.url, auth=("admin", ADMIN_PASSWORD), timeout=30)
        with admin:
            for key in ("PA", "PB"):
                made = admin.post("/rest/api/2/project", json={"key": key, "name": key})
                assert made.status_code == 201, made.text
            body = tmp_path / "body.json"
            body.write_text(json.dumps(local_body(incomingInterval="1s", outgoingInterval="1s")))
            started: list[tuple[str, ...]] = [
                ("integration", "create", "--file", str(body)),
                ("integration", "start", "INT-1"),
            ]
            for command in started:
                done = run(home, *command)
                assert done.returncode == 0, done.stderr
            with (tmp_path / "worker.log").open("wb") as log:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "issuesync", "worker"],
                    env=environment_of(home, shared),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            fields = {
                "project": {"key": "PA"},
                "summary": "Counted by the worker",
                "issuetype": {"name": "Task"},
            }
            assert admin.post("/rest/api/2/issue", json={"fields": fields}).status_code == 201
            deadline = time.monotonic() + 60
            while True:
                counted = changes(admin.get("/metrics").text)
                if counted.get(("sent", "PA-1")) and counted.get(("applied", "PB-2")):
                    break
                assert worker.poll() is None, (tmp_path / "worker.log").read_text()
                assert time.monotonic() < deadline, f"the worker's counts did not show: {counted}"
                time.sleep(0.2)
            # Only what the worker did, once (a route's child shows 0 before it counts).
            assert {k: v for k, v in counted.items() if v} == {
                ("sent", "PA-1"): 1,
                ("applied", "PB-2"): 1,
            }
    finally:
        if worker is not None:
            worker.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=30)
            worker.kill()  # nothing when it stopped
            worker.wait()
        server.stop()


def changes(exposition: str) -> dict[tuple[str, str], float]:
    """The changes sent and applied in a scrape, by connector."""
    return {
        (sample.name.split("_")[2], sample.labels["connector"]): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name in ("issuesync_changes_sent_total", "issuesync_changes_applied_total")
    }
