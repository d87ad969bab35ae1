"""A newcomer's first commands (issue 18): passwords, a first start's password file, what
goes to stdout, read-only commands on no home, `db upgrade`'s words, one-line usage errors.

Every command is a real ``python -m issuesync`` process (forked from one that has imported
the command line: :mod:`support.forked_cli`); the hidden prompt is answered through a
pseudo-terminal, as a person at a terminal answers it, by a process started from nothing.
"""

from __future__ import annotations

import os
import pty
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select as sql_select
from test_cli import assert_one_line_error, run

from issuesync.app import build_services
from issuesync.config import Settings
from issuesync.security import verify_password
from issuesync.store.db import connect
from issuesync.store.migrate import upgrade
from issuesync.store.users import User
from support.forked_cli import run_issuesync

NO_ADMIN_PASSWORD = {"ISSUESYNC_ADMIN_PASSWORD": ""}  # as a newcomer starts: none chosen
PASSWORD_FILE = "initial-admin-password"


def stored_hash(home: Path, name: str) -> str | None:
    services = build_services(Settings(home=home))
    try:
        with services.uow_factory(readonly=True) as uow:
            return uow.session.scalar(sql_select(User.password_hash).where(User.name == name))
    finally:
        services.close()


def banner_password(stderr: str) -> str:
    line = next(x for x in stderr.splitlines() if "Created the administrator" in x)
    return line.rsplit(" ", 1)[1]


def test_a_generated_password_is_on_stderr_and_in_a_private_file_written_once(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    first = run(home, "db", "upgrade", env=NO_ADMIN_PASSWORD)
    assert first.returncode == 0, first.stderr
    password = banner_password(first.stderr)
    assert password not in first.stdout
    kept = home / PASSWORD_FILE
    assert f"It is also in {kept} " in first.stderr
    assert "deleting it is safe" in first.stderr
    assert kept.read_text() == password + "\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert verify_password(password, stored_hash(home, "admin"))

    kept.write_text("left as the user left it\n")
    again = run(home, "db", "upgrade", env=NO_ADMIN_PASSWORD)
    assert again.returncode == 0, again.stderr
    assert "Created the administrator" not in again.stdout + again.stderr
    assert kept.read_text() == "left as the user left it\n"  # never written again
    kept.unlink()
    assert run(home, "db", "upgrade", env=NO_ADMIN_PASSWORD).returncode == 0
    assert not kept.exists()  # nor made again: deleting it is safe


def test_a_token_is_all_that_stdout_holds_on_a_first_start(tmp_path: Path) -> None:
    created = run(tmp_path / "home", "token", "create", "admin", env=NO_ADMIN_PASSWORD)
    assert created.returncode == 0, created.stderr
    assert created.stdout.count("\n") == 1
    assert created.stdout.startswith("isy_")
    assert "Created the administrator 'admin'" in created.stderr


def test_a_password_is_set_from_stdin_or_the_option(tmp_path: Path) -> None:
    home = tmp_path / "home"
    piped = run_with_input(home, "new secret pw\n", "user", "password", "admin", "--password-stdin")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.strip() == "Set the password of 'admin'; running servers accept it now."
    assert verify_password("new secret pw", stored_hash(home, "admin"))

    assert run(home, "user", "create", "dora").returncode == 0
    given = run(home, "user", "password", "dora", "--password", "dora's own")
    assert given.returncode == 0, given.stderr
    assert verify_password("dora's own", stored_hash(home, "dora"))


@pytest.mark.parametrize(
    ("args", "stdin", "code", "contains"),
    [
        (("user", "password", "ghost", "--password", "pw"), "", 1, "no user named 'ghost'"),
        (("user", "password", "admin", "--password-stdin"), "", 1, "no password"),
        (("user", "password", "admin", "--password-stdin"), "\n", 1, "no password"),
        (("user", "password", "admin"), "", 2, "--password-stdin"),  # not a terminal
        (("user", "password", "admin", "--password", "a", "--password-stdin"), "", 2, "not both"),
        (("user", "password", "admin", "--password", "a\tb"), "", 1, "control character"),
        (("user", "password", "admin", "--password", "x" * 1025), "", 1, "1024 characters"),
        (("user", "create", "eve", "--password", "x" * 1025), "", 1, "1024 characters"),
    ],
)
def test_a_password_that_cannot_be_set_is_one_line(
    tmp_path: Path, args: tuple[str, ...], stdin: str, code: int, contains: str
) -> None:
    home = tmp_path / "home"
    assert run(home, "db", "upgrade").returncode == 0
    before = stored_hash(home, "admin")
    result = run_with_input(home, stdin, *args)
    assert_one_line_error(result, contains)
    assert result.returncode == code
    assert stored_hash(home, "admin") == before


def test_a_password_is_asked_twice_without_echo_on_a_terminal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "db", "upgrade").returncode == 0
    typed = "typed at a terminal"
    controller, terminal = pty.openpty()
    environment = environment_of(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "issuesync", "user", "password", "admin"],
        stdin=terminal,
        stderr=terminal,
        stdout=subprocess.PIPE,
        env=environment,
        start_new_session=True,  # no controlling terminal: getpass reads the pty on stdin
    )
    os.close(terminal)
    seen = b""
    try:
        for prompt in (b"New password: ", b"Repeat for confirmation: "):
            seen = read_until(controller, seen, prompt)
            os.write(controller, typed.encode() + b"\n")
        stdout, _ = process.communicate(timeout=120)
        seen = read_until(controller, seen, b"", timeout=1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        os.close(controller)
    assert process.returncode == 0, seen
    assert typed.encode() not in seen  # the terminal did not echo it
    assert b"Set the password of 'admin'" in stdout
    assert verify_password(typed, stored_hash(home, "admin"))


def read_until(fd: int, seen: bytes, wanted: bytes, timeout: float = 60.0) -> bytes:
    """What the terminal showed, read until ``wanted`` shows (empty: until quiet)."""
    deadline = time.monotonic() + timeout
    while (not wanted or wanted not in seen) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            seen += chunk
    if wanted and wanted not in seen:
        pytest.fail(f"the terminal never showed {wanted!r}: {seen!r}")
    return seen


def environment_of(home: Path, **extra: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")}
    return (
        environment | {"ISSUESYNC_HOME": str(home), "ISSUESYNC_ADMIN_PASSWORD": "admin-pw"} | extra
    )


def run_with_input(home: Path, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_issuesync(args, environment_of(home), input=stdin)


READ_ONLY = [
    ("integration", "list"),
    ("integration", "show", "INT-1"),
    ("syncinfo", "list", "PA-1"),
    ("messages", "list", "PA-1"),
    ("messages", "show", "PA-1", "1"),
    ("token", "list", "admin"),
]


@pytest.mark.parametrize("args", READ_ONLY)
def test_read_only_commands_create_no_home(tmp_path: Path, args: tuple[str, ...]) -> None:
    home = tmp_path / "nowhere"
    result = run(home, *args)
    assert_one_line_error(result, f"there is no issuesync home at {home} (ISSUESYNC_HOME)")
    assert result.returncode == 1
    assert not home.exists()

    # From a folder without ./.issuesync and no ISSUESYNC_HOME: where it looked, and how to
    # point at a home.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")}
    plain = run_issuesync(args, environment, cwd=tmp_path)
    assert_one_line_error(plain, f"{tmp_path / '.issuesync'} (the default, ./.issuesync)")
    assert "ISSUESYNC_HOME" in plain.stderr
    assert "the checkout" in plain.stderr
    assert not (tmp_path / ".issuesync").exists()

    home.mkdir()  # a home without a database: no database is made either
    empty = run(home, *args)
    assert_one_line_error(empty, f"there is no database at {home / 'issuesync.db'} yet")
    assert "db upgrade" in empty.stderr
    assert list(home.iterdir()) == []


def test_read_only_commands_create_no_administrator(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "db", "upgrade").returncode == 0
    services = build_services(Settings(home=home))
    try:
        with services.uow_factory() as uow:
            uow.session.query(User).delete()
            uow.commit()
    finally:
        services.close()
    listed = run(home, "integration", "list", env=NO_ADMIN_PASSWORD)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""
    assert stored_hash(home, "admin") is None
    assert not (home / PASSWORD_FILE).exists()


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = home / "issuesync.db"
    created = run(home, "db", "upgrade")
    assert created.returncode == 0, created.stderr
    head = created.stdout.rsplit("(schema ", 1)[1].split(")")[0]
    assert head.isdigit()
    assert created.stdout == f"Created the database sqlite:///{database} (schema {head}).\n"
    again = run(home, "db", "upgrade")
    assert again.stdout == f"The database sqlite:///{database} is up to date (schema {head}).\n"

    older = tmp_path / "older"
    older.mkdir(mode=0o700)
    previous = f"{int(head) - 1:04d}"
    db = connect(f"sqlite:///{older / 'issuesync.db'}")
    try:
        upgrade(db, previous)
    finally:
        db.dispose()
    upgraded = run(older, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout == (
        f"Upgraded the database sqlite:///{older / 'issuesync.db'} "
        f"from schema {previous} to {head}.\n"
    )


@pytest.mark.parametrize(
    ("args", "message", "usage_of"),
    [
        (("user", "password"), "Missing argument 'name'.", "user password"),
        (("user", "password", "admin", "--bogus"), "No such option: --bogus", "user password"),
        (("serve", "--workers", "0"), "Invalid value for '--workers'", "serve"),
        (("token", "revoke", "one"), "Invalid value for 'token_id'", "token revoke"),
        (("no-such-command",), "No such command 'no-such-command'.", ""),
    ],
)
def test_usage_errors_are_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str, usage_of: str
) -> None:
    result = run(tmp_path, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {message}")
    command = " ".join(filter(None, ["issuesync", usage_of]))
    assert lines[0].endswith(f"{command} --help'."), lines[0]
    assert not any(ch in result.stderr for ch in "╭│╰")


def test_help_is_still_there(tmp_path: Path) -> None:
    shown = run(tmp_path, "user", "password", "--help", env={"COLUMNS": "200"})
    assert shown.returncode == 0
    assert "--password-stdin" in shown.stdout
    assert "first line of standard input" in shown.stdout
    assert run(tmp_path, "user").returncode == 2  # a group alone shows its help
    assert "password" in run(tmp_path, "user").stdout
    assert not tmp_path.joinpath("issuesync.db").exists()
