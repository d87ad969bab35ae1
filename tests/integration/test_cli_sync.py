"""`issuesync messages …`, `integration resync` as a user runs them: real processes
(forked from one that has imported the command line: :mod:`support.forked_cli`)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.app import bootstrap, build_services
from issuesync.application.integrations import project_checker, set_running
from issuesync.config import Settings
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.local import catalog, issues
from support.forked_cli import run_issuesync


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")} | {
        "ISSUESYNC_HOME": str(home),
        "ISSUESYNC_ADMIN_PASSWORD": "admin-pw",
    }
    return run_issuesync(args, environment)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with PA and PB, INT-1 started, and PA-1 synced; PA-2's create is in error."""
    home = tmp_path / "home"
    services = build_services(Settings(home=home, admin_password=SecretStr("admin-pw")))
    try:
        bootstrap(services)
        with services.uow_factory(readonly=True) as uow:
            user = uow.session.scalars(select(User).where(User.name == "admin")).one()
            admin = Principal.of(user)
        with services.tracker.write(admin) as op:
            for key in ("PA", "PB"):
                catalog.create_project(op, {"key": key, "name": key})
            for summary in ("Fine", "Refused"):
                fields = {"project": {"key": "PA"}, "issuetype": {"name": "Task"}}
                issues.create_issue(op, fields | {"summary": summary}, {})
        create_user(services.uow_factory, NewUser(name="backbone", email="b@x.test", password="b"))
        mappings = [
            {"localField": "summary", "remoteField": "summary"},
            {
                "localField": "priority",
                "remoteField": "priority",
                "valueMappings": [{"local": "Medium", "remote": "Nope"}],
            },
        ]
        body = {
            "firstConnector": {
                "projectKey": "PA",
                "connection": {"application": {"user": "backbone"}},
                "configuration": {"fieldMappings": mappings},
            },
            "secondConnector": {
                "projectKey": "PB",
                "connection": {"application": {"user": "backbone"}},
            },
        }
        with services.uow_factory() as uow:
            row = create_from_spec(
                uow.session,
                IntegrationSpec.model_validate(body),
                actor="admin",
                secrets=services.secrets,
                project_exists=project_checker(services),
                places=services.queue_places,
            )
            set_running(uow.session, row.key, running=True, actor="admin")
            uow.commit()
        engine = SyncRunner(services, backoff_ms=0)
        try:
            engine.settle()
        finally:
            engine.stop()
    finally:
        services.close()
    return home


def test_messages_can_be_listed_shown_retried_and_discarded(home: Path) -> None:
    listed = run(home, "messages", "list", "PB-2", "--state", "error", "--json")
    assert listed.returncode == 0, listed.stderr
    errors = json.loads(listed.stdout)
    assert len(errors) == 2  # "Medium" maps to a priority PB does not have: both creates refused
    assert all("priority" in e["reason"] for e in errors)

    shown = run(home, "messages", "show", "PB-2", str(errors[0]["id"]))
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["message"]["kind"] == "create"
    assert document["replica"]["hubIssue"]["key"] == errors[0]["issueKey"]
    assert "encodedPayload" not in shown.stdout  # the replica once, decoded
    raw = json.loads(run(home, "messages", "show", "PB-2", str(errors[0]["id"]), "--raw").stdout)
    payload = raw["message"]["replica"]["encodedPayload"]
    assert json.loads(base64.b64decode(payload)) == raw["replica"]
    assert {k: v for k, v in raw.items() if k != "message"} == {
        k: v for k, v in document.items() if k != "message"
    }

    retried = run(home, "messages", "retry", "PB-2", str(errors[0]["id"]))
    assert retried.returncode == 0, retried.stderr
    assert "1 message(s) of PB-2 queued again" in retried.stdout
    discarded = run(home, "messages", "discard", "PB-2", "--state", "error")
    assert "1 message(s) of PB-2 discarded" in discarded.stdout

    table = run(home, "messages", "list", "PB-2")
    assert "discard" in table.stdout
    assert "new" in table.stdout


def test_cli_errors_are_one_line(home: Path) -> None:
    for args, expected in (
        (("messages", "list", "XX-9"), "No connector"),
        (("messages", "list", "PB-2", "--state", "lost"), "Unknown state 'lost'"),
        (("messages", "retry", "PB-2"), "Name the messages"),
        (("messages", "resolve", "PB-2", "1", "--keep", "mine"), "--keep must be"),
        (("integration", "resync", "PA-1", "--jql", "project = "), "jql"),
        (("integration", "resync", "PA-1", "--field-mapping", "nope"), "fieldMappings[0]"),
    ):
        result = run(home, *args)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert expected in lines[0], (args, lines[0])


def test_resync_runs_as_a_task_with_progress(home: Path) -> None:
    result = run(home, "integration", "resync", "PA-1", "--jql", "summary ~ Fine")
    assert result.returncode == 0, result.stderr
    assert "Resync finished: 1 issue of PA-1 sent." in result.stdout


def test_a_fixed_configuration_lets_refused_messages_through(home: Path, tmp_path: Path) -> None:
    fix = tmp_path / "fix.json"
    fix.write_text(
        json.dumps(
            {
                "firstConnector": {
                    "projectKey": "PA",
                    "configuration": {
                        "fieldMappings": [
                            {"localField": "summary", "remoteField": "summary"},
                            {"localField": "priority", "remoteField": "priority"},
                        ]
                    },
                },
                "secondConnector": {"projectKey": "PB"},
            }
        )
    )
    updated = run(home, "integration", "update", "INT-1", "--file", str(fix), "--json")
    assert updated.returncode == 0, updated.stderr
    shown = json.loads(updated.stdout)
    mappings = shown["firstConnector"]["configuration"]["fieldMappings"]
    assert all(not m["valueMappings"] for m in mappings)
    # Sent messages keep what they carried: give them up and send the issues again.
    discarded = run(home, "messages", "discard", "PB-2", "--state", "error")
    assert "2 message(s) of PB-2 discarded" in discarded.stdout
    resync = run(home, "integration", "resync", "PA-1")
    assert "Resync finished: 2 issues of PA-1 sent." in resync.stdout, resync.stderr

    services = build_services(Settings(home=home, admin_password=SecretStr("admin-pw")))
    try:
        engine = SyncRunner(services, backoff_ms=0)
        try:
            engine.settle()
        finally:
            engine.stop()
    finally:
        services.close()
    listed = json.loads(run(home, "messages", "list", "PB-2", "--json").stdout)
    assert sorted(m["state"] for m in listed) == ["archive"] * 2 + ["discard"] * 2
