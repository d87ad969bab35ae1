"""Tracker calls per synced change, for each remote adapter, counted at the wire.

For each --target, a built-in project PA is kept in step with a project of that
tracker by the engine (in this process, stepped until quiet). Every request the
adapter makes goes through a counting proxy on 127.0.0.1 (a
:class:`~issuesync.testing.handler_server.HandlerServer` that forwards to the
tracker, or serves the fake tracker itself), so the counts are what the tracker
would see. Per change, it prints the writes, the page reads (the poll's search
or list requests) and the other reads, and the engine steps it took:

- create in PA (with one comment), edit PA's summary, comment in PA: what the
  change costs on the tracker (target: one write per field group; a create may
  add a comment write and, where the tracker needs it, a transition);
- create, edit and comment on the tracker's side: what reading them costs
  (target: no more than one read per changed issue per poll beyond the page);
- an idle poll (target: the page only; 0 billed calls where a 304 is free).

Targets: jira (the built-in tracker's Jira REST v2 API over HTTP), jira820 (the
emulator), redmine (a real Redmine: ``make redmine`` first), github and gitlab
(the stateful fakes of ``issuesync.testing``). Usage:

    .venv/bin/python bench/tracker_calls.py [--target jira --target github ...]

``make bench-calls`` runs every target.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
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
from issuesync.testing.fake_gitlab import DEVELOPER, MAINTAINER, FakeGitLab
from issuesync.testing.handler_server import Handler, HandlerServer
from issuesync.testing.server import LiveServer
from support.jira820_server import Jira820
from support.redmine_server import start_redmine

PASSWORD = "bench-password"  # noqa: S105 - a throwaway home's admin
SYNC_USER = "backbone"
SYNC_PASSWORD = "backbone"  # noqa: S105 - a throwaway home's sync user
API = "/rest/api/2"
MAX_STEPS = 50
READS = frozenset({"GET", "HEAD"})


# -- counting -------------------------------------------------------------------------------


class Counting:
    """A handler that counts each request by kind before passing it on."""

    def __init__(self, inner: Handler, pages: re.Pattern[str]) -> None:
        self.inner = inner
        self.pages = pages
        self.counts: Counter[str] = Counter()
        self.lines: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.inner(request)
        path = request.url.path
        if self.pages.search(f"{request.method} {path}"):
            kind = "pages"  # a search may be a POST (Jira's), and still only reads
        elif request.method not in READS:
            kind = "writes"
        else:
            kind = "other reads"
        with self._lock:
            self.counts[kind] += 1
            self.counts["304"] += response.status_code == httpx.codes.NOT_MODIFIED
            self.lines[f"{request.method} {re.sub(r'/[0-9]+', '/{n}', path)}"] += 1
        return response

    def take(self) -> tuple[Counter[str], Counter[str]]:
        """The counts since the last take."""
        with self._lock:
            counts, lines = self.counts, self.lines
            self.counts, self.lines = Counter(), Counter()
        return counts, lines


def forwarder(upstream: str) -> Handler:
    """A handler that sends each request on to ``upstream`` (a real server)."""
    client = httpx.Client(base_url=upstream, timeout=60)

    def forward(request: httpx.Request) -> httpx.Response:
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
        target = httpx.URL(upstream).join(request.url.raw_path.decode())
        answer = client.send(
            httpx.Request(request.method, target, headers=headers, content=request.content)
        )
        return httpx.Response(
            answer.status_code, headers=answer.headers.multi_items(), content=answer.content
        )

    return forward


# -- the remote side of a target -----------------------------------------------------------


@dataclass
class Remote:
    """A project on the tracker under test, and how to change it from outside issuesync."""

    system: str
    project_key: str
    base_url: str  # the tracker itself (the proxy goes in front of it)
    credentials: dict[str, str]
    handler: Handler  # what the proxy serves: the fake, or a forwarder to base_url
    pages: re.Pattern[str]  # matches "METHOD /path" of a poll's page requests
    create: Callable[[str], str]
    edit: Callable[[str, str], None]
    comment: Callable[[str, str], None]
    # PA's side of the integration's configuration, for a tracker that needs mappings
    # (its issue types, statuses, fields) beyond the defaults.
    configuration: dict[str, Any] | None = None


Opener = Callable[[ExitStack, Services, LiveServer], Remote]


def jira_remote(admin: httpx.Client, project: str, credentials: dict[str, str], url: str) -> Remote:
    """A Jira-shaped tracker at ``url``, changed from outside through ``admin``."""

    def create(summary: str) -> str:
        fields = {"project": {"key": project}, "summary": summary, "issuetype": {"name": "Task"}}
        response = admin.post(f"{API}/issue", json={"fields": fields})
        response.raise_for_status()
        key: str = response.json()["key"]
        return key

    def edit(key: str, summary: str) -> None:
        admin.put(f"{API}/issue/{key}", json={"fields": {"summary": summary}}).raise_for_status()

    def comment(key: str, body: str) -> None:
        admin.post(f"{API}/issue/{key}/comment", json={"body": body}).raise_for_status()

    return Remote(
        system="jira",
        project_key=project,
        base_url=url,
        credentials=credentials,
        handler=forwarder(url),
        pages=re.compile(r"^(GET|POST) .*/search$"),
        create=create,
        edit=edit,
        comment=comment,
    )


def open_jira(stack: ExitStack, _services: Services, server: LiveServer) -> Remote:
    """The built-in tracker's Jira REST v2 API as "Jira": project PB."""
    admin = httpx.Client(base_url=server.url, auth=("admin", PASSWORD), timeout=30)
    stack.callback(admin.close)
    admin.post(f"{API}/project", json={"key": "PB", "name": "Jira side"}).raise_for_status()
    credentials = {"user": SYNC_USER, "password": SYNC_PASSWORD}
    return jira_remote(admin, "PB", credentials, server.url)


def open_github(_stack: ExitStack, _services: Services, _server: LiveServer) -> Remote:
    """The stateful fake GitHub (``issuesync.testing.fake_github``): repository octo/sync."""
    github = FakeGitHub()
    github.add_user("octo", token="human-token")  # noqa: S106 - the fake's own token
    github.add_user("sync-bot", token="sync-token")  # noqa: S106 - the fake's own token
    github.add_repo("octo/sync", roles={"sync-bot": "write"})
    human = httpx.Client(
        base_url="https://api.github.test",
        transport=httpx.MockTransport(github),
        headers={"Authorization": "Bearer human-token"},
    )
    issues = "/repos/octo/sync/issues"

    def create(summary: str) -> str:
        response = human.post(issues, json={"title": summary})
        response.raise_for_status()
        return str(response.json()["number"])

    return Remote(
        system="github",
        project_key="octo/sync",
        configuration=open_issues_mapping(["Issue"]),
        base_url="",
        credentials={"token": "sync-token"},
        handler=github,
        pages=re.compile(r"^GET /repos/[^/]+/[^/]+/issues$"),
        create=create,
        edit=lambda key, summary: human.patch(
            f"{issues}/{key}", json={"title": summary}
        ).raise_for_status(),
        comment=lambda key, body: human.post(
            f"{issues}/{key}/comments", json={"body": body}
        ).raise_for_status(),
    )


def open_gitlab(_stack: ExitStack, _services: Services, _server: LiveServer) -> Remote:
    """The stateful fake GitLab (``issuesync.testing.fake_gitlab``): project group/sync."""
    gitlab = FakeGitLab()
    sync = gitlab.add_user("sync", email="sync@example.test")
    person = gitlab.add_user("person")
    gitlab.add_project("group/sync", members={sync: MAINTAINER, person: DEVELOPER})
    human = httpx.Client(
        base_url="https://gitlab.test/api/v4",
        transport=httpx.MockTransport(gitlab),
        headers={"PRIVATE-TOKEN": person.token},
    )
    issues = "/projects/group%2Fsync/issues"

    def create(summary: str) -> str:
        response = human.post(issues, json={"title": summary})
        response.raise_for_status()
        return str(response.json()["iid"])

    return Remote(
        system="gitlab",
        project_key="group/sync",
        configuration=open_issues_mapping(["Issue", "Incident"]),
        base_url="",
        credentials={"token": sync.token},
        handler=gitlab,
        pages=re.compile(r"^GET /api/v4/projects/.+/issues$"),
        create=create,
        edit=lambda key, summary: human.put(
            f"{issues}/{key}", json={"title": summary}
        ).raise_for_status(),
        comment=lambda key, body: human.post(
            f"{issues}/{key}/notes", json={"body": body}
        ).raise_for_status(),
    )


def open_issues_mapping(types: list[str]) -> dict[str, Any]:
    """PA's mappings to GitHub's or GitLab's issues: Task <> Issue, To Do / Done <> Open /
    Closed (In Progress is Open there); summary, description, labels, comments, attachments."""
    return {
        "fieldMappings": [
            {"localField": name, "remoteField": name}
            for name in ("summary", "description", "labels", "comment", "attachment")
        ],
        "issueTypeMappings": {
            "outgoing": [{"local": "Task", "remote": types[0]}],
            "incoming": [{"local": "Task", "remote": name} for name in types],
        },
        "workflowMappings": [
            {
                "id": "##GLOBAL##",
                "statusMappings": [
                    {"local": "To Do", "remote": "Open"},
                    {"local": "In Progress", "remote": "Open"},
                    {"local": "Done", "remote": "Closed"},
                ],
            }
        ],
    }


def open_redmine(stack: ExitStack, _services: Services, _server: LiveServer) -> Remote:
    """A real Redmine (``scripts/redmine/install``; ``support.redmine_server``)."""
    redmine = start_redmine()
    stack.callback(redmine.stop)
    project = redmine.new_project()
    admin = redmine.admin()
    stack.callback(admin.close)

    def create(summary: str) -> str:
        body = {"issue": {"project_id": project, "tracker_id": 3, "subject": summary}}
        response = admin.post("/issues.json", json=body)
        response.raise_for_status()
        return str(response.json()["issue"]["id"])

    def update(key: str, issue: dict[str, str]) -> None:
        admin.put(f"/issues/{key}.json", json={"issue": issue}).raise_for_status()

    configuration = open_issues_mapping(["Support"])
    configuration["fieldMappings"].insert(0, {"localField": "priority", "remoteField": "priority"})
    configuration["fieldMappings"][0]["valueMappings"] = [
        {"local": "Medium", "remote": "Normal"},
        {"local": "High", "remote": "High"},
    ]
    configuration["workflowMappings"][0]["statusMappings"] = [
        {"local": "To Do", "remote": "New"},
        {"local": "In Progress", "remote": "In Progress"},
        {"local": "Done", "remote": "Closed"},
    ]
    return Remote(
        system="redmine",
        project_key=project,
        base_url=redmine.url,
        credentials={"token": redmine.sync_key},
        handler=forwarder(redmine.url),
        pages=re.compile(r"^GET /issues\.json$"),
        create=create,
        edit=lambda key, summary: update(key, {"subject": summary}),
        comment=lambda key, body: update(key, {"notes": body}),
        configuration=configuration,
    )


def open_jira820(stack: ExitStack, _services: Services, _server: LiveServer) -> Remote:
    """jira820, the third-party Jira Data Center 8.20 emulator (no authentication)."""
    jira = Jira820()
    jira.start()
    stack.callback(jira.stop)
    admin = httpx.Client(base_url=jira.url, auth=("admin", "admin"), timeout=30)
    stack.callback(admin.close)
    credentials = {"user": "admin", "password": "admin"}
    remote = jira_remote(admin, jira.new_project(), credentials, jira.url)
    remote.configuration = {  # jira820's workflow starts at Open
        "workflowMappings": [
            {"id": "##GLOBAL##", "statusMappings": [{"local": "To Do", "remote": "Open"}]}
        ]
    }
    return remote


TARGETS: dict[str, Opener] = {
    "jira": open_jira,
    "github": open_github,
    "gitlab": open_gitlab,
    "redmine": open_redmine,
    "jira820": open_jira820,
}


# -- the run ---------------------------------------------------------------------------------


@contextmanager
def home_with_server() -> Iterator[tuple[Services, LiveServer, httpx.Client]]:
    with tempfile.TemporaryDirectory(prefix="issuesync-calls-") as home:
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
        client = httpx.Client(base_url=server.url, auth=("admin", PASSWORD), timeout=30)
        try:
            yield services, server, client
        finally:
            client.close()
            server.stop()
            services.close()


def start_integration(services: Services, remote: Remote, proxy_url: str) -> None:
    application = {"system": remote.system, "baseUrl": proxy_url, **remote.credentials}
    body = {
        "summary": f"PA <> {remote.project_key} (calls)",
        "firstConnector": {
            "projectKey": "PA",
            "connection": {"application": {"user": SYNC_USER, "password": SYNC_PASSWORD}},
            **({"configuration": remote.configuration} if remote.configuration else {}),
        },
        "secondConnector": {
            "projectKey": remote.project_key,
            "connection": {"application": application},
        },
    }
    spec = IntegrationSpec.model_validate(body)
    with services.uow_factory() as uow:
        row = create_from_spec(
            uow.session,
            spec,
            actor="admin",
            secrets=services.secrets,
            project_exists=project_checker(services),
            places=services.queue_places,
        )
        set_running(uow.session, row.key, running=True, actor="admin")
        uow.commit()


def settle(engine: SyncRunner) -> int:
    """Step until a step moves nothing; the steps taken, the quiet one included."""
    for steps in range(1, MAX_STEPS + 1):
        if engine.step() == 0:
            return steps
    msg = f"the engine did not settle in {MAX_STEPS} steps"
    raise RuntimeError(msg)


def run_target(name: str, opener: Opener) -> list[tuple[str, Counter[str], int, Counter[str]]]:
    rows: list[tuple[str, Counter[str], int, Counter[str]]] = []
    with home_with_server() as (services, server, client), ExitStack() as stack:
        client.post(
            f"{API}/project", json={"key": "PA", "name": "Built-in side"}
        ).raise_for_status()
        remote = opener(stack, services, server)
        counting = Counting(remote.handler, remote.pages)
        proxy = HandlerServer(counting)
        proxy.start()
        stack.callback(proxy.stop)
        start_integration(services, remote, proxy.url)
        engine = SyncRunner(services, backoff_ms=0, deletion_check_ms=0)
        stack.callback(engine.stop)
        settle(engine)
        counting.take()

        def measure(label: str, change: Callable[[], None]) -> None:
            change()
            time.sleep(1.1)  # past a whole second: trackers that keep seconds see it
            steps = settle(engine)
            counts, lines = counting.take()
            rows.append((label, counts, steps, lines))

        def local_create() -> None:
            body = {
                "fields": {
                    "project": {"key": "PA"},
                    "summary": "Made in PA",
                    "issuetype": {"name": "Task"},
                }
            }
            key = client.post(f"{API}/issue", json=body).json()["key"]
            client.post(f"{API}/issue/{key}/comment", json={"body": "First"}).raise_for_status()
            state["local"] = key

        state: dict[str, str] = {}
        measure("PA: create + 1 comment", local_create)
        measure(
            "PA: edit summary",
            lambda: client.put(
                f"{API}/issue/{state['local']}", json={"fields": {"summary": "Edited in PA"}}
            ).raise_for_status(),
        )
        measure(
            "PA: comment",
            lambda: client.post(
                f"{API}/issue/{state['local']}/comment", json={"body": "Second"}
            ).raise_for_status(),
        )
        measure(f"{name}: create", lambda: state.update(remote=remote.create(f"Made in {name}")))
        measure(f"{name}: edit summary", lambda: remote.edit(state["remote"], f"Edited in {name}"))
        measure(f"{name}: comment", lambda: remote.comment(state["remote"], f"From {name}"))
        engine.step()  # an idle poll: nothing changed since the last quiet step
        counts, lines = counting.take()
        rows.append(("idle poll (1 step)", counts, 1, lines))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=sorted(TARGETS))
    parser.add_argument("--verbose", action="store_true", help="print each request line")
    args = parser.parse_args()
    for name in args.target or sorted(TARGETS):
        print(f"\n== {name} ==")
        print(f"{'change':<28}{'writes':>8}{'pages':>8}{'other reads':>13}{'304s':>6}{'steps':>7}")
        for label, counts, steps, lines in run_target(name, TARGETS[name]):
            print(
                f"{label:<28}{counts['writes']:>8}{counts['pages']:>8}"
                f"{counts['other reads']:>13}{counts['304']:>6}{steps:>7}"
            )
            if args.verbose:
                for line, count in sorted(lines.items()):
                    print(f"    {count:>3} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
