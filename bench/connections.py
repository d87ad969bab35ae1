"""Connections run by jobs: one job over a whole project, then jobs with nothing to do.

For each size (``--issues``, with a smaller run of 500 first to compare), on a fresh
temporary home (SQLite): the built-in project PA holds that many issues in "To Do"
(bulk SQL inserts, bench/sync.py's way: their times a day to a month old), the
built-in tracker is served over real HTTP on 127.0.0.1 and its Jira REST API is the
tracker (project PB, through the ``jira`` adapter, as a Jira Server would be), and a
connection PA -> PB (run manually, statuses in scope "To Do", no minimum priority,
title "$task_id $title") runs in jobs: ``request_run`` then ``ConnectionJobs.run_due``,
in this process, as ``serve``'s scheduler runs them.

1. The first job creates every issue in PB: issues/s and the requests the tracker's
   Jira API took per issue, by method and path (issue keys and ids collapsed), counted
   by an ASGI middleware around the served app. Checked: PB holds every issue, titled
   "PA-n ...", the job succeeded, and its result says that many were created.
2. The next job, with nothing to do, and 3. the job after it: the requests on each
   side. The tracker side's are the HTTP requests counted as above; the built-in side
   is called in-process, so its adapter's calls are counted (the job's tracker opener
   wraps every public method of each tracker it opens; ``changed_since`` also counts
   the pages it yields). Before each, every time the job reads is moved 10 minutes
   into the past (the issues' and the connectors' cursors), so that it runs as it
   would 10 minutes after the last one, without the wait. Target: one search per
   side, whatever the project's size; the built-in side's deletion check
   (``deleted_since``, due every 30 s, so in every job) is shown apart.

The machine's load average is printed at the start and the end: the figures of a busy
host are not those of an idle one.

Usage: .venv/bin/python bench/connections.py [--issues 5000] [--sizes 500,5000]
``--issues N`` runs 500 then N (N alone when N <= 500); ``--sizes`` names every size.
"""

from __future__ import annotations

import argparse
import inspect
import os
import random
import re
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from pydantic import SecretStr
from sqlalchemy import func, insert, select, update
from starlette.types import ASGIApp, Receive, Scope, Send

import sync as sync_bench
from issuesync.accounts import NewUser, create_user
from issuesync.app import bootstrap, build_services, create_app
from issuesync.application.connections import (
    JobView,
    create_connection,
    create_tracker_server,
    list_jobs,
    prepare_connection,
    request_run,
)
from issuesync.config import Settings
from issuesync.domain.schedule import Frequency
from issuesync.domain.scheduled import ConnectionDraft, ConnectionSettings, TrackerServer
from issuesync.engine.pipeline.cursor import Cursor
from issuesync.engine.runtime.jobs import ConnectionJobs
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.principals import Principal
from issuesync.store.sync import ConnectorState
from issuesync.store.users import User
from issuesync.testing.server import LiveServer
from issuesync.trackers.access import TrackerAccess, TrackerOpener
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.local.models import Issue, IssueType, Priority, Project
from tracker import DAY_MS, WORDS, analyze

ADMIN_PASSWORD = "bench-password"  # noqa: S105 - a throwaway home's admin
SYNC_USER = "jirasync"
SYNC_PASSWORD = "jirasync-password"  # noqa: S105 - a throwaway home's sync user
PROJECT, TRACKER_PROJECT = "PA", "PB"
ISSUE_TYPES = ("Bug", "Task", "Story")
BATCH = 5000
SMALL = 500  # the size of the comparison run
AGE_MS = 10 * 60_000  # how far job 3 is from the others (past the look-back and the minute)
SEARCHES_TARGET = 1  # per side, for a job with nothing to do
LOCAL_SEARCHES = frozenset({"changed_since", "matching"})  # deleted_since shown apart
API_PREFIX = re.compile(r"^/rest/api/(?:2|latest)(?=/)")
ISSUE_KEY = re.compile(r"/[A-Z][A-Z0-9_]*-\d+(?=/|$)")
NUMBER = re.compile(r"/\d+(?=/|$)")


# --- counting the tracker's requests ----------------------------------------------------------


def request_name(method: str, path: str, query: bytes) -> str:
    """``GET /rest/api/2/issue/{key}``: keys and ids collapsed; a search says what it asks."""
    prefix = API_PREFIX.match(path)
    head = prefix.group(0) if prefix else ""
    tail = NUMBER.sub("/{id}", ISSUE_KEY.sub("/{key}", path[len(head) :]))
    name = f"{method} {head}{tail}"
    if path.endswith("/search") and method == "GET":
        jql = " ".join(parse_qs(query.decode("latin-1")).get("jql", []))
        if "key in" in jql:
            return f"{name} (key in ...)"
        return f"{name} (changed since)" if "updated" in jql else name
    return name


class CountingMiddleware:
    """Pure ASGI: counts every HTTP request the served app takes, by :func:`request_name`."""

    def __init__(self, app: ASGIApp, requests: Counter[str]) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = request_name(scope["method"], scope["path"], scope.get("query_string", b""))
            self.requests[name] += 1  # the server's one event loop: no lock needed
        await self.app(scope, receive, send)


def searches(requests: Counter[str]) -> int:
    return sum(n for name, n in requests.items() if name.split(" ")[1].endswith("/search"))


# --- counting the adapters' calls ---------------------------------------------------------------


class CountingOpener:
    """Opens trackers as ``services.trackers`` does, and counts the calls of each opened
    tracker's public methods, by side (the access's system) and method.

    The methods are wrapped on the instance, so the tracker keeps its type (the engine
    asks ``isinstance`` of its optional protocols). A call an adapter makes to its own
    public methods counts too. ``changed_since`` also counts the pages it yields.
    """

    def __init__(self, opener: TrackerOpener) -> None:
        self.opener = opener
        self.calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._lock = threading.Lock()

    def __call__(self, access: TrackerAccess, /) -> Tracker:
        tracker = self.opener(access)
        cls = type(tracker)
        for name in dir(cls):
            if not name.startswith("_") and inspect.isfunction(getattr(cls, name, None)):
                setattr(tracker, name, self._counted(access.system, name, getattr(tracker, name)))
        return tracker

    def _count(self, side: str, name: str, n: int = 1) -> None:
        with self._lock:
            self.calls[side][name] += n

    def _counted(self, side: str, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        if name == "changed_since":

            def pages(*args: object, **kwargs: object) -> Iterator[Any]:
                self._count(side, name)
                for page in method(*args, **kwargs):
                    self._count(side, "changed_since pages")
                    self._count(side, "changed_since issues", len(page))
                    yield page

            return pages

        def counted(*args: object, **kwargs: object) -> object:
            self._count(side, name)
            return method(*args, **kwargs)

        return counted

    def take(self) -> dict[str, Counter[str]]:
        """The calls since the last take, by side."""
        with self._lock:
            taken = {side: Counter(calls) for side, calls in self.calls.items()}
            self.calls.clear()
        return taken


# --- the home ---------------------------------------------------------------------------------


@dataclass
class Home:
    services: Services
    server: LiveServer
    requests: Counter[str]
    opener: CountingOpener
    principal: Principal
    connection_id: int = 0


def seed(services: Services, issues: int) -> None:
    """PA with ``issues`` issues in "To Do" (PA-1..PA-n), and an empty PB."""
    rng = random.Random(42)
    with services.uow_factory() as uow:
        session = uow.session
        admin_id = session.scalar(select(User.id).where(User.name == "admin"))
        assert admin_id is not None
        project_id = sync_bench.make_project(session, PROJECT, admin_id, issues)
        sync_bench.make_project(session, TRACKER_PROJECT, admin_id, 0)
        project = session.get(Project, project_id)
        assert project is not None
        status_id = project.initial_status_id  # "To Do": in the connection's scope
        type_ids = list(
            session.scalars(select(IssueType.id).where(IssueType.name.in_(ISSUE_TYPES)))
        )
        priority_ids = list(session.scalars(select(Priority.id)))
        uow.commit()
    now = now_ms()
    for start in range(0, issues, BATCH):
        rows = []
        for number in range(start + 1, min(issues, start + BATCH) + 1):
            created = now - DAY_MS - rng.randrange(30 * DAY_MS)
            words = rng.sample(WORDS, 8)
            rows.append(
                {
                    "key": f"{PROJECT}-{number}",
                    "project_id": project_id,
                    "number": number,
                    "issue_type_id": rng.choice(type_ids),
                    "status_id": status_id,
                    "priority_id": rng.choice(priority_ids),
                    "summary": " ".join(words[:3]).capitalize() + f" #{number}",
                    "description": " ".join(words),
                    "reporter_id": admin_id,
                    "creator_id": admin_id,
                    "created_ms": created,
                    "updated_ms": created + rng.randrange(DAY_MS),
                }
            )
        with services.uow_factory() as uow:
            uow.session.execute(insert(Issue), rows)
            uow.commit()
    analyze(services)


@contextmanager
def home(issues: int) -> Iterator[Home]:
    """A served home with PA seeded and the connection PA -> PB made; all gone on exit."""
    with tempfile.TemporaryDirectory(prefix="issuesync-bench-connections-") as path:
        server = LiveServer()
        settings = Settings(
            home=Path(path),
            database_url=None,
            admin_password=SecretStr(ADMIN_PASSWORD),
            base_url=server.url,
            engine_enabled=False,
        )
        services = build_services(settings)
        try:
            bootstrap(services)
            create_user(
                services.uow_factory,
                NewUser(
                    name=SYNC_USER,
                    email=f"{SYNC_USER}@example.test",
                    password=SYNC_PASSWORD,
                    admin=True,
                ),
            )
            seed(services, issues)
            requests: Counter[str] = Counter()
            app = create_app(services)
            app.add_middleware(CountingMiddleware, requests=requests)
            server.start(app)
            with services.uow_factory(readonly=True) as uow:
                admin = uow.session.scalars(select(User).where(User.name == "admin")).one()
                principal = Principal.of(admin)
            made = Home(services, server, requests, CountingOpener(services.trackers), principal)
            made.connection_id = connect(made)
            yield made
        finally:
            server.stop()
            services.close()


def connect(home: Home) -> int:
    """The tracker connector (the served Jira API, over http) and the connection PA -> PB."""
    services, principal = home.services, home.principal
    with services.uow_factory() as uow:
        connector = create_tracker_server(
            uow.session,
            TrackerServer(
                name="Built-in Jira API",
                system="jira",
                server=home.server.url.removeprefix("http://"),
                method="http",
                user=SYNC_USER,
                secret=SecretStr(SYNC_PASSWORD),
            ),
            principal,
            services.secrets,
        )
        project_id = uow.session.scalar(select(Project.id).where(Project.key == PROJECT))
        uow.commit()
    assert project_id is not None
    draft = ConnectionDraft(
        alias=f"{PROJECT} -> {TRACKER_PROJECT}",
        project_id=project_id,
        tracker_server_id=connector.id,
        frequency=Frequency.MANUALLY,
        settings=ConnectionSettings(
            tracker_project=TRACKER_PROJECT,
            statuses=["To Do"],
            min_priority=None,
            title_format="$task_id $title",
        ),
    )
    prepared = prepare_connection(services, draft, principal)
    with services.uow_factory() as uow:
        view = create_connection(uow.session, services, prepared, principal)
        uow.commit()
    return view.id


# --- the jobs -----------------------------------------------------------------------------------


@dataclass
class JobRun:
    """One job: its record, wall time, the tracker's requests and each side's adapter calls."""

    job: JobView
    seconds: float
    requests: Counter[str]
    calls: dict[str, Counter[str]] = field(default_factory=dict)

    def side(self, system: str) -> Counter[str]:
        return self.calls.get(system, Counter())

    @property
    def tracker_searches(self) -> int:
        return searches(self.requests)

    @property
    def local_searches(self) -> int:
        return sum(n for name, n in self.side("local").items() if name in LOCAL_SEARCHES)


def run_job(home: Home) -> JobRun:
    """Ask for a job and run it as a server's scheduler would; what it took."""
    with home.services.uow_factory() as uow:
        request_run(uow.session, home.connection_id, home.principal)
        uow.commit()
    home.requests.clear()
    home.opener.take()
    jobs = ConnectionJobs(home.services, "bench", trackers=home.opener)
    began = time.perf_counter()
    ran = jobs.run_due()
    seconds = time.perf_counter() - began
    requests = Counter(home.requests)
    calls = home.opener.take()
    if ran != 1:
        msg = f"expected one job to run, {ran} ran"
        raise SystemExit(msg)
    with home.services.uow_factory(readonly=True) as uow:
        job = list_jobs(uow.session, home.connection_id, home.principal, limit=1)[0]
    return JobRun(job, seconds, requests, calls)


def count_issues(services: Services, key: str, summary_prefix: str = "") -> int:
    with services.uow_factory(readonly=True) as uow:
        query = select(func.count()).select_from(Issue).join(Project).where(Project.key == key)
        if summary_prefix:
            query = query.where(Issue.summary.startswith(summary_prefix))
        return uow.session.scalar(query) or 0


def check_first_job(home: Home, run: JobRun, issues: int) -> list[str]:
    """What is wrong after the first job (nothing: an empty list)."""
    problems = []
    made = count_issues(home.services, TRACKER_PROJECT)
    titled = count_issues(home.services, TRACKER_PROJECT, f"{PROJECT}-")
    if made != issues:
        problems.append(f"{TRACKER_PROJECT} holds {made} issues, not {issues}")
    if titled != made:
        problems.append(f"only {titled} of {made} titles start with '{PROJECT}-'")
    if not run.job.succeeded:
        problems.append(f"the job did not succeed: {run.job.result_message}")
    if f" {issues} created" not in run.job.result_message:
        problems.append(f"the job's result does not say {issues} created")
    return problems


def move_back(services: Services) -> None:
    """Move every time the next job reads :data:`AGE_MS` into the past: the issues'
    (both projects) and the connectors' cursors (the last poll's signpost and deletion
    check). The next job then runs as it would that much later, without the wait."""

    def earlier(ms: int | None) -> int | None:
        return None if ms is None else ms - AGE_MS

    with services.uow_factory() as uow:
        session = uow.session
        session.execute(
            update(Issue).values(
                updated_ms=Issue.updated_ms - AGE_MS, created_ms=Issue.created_ms - AGE_MS
            )
        )
        for state in session.scalars(select(ConnectorState)):
            if state.cursor:
                cursor = Cursor.loads(state.cursor)
                state.cursor = Cursor(
                    updated_ms=earlier(cursor.updated_ms),
                    deletions_ms=earlier(cursor.deletions_ms),
                    seen={key: updated - AGE_MS for key, updated in cursor.seen.items()},
                ).dumps()
        uow.commit()


# --- printing -----------------------------------------------------------------------------------


def print_requests(requests: Counter[str], indent: str = "    ") -> None:
    for name, n in sorted(requests.items(), key=lambda item: (-item[1], item[0])):
        print(f"{indent}{n:>7} {name}")


def print_calls(calls: Counter[str], indent: str = "    ") -> None:
    shown = ", ".join(f"{name} {n}" for name, n in sorted(calls.items()))
    print(f"{indent}{shown or 'none'}")


def print_idle_job(label: str, run: JobRun) -> None:
    tracker_ok = run.tracker_searches == SEARCHES_TARGET
    local_ok = run.local_searches == SEARCHES_TARGET
    print(
        f"  {label}: {run.seconds:.2f} s, result {run.job.result_message!r}\n"
        f"    tracker (Jira API over HTTP): {sum(run.requests.values())} requests, "
        f"{run.tracker_searches} of them searches (target {SEARCHES_TARGET}) "
        f"{sync_bench.mark(tracker_ok)}"
    )
    print_requests(run.requests, "      ")
    print("      jira adapter calls: ", end="")
    print_calls(run.side("jira"), "")
    print(
        f"    built-in side (in-process): {run.local_searches} searches (changed_since, "
        f"matching; target {SEARCHES_TARGET}) {sync_bench.mark(local_ok)}, "
        f"{run.side('local')['deleted_since']} deletion checks (deleted_since)"
    )
    print("      local adapter calls: ", end="")
    print_calls(run.side("local"), "")


@dataclass
class SizeResult:
    issues: int
    rate: float
    requests_per_issue: float
    idle: list[JobRun]  # the jobs with nothing to do, each AGE_MS after the one before


def measure(issues: int) -> SizeResult:
    print(f"\n== {issues} issues ==", flush=True)
    began = time.perf_counter()
    with home(issues) as made:
        print(f"  seeded {PROJECT} and made the connection in {time.perf_counter() - began:.1f} s")
        first = run_job(made)
        problems = check_first_job(made, first, issues)
        total = sum(first.requests.values())
        rate = issues / first.seconds
        print(
            f"  job 1 (creates every issue): {first.seconds:.1f} s, {rate:.0f} issues/s, "
            f"{total} tracker requests = {total / issues:.3f} per issue; "
            f"result {first.job.result_message!r}"
        )
        print_requests(first.requests)
        print("    jira adapter calls: ", end="")
        print_calls(first.side("jira"), "")
        print("    local adapter calls: ", end="")
        print_calls(first.side("local"), "")
        if problems:
            msg = "the first job's result is wrong: " + "; ".join(problems)
            raise SystemExit(msg)
        print(
            f"    checked: {TRACKER_PROJECT} holds {issues} issues titled '{PROJECT}-n ...', "
            "the job succeeded and says so"
        )
        idle = []
        for number, what in ((2, "the next job"), (3, "the job after it")):
            move_back(made.services)
            run = run_job(made)
            minutes = AGE_MS // 60_000
            print_idle_job(f"job {number} ({what}, {minutes} min later, nothing to do)", run)
            idle.append(run)
    return SizeResult(issues, rate, total / issues, idle)


def print_summary(results: list[SizeResult]) -> None:
    print(
        "\nsummary: jobs with nothing to do; tracker: HTTP requests / searches, "
        "built-in: adapter calls / searches (+ deletion checks)"
    )
    print(
        f"  {'issues':>7} {'job 1 issues/s':>15} {'req/issue':>10} "
        f"{'job 2 tracker':>14} {'job 2 built-in':>15} {'job 3 tracker':>14} "
        f"{'job 3 built-in':>15}  one search a side (job 3)"
    )
    for r in results:
        cells = []
        for run in r.idle:
            cells.append(f"{sum(run.requests.values())} / {run.tracker_searches}")
            local = run.side("local")
            cells.append(
                f"{sum(local.values())} / {run.local_searches} (+{local['deleted_since']})"
            )
        last = r.idle[-1]
        ok = last.tracker_searches == SEARCHES_TARGET == last.local_searches
        print(
            f"  {r.issues:>7} {r.rate:>15.0f} {r.requests_per_issue:>10.3f} "
            f"{cells[0]:>14} {cells[1]:>15} {cells[2]:>14} {cells[3]:>15}  "
            f"{sync_bench.mark(ok)}"
        )
    if len(results) > 1:
        for number, index in ((2, 0), (3, 1)):
            figures = {
                (sum(r.idle[index].requests.values()), sum(r.idle[index].side("local").values()))
                for r in results
            }
            grows = "do not change" if len(figures) == 1 else "CHANGE"
            print(f"  job {number}'s requests and calls {grows} with the size")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--issues", type=int, default=5000, help="the measured size")
    parser.add_argument(
        "--sizes",
        default=None,
        help=f"comma-separated sizes (default: {SMALL} and --issues)",
    )
    args = parser.parse_args()
    if args.sizes:
        sizes = [int(size) for size in args.sizes.split(",")]
    else:
        sizes = sorted({min(SMALL, args.issues), args.issues})
    if any(size < 1 for size in sizes):
        parser.error("every size must be at least 1")
    print(f"load average at start: {load()}")
    results = [measure(size) for size in sizes]
    print_summary(results)
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
