"""No secret reaches a real ``issuesync serve`` process's output (issue 22, "Logs").

A ``serve`` process of its own, at debug level with JSON lines, is given known secrets (the
administrator's and a user's passwords, an API token, tracker passwords through the
Backbone and SD Elements APIs and through the CLI) and driven through failures: trackers
on loopback ports that answer 401 and 500 (repeating the credentials they were sent), a
wrong password, a connection test and a job that fail, the engine's routes that fail.
Then every line the process wrote (stderr, stdout, any log file in its home) and every
CLI output is searched for each secret, raw, URL-encoded and base64 (HTTP Basic).
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
from connections_helpers import BASE as CONNECTIONS
from connections_helpers import token_client
from proxy_helpers import free_port
from sync_helpers import wait_for
from test_cli import run
from test_cli_serve import Serve
from test_logs import failing_connection, jira_side, job_done
from test_security_secrets import BASE, forms, with_remote
from tracker_helpers import create_issue, create_project

from issuesync.testing.handler_server import HandlerServer

INTEGRATIONS = ("INT-1", "INT-2", "INT-3")
WAIT_S = 20.0  # for the engine and the job to fail (each takes a few seconds)


def said(request: httpx.Request) -> str:
    """Every header of a request, as a tracker that repeats them in an error would."""
    return "; ".join(f"{name}: {value}" for name, value in request.headers.items())


def refusing(request: httpx.Request) -> httpx.Response:
    """A tracker that refuses every login, saying what it was sent."""
    return httpx.Response(401, text=f"bad credentials: {said(request)}")


def failing(request: httpx.Request) -> httpx.Response:
    """A tracker that fails every request, saying what it was sent, asking for a retry now."""
    return httpx.Response(500, text=f"failed for {said(request)}", headers={"Retry-After": "0"})


def redmine_side(url: str, key: str) -> dict[str, Any]:
    """A Redmine project's connector, with an API key (sent in ``X-Redmine-API-Key``)."""
    side = jira_side(url, "unused", "unused")
    side["projectKey"] = "widgets"
    side["connection"]["application"] = {"system": "redmine", "baseUrl": url, "token": key}
    return side


def secret(name: str) -> str:
    """A secret no line could hold by chance (no known prefix: redacted by value only)."""
    return f"{name}-{secrets.token_hex(8)}"


def written(known: dict[str, str], users: tuple[str, ...]) -> dict[str, set[str]]:
    """Each secret in every form a line could carry it: raw, URL-encoded, base64, and in the
    HTTP Basic credentials of each user."""
    return {
        name: forms(value)
        | {base64.b64encode(f"{user}:{value}".encode()).decode() for user in users}
        for name, value in known.items()
    }


def test_no_secret_reaches_a_serve_process_output(tmp_path: Path) -> None:  # noqa: PLR0915 - one story
    home = tmp_path / "home"
    known = {
        "admin password": secret("Admin-pw"),
        "user password": secret("Carol-pw"),
        "wrong password": secret("Wrong-pw"),
        "jira password (401)": secret("Jira-401-pw"),
        "jira password (500)": secret("Jira-500-pw"),
        "redmine API key (401)": secret("Redmine-key"),
        "issue_tracker_pass": secret("Sde-pass"),
        "cli tracker secret": secret("Cli-tracker"),
    }
    admin_pw = known["admin password"]
    env = {
        "ISSUESYNC_ADMIN_PASSWORD": admin_pw,
        "ISSUESYNC_LOG_LEVEL": "debug",
        "ISSUESYNC_LOG_FORMAT": "json",
    }
    outputs: dict[str, str] = {}

    def cli(*args: str, extra: dict[str, str] | None = None) -> str:
        done = run(home, *args, env=env | (extra or {}))
        outputs[f"cli {' '.join(args)}"] = done.stdout + done.stderr
        return done.stdout

    with (
        HandlerServer(refusing) as refused,
        HandlerServer(failing) as broken,
    ):
        server = Serve(home, free_port(), tmp_path / "serve.log", "--log-format", "json", **env)
        try:
            server.serving_line()
            cli(
                "user",
                "create",
                "carol",
                "--admin",
                extra={"ISSUESYNC_USER_PASSWORD": known["user password"]},
            )
            token = cli("token", "create", "admin", "--name", "logs").strip()
            outputs.pop("cli token create admin --name logs")  # it shows the token, once
            known["api token"] = token
            made = cli(
                "tracker-connector",
                "add",
                "Broken Jira",
                "--system",
                "jira",
                "--server",
                broken.url.removeprefix("http://"),
                "--method",
                "http",
                "--user",
                "clisync",
                extra={"ISSUESYNC_TRACKER_SECRET": known["cli tracker secret"]},
            )
            assert made, outputs

            with (
                httpx.Client(base_url=server.url, auth=("admin", admin_pw), timeout=30) as admin,
                httpx.Client(
                    base_url=server.url, auth=("carol", known["user password"]), timeout=30
                ) as carol,
                token_client(server.url, token) as script,
            ):
                for key in ("PA", "PC", "PD", "PE"):
                    create_project(admin, key)
                create_issue(carol, "PA", "Sent to a Jira that refuses the password")
                create_issue(carol, "PC", "Sent to a Jira that fails")
                create_issue(carol, "PE", "Sent to a Redmine that refuses the key")
                wrong = httpx.get(
                    f"{server.url}/rest/api/2/myself",
                    auth=("carol", known["wrong password"]),
                    timeout=30,
                )
                assert wrong.status_code == 401
                # Backbone: integrations whose remote Jira refuses its password, or fails,
                # and whose Redmine refuses its API key.
                for project, side in (
                    ("PA", jira_side(refused.url, "jirasync", known["jira password (401)"])),
                    ("PC", jira_side(broken.url, "jirasync", known["jira password (500)"])),
                    ("PE", redmine_side(refused.url, known["redmine API key (401)"])),
                ):
                    created = admin.post(f"{BASE}/integrations", json=with_remote(project, side))
                    assert created.status_code == 200, created.text
                for key in INTEGRATIONS:
                    assert admin.put(f"{BASE}/integrations/{key}/start").status_code == 200
                # SD Elements: a tracker connector with a password its Jira refuses, tested,
                # and a connection whose job fails.
                params = {
                    "issue_tracker_server": refused.url.removeprefix("http://"),
                    "issue_tracker_method": "http",
                    "issue_tracker_user": "sdesync",
                    "issue_tracker_pass": known["issue_tracker_pass"],
                }
                one = failing_connection(script, params)
                # The CLI tests its own tracker connector (the one that fails).
                listed = script.get(f"{CONNECTIONS}/connectors/").json()
                outputs["connectors"] = json.dumps(listed)
                ids = [c["id"] for c in listed["results"] if c["name"] == "Broken Jira"]
                assert ids, listed
                cli("connection", "test", "--connector", str(ids[0]), "--tracker-project", "PB")
                cli("integration", "show", "INT-1")
                cli("tracker-connector", "list")

                def failed_everywhere() -> bool:
                    states = [
                        admin.get(f"{BASE}/integrations/{k}/status").json() for k in INTEGRATIONS
                    ]
                    return all(s["secondConnector"]["outgoingDetails"] for s in states)

                wait_for("every integration failing", failed_everywhere, timeout=WAIT_S)
                wait_for(
                    "the connection's job to end", lambda: job_done(script, one), timeout=WAIT_S
                )
                outputs["jobs"] = script.get(f"{one}jobs/").text
        finally:
            server.stop()

    outputs["serve stderr"] = server.stderr()
    outputs["serve stdout"] = server.out.read_text(encoding="utf-8", errors="replace")
    for log_file in sorted(home.rglob("*.log")):
        outputs[str(log_file.relative_to(home))] = log_file.read_text(errors="replace")
    users = ("admin", "carol", "jirasync", "sdesync", "clisync")
    for name, shapes in written(known, users).items():
        for shape in shapes:
            for where, text in outputs.items():
                assert shape not in text, f"the {name} is in the {where}"

    # The scan read what it had to: the process's JSON lines, its tracker requests refused
    # and failed, at debug level, and no httpcore trace among them.
    lines = [json.loads(x) for x in outputs["serve stderr"].splitlines() if x.startswith("{")]
    requests = [e for e in lines if e["event"].startswith("tracker request")]
    assert {e["status"] for e in requests if "status" in e} >= {401, 500}, requests[:5]
    assert {e.get("integration") for e in requests} >= set(INTEGRATIONS)
    assert not any(e["logger"].startswith(("httpcore", "httpx")) for e in lines)
