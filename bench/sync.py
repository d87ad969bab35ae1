"""Benchmarks of the sync engine between two built-in projects, printing figures and targets.

Three measurements on one temporary home (and, on PostgreSQL, one throwaway schema):

1. initial sync: project SRC with --issues issues of 3 comments each (bulk SQL inserts)
   and an empty project DST, linked by an integration with the default field mappings;
   the engine is stepped until quiet, in a fresh process, so that the peak RSS is the
   sync's alone. Prints issues/s end to end and the peak RSS (targets >= 1,000 issues/s,
   <= 300 MB), after checking with SQL that DST holds every issue once with its comments.
2. propagation latency: the engine runs in its background threads on 1 s intervals;
   --edits times, after a random 0-500 ms pause, the summary of one of a few linked
   SRC issues is edited through the tracker service and the twin in DST is read every
   10 ms until it matches (then --reverse-edits the other way). Prints p50/p99/max
   (targets p50 <= 1 s, p99 <= 2 s).
3. tracker calls per idle poll: on the projects in sync, the outgoing route of each
   connector polls with nothing changed, its tracker wrapped in a counting proxy.
   Prints calls per idle poll by method (target: 1, a search); ``clock_ms`` is local
   arithmetic for the built-in tracker, so it is shown apart from the calls that
   would be requests to a remote tracker.

4. with ``--markup-rounds N``, instead of the above: the initial sync's rate with markup
   conversion on against off, N runs of each, alternating in one sitting. SRC's
   descriptions and comments are written in Jira wiki markup (a heading, a list, bold,
   inline code, a link) and DST is configured as a GFM tracker (``markup.dialect``), so
   every text is converted; "off" is the same with ``markup.convert`` false. Each run
   seeds a fresh home (the same issues every time) and syncs it in a fresh process.

Usage: .venv/bin/python bench/sync.py [--issues 10000] [--edits 200] [--reverse-edits 20]
       [--database-url postgresql://postgres@127.0.0.1:5432/test] [--profile DIR] [--workers N]
``--edits 0 --reverse-edits 0`` leaves the latency phase out (a quick look at the initial sync).
``--markup-rounds 3 --issues 2000``: conversion on against off (4. above; make bench-sync-markup).
``--workers N`` runs the initial sync in N engine processes that share the connectors (as
``serve --workers N`` or N ``issuesync worker`` do); on SQLite too, one core each.
Each phase runs in its own process (``--phase seed|initial-sync|latency|idle-poll --home H``);
``--profile DIR`` runs the initial sync under cProfile and prints its hotspots (with
``--workers N``, each worker process's).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from sqlalchemy import distinct, event, func, insert, select
from sqlalchemy.orm import Session

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.app import bootstrap, build_services
from issuesync.application.integrations import project_checker, set_running
from issuesync.config import Settings
from issuesync.engine.pipeline import outgoing
from issuesync.engine.runtime.runner import SyncRunner, tune_garbage_collector
from issuesync.metrics import multiprocess_dir
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.principals import Principal
from issuesync.store.sync import ConnectorRow, ConnectorState, MessageRow, SyncInfo
from issuesync.store.users import User
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.local import issues
from issuesync.trackers.local.defaults import default_initial_status, install_default_workflow
from issuesync.trackers.local.models import (
    Comment,
    Issue,
    IssueLabel,
    IssueType,
    Priority,
    Project,
)
from tracker import DAY_MS, WORDS, analyze, percentile, throwaway_schema

PASSWORD = "bench-password"  # noqa: S105 - a throwaway home's admin
SYNC_USER = "backbone"
SYNC_PASSWORD = "backbone"  # noqa: S105 - a throwaway home's sync user
SOURCE, TARGET = "SRC", "DST"
COMMENTS_PER_ISSUE = 3
BATCH = 5000
MB = 1_000_000

# Targets, printed next to the figures.
SYNC_RATE_TARGET = 1000.0  # issues/s
RSS_TARGET_MB = 300.0
P50_TARGET_S = 1.0
P99_TARGET_S = 2.0
IDLE_CALLS_TARGET = 1
LOCAL_ONLY = frozenset({"clock_ms"})  # no request to anything: the process's own clock


# --- shared -------------------------------------------------------------------------------


def open_services(home: str, database_url: str | None) -> Services:
    settings = Settings(
        home=Path(home),
        database_url=database_url,
        admin_password=PASSWORD,  # type: ignore[arg-type]
    )
    return build_services(settings)


def connector_ids(services: Services) -> tuple[int, int]:
    """The connector ids of SRC and DST."""
    with services.uow_factory(readonly=True) as uow:
        rows = dict(uow.session.execute(select(ConnectorRow.project_key, ConnectorRow.id)).all())
    return rows[SOURCE], rows[TARGET]


def write_result(path: str | None, result: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(result))


def peak_rss_mb() -> float:
    """The process's peak resident set size so far (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


@contextmanager
def stopped_at_exit(engine: SyncRunner) -> Iterator[SyncRunner]:
    """The engine, stopped (threads joined, leases given up) however the block ends."""
    try:
        yield engine
    finally:
        engine.stop()


class StatementCounter:
    """Counts the SQL statements the process sends, on every engine of the database."""

    def __init__(self, services: Services) -> None:
        self.count = 0
        engines = {services.database.write_engine, services.database.read_engine}
        for engine in engines:
            event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1  # the GIL makes this exact enough for a benchmark


# --- seeding --------------------------------------------------------------------------------


def make_project(session: Session, key: str, lead_id: int, counter: int) -> int:
    project = Project(
        key=key,
        name=f"Bench {key}",
        description="",
        lead_id=lead_id,
        initial_status_id=default_initial_status(session).id,
        issue_counter=counter,
        created_ms=now_ms(),
    )
    session.add(project)
    session.flush()
    install_default_workflow(session, project.id)
    return project.id


def issue_rows(
    rng: random.Random, numbers: range, context: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[int, list[int]]]:
    """Issue rows, and for each issue number the times of its comments.

    An issue's ``updated_ms`` is its last comment's time, as adding a comment touches
    the issue; every time is in the past, so the first poll reads every issue.
    """
    rows = []
    comment_times: dict[int, list[int]] = {}
    for number in numbers:
        created = context["now"] - DAY_MS - rng.randrange(30 * DAY_MS)
        times = sorted(created + rng.randrange(1, DAY_MS) for _ in range(COMMENTS_PER_ISSUE))
        comment_times[number] = times
        words = rng.sample(WORDS, 6)
        description = " ".join(words) + " " + " ".join(rng.sample(WORDS, 10))
        if context["rich"]:
            description = rich_text(rng, number, description)
        rows.append(
            {
                "key": f"{SOURCE}-{number}",
                "project_id": context["project_id"],
                "number": number,
                "issue_type_id": rng.choice(context["type_ids"]),
                "status_id": context["status_id"],
                "priority_id": rng.choice(context["priority_ids"]),
                "summary": " ".join(words[:3]).capitalize() + f" #{number}",
                "description": description,
                "reporter_id": context["admin_id"],
                "creator_id": context["admin_id"],
                "created_ms": created,
                "updated_ms": times[-1],
            }
        )
    return rows, comment_times


def rich_text(rng: random.Random, number: int, words: str) -> str:
    """A description in Jira wiki markup, as people write them (for ``--markup``)."""
    a, b, c = rng.sample(WORDS, 3)
    return (
        f"h3. {a.capitalize()} {b}\n\n{words}\n\n* *{a}* and _{b}_\n* {{{{{c}()}}}}\n"
        f"** see [the notes|https://example.com/{SOURCE}-{number}]"
    )


def comment_text(rng: random.Random, rich: bool) -> str:
    """A comment's words after its heading; with ``rich``, some in wiki markup."""
    words = rng.sample(WORDS, 8)
    if rich:
        return f"*{words[0]}* {' '.join(words[1:4])} {{{{{words[4]}}}}} _{' '.join(words[5:])}_"
    return " ".join(words)


def seed_issues(services: Services, count: int, context: dict[str, Any]) -> None:
    """Bulk-insert SRC-1..SRC-count with one label and three comments each."""
    rng = random.Random(42)
    admin_id = context["admin_id"]
    for start in range(0, count, BATCH):
        rows, comment_times = issue_rows(
            rng, range(start + 1, min(count, start + BATCH) + 1), context
        )
        with services.uow_factory() as uow:
            session = uow.session
            session.execute(insert(Issue), rows)
            ids = dict(
                session.execute(
                    select(Issue.number, Issue.id).where(
                        Issue.project_id == context["project_id"], Issue.number > start
                    )
                ).all()
            )
            session.execute(
                insert(IssueLabel),
                [{"issue_id": i, "label": rng.choice(WORDS)} for i in ids.values()],
            )
            session.execute(
                insert(Comment),
                [
                    {
                        "issue_id": ids[number],
                        "author_id": admin_id,
                        "update_author_id": admin_id,
                        "body": f"Comment {position} on {SOURCE}-{number}: "
                        + comment_text(rng, context["rich"]),
                        "created_ms": at,
                        "updated_ms": at,
                    }
                    for number, times in comment_times.items()
                    for position, at in enumerate(times, start=1)
                ],
            )
            uow.commit()


def integration_body(markup: str = "none") -> dict[str, Any]:
    """SRC <> DST with the default field mappings, both routes of both sides every second.

    ``initialInternalPollingDelay`` is 0: Backbone's default waits a second after
    the start before the first poll, which would count as sync time here. With
    ``markup`` "on" or "off", DST is a GFM tracker (its ``markup.dialect``), converting
    SRC's texts or (off) taking them as they are.
    """

    def side(key: str) -> dict[str, Any]:
        return {
            "projectKey": key,
            "connection": {
                "application": {"user": SYNC_USER, "password": SYNC_PASSWORD},
                "connector": {"initialInternalPollingDelay": 0},
            },
            "configuration": {"sync": {"outgoingInterval": "1s", "incomingInterval": "1s"}},
        }

    target = side(TARGET)
    if markup != "none":
        target["configuration"]["markup"] = {"dialect": "gfm", "convert": markup == "on"}
    return {
        "summary": f"{SOURCE} <> {TARGET} (bench)",
        "firstConnector": side(SOURCE),
        "secondConnector": target,
    }


def start_integration(services: Services, markup: str = "none") -> None:
    """SRC <> DST (``integration_body``), created and started by the administrator."""
    with services.uow_factory() as uow:
        spec = IntegrationSpec.model_validate(integration_body(markup))
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


def phase_seed(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    services = open_services(args.home, args.database_url)
    try:
        bootstrap(services)
        create_user(
            services.uow_factory,
            NewUser(name=SYNC_USER, email="backbone@example.test", password=SYNC_PASSWORD),
        )
        with services.uow_factory() as uow:
            session = uow.session
            admin_id = session.scalar(select(User.id).where(User.name == "admin"))
            assert admin_id is not None
            project_id = make_project(session, SOURCE, admin_id, args.issues)
            make_project(session, TARGET, admin_id, 0)
            context = {
                "now": now_ms(),
                "project_id": project_id,
                "admin_id": admin_id,
                "status_id": default_initial_status(session).id,
                "type_ids": list(
                    session.scalars(select(IssueType.id).where(IssueType.subtask.is_(False)))
                ),
                "priority_ids": list(session.scalars(select(Priority.id))),
                "rich": args.markup != "none",
            }
            uow.commit()
        seed_issues(services, args.issues, context)
        start_integration(services, args.markup)
        analyze(services)
    finally:
        services.close()
    seconds = time.perf_counter() - started
    print(
        f"seeded {SOURCE}: {args.issues} issues with {COMMENTS_PER_ISSUE} comments each, "
        f"empty {TARGET}, integration started, in {seconds:.1f} s"
    )
    return {"seconds": seconds}


# --- 1. initial sync ------------------------------------------------------------------------


@dataclass
class SyncRun:
    """What stepping the engine until quiet took."""

    rounds: int = 0
    seconds: float = 0.0
    by_connector: dict[int, float] = field(default_factory=dict)


def twins_made(services: Services) -> int:
    with services.uow_factory(readonly=True) as uow:
        return (
            uow.session.scalar(
                select(func.count()).select_from(Issue).join(Project).where(Project.key == TARGET)
            )
            or 0
        )


def run_until_quiet(
    engine: SyncRunner, order: tuple[int, ...], deadline: float, progress: Callable[[float], None]
) -> SyncRun:
    """``engine.step()`` until a round moves nothing, timing each connector's share."""
    run = SyncRun(by_connector=dict.fromkeys(order, 0.0))
    started = last_report = time.perf_counter()
    while True:
        engine.refresh()
        moved = 0
        for connector_id in order:
            began = time.perf_counter()
            moved += engine.run_connector(connector_id, force=True)
            run.by_connector[connector_id] += time.perf_counter() - began
        run.rounds += 1
        now = time.perf_counter()
        if moved == 0:
            run.seconds = now - started
            return run
        if time.monotonic() > deadline:
            msg = (
                f"the initial sync did not finish within its time limit "
                f"({run.rounds} rounds, {now - started:.0f} s)"
            )
            raise SystemExit(msg)
        if now - last_report >= 10:
            last_report = now
            progress(now - started)


def verify_twins(services: Services, expected: int) -> dict[str, int]:
    """Counts that must hold when every SRC issue has exactly one twin with its comments."""
    target = select(Project.id).where(Project.key == TARGET).scalar_subquery()
    _, dst_id = connector_ids(services)
    with services.uow_factory(readonly=True) as uow:
        session = uow.session
        per_issue = (
            select(Comment.issue_id, func.count().label("n"))
            .join(Issue)
            .where(Issue.project_id == target)
            .group_by(Comment.issue_id)
            .subquery()
        )
        counts = {
            "dst_issues": session.scalar(
                select(func.count()).select_from(Issue).where(Issue.project_id == target)
            ),
            "dst_distinct_summaries": session.scalar(
                select(func.count(distinct(Issue.summary))).where(Issue.project_id == target)
            ),
            "dst_comments": session.scalar(
                select(func.count())
                .select_from(Comment)
                .join(Issue)
                .where(Issue.project_id == target)
            ),
            "dst_issues_without_3_comments": session.scalar(
                select(func.count()).select_from(per_issue).where(per_issue.c.n != 3)
            ),
            "dst_links": session.scalar(
                select(func.count(distinct(SyncInfo.remote_issue_key))).where(
                    SyncInfo.connector_id == dst_id
                )
            ),
            "messages_not_archived": session.scalar(
                select(func.count())
                .select_from(MessageRow)
                .where(MessageRow.queue == "receive", MessageRow.state != "archive")
            ),
        }
    found = {name: int(value or 0) for name, value in counts.items()}
    wanted = {
        "dst_issues": expected,
        "dst_distinct_summaries": expected,
        "dst_comments": COMMENTS_PER_ISSUE * expected,
        "dst_issues_without_3_comments": 0,
        "dst_links": expected,
        "messages_not_archived": 0,
    }
    wrong = {k: (found[k], v) for k, v in wanted.items() if found[k] != v}
    if wrong:
        details = ", ".join(f"{k} = {got} (want {want})" for k, (got, want) in wrong.items())
        msg = f"the initial sync is incomplete or duplicated: {details}"
        raise SystemExit(msg)
    return found


def print_profile(profiler: cProfile.Profile, path: Path) -> None:
    profiler.dump_stats(path)
    print(f"  profile written to {path} (python -m pstats {path})")
    for order in ("tottime", "cumulative"):
        print(f"  -- top functions by {order} --")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats(order).print_stats(25)


def phase_initial_sync(args: argparse.Namespace) -> dict[str, Any]:
    tune_garbage_collector()  # as `issuesync worker` and `serve` do
    rss_at_start = peak_rss_mb()
    services = open_services(args.home, args.database_url)
    statements = StatementCounter(services)
    profiler = cProfile.Profile() if args.profile else None
    source_id, target_id = connector_ids(services)
    deadline = time.monotonic() + args.sync_timeout
    count = twins_made(services)
    if count:
        msg = f"{TARGET} already has {count} issues: the initial sync needs an empty project"
        raise SystemExit(msg)

    def progress(elapsed: float) -> None:
        made = twins_made(services)
        print(f"  ... {made}/{args.issues} twins after {elapsed:.0f} s ({made / elapsed:.0f}/s)")

    cpu = 0.0
    try:
        if args.workers > 1:
            run, peak = run_in_workers(args, services, deadline, progress)
        else:
            with stopped_at_exit(SyncRunner(services, backoff_ms=0)) as engine:
                if profiler is not None:
                    profiler.enable()
                cpu_at_start = time.process_time()
                run = run_until_quiet(engine, (source_id, target_id), deadline, progress)
                cpu = time.process_time() - cpu_at_start
                if profiler is not None:
                    profiler.disable()
            peak = peak_rss_mb()
        verified = verify_twins(services, args.issues)
    finally:
        services.close()
    rate = args.issues / run.seconds
    how = f"{args.workers} worker processes" if args.workers > 1 else f"{run.rounds} rounds"
    print(
        f"initial sync: {args.issues} issues x {COMMENTS_PER_ISSUE} comments in "
        f"{run.seconds:.1f} s, {how}: {rate:.0f} issues/s end to end "
        f"(target >= {SYNC_RATE_TARGET:.0f}) {mark(rate >= SYNC_RATE_TARGET)}"
    )
    print(
        f"  peak RSS {peak:.0f} MB{' (the largest worker)' if args.workers > 1 else ''} "
        f"(target <= {RSS_TARGET_MB:.0f}; {rss_at_start:.0f} MB at start of the process) "
        f"{mark(peak <= RSS_TARGET_MB)}"
    )
    if args.workers == 1:
        print(
            f"  time by connector (outgoing + incoming): {SOURCE} "
            f"{run.by_connector[source_id]:.1f} s, {TARGET} "
            f"{run.by_connector[target_id]:.1f} s; "
            f"{statements.count / args.issues:.1f} SQL statements per issue"
        )
    print(
        f"  verified: {verified['dst_issues']} issues in {TARGET}, "
        f"{verified['dst_comments']} comments, no duplicate, every message archived"
    )
    if profiler is not None:
        print("  (under cProfile: the rate above is slowed by the profiler)")
        if args.workers == 1:  # else each worker printed its own
            print_profile(profiler, Path(args.profile) / "initial-sync.prof")
    return {
        "issues": args.issues,
        "seconds": run.seconds,
        # This process's CPU while it synced (one worker only): steadier than the wall time
        # on a host that other work shares.
        "cpu_seconds": cpu if args.workers == 1 else None,
        "rate": rate,
        "peak_rss_mb": peak,
        "rounds": run.rounds,
        "statements_per_issue": statements.count / args.issues,
        "profiled": bool(profiler),
        "workers": args.workers,
        "changes_applied_counted": changes_applied_counted(),
    }


def changes_applied_counted() -> float:
    """``issuesync_changes_applied_total`` as this process's metrics hold it (summed over
    the folder's files in multiprocess mode): 0 with ISSUESYNC_METRICS_ENABLED=false."""
    registry = REGISTRY
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == "issuesync_changes_applied_total"
    )


def sync_done(services: Services, expected: int) -> bool:
    """Every SRC issue has its twin, SRC has linked it, and no message waits."""
    source_id, _ = connector_ids(services)
    with services.uow_factory(readonly=True) as uow:
        session = uow.session
        waiting = session.scalar(
            select(func.count())
            .select_from(MessageRow)
            .where(MessageRow.queue == "receive", MessageRow.state != "archive")
        )
        linked = session.scalar(
            select(func.count())
            .select_from(SyncInfo)
            .where(SyncInfo.connector_id == source_id, SyncInfo.remote_issue_key.is_not(None))
        )
    # SRC links a twin when DST's answer arrives, after DST made it: the count of links
    # says how far the sync is (verify_twins checks DST itself afterwards).
    return not waiting and linked == expected


def lease_owners(services: Services) -> dict[int, str | None]:
    with services.uow_factory(readonly=True) as uow:
        rows = uow.session.execute(
            select(ConnectorState.connector_id, ConnectorState.lease_owner)
        ).all()
    return dict(rows)  # of the rows, not of the result: a result has keys() of its own


@contextmanager
def worker_processes(
    args: argparse.Namespace, services: Services, phase: str, deadline: float
) -> Iterator[tuple[Path, list[subprocess.Popen[bytes]], list[Path]]]:
    """``--workers`` engine processes of ``phase``, once they have shared out the connectors.

    Yields the control folder (``go`` and ``stop`` files), the processes and where
    each writes its figures; ``stop`` is touched and every process waited for on exit.
    """
    control = Path(args.home) / "workers"
    control.mkdir(exist_ok=True)
    for flag in ("go", "stop"):
        (control / flag).unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", phase]
    command += ["--home", args.home]
    if args.database_url:
        command += ["--database-url", args.database_url]
    if args.profile:
        command += ["--profile", args.profile]
    results = [control / f"{phase}-{n}.json" for n in range(args.workers)]
    workers = [
        subprocess.Popen([*command, "--result", str(path)])  # noqa: S603
        for path in results
    ]
    try:
        order = connector_ids(services)
        wanted = min(args.workers, len(order))
        while True:  # the engines share out the connectors within a second or two
            owners = lease_owners(services)
            if all(owners.get(cid) for cid in order) and len(set(owners.values())) >= wanted:
                break
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                msg = "the workers did not share out the connectors"
                raise SystemExit(msg)
            time.sleep(0.1)
        yield control, workers, results
    finally:
        (control / "stop").touch()
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def run_in_workers(
    args: argparse.Namespace,
    services: Services,
    deadline: float,
    progress: Callable[[float], None],
) -> tuple[SyncRun, float]:
    """The initial sync by ``--workers`` engine processes that share the connectors.

    Each worker (``--phase sync-worker``) steps the connectors it holds, as the
    one-process run does; the clock starts once the leases are shared out and
    stops when everything is linked. Returns the run and the largest worker's
    peak RSS.
    """
    with worker_processes(args, services, "sync-worker", deadline) as (control, workers, results):
        (control / "go").touch()
        started = last_report = time.perf_counter()
        while not sync_done(services, args.issues):
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                msg = "the initial sync did not finish (time limit, or a worker died)"
                raise SystemExit(msg)
            time.sleep(0.1)  # each look costs ~2 ms of the cores the workers use
            if time.perf_counter() - last_report >= 10:
                last_report = time.perf_counter()
                progress(last_report - started)
        run = SyncRun(seconds=time.perf_counter() - started)
    figures = [json.loads(path.read_text()) for path in results]
    # CPU seconds vary less with the host's load than the rate: comparisons of two
    # versions on a busy machine read better in them.
    print(
        "  CPU from go to done, by worker: "
        + ", ".join(
            f"{f['held'] or 'nothing'} {f['cpu_s']:.1f} s "
            f"({1000 * f['cpu_s'] / args.issues:.2f} ms/issue)"
            for f in figures
        )
    )
    return run, max(f["peak_rss_mb"] for f in figures)


def phase_engine_worker(args: argparse.Namespace) -> dict[str, Any]:
    """One engine process of the latency phase with ``--workers N``: ``SyncRunner.start()``, as
    ``issuesync worker`` runs it, until ``stop`` (a file in ``<home>/workers``)."""
    tune_garbage_collector()  # as `issuesync worker` does
    control = Path(args.home) / "workers"
    services = open_services(args.home, args.database_url)
    try:
        with stopped_at_exit(SyncRunner(services)) as engine:
            engine.start()
            wait_for(control / "stop")
    finally:
        services.close()
    return {"peak_rss_mb": peak_rss_mb()}


def phase_sync_worker(args: argparse.Namespace) -> dict[str, Any]:
    """One engine process of ``--workers N``: takes its share of the connectors, waits for
    ``go``, then runs them until ``stop`` (files in ``<home>/workers``).

    The engine schedules its routes itself (``SyncRunner.start()``, as ``issuesync worker``
    runs it); with ``--profile`` this thread steps them instead, as cProfile sees one
    thread.
    """
    tune_garbage_collector()  # as `issuesync worker` and `serve` do
    control = Path(args.home) / "workers"
    services = open_services(args.home, args.database_url)
    profiler = cProfile.Profile() if args.profile else None
    try:
        with stopped_at_exit(SyncRunner(services, backoff_ms=0)) as engine:
            next_refresh = 0.0

            def refresh_when_due() -> None:
                nonlocal next_refresh
                if time.monotonic() >= next_refresh:
                    engine.refresh()  # says it is alive; gives back or takes its share
                    next_refresh = time.monotonic() + engine.reload_ms / 1000

            while not (control / "go").exists():
                refresh_when_due()
                time.sleep(0.05)
            cpu_at_go = time.process_time()
            if profiler is None:
                engine.start()
                wait_for(control / "stop")
            else:
                while not (control / "stop").exists():
                    refresh_when_due()
                    profiler.enable()
                    moved = sum(engine.run_connector(r.id, force=True) for r in engine.routes())
                    profiler.disable()
                    if not moved:
                        time.sleep(0.02)
            cpu = time.process_time() - cpu_at_go
            held = ", ".join(sorted(r.connector.key for r in engine.routes()))
    finally:
        services.close()
    if profiler is not None:
        print(f"  -- sync worker {os.getpid()}, holding {held or 'nothing'} --")
        print_profile(profiler, Path(args.profile) / f"sync-worker-{os.getpid()}.prof")
    return {"peak_rss_mb": peak_rss_mb(), "cpu_s": cpu, "held": held}


def wait_for(path: Path) -> None:
    """Until the file exists (the orchestrating process touches it)."""
    while not path.exists():
        time.sleep(0.05)


# --- 2. propagation latency -----------------------------------------------------------------


class Editor:
    """Edits summaries as a person would (the tracker service, as admin) and waits for twins."""

    def __init__(self, services: Services, timeout: float) -> None:
        self.services = services
        self.timeout = timeout
        with services.uow_factory(readonly=True) as uow:
            admin = uow.session.scalar(select(User).where(User.name == "admin"))
            assert admin is not None
            self.admin = Principal.of(admin)

    def edit(self, key: str, summary: str) -> None:
        with self.services.tracker.write(self.admin) as op:
            issues.edit_issue(op, key, {"summary": summary}, {})

    def summary(self, key: str) -> str | None:
        with self.services.uow_factory(readonly=True) as uow:
            return uow.session.scalar(select(Issue.summary).where(Issue.key == key))

    def latency(self, key: str, twin: str, summary: str) -> float:
        """Seconds from the edit's commit until the twin shows it (read every 10 ms)."""
        self.edit(key, summary)
        committed = time.perf_counter()
        deadline = committed + self.timeout
        while self.summary(twin) != summary:
            if time.perf_counter() > deadline:
                msg = f"the edit of {key} did not reach {twin} within {self.timeout:.0f} s"
                raise SystemExit(msg)
            time.sleep(0.01)
        return time.perf_counter() - committed


def linked_pairs(services: Services, count: int) -> list[tuple[str, str]]:
    """``count`` linked (SRC key, DST key) pairs."""
    source_id, _ = connector_ids(services)
    with services.uow_factory(readonly=True) as uow:
        rows = uow.session.execute(
            select(SyncInfo.local_issue_key, SyncInfo.remote_issue_key)
            .where(SyncInfo.connector_id == source_id, SyncInfo.remote_issue_key.is_not(None))
            .order_by(SyncInfo.id)
            .limit(count)
        ).all()
    if len(rows) < count:
        msg = f"only {len(rows)} linked issues: run the initial sync first"
        raise SystemExit(msg)
    return [(local, str(remote)) for local, remote in rows]


def measure_edits(
    editor: Editor, pairs: list[tuple[str, str]], edits: int, label: str
) -> list[float]:
    rng = random.Random(label)
    latencies = []
    for number in range(1, edits + 1):
        time.sleep(rng.uniform(0, 0.5))
        key, twin = rng.choice(pairs)
        latencies.append(editor.latency(key, twin, f"{label} edit {number}: {rng.choice(WORDS)}"))
    return latencies


def describe_latencies(latencies: list[float]) -> dict[str, float]:
    return {
        "count": len(latencies),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
    }


def engine_errors(services: Services) -> dict[str, int]:
    """Receive-queue messages in a state other than archived, by state."""
    with services.uow_factory(readonly=True) as uow:
        rows = uow.session.execute(
            select(MessageRow.state, func.count())
            .where(MessageRow.queue == "receive", MessageRow.state != "archive")
            .group_by(MessageRow.state)
        ).all()
    return {state: int(n) for state, n in rows}


def phase_latency(args: argparse.Namespace) -> dict[str, Any]:
    tune_garbage_collector()  # as `issuesync worker` and `serve` do
    services = open_services(args.home, args.database_url)
    try:
        editor = Editor(services, args.edit_timeout)
        pairs = linked_pairs(services, args.linked)
        reverse = [(twin, key) for key, twin in pairs]
        deadline = time.monotonic() + 600
        engines = (
            worker_processes(args, services, "engine-worker", deadline)
            if args.workers > 1
            else stopped_at_exit(SyncRunner(services))
        )
        with engines as running:
            if isinstance(running, SyncRunner):
                running.start()
            # Warm-up: the engine has started and read its cursors. (No issue key in the
            # text: the engine rewrites a key into its twin's, as a reference.)
            for number, (key, twin) in enumerate(pairs[:2]):
                editor.latency(key, twin, f"warm-up {number}")
            forward = measure_edits(editor, pairs, args.edits, SOURCE)
            backward = measure_edits(editor, reverse, args.reverse_edits, TARGET)
        leftovers = engine_errors(services)
    finally:
        services.close()
    result = {"forward": describe_latencies(forward)}
    if backward:
        result["reverse"] = describe_latencies(backward)
    for name, figures in result.items():
        source, target = (SOURCE, TARGET) if name == "forward" else (TARGET, SOURCE)
        ok = figures["p50"] <= P50_TARGET_S and figures["p99"] <= P99_TARGET_S
        print(
            f"propagation latency {source} -> {target} (1 s intervals, {args.workers} engine "
            f"process{'es' if args.workers > 1 else ''}, {figures['count']:.0f} edits): "
            f"p50 {figures['p50'] * 1000:.0f} ms, p99 {figures['p99'] * 1000:.0f} ms, "
            f"max {figures['max'] * 1000:.0f} ms (targets p50 <= {P50_TARGET_S * 1000:.0f} ms, "
            f"p99 <= {P99_TARGET_S * 1000:.0f} ms) {mark(ok)}"
        )
    if leftovers:
        print(f"  messages not archived after the edits: {leftovers}")
    return result | {"leftovers": leftovers, "workers": args.workers}


# --- 3. tracker calls per idle poll ---------------------------------------------------------


class CountingTracker:
    """A tracker that counts the calls made to it, by method name, and passes them on."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - whatever the tracker has
        attribute = getattr(self.tracker, name)
        if not callable(attribute):
            return attribute

        def counted(*args: object, **kwargs: object) -> object:
            with self._lock:
                self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


def wait_until_idle(services: Services, lookback_ms: int) -> None:
    """Wait until no issue changed within the look-back window: a poll then sees nothing."""
    with services.uow_factory(readonly=True) as uow:
        latest = uow.session.scalar(select(func.max(Issue.updated_ms))) or 0
    pause = (latest + lookback_ms + 200 - now_ms()) / 1000
    if pause > 0:
        print(f"  waiting {pause:.1f} s for the last change to leave the look-back window")
        time.sleep(min(pause, 60))


def idle_polls(
    services: Services, engine: SyncRunner, connector_id: int, polls: int
) -> dict[str, Any]:
    route = engine.route(connector_id)
    if route is None:
        msg = f"the engine does not run connector {connector_id}"
        raise SystemExit(msg)
    counting = CountingTracker(route.tracker)
    route.tracker = cast("Tracker", counting)
    statements = StatementCounter(services)
    # The first poll starts from the cursor the last run left, and checks for deletions
    # now: that check runs every deletion_check_ms (30 s), not per poll, so whether one
    # fell among the counted polls would depend on how long the sync before took.
    check_every, route.deletion_check_ms = route.deletion_check_ms, 0
    outgoing.poll(route)
    route.deletion_check_ms = check_every
    counting.calls.clear()
    statements.count = 0
    seen = sent = 0
    began = time.perf_counter()
    for _ in range(polls):
        result = outgoing.poll(route)
        seen += result.issues_seen
        sent += result.messages_sent
    seconds = time.perf_counter() - began
    calls = {name: n / polls for name, n in sorted(counting.calls.items())}
    return {
        "project": route.tracker.project_key,
        "calls": calls,
        "requests": sum(n for name, n in calls.items() if name not in LOCAL_ONLY),
        "local": sum(n for name, n in calls.items() if name in LOCAL_ONLY),
        "statements": statements.count / polls,
        "ms": seconds * 1000 / polls,
        "issues_seen": seen,
        "messages_sent": sent,
        "deletion_check_s": check_every / 1000,
    }


def phase_idle_poll(args: argparse.Namespace) -> dict[str, Any]:
    services = open_services(args.home, args.database_url)
    try:
        engine = SyncRunner(services)
        wait_until_idle(services, engine.lookback_ms)
        with stopped_at_exit(engine):
            engine.refresh()
            found = [
                idle_polls(services, engine, connector_id, args.polls)
                for connector_id in connector_ids(services)
            ]
    finally:
        services.close()
    for figures in found:
        requests = ", ".join(
            f"{name} {n:g}" for name, n in figures["calls"].items() if name not in LOCAL_ONLY
        )
        local = ", ".join(
            f"{name} {n:g}" for name, n in figures["calls"].items() if name in LOCAL_ONLY
        )
        print(
            f"idle poll of {figures['project']} ({args.issues} issues in sync, mean of "
            f"{args.polls}): {figures['requests']:g} tracker requests per poll ({requests}) "
            f"(target {IDLE_CALLS_TARGET}, a search) "
            f"{mark(figures['requests'] <= IDLE_CALLS_TARGET)}"
        )
        print(
            f"  local only: {local or 'none'}; {figures['statements']:g} SQL statements "
            f"and {figures['ms']:.1f} ms per poll; issues seen {figures['issues_seen']}, "
            f"messages sent {figures['messages_sent']}; besides, one deleted_since call "
            f"every {figures['deletion_check_s']:g} s, whatever the polls"
        )
    return {"connectors": found}


# --- the whole run --------------------------------------------------------------------------

PHASES: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "seed": phase_seed,
    "initial-sync": phase_initial_sync,
    "latency": phase_latency,
    "idle-poll": phase_idle_poll,
    "sync-worker": phase_sync_worker,
    "engine-worker": phase_engine_worker,
}


def run_phase(
    name: str,
    args: argparse.Namespace,
    home: str,
    database_url: str | None,
    timeout: float,
    *,
    env: dict[str, str] | None = None,
    quiet: bool = False,
) -> tuple[dict[str, Any], float]:
    """Run one phase in a fresh process; returns its result and wall time.

    ``env``: variables added to the process's environment (``ISSUESYNC_*`` settings,
    ``PROMETHEUS_MULTIPROC_DIR``), which otherwise has neither: the phase's settings are
    the bench's, whatever this shell has set. ``quiet``: its output is shown only if it
    fails.
    """
    result_path = Path(home) / f"result-{name}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        name,
        "--home",
        home,
        "--result",
        str(result_path),
        "--issues",
        str(args.issues),
        "--edits",
        str(args.edits),
        "--reverse-edits",
        str(args.reverse_edits),
        "--linked",
        str(args.linked),
        "--polls",
        str(args.polls),
        "--sync-timeout",
        str(args.sync_timeout),
        "--edit-timeout",
        str(args.edit_timeout),
        "--workers",
        str(args.workers),
        "--markup",
        args.markup,
    ]
    if database_url:
        command += ["--database-url", database_url]
    if args.profile:
        command += ["--profile", str(Path(args.profile).resolve())]
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ISSUESYNC_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    started = time.perf_counter()
    try:
        done = subprocess.run(  # noqa: S603
            command,
            env=inherited | (env or {}),
            timeout=timeout,
            check=False,
            capture_output=quiet,
            text=True,
        )
    except subprocess.TimeoutExpired:
        msg = f"phase {name} did not finish within {timeout:.0f} s (stopped)"
        raise SystemExit(msg) from None
    wall = time.perf_counter() - started
    if done.returncode != 0:
        if quiet:
            print(done.stdout + done.stderr, file=sys.stderr)
        msg = f"phase {name} failed (exit status {done.returncode})"
        raise SystemExit(msg)
    if not quiet:
        print(f"[phase {name}: {wall:.1f} s wall]")
    return json.loads(result_path.read_text()), wall


def summary_rows(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    rows = []
    sync = results["initial-sync"]
    rows.append(
        (
            "initial sync"
            + (f" ({sync['workers']} workers)" if sync["workers"] > 1 else "")
            + (" (profiled)" if sync["profiled"] else ""),
            f"{sync['rate']:.0f} issues/s ({sync['issues']} in {sync['seconds']:.1f} s)",
            f">= {SYNC_RATE_TARGET:.0f} issues/s",
            mark(sync["rate"] >= SYNC_RATE_TARGET),
        )
    )
    rows.append(
        (
            "initial sync peak RSS",
            f"{sync['peak_rss_mb']:.0f} MB",
            f"<= {RSS_TARGET_MB:.0f} MB",
            mark(sync["peak_rss_mb"] <= RSS_TARGET_MB),
        )
    )
    directions = {"forward": (SOURCE, TARGET), "reverse": (TARGET, SOURCE)}
    workers = results.get("latency", {}).get("workers", 1)
    for name, (source, target) in directions.items():
        figures = results.get("latency", {}).get(name)
        if figures is None:
            continue
        rows.append(
            (
                f"latency {source}->{target} p50 / p99 / max"
                + (f" ({workers} workers)" if workers > 1 else ""),
                "{:.0f} / {:.0f} / {:.0f} ms".format(
                    *(figures[k] * 1000 for k in ("p50", "p99", "max"))
                ),
                f"<= {P50_TARGET_S * 1000:.0f} / {P99_TARGET_S * 1000:.0f} ms",
                mark(figures["p50"] <= P50_TARGET_S and figures["p99"] <= P99_TARGET_S),
            )
        )
    rows.extend(
        (
            f"idle poll {figures['project']}: tracker requests",
            f"{figures['requests']:g} (+ clock_ms {figures['local']:g}, local)",
            f"{IDLE_CALLS_TARGET} (a search)",
            mark(figures["requests"] <= IDLE_CALLS_TARGET),
        )
        for figures in results["idle-poll"]["connectors"]
    )
    return rows


def print_summary(
    args: argparse.Namespace,
    results: dict[str, dict[str, Any]],
    walls: dict[str, float],
    database: str,
) -> None:
    rows = [("measurement", "figure", "target", ""), *summary_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print()
    print(f"summary: {database}, {args.issues} issues, {os.cpu_count()} cores")
    for number, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  " + "  ".join("-" * width for width in widths))
    print("  wall time by phase: " + ", ".join(f"{k} {v:.1f} s" for k, v in walls.items()))


def run_all(args: argparse.Namespace) -> None:
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    timeouts = {
        "seed": 1800.0,
        "initial-sync": args.sync_timeout + 300,
        "latency": 120 + (args.edits + args.reverse_edits + 2) * (0.5 + args.edit_timeout),
        "idle-poll": 600.0,
    }
    with (
        tempfile.TemporaryDirectory(prefix="issuesync-bench-sync-") as home,
        throwaway_schema(args.database_url) as database_url,
    ):
        settings = Settings(home=Path(home), database_url=database_url)
        database = settings.resolved_database_url.split("@")[-1].split("?")[0]
        print(f"database: {database}, cores: {os.cpu_count()}")
        results: dict[str, dict[str, Any]] = {}
        walls: dict[str, float] = {}
        for name, timeout in timeouts.items():
            if name == "latency" and args.edits + args.reverse_edits == 0:
                continue  # --edits 0 --reverse-edits 0: the initial sync and idle polls only
            results[name], walls[name] = run_phase(name, args, home, database_url, timeout)
    print_summary(args, results, walls, database)


def run_markup_comparison(args: argparse.Namespace) -> None:
    """The initial sync with conversion on, then off, ``--markup-rounds`` times, each run
    on a fresh home seeded alike (4. in the module's docstring)."""
    rates: dict[str, list[float]] = {"on": [], "off": []}
    for round_number in range(1, args.markup_rounds + 1):
        for mode in ("on", "off") if round_number % 2 else ("off", "on"):
            args.markup = mode
            with (
                tempfile.TemporaryDirectory(prefix="issuesync-bench-markup-") as home,
                throwaway_schema(args.database_url) as database_url,
            ):
                run_phase("seed", args, home, database_url, 1800.0)
                sync, _ = run_phase(
                    "initial-sync", args, home, database_url, args.sync_timeout + 300
                )
            rates[mode].append(sync["rate"])
            print(f"round {round_number}, conversion {mode}: {sync['rate']:.0f} issues/s")
    texts = args.issues * (1 + COMMENTS_PER_ISSUE)
    print()
    print(
        f"summary: initial sync of {args.issues} issues x {COMMENTS_PER_ISSUE} comments "
        f"({texts} texts, Jira wiki markup -> GFM), {os.cpu_count()} cores, "
        f"{args.markup_rounds} alternating runs each"
    )
    for mode in ("on", "off"):
        runs = ", ".join(f"{rate:.0f}" for rate in rates[mode])
        print(
            f"  conversion {mode:>3}: median {statistics.median(rates[mode]):.0f} issues/s ({runs})"
        )
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    cost_ms = (args.issues / on - args.issues / off) / texts * 1000
    print(f"  on / off: {on / off:.2f}; conversion costs {cost_ms:.2f} ms per text end to end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=200, help="SRC -> DST latency samples")
    parser.add_argument("--reverse-edits", type=int, default=20, help="DST -> SRC samples")
    parser.add_argument("--linked", type=int, default=5, help="issues the edits rotate over")
    parser.add_argument("--polls", type=int, default=10, help="idle polls per connector")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sync-timeout", type=float, default=1800.0, help="seconds")
    parser.add_argument("--edit-timeout", type=float, default=30.0, help="seconds per edit")
    parser.add_argument("--profile", default=None, help="cProfile the initial sync into DIR")
    parser.add_argument(
        "--workers", type=int, default=1, help="engine processes of the initial sync"
    )
    parser.add_argument("--phase", choices=["all", *PHASES], default="all")
    parser.add_argument("--home", default=None, help="a phase's home (set by --phase all)")
    parser.add_argument("--result", default=None, help="where a phase writes its figures")
    parser.add_argument(
        "--markup",
        choices=["none", "on", "off"],
        default="none",
        help="texts in wiki markup and DST a GFM tracker, converting (on) or not (off)",
    )
    parser.add_argument(
        "--markup-rounds", type=int, default=0, help="initial syncs with conversion on vs off"
    )
    args = parser.parse_args()
    if args.phase == "all" and args.markup_rounds:
        run_markup_comparison(args)
        return
    if args.phase == "all":
        run_all(args)
        return
    if args.home is None:
        parser.error("--phase needs --home")
    write_result(args.result, PHASES[args.phase](args))


if __name__ == "__main__":
    main()
