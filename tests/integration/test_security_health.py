"""Nothing freezes, and health tells the truth (issue 16).

- A process holding the write turn (``issuesync.db.writelock``) or SQLite's own
  lock makes writers fail within the bounded wait (``ISSUESYNC_WRITE_WAIT_MS``)
  with 503 and ``Retry-After`` in each dialect's error shape, the CLI prints one
  line and exits 75, and ``/healthz`` answers at once, even with the thread pool
  full; once the holder goes, writes work and the health is ok again.
- PostgreSQL's lock timeouts, statement timeouts and lost connections are the
  same retryable error.
- On a really full disk (a tmpfs), ``/healthz``, the Backbone status and the
  CLI's ``integration show`` say so; with space again they recover.

The holders are real processes (``flock`` on the lock file; ``sqlite3`` in
``BEGIN IMMEDIATE``), released by closing their standard input.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fuzz_helpers import make_fuzz_world
from pydantic import SecretStr
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sync_helpers import local_body, wait_for
from test_cli import basic, run
from tracker_helpers import API, create_issue, create_project

from issuesync.accounts import NewUser, create_token, create_user
from issuesync.api.backbone.errors import BACKBONE
from issuesync.api.jira.errors import JIRA
from issuesync.app import bootstrap, build_services, create_app, install_engine
from issuesync.application.integrations import set_running
from issuesync.config import Settings
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.errors import BusyError
from issuesync.services import Services
from issuesync.store.db import BUSY, UNREACHABLE, database_failure
from issuesync.store.uow import WriterLock
from issuesync.testing.server import LiveServer
from support import fulldisk

PASSWORD = "admin-secret"
WAIT_MS = 1500  # the bounded wait of these tests
ANSWERS_S = 10.0  # "answers at all": a guard against a hang, not a timing

HOLD_FLOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""
HOLD_SQLITE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def holding(script: str, path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holds a lock on ``path`` until the block ends."""
    holder = subprocess.Popen(  # noqa: S603 - this interpreter, a script of this file
        [sys.executable, "-c", script, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        try:
            holder.wait(10)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait(10)


@dataclass
class Served:
    services: Services
    client: httpx.Client
    home: Path

    @property
    def database(self) -> Path:
        return self.home / "issuesync.db"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run(self.home, *args, env={"ISSUESYNC_WRITE_WAIT_MS": str(WAIT_MS)})

    def two_projects_and_a_sync_user(self) -> None:
        create_project(self.client, "PA")
        create_project(self.client, "PB")
        create_user(
            self.services.uow_factory,
            NewUser(name="backbone", email="bb@example.test", password="backbone"),
        )


def serve(home: Path, live_server: LiveServer, *, engine: bool = False, **extra: Any) -> Served:
    """A server on ``home`` (its SQLite database inside), the bounded wait short."""
    settings = Settings(
        home=home,
        admin_user="admin",
        admin_password=SecretStr(PASSWORD),
        base_url=live_server.url,
        write_wait_ms=WAIT_MS,
        **extra,
    )
    services = build_services(settings)
    bootstrap(services)
    app = create_app(services)
    if engine:
        install_engine(app, services)
    live_server.start(app)
    client = httpx.Client(base_url=live_server.url, auth=("admin", PASSWORD), timeout=ANSWERS_S)
    return Served(services, client, home)


@pytest.fixture
def served(tmp_path: Path, sqlite_template: Path, live_server: LiveServer) -> Iterator[Served]:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(sqlite_template, home / "issuesync.db")
    found = serve(home, live_server)
    yield found
    found.client.close()
    live_server.stop()
    found.services.close()


def new_issue(summary: str = "An issue") -> dict[str, object]:
    return {"fields": {"project": {"key": "PA"}, "summary": summary, "issuetype": {"name": "Task"}}}


def assert_busy(response: httpx.Response, *, names: str, status: int = 503) -> str:
    """A 503 (507: a full disk) with Retry-After whose message names the cause; returns
    the message."""
    assert response.status_code == status, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert "Traceback" not in response.text
    body = response.json()
    if "errorMessages" in body:  # Jira's shape
        assert body["errors"] == {}
        (message,) = body["errorMessages"]
    else:  # Backbone's shape
        assert body["status-code"] == status
        message = body["message"]
    assert names in message, message
    assert "nothing was changed" in message
    return str(message)


def healthz(client: httpx.Client) -> httpx.Response:
    return client.get("/healthz", auth=None)


def assert_failing(served: Served, area: str, names: str) -> None:
    response = healthz(served.client)
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["status"] == "failing"
    reasons = {p["area"]: p["reason"] for p in body["problems"]}
    assert names in reasons.get(area, ""), body


def assert_healthy(served: Served) -> None:
    response = healthz(served.client)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
    assert not response.json().get("problems")


# -- a held write turn ------------------------------------------------------------------------


def test_a_held_write_turn_fails_writes_cleanly_in_every_dialect_then_they_work_again(
    served: Served,
) -> None:
    client = served.client
    served.two_projects_and_a_sync_user()
    assert_healthy(served)
    lock = served.home / "issuesync.db.writelock"
    token = create_token(served.services.uow_factory, "admin")
    with holding(HOLD_FLOCK, lock) as holder:
        message = assert_busy(client.post(f"{API}/issue", json=new_issue()), names="write turn")
        assert f"process {holder.pid}" in message  # who holds it: a stopped worker, say
        assert_busy(client.post("/api/1/integrations", json=local_body()), names="write turn")
        # Reads do not need the turn, with an API token either (its last use is not
        # recorded while the turn is taken: that write is worth no wait).
        assert client.get(f"{API}/project/PA").status_code == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get(f"{API}/myself", headers=bearer, auth=None).status_code == 200
        assert_failing(served, "writes", "write turn")
        # The CLI: one line, exit 75 (EX_TEMPFAIL: a script may retry).
        result = served.cli("user", "create", "carol", "--password", "carol-pw")
        assert result.returncode == 75, result.stderr
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: The store is busy"), line
    key = create_issue(client, "PA", "after the holder went")
    assert key == "PA-1"  # the refused one changed nothing
    assert client.post("/api/1/integrations", json=local_body()).status_code == 200
    assert_healthy(served)
    assert served.cli("user", "create", "carol", "--password", "carol-pw").returncode == 0


def test_healthz_answers_while_every_thread_of_the_pool_waits_for_the_store(
    served: Served,
) -> None:
    client = served.client
    create_project(client, "PA")
    answers: list[int] = []

    def write() -> None:
        with httpx.Client(base_url=str(client.base_url), auth=("admin", PASSWORD)) as own:
            answers.append(own.post(f"{API}/issue", json=new_issue(), timeout=60).status_code)

    with holding(HOLD_FLOCK, served.home / "issuesync.db.writelock"):
        # Three writers per thread of the pool (it has 40): it stays full for three waits.
        writers = [threading.Thread(target=write) for _ in range(120)]
        for writer in writers:
            writer.start()
        # Every answer comes at once (a hang raises); once the first writers' waits have
        # run out (WAIT_MS), it says failing, while the pool is still full of waiting writers.
        deadline = time.monotonic() + 10
        while True:
            started = time.monotonic()
            response = client.get("/healthz", auth=None, timeout=3)  # a hang raises here
            assert time.monotonic() - started < 3
            if response.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert response.status_code == 503
        for writer in writers:
            writer.join(60)
    assert answers
    assert set(answers) <= {503, 201}
    assert 503 in answers  # they failed cleanly, without a hang


TURNS = 20
TAKE_TURNS = f"""
import sys
from pathlib import Path
from issuesync.store.uow import WriterLock
lock = WriterLock(Path(sys.argv[1]), wait_ms=3000)
print("ready", flush=True)
for turn in range({TURNS}):
    lock.acquire()  # raises BusyError after 3 s without a turn
    lock.release()
print("done", flush=True)
"""


def test_a_busy_process_lets_a_waiting_one_take_turns(tmp_path: Path) -> None:
    """Processes alternate: a waiting one is not left to find the turn free by chance
    while a busy one writes back to back (as a busy engine does)."""
    path = tmp_path / "issuesync.db.writelock"
    busy = WriterLock(path, wait_ms=3000)
    waiting = subprocess.Popen(  # noqa: S603 - this interpreter, a script of this file
        [sys.executable, "-c", TAKE_TURNS, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    turns = 0
    try:
        assert waiting.stdout is not None
        assert waiting.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60  # a guard: it ends long before
        while waiting.poll() is None and time.monotonic() < deadline:
            busy.acquire()
            time.sleep(0.005)
            busy.release()
            turns += 1
        output = waiting.stdout.read()
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait(10)
        busy.close()
    assert waiting.returncode == 0, output  # not starved into a BusyError
    assert "done" in output
    # Taking turns: the busy process wrote a few times for each of the other's turns,
    # not hundreds (it would find the lock free only by chance between two writes).
    assert turns <= 10 * TURNS, turns


# -- SQLite's own lock, held by another program ----------------------------------------------


def test_sqlite_locked_by_another_process_is_a_503_naming_it_and_reads_go_on(
    served: Served,
) -> None:
    client = served.client
    create_project(client, "PA")
    first = create_issue(client, "PA", "before")
    with holding(HOLD_SQLITE, served.database):
        assert_busy(client.post(f"{API}/issue", json=new_issue()), names="database is locked")
        assert_busy(
            client.put(f"{API}/issue/{first}", json={"fields": {"summary": "changed"}}),
            names="database is locked",
        )
        assert client.get(f"{API}/issue/{first}").json()["fields"]["summary"] == "before"
        assert_failing(served, "writes", "database is locked")
        result = served.cli("user", "create", "dave", "--password", "dave-pw")
        assert result.returncode == 75, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert "database is locked" in line, line
    assert create_issue(client, "PA", "after") == "PA-2"
    assert_healthy(served)


# -- PostgreSQL ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_postgres_row_lock_held_too_long_is_a_503_and_then_writes_work(
    tmp_path: Path, postgres_url: str, live_server: LiveServer
) -> None:
    found = serve(tmp_path / "home", live_server, database_url=postgres_url)
    try:
        client = found.client
        create_project(client, "PA")
        libpq = make_url(postgres_url).set(drivername="postgresql")
        with psycopg.connect(libpq.render_as_string(hide_password=False)) as other:
            other.execute("SELECT 1 FROM tracker_projects WHERE key = 'PA' FOR UPDATE")
            response = client.post(f"{API}/issue", json=new_issue())
            assert_busy(response, names="locked by another session")
            assert_failing(found, "writes", "locked by another session")
            other.rollback()
        assert create_issue(client, "PA") == "PA-1"
        assert_healthy(found)
        # An API-only process learns that its database does not answer reads from
        # its probe (every 5 s), without a request failing first.
        with psycopg.connect(libpq.render_as_string(hide_password=False)) as other:
            other.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
            wait_for("the probe to fail", lambda: healthz(client).status_code == 503, 20)
            assert_failing(found, "database", "reads fail")
            other.rollback()
        wait_for("the probe to recover", lambda: healthz(client).status_code == 200, 20)
    finally:
        found.client.close()
        live_server.stop()
        found.services.close()


def test_database_failures_are_told_apart_from_real_exceptions(
    tmp_path: Path, postgres_url: str
) -> None:
    database = tmp_path / "locked.db"
    engine = create_engine(f"sqlite:///{database}", connect_args={"timeout": 0})
    with engine.connect() as holder, engine.connect() as waiter:
        holder.exec_driver_sql("BEGIN IMMEDIATE")
        with pytest.raises(DBAPIError) as locked:
            waiter.exec_driver_sql("BEGIN IMMEDIATE")
        holder.exec_driver_sql("ROLLBACK")
    engine.dispose()
    failure = database_failure(locked.value)
    assert failure is not None
    assert failure.kind == BUSY
    assert isinstance(failure.error(), BusyError)

    nobody = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/test", connect_args={"connect_timeout": 2}
    )
    with pytest.raises(DBAPIError) as unreachable:
        nobody.connect()
    nobody.dispose()
    failure = database_failure(unreachable.value)
    assert failure is not None
    assert failure.kind == UNREACHABLE
    assert JIRA.status(failure.error()) == BACKBONE.status(failure.error()) == 503
    assert "127.0.0.1" not in failure.error().message  # the driver's text stays in `detail`

    slow = create_engine(postgres_url)
    with slow.connect() as connection:
        connection.execute(text("SET statement_timeout = 50"))
        with pytest.raises(DBAPIError) as cancelled:
            connection.execute(text("SELECT pg_sleep(2)"))
    slow.dispose()
    failure = database_failure(cancelled.value)
    assert failure is not None
    assert failure.kind == BUSY
    assert "statement_timeout" in failure.reason


# -- a really full disk ----------------------------------------------------------------------


def test_a_full_disk_shows_in_healthz_the_status_and_the_cli_and_clears_with_space(
    tmp_path: Path, sqlite_template: Path, live_server: LiveServer
) -> None:
    fulldisk.require()
    disk = fulldisk.FullDisk(tmp_path / "home", size="24m")
    disk.mount()
    found: Served | None = None
    try:
        shutil.copyfile(sqlite_template, disk.path / "issuesync.db")
        found = serve(disk.path, live_server, engine=True, engine_lease_ms=5000)
        client = found.client
        found.two_projects_and_a_sync_user()
        created = client.post("/api/1/integrations", json=local_body(outgoingInterval="1s"))
        assert created.status_code == 200, created.text
        assert client.put("/api/1/integrations/INT-1/start").status_code == 200
        create_issue(client, "PA", "before the disk filled")
        wait_for("the first twin", lambda: _summaries(client, "PB") == {"before the disk filled"})
        assert_healthy(found)

        disk.fill()
        assert disk.available == 0
        # The engine's writes fail (each second): the health says so, and why.
        wait_for("/healthz to fail", lambda: healthz(client).status_code == 503, timeout=20)
        # A write answers a clean error: 507, nothing stored.
        response = client.post(f"{API}/issue", json=new_issue("on a full disk"))
        assert_busy(response, names="disk of the database is full", status=507)
        body = healthz(client).json()
        assert body["status"] == "failing"
        areas = {p["area"]: p for p in body["problems"]}
        assert "disk of the database is full" in areas["writes"]["reason"]
        wait_for("the engine's failure", lambda: "engine" in _areas(client))
        assert "cannot refresh its connectors" in _areas(client)["engine"]["reason"]

        def details() -> str:
            status = client.get("/api/1/integrations/INT-1/status")
            assert status.status_code == 200, status.text
            first = status.json()["firstConnector"]
            return f"{first['incomingDetails']} {first['outgoingDetails']}"

        wait_for("the status to show it", lambda: "disk of the database is full" in details())
        listed = client.get("/api/1/integrations").json()[0]["status"]["secondConnector"]
        assert "disk of the database is full" in listed["incomingDetails"]
        # The CLI reads what the live engines of the home publish (on the full disk too).
        shown = found.cli("integration", "show", "INT-1")
        assert shown.returncode == 0, shown.stderr
        assert "disk of the database is full" in shown.stdout
        assert "database or disk is full" in shown.stdout  # the operator sees SQLite's words

        disk.free()
        wait_for("/healthz to recover", lambda: healthz(client).status_code == 200)
        wait_for("the status to recover", lambda: "issuesync is failing" not in details())
        create_issue(client, "PA", "with space again")
        wait_for("a twin after", lambda: "with space again" in _summaries(client, "PB"))
        assert "issuesync is failing" not in found.cli("integration", "show", "INT-1").stdout
    finally:
        live_server.stop()
        if found is not None:
            found.client.close()
            found.services.close()
        disk.unmount()


def _summaries(client: httpx.Client, project: str) -> set[str]:
    response = client.get(f"{API}/search", params={"jql": f"project = {project}"})
    assert response.status_code == 200, response.text
    return {issue["fields"]["summary"] for issue in response.json()["issues"]}


def _areas(client: httpx.Client) -> dict[str, dict[str, Any]]:
    return {p["area"]: p for p in healthz(client).json()["problems"]}


def test_an_engine_stops_cleanly_on_a_full_disk(tmp_path: Path) -> None:
    """What it cannot write while it stops (a cursor, its leases) is not lost: it says so
    and stops; the leases lapse for the next engine."""
    with fulldisk.full_disk(tmp_path / "home", size="24m") as disk:
        services = build_services(
            Settings(home=disk.path, admin_password=SecretStr(PASSWORD), write_wait_ms=WAIT_MS)
        )
        try:
            bootstrap(services)
            make_fuzz_world(services, basic("admin", PASSWORD))  # INT-1: PA <> PB
            with services.uow_factory() as uow:
                set_running(uow.session, "INT-1", running=True, actor="admin")
                uow.commit()
            engine = SyncRunner(services, backoff_ms=0, deletion_check_ms=0)
            engine.step()
            assert engine.routes(), "the engine took its connectors"
            disk.fill()
            engine.stop()  # no exception: a shutdown on a full disk still shuts down
            assert not engine.routes()
        finally:
            services.close()
