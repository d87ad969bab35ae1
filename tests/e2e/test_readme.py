"""The README as a newcomer runs it, top to bottom, in order, as written.

First `make run` (the first of the README's two commands), stopped with Ctrl-C once it
serves; then every ```` ```sh ```` block after the two commands, in order, in one shell,
in a folder laid out as the checkout is (its Makefile, pyproject.toml and .venv), with a
fresh `.issuesync` home. Blocks fenced ```` ```text ```` or ```` ```console ```` are
illustrations and are not run. Every `curl` in the walkthrough fails the run on an HTTP
error (the harness adds `--fail-with-body`), so a 401 or a 409 anywhere fails this test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
WALKTHROUGH_TIMEOUT_S = 300

# What the harness puts before the README's blocks: stop at the first failing command,
# and make an HTTP error a failing command.
PREAMBLE = """\
set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
"""


def sh_blocks(text: str) -> list[str]:
    """The README's ```` ```sh ```` blocks, in order."""
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder that looks like a fresh checkout after `make install`: the real Makefile,
    pyproject.toml and .venv, and no `.issuesync` yet."""
    stamp = REPO / ".venv" / ".installed"
    if not stamp.exists() or stamp.stat().st_mtime < (REPO / "pyproject.toml").stat().st_mtime:
        # make would install again, from this folder: run `make install` first.
        pytest.skip("needs the checkout's .venv, up to date (`make install`; make test does it)")
    folder = tmp_path / "checkout"
    folder.mkdir()
    for name in ("Makefile", "pyproject.toml", ".venv"):
        (folder / name).symlink_to(REPO / name)
    return folder


@pytest.fixture
def environment() -> dict[str, str]:
    """The user's environment: nothing of issuesync's set but a free port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")}
    return env | {"ISSUESYNC_PORT": str(free_port())}


@pytest.fixture
def sessions() -> Iterator[list[subprocess.Popen[str]]]:
    """Process groups a test starts; each is stopped (SIGTERM, then SIGKILL) at the end."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        stop_group(process, signal.SIGTERM)


def stop_group(process: subprocess.Popen[str], sig: int) -> None:
    """Signal the process's whole group (make, the server it started, a server the
    walkthrough left in the background) and wait until none of it is left."""
    deadline = time.monotonic() + 30
    try:
        os.killpg(process.pid, sig)
        while time.monotonic() < deadline:
            os.killpg(process.pid, 0)  # raises once the group is gone
            process.poll()
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


def wait_until_serving(url: str, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"make run exited with {process.returncode} before serving:\n{output}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"make run did not serve on {url} within {timeout} s")


@pytest.mark.timeout(WALKTHROUGH_TIMEOUT_S + 180)
def test_the_readme_runs_top_to_bottom_on_a_fresh_home(
    checkout: Path, environment: dict[str, str], sessions: list[subprocess.Popen[str]]
) -> None:
    url = f"http://127.0.0.1:{environment['ISSUESYNC_PORT']}"

    # 1. The first command, as a newcomer runs it, then Ctrl-C.
    first = subprocess.Popen(
        ["make", "run"],  # noqa: S607 - the README's command, found on PATH as a user's is
        cwd=checkout,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    sessions.append(first)
    wait_until_serving(url, first, timeout=120)
    stop_group(first, signal.SIGINT)
    assert first.stdout is not None
    output = first.stdout.read()
    password_file = checkout / ".issuesync" / "initial-admin-password"
    assert password_file.exists(), output
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    # The one line a newcomer needs is the last before the server's log (its lines are
    # JSON here: the output is a pipe, not a terminal).
    before_log = output.split('"GET /healthz')[0].rstrip().splitlines()
    logged = ("INFO:", "make", '{"timestamp"')
    needed = [line for line in before_log if line.strip() and not line.startswith(logged)][-1]
    assert url in needed, output
    assert "admin" in needed, output
    assert str(password_file.relative_to(checkout)) in needed, output

    # 2. Every sh block after the two commands, in order, in one shell.
    blocks = sh_blocks(README.read_text(encoding="utf-8"))
    assert blocks[0].lstrip().startswith("make run"), "the README starts with the two commands"
    script = PREAMBLE + "\n".join(blocks[1:])
    # To a file: the server the walkthrough leaves running keeps a pipe open forever.
    log = checkout.parent / "walkthrough.log"
    with log.open("w") as out:
        walk = subprocess.Popen(  # noqa: S603 - the README's own blocks
            ["bash", "-c", script],  # noqa: S607 - bash from PATH, as the reader's shell
            cwd=checkout,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        sessions.append(walk)
        try:
            walk.wait(timeout=WALKTHROUGH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            stop_group(walk, signal.SIGTERM)
            pytest.fail(
                f"the walkthrough did not finish within {WALKTHROUGH_TIMEOUT_S} s:\n"
                + log.read_text()
            )
    transcript = log.read_text()
    assert walk.returncode == 0, transcript

    # What the walkthrough says happens, happened.
    assert "INT-1 with connectors PA-1 and PB-2" in transcript, transcript
    assert '"summary":"Checkout fails on Safari"' in transcript, transcript
    assert '"body":"Seen here too."' in transcript, transcript
    assert '{"success":true}' in transcript, transcript  # the connection test
    assert "Jira: 1 created" in transcript, transcript  # the connection's job
    assert '"summary":"PE-1 Rotate the keys"' in transcript, transcript
    assert "Disk full on db-2" in transcript, transcript
    assert '"name":"admin"' in transcript, transcript  # /myself with the token from the CLI
