"""Benchmark: issuesync's initial sync beside a bare httpx script making just the needed calls.

Two paths, each in one run, rounds alternating (script, issuesync, script, ...):

- **GitHub -> Jira**: the stateful fake GitHub (``issuesync.testing.fake_github``,
  served over HTTP by ``HandlerServer``) with --issues issues of 2 comments each,
  into an empty project of the built-in tracker's Jira REST v2 API, through the
  ``jira`` adapter (an integration of two remote connectors, the engine stepped in
  this process until quiet). The script reads the issue pages and the repository's
  comment pages (100 a page) and makes one Jira write per issue and per comment.
- **Redmine -> GitHub**: a real Redmine (``tests/support/redmine_server.py``;
  skipped with a line saying why where it is not installed) with --redmine-issues
  issues of 2 notes each, into an empty repository of the fake GitHub. The script
  reads the issue pages, each issue with its journals (Redmine lists no notes
  across issues) and makes one GitHub write per issue and per note. GitHub allows
  80 content-creating requests a minute, which the adapter keeps to: the default
  (25 issues: 75 writes) stays under it, so neither side waits for the limit.

Each round syncs into a fresh target (the source is shared: nothing is written to it),
and is checked to hold every issue and comment after it. The figure is issues/s from
the integration's start (or the script's first request) until the engine's first quiet
step (or the script's last write); the ratio is issuesync's median rate over the
script's (target >= 0.8). Per issue, the adapters make the script's writes and read
the new issue back (its update time after the comments, which the engine keeps): the
``jira`` adapter a hundred issues a search; the ``github`` adapter reads nothing back
(GitHub's answers say the issue's update time), nor does the script. The home's server
runs in this process, as the engine does.
Each round's integration is stopped after it, so that the next round's engine runs
its own only.

Usage: .venv/bin/python bench/sync_vs_script.py [--issues 300] [--redmine-issues 25]
       [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

# The servers that only the tests and benchmarks use: tests/support/ (not shipped).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.app import bootstrap, build_services, create_app
from issuesync.application.integrations import project_checker, set_running
from issuesync.config import Settings
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.testing.fake_github import FakeGitHub
from issuesync.testing.handler_server import HandlerServer
from issuesync.testing.server import LiveServer
from support.redmine_server import RedmineServer, start_redmine, unavailable

PASSWORD = "bench-password"  # noqa: S105 - a throwaway home's admin
SYNC_USER = "backbone"
SYNC_PASSWORD = "backbone"  # noqa: S105 - a throwaway home's sync user
API = "/rest/api/2"
COMMENTS = 2
RATIO_TARGET = 0.8
MAX_STEPS = 500
GITHUB_TOKEN = "sync-token"  # noqa: S105 - the fake's own token
HUMAN_TOKEN = "human-token"  # noqa: S105 - the fake's own token
SOURCE_REPO = "octo/source"
FAST = {"sync": {"outgoingInterval": "1s", "incomingInterval": "1s"}}
NO_DELAY = {"initialInternalPollingDelay": 0}


# -- the places ------------------------------------------------------------------------------


@contextmanager
def issuesync_home() -> Iterator[tuple[Services, LiveServer, httpx.Client]]:
    """A throwaway home served over HTTP, with the sync user; the admin's client."""
    with tempfile.TemporaryDirectory(prefix="issuesync-vs-script-") as home:
        server = LiveServer()
        settings = Settings(
            home=Path(home),
            admin_password=PASSWORD,  # type: ignore[arg-type]
            base_url=server.url,
        )
        services = build_services(settings)
        bootstrap(services)
        create_user(
            services.uow_factory,
            NewUser(
                name=SYNC_USER, email="backbone@example.test", password=SYNC_PASSWORD, admin=True
            ),
        )
        server.start(create_app(services))
        client = httpx.Client(base_url=server.url, auth=("admin", PASSWORD), timeout=60)
        try:
            yield services, server, client
        finally:
            client.close()
            server.stop()
            services.close()


def fake_github() -> FakeGitHub:
    """The fake GitHub, with a human and the sync user (write access to every repository)."""
    github = FakeGitHub()
    github.add_user("octo", token=HUMAN_TOKEN)
    github.add_user("sync-bot", token=GITHUB_TOKEN)
    return github


def seed_github(github: FakeGitHub, repo: str, count: int) -> None:
    """``count`` issues of ``COMMENTS`` comments each in ``repo`` (in process, not timed)."""
    github.add_repo(repo, roles={"sync-bot": "write"})
    with httpx.Client(
        base_url="https://api.github.test",
        transport=httpx.MockTransport(github),
        headers={"Authorization": f"Bearer {HUMAN_TOKEN}"},
    ) as human:
        for n in range(count):
            body = {"title": f"Issue {n}", "body": f"The description of issue {n}."}
            number = human.post(f"/repos/{repo}/issues", json=body).json()["number"]
            for c in range(COMMENTS):
                path = f"/repos/{repo}/issues/{number}/comments"
                human.post(path, json={"body": f"Comment {c} on issue {n}."}).raise_for_status()


def seed_redmine(redmine: RedmineServer, count: int) -> str:
    """A Redmine project with ``count`` issues of ``COMMENTS`` notes each (not timed)."""
    project = redmine.new_project()
    with redmine.admin() as admin:
        for n in range(count):
            body = {
                "issue": {
                    "project_id": project,
                    "tracker_id": 3,
                    "subject": f"Issue {n}",
                    "description": f"The description of issue {n}.",
                }
            }
            made = admin.post("/issues.json", json=body)
            made.raise_for_status()
            number = made.json()["issue"]["id"]
            for c in range(COMMENTS):
                note = {"issue": {"notes": f"Note {c} on issue {n}."}}
                admin.put(f"/issues/{number}.json", json=note).raise_for_status()
    return project


# -- issuesync -------------------------------------------------------------------------------


def issues_mapping(local_type: str, statuses: list[tuple[str, str]]) -> dict[str, Any]:
    """The first connector's mappings to GitHub's issues: summary, description, comments."""
    return {
        **FAST,
        "fieldMappings": [
            {"localField": name, "remoteField": name}
            for name in ("summary", "description", "comment")
        ],
        "issueTypeMappings": {
            "outgoing": [{"local": local_type, "remote": "Issue"}],
            "incoming": [{"local": local_type, "remote": "Issue"}],
        },
        "workflowMappings": [
            {
                "id": "##GLOBAL##",
                "statusMappings": [{"local": a, "remote": b} for a, b in statuses],
            }
        ],
    }


def run_integration(services: Services, body: dict[str, Any]) -> float:
    """Create and start the integration, step the engine until quiet: the seconds it took."""
    started = time.perf_counter()
    with services.uow_factory() as uow:
        row = create_from_spec(
            uow.session,
            IntegrationSpec.model_validate(body),
            actor="admin",
            secrets=services.secrets,
            project_exists=project_checker(services),
            places=services.queue_places,
        )
        key = row.key
        set_running(uow.session, key, running=True, actor="admin")
        uow.commit()
    engine = SyncRunner(services, backoff_ms=0, deletion_check_ms=0)
    try:
        for _ in range(MAX_STEPS):
            if engine.step() == 0:
                break
        else:
            msg = f"the engine did not settle in {MAX_STEPS} steps"
            raise RuntimeError(msg)
    finally:
        engine.stop()
    took = time.perf_counter() - started
    # Stopped, so that the next round's engine runs its own integration only: a new engine
    # would poll this one's trackers too (and read its look-back window's issues again).
    with services.uow_factory() as uow:
        set_running(uow.session, key, running=False, actor="admin")
        uow.commit()
    return took


def github_connector(url: str, repo: str, configuration: dict[str, Any]) -> dict[str, Any]:
    application = {"system": "github", "baseUrl": url, "token": GITHUB_TOKEN}
    return {
        "projectKey": repo,
        "connection": {"application": application, "connector": NO_DELAY},
        "configuration": configuration,
    }


def jira_issues(client: httpx.Client, project: str) -> tuple[int, int]:
    """How many issues, and comments on them, the Jira project has."""
    found = client.get(
        f"{API}/search",
        params={"jql": f"project = {project}", "fields": "comment", "maxResults": 1000},
    ).json()
    comments = sum(len(i["fields"]["comment"]["comments"]) for i in found["issues"])
    return int(found["total"]), comments


def github_issues(github: FakeGitHub, repo: str) -> tuple[int, int]:
    """How many issues, and comments on them, the fake's repository has."""
    issues = github.repos[repo].issues.values()
    return len(issues), sum(len(i.comments) for i in issues)


# -- GitHub -> Jira --------------------------------------------------------------------------


def github_to_jira_script(github_url: str, jira_url: str, project: str) -> None:
    """The needed calls: issue pages, comment pages, a Jira write per issue and comment."""
    with (
        httpx.Client(
            base_url=github_url,
            headers={
                "Authorization": f"Bearer {GITHUB_TOKEN}",
                "Accept": "application/vnd.github+json",
            },
        ) as gh,
        httpx.Client(base_url=jira_url, auth=(SYNC_USER, SYNC_PASSWORD), timeout=60) as jira,
    ):
        issues = github_pages(gh, f"/repos/{SOURCE_REPO}/issues", {"state": "all"})
        comments: dict[str, list[dict[str, Any]]] = {}
        for comment in github_pages(gh, f"/repos/{SOURCE_REPO}/issues/comments", {}):
            comments.setdefault(comment["issue_url"].rsplit("/", 1)[-1], []).append(comment)
        for issue in issues:
            fields = {
                "project": {"key": project},
                "issuetype": {"name": "Task"},
                "summary": issue["title"],
                "description": issue["body"] or "",
            }
            made = jira.post(f"{API}/issue", json={"fields": fields})
            made.raise_for_status()
            key = made.json()["key"]
            for comment in comments.get(str(issue["number"]), []):
                posted = jira.post(f"{API}/issue/{key}/comment", json={"body": comment["body"]})
                posted.raise_for_status()


def github_pages(client: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every item of a GitHub list, 100 a page, by ``Link: rel="next"``."""
    items: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, str] | None = {**params, "per_page": "100"}
    while url is not None:
        page = client.get(url, params=query)
        page.raise_for_status()
        items.extend(page.json())
        url, query = page.links.get("next", {}).get("url"), None
    return items


def github_to_jira(issues: int, rounds: int) -> tuple[list[float], list[float]]:
    """Alternating rounds of the script and of issuesync: issues/s of each."""
    github = fake_github()
    seed_github(github, SOURCE_REPO, issues)
    script: list[float] = []
    synced: list[float] = []
    with HandlerServer(github) as served, issuesync_home() as (services, server, client):
        for n in range(rounds * 2):
            project = f"J{n}"
            client.post(f"{API}/project", json={"key": project, "name": project})
            if n % 2 == 0:
                started = time.perf_counter()
                github_to_jira_script(served.url, server.url, project)
                script.append(issues / (time.perf_counter() - started))
            else:
                jira = {"system": "jira", "baseUrl": server.url}
                body = {
                    "summary": f"{project} <> GitHub (bench)",
                    "firstConnector": {
                        "projectKey": project,
                        "connection": {
                            "application": {
                                **jira,
                                "user": SYNC_USER,
                                "password": SYNC_PASSWORD,
                            },
                            "connector": NO_DELAY,
                        },
                        "configuration": issues_mapping(
                            "Task", [("To Do", "Open"), ("Done", "Closed")]
                        ),
                    },
                    "secondConnector": github_connector(served.url, SOURCE_REPO, FAST),
                }
                synced.append(issues / run_integration(services, body))
            made = jira_issues(client, project)
            if made != (issues, issues * COMMENTS):
                msg = f"round {n}: {project} has {made} (issues, comments), not all"
                raise RuntimeError(msg)
    return script, synced


# -- Redmine -> GitHub -----------------------------------------------------------------------


def redmine_to_github_script(
    redmine: RedmineServer, project: str, github_url: str, repo: str
) -> None:
    """The needed calls: issue pages, each issue with its journals, a write per issue and note."""
    with (
        httpx.Client(
            base_url=redmine.url, headers={"X-Redmine-API-Key": redmine.sync_key}, timeout=60
        ) as rm,
        httpx.Client(
            base_url=github_url,
            headers={
                "Authorization": f"Bearer {GITHUB_TOKEN}",
                "Accept": "application/vnd.github+json",
            },
        ) as gh,
    ):
        listed: list[dict[str, Any]] = []
        offset = 0
        while True:
            params = {"project_id": project, "status_id": "*", "limit": 100, "offset": offset}
            page = rm.get("/issues.json", params=params).json()
            listed.extend(page["issues"])
            offset += 100
            if offset >= page["total_count"]:
                break
        for item in listed:
            issue = rm.get(f"/issues/{item['id']}.json", params={"include": "journals"}).json()
            issue = issue["issue"]
            body = {"title": issue["subject"], "body": issue.get("description") or ""}
            made = gh.post(f"/repos/{repo}/issues", json=body)
            made.raise_for_status()
            number = made.json()["number"]
            for journal in issue.get("journals") or []:
                if journal.get("notes"):
                    note = {"body": journal["notes"]}
                    gh.post(f"/repos/{repo}/issues/{number}/comments", json=note).raise_for_status()


def redmine_to_github(issues: int, rounds: int) -> tuple[list[float], list[float]]:
    """Alternating rounds of the script and of issuesync: issues/s of each."""
    script: list[float] = []
    synced: list[float] = []
    with ExitStack() as stack:
        redmine = start_redmine()
        stack.callback(redmine.stop)
        project = seed_redmine(redmine, issues)
        github = fake_github()
        served = stack.enter_context(HandlerServer(github))
        services, _server, _client = stack.enter_context(issuesync_home())
        for n in range(rounds * 2):
            repo = f"octo/target-{n}"
            github.add_repo(repo, roles={"sync-bot": "write"})
            if n % 2 == 0:
                started = time.perf_counter()
                redmine_to_github_script(redmine, project, served.url, repo)
                script.append(issues / (time.perf_counter() - started))
            else:
                mapping = issues_mapping("Support", [("New", "Open"), ("Closed", "Closed")])
                body = {
                    "summary": f"Redmine {project} <> {repo} (bench)",
                    "firstConnector": {
                        "projectKey": project,
                        "connection": {
                            "application": {
                                "system": "redmine",
                                "baseUrl": redmine.url,
                                "token": redmine.sync_key,
                            },
                            "connector": NO_DELAY,
                        },
                        "configuration": mapping,
                    },
                    "secondConnector": github_connector(served.url, repo, FAST),
                }
                synced.append(issues / run_integration(services, body))
            made = github_issues(github, repo)
            if made != (issues, issues * COMMENTS):
                msg = f"round {n}: {repo} has {made} (issues, comments), not all"
                raise RuntimeError(msg)
    return script, synced


# -- the report ------------------------------------------------------------------------------


def report(label: str, script: list[float], synced: list[float]) -> None:
    """One path's line: each round's rate, the medians and their ratio."""
    ratio = statistics.median(synced) / statistics.median(script)
    verdict = "ok" if ratio >= RATIO_TARGET else f"below the {RATIO_TARGET}x target"
    print(
        f"{label:<18} script {statistics.median(script):7.1f} issues/s "
        f"({', '.join(f'{r:.1f}' for r in script)}), issuesync "
        f"{statistics.median(synced):7.1f} issues/s ({', '.join(f'{r:.1f}' for r in synced)}): "
        f"{ratio:.2f}x ({verdict})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=300, help="GitHub -> Jira issues")
    parser.add_argument("--redmine-issues", type=int, default=25, help="Redmine -> GitHub")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each, alternating")
    args = parser.parse_args()
    print(f"{COMMENTS} comments an issue; {args.rounds} rounds each, alternating")
    paths: list[tuple[str, Callable[[], tuple[list[float], list[float]]]]] = [
        ("GitHub -> Jira", lambda: github_to_jira(args.issues, args.rounds)),
    ]
    why = unavailable()
    if why is None:
        paths.append(
            ("Redmine -> GitHub", lambda: redmine_to_github(args.redmine_issues, args.rounds))
        )
    for label, run in paths:
        report(label, *run())
    if why is not None:
        print(f"Redmine -> GitHub: skipped, Redmine is not installed here ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
