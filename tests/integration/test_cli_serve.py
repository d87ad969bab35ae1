"""`issuesync serve` as a newcomer starts it (issue 18): the line saying where it serves
comes once it listens and names the login; a port in use is one line; a password changed
on the command line works at once in the running server.

Each test starts real ``serve`` processes on free loopback ports and stops every one.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from proxy_helpers import free_port
from test_cli import assert_one_line_error, run

from support.forked_cli import run_issuesync

ADMIN_PASSWORD = "admin-pw"  # what test_cli.run sets
SERVING = "serving on http://127.0.0.1:"


def basic(user: str, password: str, scheme: str = "Basic") -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"{scheme} {encoded}"}


class Serve:
    """One ``issuesync serve`` process; its stderr in a file, read as it grows."""

    def __init__(self, home: Path, port: int, log: Path, *args: str, **env: str) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")}
        environment |= {
            "ISSUESYNC_HOME": str(home),
            "ISSUESYNC_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ISSUESYNC_PORT": str(port),
            **env,
        }
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.out = log.with_suffix(".out")
        with log.open("wb") as sink, self.out.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own entry point
                [sys.executable, "-m", "issuesync", "serve", *args],
                env=environment,
                stdout=out,
                stderr=sink,
            )

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def serving_line(self, timeout: float = 90.0) -> str:
        """The "serving on" line, once the server printed it (failing after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.stderr().splitlines() if line.startswith(SERVING)]
            if found:
                return found[0]
            if self.process.poll() is not None:
                pytest.fail(f"serve ended ({self.process.returncode}): {self.stderr()}")
            time.sleep(0.1)
        pytest.fail(f"serve said nothing of serving within {timeout}s: {self.stderr()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def servers() -> Iterator[list[Serve]]:
    """The servers a test starts; every one is stopped after it."""
    started: list[Serve] = []
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def test_the_serving_line_comes_once_it_listens_and_says_where_the_password_is(
    tmp_path: Path, servers: list[Serve]
) -> None:
    home = tmp_path / "home"
    first = run(home, "db", "upgrade", env={"ISSUESYNC_ADMIN_PASSWORD": ""})
    assert first.returncode == 0, first.stderr
    kept = home / "initial-admin-password"
    server = Serve(home, free_port(), tmp_path / "serve.log", ISSUESYNC_ADMIN_PASSWORD="")
    servers.append(server)
    line = server.serving_line()
    # Printed once the socket listens: the first request needs no retry.
    assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
    assert (
        line == f"{SERVING}{server.url.rsplit(':', 1)[1]} (dashboard: {server.url}/ui/); "
        f'log in as "admin" with the password in {kept}'
    )
    lines = server.stderr().splitlines()
    at = lines.index(line)
    assert any("Application startup complete" in x for x in lines[:at])  # uvicorn's, before it
    assert lines[at - 1] == ""  # a blank line around it, to find it among the logs
    assert lines[at + 1 : at + 2] in ([], [""])
    password = kept.read_text().strip()
    me = httpx.get(f"{server.url}/rest/api/2/myself", headers=basic("admin", password), timeout=30)
    assert me.status_code == 200, me.text
    server.stop()
    assert server.out.read_text() == ""  # notices are all on stderr
    assert "warning" not in server.stderr()


def test_several_workers_answer_the_first_request_after_the_serving_line(
    tmp_path: Path, servers: list[Serve]
) -> None:
    home = tmp_path / "home"
    assert run(home, "db", "upgrade").returncode == 0
    server = Serve(home, free_port(), tmp_path / "serve.log", "--workers", "2")
    servers.append(server)
    line = server.serving_line()
    assert line.endswith('log in as "admin" with the password in ISSUESYNC_ADMIN_PASSWORD')
    # The socket listens before the workers start: the request waits for one, unrefused.
    assert httpx.get(f"{server.url}/healthz", timeout=90).status_code == 200


def test_a_port_in_use_is_one_line_and_nothing_is_created(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(home, "serve", env={"ISSUESYNC_PORT": str(port)})
        flag = run(home, "serve", "--port", str(port))
    for refused in (result, flag):
        assert_one_line_error(refused, "")
        assert refused.stderr == (
            f"error: port {port} is in use; set ISSUESYNC_PORT or stop the other process\n"
        )
        assert "Errno" not in refused.stderr
    assert not home.exists()


def test_a_password_set_while_the_server_runs_works_at_once_and_a_stale_variable_is_named(
    tmp_path: Path, servers: list[Serve]
) -> None:
    home = tmp_path / "home"
    assert run(home, "db", "upgrade").returncode == 0
    server = Serve(home, free_port(), tmp_path / "serve.log")
    servers.append(server)
    line = server.serving_line()
    assert line.endswith('log in as "admin" with the password in ISSUESYNC_ADMIN_PASSWORD')
    assert "warning" not in server.stderr()
    client = httpx.Client(base_url=server.url, timeout=30)
    try:
        old = basic("admin", ADMIN_PASSWORD)
        assert client.get("/rest/api/2/myself", headers=old).status_code == 200

        changed = run_issuesync(
            ("user", "password", "admin", "--password-stdin"),
            {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")}
            | {"ISSUESYNC_HOME": str(home), "ISSUESYNC_ADMIN_PASSWORD": ADMIN_PASSWORD},
            input="changed while serving\n",
        )
        assert changed.returncode == 0, changed.stderr
        new = basic("admin", "changed while serving")
        assert client.get("/rest/api/2/myself", headers=new).status_code == 200
        # The old password, checked again (a header spelt otherwise is not remembered).
        stale = basic("admin", ADMIN_PASSWORD, scheme="basic")
        assert client.get("/rest/api/2/myself", headers=stale).status_code == 401
    finally:
        client.close()
    server.stop()

    # ISSUESYNC_ADMIN_PASSWORD still says the old one: the next start warns, once.
    again = Serve(home, free_port(), tmp_path / "again.log")
    servers.append(again)
    line = again.serving_line()
    warnings = [x for x in again.stderr().splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1
    assert warnings[0].startswith(
        'warning: ISSUESYNC_ADMIN_PASSWORD is set but the stored password of "admin" differs; '
        "it is used only when the admin is created. To set it: "
    )
    assert warnings[0].endswith(" user password admin")
    assert line.endswith(
        'log in as "admin" (to set its password: python -m issuesync user password admin)'
    )
