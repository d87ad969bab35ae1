"""``private_home``: the home and what issuesync keeps in it are its user's alone."""

from __future__ import annotations

import stat
from pathlib import Path

from issuesync.app import sqlite_file
from issuesync.security import private_home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_new_home_is_0700_and_a_new_database_file_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    database = tmp_path / "elsewhere" / "issuesync.db"
    assert private_home(home, database) == []
    assert mode(home) == 0o700
    assert mode(database) == 0o600
    assert database.stat().st_size == 0  # SQLite takes an empty file for an empty database


def test_what_an_older_version_left_open_is_closed_all_the_way_down(tmp_path: Path) -> None:
    home = tmp_path / "home"
    deep = home / "attachments" / "ab" / "cd"
    deep.mkdir(parents=True)
    for path in (home, home / "attachments", home / "attachments" / "ab", deep):
        path.chmod(0o755)
    (deep / "abcd").write_bytes(b"content")
    (deep / "abcd").chmod(0o644)
    (home / "issuesync.db-wal").write_bytes(b"")
    (home / "issuesync.db-wal").chmod(0o644)
    (home / "mine.txt").write_text("the operator's")
    (home / "mine.txt").chmod(0o644)
    (home / "link").symlink_to("/etc/hostname")

    tightened = private_home(home)

    assert set(tightened) == {
        home,
        home / "attachments",
        home / "attachments" / "ab",
        deep,
        deep / "abcd",
        home / "issuesync.db-wal",
    }
    assert {mode(p) for p in tightened if p.is_dir()} == {0o700}
    assert {mode(p) for p in tightened if not p.is_dir()} == {0o600}
    assert mode(home / "mine.txt") == 0o644  # not issuesync's
    assert private_home(home) == []  # once is enough


def test_sqlite_files_are_found_in_database_urls() -> None:
    assert sqlite_file("sqlite:////var/lib/issuesync/x.db") == Path("/var/lib/issuesync/x.db")
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None
