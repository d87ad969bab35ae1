"""A real Redmine for tests: Debian's package, started from a copy of a prepared template.

``scripts/redmine/install`` installs Debian's ``redmine`` and prepares the
template (``$ISSUESYNC_REDMINE_HOME``, default ``/var/lib/issuesync-redmine``):
a database with the default data, the REST API and ``login_required`` on, an
administrator and a user ``sync`` with known API keys. :func:`start_redmine`
makes a Redmine instance from a fresh copy of it, starts it (WEBrick) on a free
port of 127.0.0.1, waits until it answers, and :meth:`RedmineServer.stop` ends
its process group and removes the copy. A start takes about 8 s and 170 MB.

:func:`shared_redmine` gives one server per process (one per pytest-xdist
worker), counted, so that every test module's session fixture shares it and the
last release stops it::

    @pytest.fixture(scope="session")
    def redmine() -> Iterator[RedmineServer]:
        yield from redmine_session()

:func:`redmine_session` skips (:func:`unavailable` says why) where Redmine is not
installed, unless ``ISSUESYNC_TEST_REDMINE=1`` says it must be there (CI): then
the tests fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx
import pytest

REDMINE_DIR: Final = Path("/usr/share/redmine")
INSTANCES_LINK: Final = "issuesync"  # /var/lib/redmine/issuesync -> $HOME/instances
START_TIMEOUT_S: Final = 90.0
STOP_TIMEOUT_S: Final = 15.0
SYNC_LOGIN: Final = "sync"  # scripts/redmine/install's sync user
RUBY: Final = "/usr/bin/ruby"


def home() -> Path:
    """Where the install script keeps the template and the keys."""
    return Path(os.environ.get("ISSUESYNC_REDMINE_HOME", "/var/lib/issuesync-redmine"))


def required() -> bool:
    """Whether the environment says the Redmine tests must run (``ISSUESYNC_TEST_REDMINE=1``)."""
    return os.environ.get("ISSUESYNC_TEST_REDMINE", "") not in {"", "0"}


def unavailable() -> str | None:
    """Why a Redmine cannot be started here, or None when it can."""
    template = home() / "template.sqlite3"
    if not (REDMINE_DIR / "bin" / "rails").exists():
        return "Redmine is not installed: run scripts/redmine/install (make redmine) as root"
    if not template.exists():
        return f"no Redmine template at {template}: run scripts/redmine/install"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _bundler_version() -> str:
    """Debian's bundler (ruby-bundler), which sees Debian's gems; Ruby's own newer one does not."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "ruby-bundler"],  # noqa: S607 - Debian's tool
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    return out.split("-", 1)[0]


@dataclass
class RedmineServer:
    """One running Redmine, on its own copy of the template."""

    name: str
    directory: Path
    port: int
    admin_key: str
    sync_key: str
    process: subprocess.Popen[bytes] | None = None
    _projects: int = field(default=0)

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def admin(self) -> httpx.Client:
        """An HTTP client acting as the administrator (close it)."""
        return httpx.Client(
            base_url=self.url, headers={"X-Redmine-API-Key": self.admin_key}, timeout=30.0
        )

    def new_project(self, role: str = "Manager", identifier: str | None = None) -> str:
        """A fresh project (every tracker) with the sync user as a member in ``role``."""
        self._projects += 1
        identifier = identifier or f"p{self._projects}-{uuid.uuid4().hex[:8]}"
        with self.admin() as admin:
            made = admin.post(
                "/projects.json",
                json={"project": {"name": f"Project {identifier}", "identifier": identifier}},
            )
            made.raise_for_status()
            roles = {r["name"]: r["id"] for r in admin.get("/roles.json").json()["roles"]}
            users = admin.get("/users.json", params={"name": SYNC_LOGIN}).json()["users"]
            sync_id = next(u["id"] for u in users if u["login"] == SYNC_LOGIN)
            member = admin.post(
                f"/projects/{identifier}/memberships.json",
                json={"membership": {"user_id": sync_id, "role_ids": [roles[role]]}},
            )
            member.raise_for_status()
        return identifier

    def start(self) -> None:
        """Start (or start again) the server process and wait until it answers.

        Raises:
            RuntimeError: it exited or did not answer in time (with its log's end).
        """
        env = {
            **os.environ,
            "REDMINE_INSTANCE": f"{INSTANCES_LINK}/{self.name}",
            "RAILS_ENV": "production",
            "BUNDLER_VERSION": _bundler_version(),
        }
        log = (self.directory / "log" / "server.out").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [
                RUBY,
                "bin/rails",
                "server",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-e",
                "production",
                "-P",
                str(self.directory / "tmp" / "server.pid"),
            ],
            cwd=REDMINE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Redmine exited ({self.process.returncode}): {self._log_end()}")
            with contextlib.suppress(httpx.TransportError):
                answer = httpx.get(
                    f"{self.url}/issue_statuses.json",
                    headers={"X-Redmine-API-Key": self.admin_key},
                    timeout=2.0,
                )
                if answer.status_code == httpx.codes.OK:
                    return
            time.sleep(0.2)
        self.stop(remove=False)
        raise RuntimeError(f"Redmine did not answer in {START_TIMEOUT_S:.0f} s: {self._log_end()}")

    def stop(self, *, remove: bool = True) -> None:
        """Stop the process group; with ``remove``, delete the instance's copy too."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_S)
        (self.directory / "tmp" / "server.pid").unlink(missing_ok=True)
        if remove:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _log_end(self) -> str:
        try:
            text = (self.directory / "log" / "server.out").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-2000:]


def start_redmine(name: str | None = None) -> RedmineServer:
    """A Redmine on a fresh copy of the template, started and answering.

    Raises:
        RuntimeError: Redmine is not installed or did not start.
    """
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    remove_orphans()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = name or f"run-{worker}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    directory = home() / "instances" / name
    for part in ("config", "files", "log", "tmp", "public"):
        (directory / part).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(home() / "template.sqlite3", directory / "db.sqlite3")
    (directory / "config" / "database.yml").write_text(
        "production:\n  adapter: sqlite3\n"
        f"  database: {directory / 'db.sqlite3'}\n  encoding: utf8\n  timeout: 10000\n"
    )
    (directory / "config" / "secret_key.txt").write_text(uuid.uuid4().hex + uuid.uuid4().hex)
    server = RedmineServer(
        name=name,
        directory=directory,
        port=_free_port(),
        admin_key=(home() / "admin-api-key").read_text().strip(),
        sync_key=(home() / "sync-api-key").read_text().strip(),
    )
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_orphans() -> None:
    """Stop and remove the instances of test processes that died without stopping them.

    An instance is ``run-<worker>-<pid>-<suffix>``; when process ``pid`` is gone (a
    killed test run), its Redmine (its own process group, named in ``tmp/server.pid``)
    is stopped and its copy removed.
    """
    for directory in (home() / "instances").glob("run-*-*-*"):
        owner = directory.name.split("-")[2]
        if not owner.isdigit() or _alive(int(owner)):
            continue
        pid_file = directory / "tmp" / "server.pid"
        with contextlib.suppress(OSError, ValueError):
            server = int(pid_file.read_text().strip())
            command = Path(f"/proc/{server}/cmdline").read_bytes()
            if b"rails" in command and str(pid_file).encode() in command:  # ours, not a reuse
                os.killpg(os.getpgid(server), signal.SIGTERM)
        shutil.rmtree(directory, ignore_errors=True)


_shared: RedmineServer | None = None
_users = 0
_lock = threading.Lock()


@contextlib.contextmanager
def shared_redmine() -> Iterator[RedmineServer]:
    """This process's Redmine, started on first use and stopped when the last user leaves."""
    global _shared, _users  # noqa: PLW0603 - one server per process, counted
    with _lock:
        if _shared is None:
            _shared = start_redmine()
        _users += 1
        server = _shared
    try:
        yield server
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _shared is not None:
                _shared.stop()
                _shared = None


def redmine_session() -> Iterator[RedmineServer]:
    """The body of a session fixture: the shared server, or a skip with the reason."""
    reason = unavailable()
    if reason is not None and not required():
        pytest.skip(reason)
    with shared_redmine() as server:
        yield server
