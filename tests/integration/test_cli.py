"""The command line, run as a user runs it: a real process, its output and exit code.

Each command is a process of its own, forked from one that has imported the command line
(:mod:`support.forked_cli`); ``test_version`` starts ``python -m issuesync`` from nothing.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from issuesync import __version__
from issuesync.app import bootstrap, build_services, create_app
from issuesync.config import Settings
from issuesync.errors import AuthenticationError
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.testing.server import LiveServer
from issuesync.trackers.local.search import search
from support.forked_cli import run_issuesync


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def environment_of(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")} | {
        "ISSUESYNC_HOME": str(home),
        "ISSUESYNC_ADMIN_PASSWORD": "admin-pw",
    }
    return environment | (env or {})


def run(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_issuesync(args, environment_of(home, env))


def assert_one_line_error(result: subprocess.CompletedProcess[str], contains: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert contains in lines[0]


def test_version(tmp_path: Path) -> None:
    """The one command started from nothing: the interpreter, the imports, ``__main__``."""
    result = subprocess.run(
        [sys.executable, "-m", "issuesync", "--version"],
        capture_output=True,
        text=True,
        env=environment_of(tmp_path),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"issuesync {__version__}"


def test_db_upgrade_creates_the_database_and_is_repeatable(tmp_path: Path) -> None:
    first = run(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "issuesync.db").exists()
    assert (tmp_path / "secret.key").exists()
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"
    again = run(tmp_path, "db", "upgrade")
    assert again.returncode == 0
    assert "up to date" in again.stdout


def test_generated_admin_password_is_printed_once(tmp_path: Path) -> None:
    env = {"ISSUESYNC_ADMIN_PASSWORD": ""}
    first = run(tmp_path, "db", "upgrade", env=env)
    assert "Created the administrator 'admin'" in first.stderr  # a notice: not for scripts
    assert "Created the administrator" not in first.stdout
    second = run(tmp_path, "db", "upgrade", env=env)
    assert "Created the administrator" not in second.stdout + second.stderr


def test_user_and_token_work_against_the_api(tmp_path: Path) -> None:
    created = run(
        tmp_path, "user", "create", "dora", "--project-admin", "pa", "--email", "dora@x.test"
    )
    assert created.returncode == 0, created.stderr
    assert "project admin of PA" in created.stdout
    password = created.stdout.split("Password (shown once):")[1].strip()
    token = run(tmp_path, "token", "create", "dora")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("isy_")

    settings = Settings(home=tmp_path)
    services = build_services(settings)
    bootstrap(services)
    server = LiveServer()
    try:
        server.start(create_app(services))
        for auth_header in (
            {"Authorization": f"Bearer {secret}"},
            {"Authorization": basic("dora", secret)},
            {"Authorization": basic("dora", password)},
        ):
            me = httpx.get(f"{server.url}/rest/api/2/myself", headers=auth_header, timeout=30)
            assert me.status_code == 200, me.text
            assert me.json()["name"] == "dora"
            assert me.json()["emailAddress"] == "dora@x.test"
    finally:
        server.stop()
        services.close()


@pytest.mark.parametrize(
    ("args", "env", "contains"),
    [
        (("user", "create", "a b"), {}, "not a valid user name"),
        (("token", "create", "nobody"), {}, "no user named 'nobody'"),
        (("db", "upgrade"), {"ISSUESYNC_PORT": "eighty"}, "ISSUESYNC_PORT"),
        (
            ("db", "upgrade"),
            {"ISSUESYNC_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "ISSUESYNC_DATABASE_URL",
        ),
        (("db", "upgrade"), {"ISSUESYNC_SECRET_KEY": "too-short"}, "ISSUESYNC_SECRET_KEY"),
        (("user", "create", "dup", "--project-admin", "not a key!"), {}, "not a project key"),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], contains: str
) -> None:
    assert_one_line_error(run(tmp_path, *args, env=env), contains)


def test_tokens_can_be_listed_and_revoked(tmp_path: Path) -> None:
    assert run(tmp_path, "user", "create", "hal").returncode == 0
    secret = run(tmp_path, "token", "create", "hal", "--name", "ci-bot").stdout.strip()
    listed = run(tmp_path, "token", "list", "hal")
    assert listed.returncode == 0, listed.stderr
    assert "ci-bot" in listed.stdout
    assert secret not in listed.stdout
    token_id = next(line.split()[1] for line in listed.stdout.splitlines() if "ci-bot" in line)
    revoked = run(tmp_path, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert "ci-bot" in revoked.stdout
    assert "no API tokens" in run(tmp_path, "token", "list", "hal").stdout
    assert_one_line_error(run(tmp_path, "token", "revoke", token_id), "no API token")

    services = build_services(Settings(home=tmp_path))
    try:
        with pytest.raises(AuthenticationError):
            services.authenticator.authenticate(f"Bearer {secret}")
    finally:
        services.close()


def test_duplicate_user_is_refused(tmp_path: Path) -> None:
    assert run(tmp_path, "user", "create", "erin").returncode == 0
    assert_one_line_error(run(tmp_path, "user", "create", "erin"), "already exists")


def test_demo_creates_two_projects_once(tmp_path: Path) -> None:
    first = run(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    assert "SHOP and VEND" in first.stdout
    second = run(tmp_path, "demo")
    assert second.returncode == 0
    assert "already exist" in second.stdout

    services = build_services(Settings(home=tmp_path))
    try:
        admin = Principal(
            1, "admin", "Administrator", None, is_admin=True, project_admin_keys=frozenset()
        )
        with services.tracker.read(admin) as op:
            shop = search(op, "project = SHOP", 0, 100, "*all", None)
            assert isinstance(shop["total"], int)
            assert shop["total"] >= 8
            issues = shop["issues"]
            assert isinstance(issues, list)
            fields = [i["fields"] for i in issues]
            assert any(f["subtasks"] for f in fields)
            assert any(f["comment"]["total"] for f in fields)
            assert any(f["attachment"] for f in fields)
            assert {f["status"]["name"] for f in fields} >= {"To Do", "In Progress", "Done"}
            vend = search(op, "project = VEND", 0, 100, None, None)
            assert isinstance(vend["total"], int)
            assert vend["total"] >= 5
    finally:
        services.close()


def test_roles_are_granted_and_withdrawn(tmp_path: Path) -> None:
    assert run(tmp_path, "user", "create", "sync").returncode == 0
    granted = run(
        tmp_path, "user", "grant", "sync", "--project-admin", "pb", "--project-admin", "PC"
    )
    assert granted.returncode == 0, granted.stderr
    assert "'sync' is now administrator of PB, PC." in granted.stdout
    withdrawn = run(tmp_path, "user", "withdraw", "sync", "--project-admin", "PB")
    assert "'sync' is now administrator of PC." in withdrawn.stdout
    assert "an administrator and" in run(tmp_path, "user", "grant", "sync", "--admin").stdout
    last = run(tmp_path, "user", "withdraw", "sync", "--admin", "--project-admin", "PC")
    assert "'sync' is now a user without administrator roles." in last.stdout

    services = build_services(Settings(home=tmp_path))
    try:
        with services.uow_factory(readonly=True) as uow:
            user = uow.session.scalars(select(User).where(User.name == "sync")).one()
            assert (user.is_admin, user.project_admin_keys) == (False, [])
    finally:
        services.close()
    assert_one_line_error(run(tmp_path, "user", "grant", "ghost", "--admin"), "no user named")
    assert_one_line_error(run(tmp_path, "user", "grant", "sync"), "--project-admin")
    assert_one_line_error(run(tmp_path, "user", "grant", "sync", "--project-admin", "a b"), "a b")
