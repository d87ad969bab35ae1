"""``issuesync integration`` and ``issuesync syncinfo``, run as a user runs them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from integration_helpers import SEED_REQUEST, SEED_SYNC_INFO
from test_cli import assert_one_line_error, run

from issuesync.app import bootstrap, build_services
from issuesync.config import Settings
from issuesync.trackers.local import catalog

WIDE = {"COLUMNS": "200"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose database has the projects PA and PB of the built-in tracker."""
    assert run(tmp_path, "db", "upgrade").returncode == 0
    services = build_services(Settings(home=tmp_path))
    try:
        bootstrap(services)
        header = "Basic " + base64.b64encode(b"admin:admin-pw").decode()
        admin = services.authenticator.authenticate(header)
        for key in ("PA", "PB"):
            with services.tracker.write(admin) as op:
                catalog.create_project(op, {"key": key, "name": f"Project {key}"})
    finally:
        services.close()
    return tmp_path


def write(home: Path, name: str, document: Any) -> str:
    path = home / name
    path.write_text(json.dumps(document))
    return str(path)


def json_out(home: Path, *args: str) -> Any:
    result = run(home, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_create_list_show_start_stop_delete(home: Path) -> None:
    body = write(home, "b.json", SEED_REQUEST)
    created = json_out(home, "integration", "create", "--file", body, "--json")
    assert created["integrationKey"] == "INT-1"
    assert created["firstConnector"]["connectorKey"] == "PA-1"
    assert created["secondConnector"]["connectorKey"] == "PB-2"
    assert created["createdUser"] == "admin"

    listed = run(home, "integration", "list", env=WIDE)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "INT-1" in line)
    for cell in ("Project A <> Project B (REST)", "PA <> PB", "PA-1, PB-2", "no"):
        assert cell in row

    shown = json_out(home, "integration", "show", "int-1")
    assert shown["status"]["status"] == "STOPPED"
    assert "password" not in json.dumps(shown)
    assert {k: v for k, v in shown.items() if k != "status"} == created

    started = run(home, "integration", "start", "INT-1")
    assert started.returncode == 0, started.stderr
    assert "INT-1 is RUNNING" in started.stdout
    assert json_out(home, "integration", "show", "INT-1")["status"]["status"] == "RUNNING"
    assert "yes" in run(home, "integration", "list", "--project", "PB", env=WIDE).stdout
    stopped = run(home, "integration", "stop", "INT-1")
    assert "INT-1 is STOPPED" in stopped.stdout

    deleted = run(home, "integration", "delete", "INT-1")
    assert deleted.returncode == 0, deleted.stderr
    assert "Deleted INT-1" in deleted.stdout
    assert_one_line_error(run(home, "integration", "show", "INT-1"), "No integration with key")
    assert "No integrations." in run(home, "integration", "list").stdout


def test_create_and_update_say_what_they_did_in_one_line(home: Path, tmp_path: Path) -> None:
    created = run(home, "integration", "create", "--file", write(home, "b.json", SEED_REQUEST))
    assert created.returncode == 0, created.stderr
    # The seed's trackers do not run here: no mappings can be proposed, and a second line
    # says so and how to propose them later.
    unreachable = "Jira at http://localhost:8510/jira/ cannot be reached (ConnectError)"
    assert created.stdout == (
        "Created INT-1 with connectors PA-1 and PB-2 "
        "(stopped; to start it: python -m issuesync integration start INT-1)\n"
        f"No mappings could be proposed (PA: {unreachable}; PB: {unreachable}): the "
        "defaults are stored. When both trackers answer: python -m issuesync integration "
        "propose INT-1 --apply\n"
    )
    change = tmp_path / "change.json"
    sides = {"firstConnector": {"projectKey": "PA"}, "secondConnector": {"projectKey": "PB"}}
    change.write_text(json.dumps({"summary": "Renamed", **sides}))
    updated = run(home, "integration", "update", "INT-1", "--file", str(change))
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout == "Updated INT-1 with connectors PA-1 and PB-2 (stopped)\n"
    assert json_out(home, "integration", "show", "INT-1")["summary"] == "Renamed"
    assert run(home, "integration", "start", "INT-1").returncode == 0
    running = run(home, "integration", "update", "INT-1", "--file", str(change))
    assert running.stdout == (
        "Updated INT-1 with connectors PA-1 and PB-2 "
        "(running: it takes the change within a second)\n"
    )
    assert (
        json_out(home, "integration", "update", "INT-1", "-f", str(change), "--json")["summary"]
        == "Renamed"
    )


def test_bad_bodies_are_one_line_errors(home: Path) -> None:
    assert_one_line_error(
        run(home, "integration", "create", "--file", str(home / "missing.json")), "missing.json"
    )
    broken = home / "broken.json"
    broken.write_text('{"summary": ')
    assert_one_line_error(
        run(home, "integration", "create", "--file", str(broken)), "is not valid JSON"
    )
    typo = json.loads(json.dumps(SEED_REQUEST))
    typo["firstConnector"]["connection"]["application"]["pasword"] = "backbone"
    result = run(home, "integration", "create", "--file", write(home, "typo.json", typo))
    assert_one_line_error(result, "firstConnector.connection.application.pasword")
    unknown = {"firstConnector": {"projectKey": "PX"}, "secondConnector": {"projectKey": "PB"}}
    result = run(home, "integration", "create", "--file", write(home, "px.json", unknown))
    assert_one_line_error(result, "firstConnector.projectKey")
    assert "No integrations." in run(home, "integration", "list").stdout

    body = write(home, "ok.json", SEED_REQUEST)
    assert run(home, "integration", "create", "-f", body).returncode == 0
    assert_one_line_error(run(home, "integration", "create", "-f", body), "already synchronized")


def test_sync_information_import_list_delete(home: Path) -> None:
    json_out(home, "integration", "create", "--file", write(home, "b.json", SEED_REQUEST), "--json")
    imported = run(
        home, "syncinfo", "import", "PA-1", "--file", write(home, "s.json", SEED_SYNC_INFO)
    )
    assert imported.returncode == 0, imported.stderr
    assert "Imported 2 sync information entries into PA-1." in imported.stdout

    entries = json_out(home, "syncinfo", "list", "PA-1")
    assert [{k: v for k, v in e.items() if k not in {"id", "connectorKey"}} for e in entries] == (
        SEED_SYNC_INFO
    )
    assert {e["connectorKey"] for e in entries} == {"PA-1"}
    only = json_out(home, "syncinfo", "list", "PA-1", "--local-issue-key", "PA-2")
    assert [e["remoteIssueKey"] for e in only] == ["PB-2"]

    bad = write(home, "bad.json", [{"localIssueKey": "PA-3"}])
    assert_one_line_error(run(home, "syncinfo", "import", "PA-1", "-f", bad), "[0].remoteIssueKey")
    assert_one_line_error(run(home, "syncinfo", "list", "PX-1"), "No connector with key PX-1")

    assert_one_line_error(run(home, "syncinfo", "delete", "PA-1"), "--all")
    one = run(home, "syncinfo", "delete", "PA-1", "--id", str(entries[0]["id"]))
    assert one.returncode == 0, one.stderr
    assert "Deleted 1 sync information entry of PA-1." in one.stdout
    rest = run(home, "syncinfo", "delete", "PA-1", "--all")
    assert "Deleted 1 sync information entry of PA-1." in rest.stdout
    assert json_out(home, "syncinfo", "list", "PA-1") == []


def test_create_dry_run_shows_the_proposed_mappings_and_stores_nothing(home: Path) -> None:
    keys_only = {"firstConnector": {"projectKey": "PA"}, "secondConnector": {"projectKey": "PB"}}
    file = write(home, "keys.json", keys_only)
    preview = run(home, "integration", "create", "--file", file, "--dry-run", env=WIDE)
    assert preview.returncode == 0, preview.stderr
    assert "Proposed mappings" in preview.stdout
    row = next(line for line in preview.stdout.splitlines() if "In Progress" in line)
    assert "same name" in row
    assert "No integrations." in run(home, "integration", "list").stdout
    shown = json_out(home, "integration", "create", "--file", file, "--dry-run", "--json")
    assert shown["state"] == "proposed"
    assert [c["projectKey"] for c in shown["connectors"]] == ["PA", "PB"]
    wrong = write(home, "wrong.json", {**keys_only, "secondConnector": {"projectKey": "NOPE"}})
    assert_one_line_error(run(home, "integration", "create", "--file", wrong, "--dry-run"), "NOPE")

    created = run(home, "integration", "create", "--file", file)
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines()[1] == (
        "Mappings proposed from both schemas: 44 pairs, 0 warnings "
        "(see python -m issuesync integration propose INT-1)."
    )
    again = run(home, "integration", "propose", "INT-1", env=WIDE)
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith("The stored mappings are what this proposal says.")
    applied = run(home, "integration", "propose", "INT-1", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout == "Stored the proposed mappings of INT-1: 0 mapping(s) changed.\n"
    assert_one_line_error(run(home, "integration", "propose", "INT-9"), "No integration with key")
