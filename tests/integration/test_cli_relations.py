"""`issuesync relation …` as an operator types it: the happy path is the e2e test's
(tests/e2e/test_node_processes.py); here, what goes wrong says what to do, in one line."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import assert_one_line_error, run

from issuesync.domain.relation import Invitation


def test_relation_commands_refuse_in_one_line_and_show_no_secret(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run(home, "db", "upgrade").returncode == 0
    assert_one_line_error(
        run(home, "relation", "invite", "AllContent", "--project", "NOPE"),
        "no project with key 'NOPE'",
    )
    assert_one_line_error(
        run(home, "relation", "invite", "bad name", "--project", "NOPE"),
        "name",
    )
    assert_one_line_error(
        run(home, "relation", "accept", "not-a-code", "--project", "PB"),
        "not an issuesync invitation code",
    )
    late = Invitation("http://127.0.0.1:9", "AllContent", "t" * 43, 1).encode()
    assert_one_line_error(run(home, "relation", "accept", late, "--project", "PB"), "expired")
    assert_one_line_error(run(home, "relation", "show", "Missing"), "no relation named Missing")
    assert_one_line_error(run(home, "relation", "retry", "blob-x"), "no sync error")
    listed = run(home, "relation", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert run(home, "relation", "errors", "--json").stdout.strip() == "[]"
