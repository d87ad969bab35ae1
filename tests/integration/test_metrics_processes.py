"""Metrics with several processes: prometheus-client's multiprocess mode under
``serve --workers N`` (docs/operations.md says why it, and not one endpoint per process)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from proxy_helpers import free_port
from test_cli import run
from test_cli_serve import Serve

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
