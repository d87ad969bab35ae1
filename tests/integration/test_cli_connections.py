"""``issuesync tracker-connector …`` and ``issuesync connection …`` as an operator types them.

The commands run in this process, through the CLI's entry point with CliRunner's streams
(a process of its own costs 1.6 s to start); one runs as a real process. The tracker is
issuesync's own built-in tracker served on 127.0.0.1 and reached through the ``jira``
adapter (project PB), as a Jira Server would be; the connection's project is PA.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from connections_helpers import SYNC_PASSWORD, projects_and_sync_user
from test_cli import assert_one_line_error, run
from tracker_helpers import create_issue, create_project, fields_of, search_keys
from typer.testing import CliRunner

from conftest import ADMIN_PASSWORD
from issuesync.cli import home as cli_home
from issuesync.cli import main
from issuesync.engine.runtime.jobs import ConnectionJobs
from issuesync.services import Services

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def tracker(services: Services, admin: httpx.Client) -> httpx.Client:
    """PA (the connections' project), PB (the tracker's, over the Jira API), the sync user."""
    projects_and_sync_user(services, admin)
    return admin


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def cli(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """Run ``issuesync ARGS`` in this process on the services' home and database."""
    settings = services.settings
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ISSUESYNC_")}
    env |= {
        "ISSUESYNC_HOME": str(settings.home),
        "ISSUESYNC_DATABASE_URL": settings.resolved_database_url,
        "ISSUESYNC_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ISSUESYNC_BASE_URL": settings.base_url,
    }
    monkeypatch.setattr(cli_home.out, "_width", 250)  # tables unwrapped, as COLUMNS=250 would
    store_log = logging.getLogger("issuesync.store")
    handlers = list(store_log.handlers)
    runner = CliRunner()

    def invoke(
        *args: str, stdin: str | None = None, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        monkeypatch.setattr(sys, "argv", ["issuesync", *args])
        umask = os.umask(0o077)  # main() sets the process's; the tests' is put back
        with runner.isolation(input=stdin, env=env | (extra or {})) as (stdout, stderr, _):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os.umask(umask)
            said = (stdout.getvalue().decode(), stderr.getvalue().decode())
        return subprocess.CompletedProcess(list(args), code, *said)

    yield invoke
    store_log.handlers[:] = handlers  # main() adds its NullHandler on each call


TO_PB = ("connection", "add", "To PB")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def add_connector(cli: Cli, server: str, secret: str = SYNC_PASSWORD) -> str:
    host = server.removeprefix("http://")
    return ok(
        cli(
            *("tracker-connector", "add", "Local Jira", "--system", "jira", "--server", host),
            *("--method", "http", "--user", "jirasync", "--password-stdin"),
            stdin=f"{secret}\n",
        )
    )


def row_of(table: str, first_cell: str) -> list[str]:
    """The cells of the table's row that starts with ``first_cell``."""
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell} in:\n{table}")


def test_a_tracker_connectors_secret_is_never_shown_nor_stored_in_clear(
    services: Services, cli: Cli, server: str
) -> None:
    added = add_connector(cli, server)
    assert "Created tracker connector 1 'Local Jira' (jira at http://127.0.0.1:" in added
    assert SYNC_PASSWORD not in added
    from_env = ("tracker-connector", "add", "Hub", "--system", "github", "--auth-mode", "token")
    ok(cli(*from_env, "--server", "api.github.com", extra={"ISSUESYNC_TRACKER_SECRET": "tok-4711"}))
    assert row_of(ok(cli("tracker-connector", "list")), "2")[-2:] == ["-", "yes"]
    assert row_of(ok(cli("tracker-connector", "list")), "1")[1:] == [
        "Local Jira",
        "jira",
        server,
        "jirasync",
        "yes",
    ]
    shown = ok(cli("tracker-connector", "show", "1"))
    assert "secret stored  yes" in shown
    assert "connections    none" in shown
    changed = ok(cli("tracker-connector", "change", "1", "--password-stdin", stdin="other-4711\n"))
    assert "Changed the secret of tracker connector 1" in changed
    said = [
        *(cli("tracker-connector", "list"), cli("tracker-connector", "show", "1")),
        cli("connection", "test", "--connector", "1", "--tracker-project", "PB"),
    ]
    database = Path(services.settings.resolved_database_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(f"{database.name}*"))
    for secret in (SYNC_PASSWORD, "other-4711", "tok-4711"):
        assert all(secret not in result.stdout + result.stderr for result in said)
        assert secret.encode() not in stored

    # The secret is never an argument; without a terminal to ask on, the command says how.
    assert_one_line_error(
        cli("tracker-connector", "add", "X", "--system", "jira", "--server", "x"),
        "give --password-stdin",
    )
    assert_one_line_error(
        cli(*from_env, "--server", "api.github.com"), "or set ISSUESYNC_TRACKER_SECRET"
    )


def test_a_connection_runs_a_job_that_creates_the_issue_in_scope(
    cli: Cli,
    server: str,
    tracker: httpx.Client,
) -> None:
    add_connector(cli, server)
    tested = ok(cli("connection", "test", "--connector", "1", "--tracker-project", "PB"))
    assert "✓ authenticated: logged in as 'jirasync'" in tested
    assert "✗" not in tested
    added = ok(
        cli(
            *("connection", "add", "To PB", "--project", "pa", "--connector", "1"),
            *("--tracker-project", "PB", "--status", "To Do", "--min-priority", "7"),
            *("--title-format", "[$task_id] $title"),
        )
    )
    assert added.startswith("Created connection 1 'To PB': PA to PB on jira connector 1")
    assert "run by hand" in added
    in_scope = create_issue(tracker, "PA", "Fix the login", priority={"name": "High"})
    create_issue(tracker, "PA", "Polish the icons", priority={"name": "Low"})

    ran = ok(cli("connection", "run", "1"))
    assert ran.startswith("Job 1: Jira: 1 created"), ran
    (made,) = search_keys(tracker, "project = PB")
    assert fields_of(tracker, made)["summary"] == f"[{in_scope}] Fix the login"

    job = row_of(ok(cli("connection", "jobs", "1")), "1")
    assert job[3:6] == ["no", "admin", "ok"]
    assert job[6].startswith("Jira: 1 created")
    listed = row_of(ok(cli("connection", "list", "--project", "PA")), "1")
    assert listed[1:5] == ["To PB", "PA", "jira", "manually"]
    assert listed[5].endswith(" ok")
    assert listed[6:] == ["no", "no"]
    assert "No connections" in ok(cli("connection", "list", "--project", "PB"))

    changed = ok(cli("connection", "change", "1", "--frequency", "hourly", "--any-status"))
    assert "runs hourly, next at" in changed
    shown = ok(cli("connection", "show", "1"))
    for line in ("statuses         any", "min priority     7", "last job         1: "):
        assert line in shown, shown
    document = json.loads(ok(cli("connection", "show", "1", "--json")))
    assert document["settings"]["statuses"] == []
    assert document["frequency"] == "hourly"
    assert document["last_job"]["succeeded"] is True
    assert "secret" not in document["tracker_server"]

    # Pointed at another tracker project, the connection starts anew there.
    create_project(tracker, "PC")
    moved = ok(
        cli("connection", "change", "1", "--tracker-project", "PC", "--frequency", "manually")
    )
    assert "PA to PC on jira connector 1" in moved
    assert "It starts anew there" in moved
    assert ok(cli("connection", "run", "1")).startswith("Job 2: Jira: 1 created")
    (again,) = search_keys(tracker, "project = PC")
    assert fields_of(tracker, again)["summary"] == f"[{in_scope}] Fix the login"


def test_a_wrong_password_fails_the_job_and_the_test(
    cli: Cli,
    server: str,
    tracker: httpx.Client,
) -> None:
    add_connector(cli, server)
    ok(cli(*TO_PB, "--project", "PA", "--connector", "1", "--tracker-project", "PB"))
    ok(cli("tracker-connector", "change", "1", "--password-stdin", stdin="wrong\n"))
    create_issue(tracker, "PA", "Waits", priority={"name": "High"})

    ran = cli("connection", "run", "1")
    assert ran.returncode == 1
    assert ran.stdout.startswith("Job 1: Failed: Jira refused the credentials"), ran.stdout
    assert_one_line_error(ran, "connection test --connector 1 --tracker-project PB")
    assert row_of(ok(cli("connection", "list")), "1")[-1] == "yes"  # inaccessible
    tested = cli("connection", "test", "--connector", "1", "--tracker-project", "PB")
    assert "✗ authenticated" in tested.stdout
    assert_one_line_error(tested, "checks failed (authenticated")

    ok(cli("tracker-connector", "change", "1", "--password-stdin", stdin=f"{SYNC_PASSWORD}\n"))
    assert ok(cli("connection", "run", "1")).startswith("Job 2: ")
    assert len(search_keys(tracker, "project = PB")) == 1  # the issue that waited
    assert row_of(ok(cli("connection", "list")), "1")[-1] == "no"


@pytest.mark.usefixtures("tracker")
def test_run_waits_while_another_process_holds_the_connection(
    services: Services, cli: Cli, server: str
) -> None:
    add_connector(cli, server)
    ok(
        cli(
            *TO_PB,
            "--project",
            "PA",
            "--connector",
            "1",
            "--tracker-project",
            "PB",
            "--frequency",
            "hourly",
        )
    )
    other = ConnectionJobs(services, "a-server")
    claimed = other.claim(1)  # due at once: its job 1 is under way there
    assert claimed is not None
    threading.Timer(0.5, other.run, args=(claimed,)).start()

    ran = ok(cli("connection", "run", "1"))
    assert ran == "Job 2: No changes.\n"  # run here once the other let the connection go
    jobs = ok(cli("connection", "jobs", "1"))
    assert row_of(jobs, "1")[3:6] == ["yes", "-", "ok"]  # the schedule's, run there
    assert row_of(jobs, "2")[3:6] == ["no", "admin", "ok"]


@pytest.mark.usefixtures("tracker")
def test_bad_input_is_one_line_that_says_what_to_do(cli: Cli, server: str, home: Path) -> None:
    assert_one_line_error(
        cli(
            *("tracker-connector", "add", "X", "--system", "jora", "--server", "x"),
            "--password-stdin",
            stdin="s\n",
        ),
        "Unknown system 'jora': use one of github, gitlab, jira, redmine",
    )
    assert_one_line_error(
        cli(
            *("tracker-connector", "add", "X", "--system", "jira", "--server", "https://x"),
            "--password-stdin",
            stdin="s\n",
        ),
        "--server: Give the host",
    )
    add_connector(cli, server)
    connection = ("connection", "add", "A", "--tracker-project", "PB")
    frequency = cli(*connection, "--project", "PA", "--connector", "1", "--frequency", "often")
    assert frequency.returncode == 2
    assert_one_line_error(frequency, "'often' is not one of 'hourly'")
    assert_one_line_error(
        cli(*connection, "--project", "PA", "--connector", "9"),
        "There is no tracker connector with id 9 (known: 1)",
    )
    assert_one_line_error(
        cli(*connection, "--project", "NOPE", "--connector", "1"),
        "There is no built-in project with key or id 'NOPE'",
    )
    assert_one_line_error(cli("connection", "show", "7"), "connection list")
    assert_one_line_error(cli("connection", "change", "7", "--debug"), "no connection with id 7")
    assert_one_line_error(cli("connection", "change", "7"), "Nothing to change")
    ok(cli(*connection, "--project", "PA", "--connector", "1"))
    assert_one_line_error(
        cli("connection", "change", "1", "--parent", "PB-1", "--no-parent"), "--parent"
    )
    assert_one_line_error(cli("tracker-connector", "remove", "1"), "Connections 1 use this")
    assert "Removed connection 1" in ok(cli("connection", "remove", "1"))
    assert "Removed tracker connector 1" in ok(cli("tracker-connector", "remove", "1"))

    # A process of its own: the same one line, no traceback.
    env = {"ISSUESYNC_DATABASE_URL": f"sqlite:///{home.parent / 'issuesync.db'}"}
    assert_one_line_error(
        run(
            home,
            "connection",
            "add",
            "A",
            "--project",
            "PX",
            "--connector",
            "1",
            "--tracker-project",
            "PB",
            env=env,
        ),
        "There is no built-in project with key or id 'PX'",
    )
