"""issuesync's files are its user's alone (issue 16, "Secrets": the modes of the home).

``issuesync db upgrade`` and ``issuesync serve`` run as ``make run`` runs them, in
processes of their own on a fresh home; after the engine synced an issue with an
attachment, every folder under the home is 0700 and every file 0600: the
database and its ``-wal`` and ``-shm``, the secret key, the attachment store, the
blobs in transit. A home left open by an older version is closed at start, with
a warning line.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from proxy_helpers import free_port
from sync_helpers import local_body, wait_for
from test_cli import run
from tracker_helpers import API, create_issue, create_project

ADMIN_PASSWORD = "admin-pw"  # what test_cli.run sets


def issuesync(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = run(home, *args, env=env)
    assert result.returncode == 0, result.stderr
    return result


def open_to_others(home: Path) -> list[str]:
    """Everything under ``home`` (itself included) that is not 0700 / 0600."""
    found = []
    for path in (home, *home.rglob("*")):
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            found.append(f"{path.relative_to(home.parent)}: {oct(mode)}")
    return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, httpx.Client]]:
    """``make run`` on a fresh home: ``db upgrade``, then ``serve``; stopped afterwards."""
    home = tmp_path / "home"
    port = free_port()
    env = {"ISSUESYNC_PORT": str(port), "ISSUESYNC_ENGINE_LEASE_MS": "1500"}
    issuesync(home, "db", "upgrade", **env)
    assert open_to_others(home) == []
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")}
    environment |= {"ISSUESYNC_HOME": str(home), "ISSUESYNC_ADMIN_PASSWORD": ADMIN_PASSWORD}
    server = subprocess.Popen(
        [sys.executable, "-m", "issuesync", "serve"],
        env=environment | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", auth=("admin", ADMIN_PASSWORD), timeout=30
    )

    def up() -> bool:
        try:
            return client.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for("the server to answer", up)
        yield home, client
    finally:
        client.close()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def test_everything_the_server_and_its_engine_write_is_private(
    served: tuple[Path, httpx.Client],
) -> None:
    home, client = served
    create_project(client, "PA")
    create_project(client, "PB")
    body = local_body(outgoingInterval="1s")
    for side in ("firstConnector", "secondConnector"):
        body[side]["connection"]["application"] = {"user": "admin"}
    body["firstConnector"]["configuration"]["fieldMappings"] = [
        {"localField": name, "remoteField": name} for name in ("summary", "attachment")
    ]
    assert client.post("/api/1/integrations", json=body).status_code == 200
    assert client.put("/api/1/integrations/INT-1/start").status_code == 200
    key = create_issue(client, "PA", "With an attachment")
    uploaded = client.post(
        f"{API}/issue/{key}/attachments",
        files={"file": ("notes.txt", b"private notes\n", "text/plain")},
        headers={"X-Atlassian-Token": "no-check"},
    )
    assert uploaded.status_code == 200, uploaded.text

    def attachment_synced() -> bool:
        found = client.get(f"{API}/search", params={"jql": "project = PB", "fields": "attachment"})
        issues = found.json()["issues"]
        return bool(issues and issues[0]["fields"]["attachment"])

    wait_for("the attachment in PB", attachment_synced)
    written = {path.name for path in home.rglob("*")}
    assert {"issuesync.db", "issuesync.db-wal", "secret.key", "attachments"} <= written
    assert open_to_others(home) == []


def test_a_home_left_open_is_closed_at_start_with_a_warning(tmp_path: Path) -> None:
    home = tmp_path / "home"
    issuesync(home, "db", "upgrade")
    # As an older issuesync left it: everything readable by everyone.
    for path in (home, *home.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (home / "attachments" / "ab").mkdir(parents=True, mode=0o777)
    (home / "attachments" / "ab" / "blob").write_bytes(b"content")
    (home / "attachments" / "ab").chmod(0o777)
    (home / "attachments" / "ab" / "blob").chmod(0o666)
    (home / "notes.txt").write_text("a file of the operator's own")
    (home / "notes.txt").chmod(0o644)

    result = issuesync(home, "db", "upgrade")
    assert "now private to this one" in result.stderr
    assert "issuesync.db" in result.stderr
    assert open_to_others(home) == [f"home/notes.txt: {oct(0o644)}"]  # not issuesync's: kept
    again = issuesync(home, "db", "upgrade")
    assert "private" not in again.stderr  # said once, when it happened
