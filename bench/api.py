"""Latency of the Backbone management API under load, against `issuesync serve` in its own process.

Setup, in a temporary home (SQLite, or a throwaway PostgreSQL schema with --database-url):
--integrations integrations (default 50) between pairs of built-in projects (P001 <> P002,
P003 <> P004, ...) with Backbone's defaults (5 s intervals, the default field mappings),
all started; the first ten first-side projects hold 5 issues each, so that the engine,
which runs in the server as in production, has twins to make besides its polls.

The server runs as `issuesync serve` does (with the engine; --server-workers uvicorn
workers, default 1) on 127.0.0.1. Once the engine has taken up every connector, this
process sends an open-loop load: --rate requests/s (default 200) on a fixed schedule for
--warmup s (not counted) then --seconds s, alternating `GET /integrations/{key}/status`
(a random integration) and `GET /integrations` (every integration with its status), as
the admin over HTTP Basic. A slow answer does not delay the next send, and each latency
is taken from the request's scheduled send time (so queueing is not hidden by the
generator waiting: no coordinated omission) as well as from its actual send (which
includes any wait for one of the client's --connections connections).

Prints, per route: count, p50/p90/p99/max in ms, the achieved rate, against the target
p99 <= 20 ms (from the schedule); the server's CPU seconds from the first counted send to
the last answer (from /proc, its uvicorn workers included), beside its CPU in --idle s
without requests just before (the engine's own share), and its peak RSS. A request not
answered 200 within 30 s of its schedule fails the run, after the figures.

Usage: .venv/bin/python bench/api.py [--rate 200] [--seconds 20] [--warmup 3] [--idle 5]
       [--integrations 50] [--server-workers N] [--connections 64]
       [--database-url postgresql://postgres@127.0.0.1:5432/test] [--profile DIR]
``--profile DIR`` runs the server (one worker) under cProfile from the first counted
request to the last (``--phase server``): the event loop's thread and every call the
thread pool runs (endpoints, synchronous dependencies), not the engine's threads.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import logging
import os
import pstats
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.api.backbone.routers import BACKBONE_PREFIX
from issuesync.app import bootstrap, build_services, create_app, install_engine
from issuesync.application.integrations import project_checker, set_running
from issuesync.config import Settings
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.local.issues import insert_issues
from issuesync.trackers.local.models import Issue, Project
from sync import PASSWORD, SYNC_PASSWORD, SYNC_USER, make_project, mark, open_services
from tracker import WORDS, analyze, free_port, percentile, throwaway_schema

T = TypeVar("T")

ISSUE_PROJECTS = 10  # first-side projects that hold issues when the server starts
ISSUES_PER_PROJECT = 5
STATUS, LIST = "GET /integrations/{key}/status", "GET /integrations"
P99_TARGET_MS = 20.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MB = 1_000_000


def project_key(number: int) -> str:
    return f"P{number:03d}"


# --- setup ------------------------------------------------------------------------------------


def integration_body(first: str, second: str) -> dict[str, Any]:
    """Two built-in projects with Backbone's defaults, as the sync user."""

    def side(key: str) -> dict[str, Any]:
        application = {"user": SYNC_USER, "password": SYNC_PASSWORD}
        return {"projectKey": key, "connection": {"application": application}}

    return {
        "summary": f"{first} <> {second} (bench)",
        "firstConnector": side(first),
        "secondConnector": side(second),
    }


def seed(home: str, database_url: str | None, integrations: int) -> list[str]:
    """The projects, the issues, the sync user and the started integrations; their keys."""
    rng = random.Random(42)
    services = open_services(home, database_url)
    try:
        bootstrap(services)
        create_user(
            services.uow_factory,
            NewUser(name=SYNC_USER, email="backbone@example.test", password=SYNC_PASSWORD),
        )
        with services.uow_factory() as uow:
            admin = uow.session.scalar(select(User).where(User.name == "admin"))
            assert admin is not None
            for number in range(1, 2 * integrations + 1):
                make_project(uow.session, project_key(number), admin.id, 0)
            principal = Principal.of(admin)
            uow.commit()
        bodies: list[tuple[dict[str, object], dict[str, object]]] = [
            (
                {
                    "project": {"key": project_key(2 * n + 1)},
                    "issuetype": {"name": "Task"},
                    "summary": " ".join(rng.sample(WORDS, 3)).capitalize(),
                    "description": " ".join(rng.sample(WORDS, 12)),
                    "labels": rng.sample(WORDS, 2),
                },
                {},
            )
            for n in range(min(ISSUE_PROJECTS, integrations))
            for _ in range(ISSUES_PER_PROJECT)
        ]
        with services.tracker.write(principal) as op:
            insert_issues(op, bodies)
        keys = []
        with services.uow_factory() as uow:
            for n in range(integrations):
                body = integration_body(project_key(2 * n + 1), project_key(2 * n + 2))
                row = create_from_spec(
                    uow.session,
                    IntegrationSpec.model_validate(body),
                    actor="admin",
                    secrets=services.secrets,
                    project_exists=project_checker(services),
                    places=services.queue_places,
                )
                set_running(uow.session, row.key, running=True, actor="admin")
                keys.append(row.key)
            uow.commit()
        analyze(services)
    finally:
        services.close()
    return keys


def twins_made(home: str, database_url: str | None, integrations: int) -> int:
    """Issues in the second-side projects, which were empty at the start: the engine's twins."""
    services = open_services(home, database_url)
    seconds = [project_key(2 * n + 2) for n in range(integrations)]
    try:
        with services.uow_factory(readonly=True) as uow:
            count = uow.session.scalar(
                select(func.count())
                .select_from(Issue)
                .join(Project)
                .where(Project.key.in_(seconds))
            )
    finally:
        services.close()
    return int(count or 0)


# --- the server process -----------------------------------------------------------------------


def server_command(args: argparse.Namespace) -> list[str]:
    if args.profile:
        script = str(Path(__file__).resolve())
        return [sys.executable, script, "--phase", "server", "--profile", args.profile]
    return [sys.executable, "-m", "issuesync", "serve", "--workers", str(args.server_workers)]


@contextmanager
def running_server(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """The server, once ``/healthz`` answers; stopped however the block ends (terminate, then
    kill after 30 s). Its output goes to ``log``, whose end is shown if the block fails."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        wait_healthy(process, f"http://127.0.0.1:{env['ISSUESYNC_PORT']}/healthz")
        yield process
    except BaseException:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        print("server output (last lines):\n  " + "\n  ".join(tail), file=sys.stderr)
        raise
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(process: subprocess.Popen[bytes], url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the server exited with status {process.returncode} before answering"
            raise SystemExit(msg)
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    msg = f"the server did not answer {url} within {timeout:.0f} s"
    raise SystemExit(msg)


def wait_for_twins(
    home: str, database_url: str | None, integrations: int, issues: int, timeout: float = 120
) -> float:
    """Wait until the engine has made every seeded issue's twin (its start-up work)."""
    started = time.perf_counter()
    deadline = started + timeout
    while twins_made(home, database_url, integrations) < issues:
        if time.perf_counter() > deadline:
            raise SystemExit(f"the engine did not make the {issues} twins within {timeout:g} s")
        time.sleep(0.2)
    return time.perf_counter() - started


def connectors_started(client: httpx.Client) -> tuple[int, int, int]:
    """(connectors whose routes both run, connectors, issues in error) from the list."""
    response = client.get("/integrations")
    response.raise_for_status()
    sides = [
        integration["status"][side]
        for integration in response.json()
        for side in ("firstConnector", "secondConnector")
    ]
    started = sum(s["incomingRouteStatus"] == s["outgoingRouteStatus"] == "STARTED" for s in sides)
    return started, len(sides), sum(s["issuesInError"] for s in sides)


def wait_for_engine(client: httpx.Client, timeout: float = 120) -> float:
    """Seconds until the engine runs every connector."""
    started = time.perf_counter()
    while True:
        running, total, _ = connectors_started(client)
        if running == total:
            return time.perf_counter() - started
        if time.perf_counter() - started > timeout:
            msg = f"the engine runs {running} of {total} connectors after {timeout:.0f} s"
            raise SystemExit(msg)
        time.sleep(0.2)


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers), from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children[parent].append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children[current])
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (``utime`` and ``stime`` of /proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def idle_cpu_share(pid: int, seconds: float) -> float:
    """The server's CPU, as a share of one core, over ``seconds`` without requests."""
    pids = process_tree(pid)
    before, started = cpu_seconds(pids), time.perf_counter()
    time.sleep(seconds)
    return (cpu_seconds(pids) - before) / (time.perf_counter() - started)


def peak_rss_mb(pids: list[int]) -> float:
    """The largest peak resident set size (``VmHWM``) among the processes."""
    peaks = [0.0]
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        peaks.extend(
            int(line.split()[1]) * 1024 / MB
            for line in status.splitlines()
            if line.startswith("VmHWM:")
        )
    return max(peaks)


# --- the load ---------------------------------------------------------------------------------


TIMEOUT_S = 30.0  # a request not answered (or not sent) this long after its schedule fails


@dataclass(frozen=True)
class Job:
    route: str
    path: str
    scheduled: float
    counted: bool  # False during the warm-up


@dataclass(frozen=True)
class Sample:
    route: str
    scheduled: float
    sent: float | None  # None: never sent, no connection came free within TIMEOUT_S
    done: float
    status: int  # 200, or 0 for anything else (the reason is in Load.errors)
    counted: bool


@dataclass
class Load:
    samples: list[Sample] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)
    window_s: float = 0.0
    idle_cpu_share: float = 0.0  # of a core, without requests before the load
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    server_processes: int = 1

    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self, job: Job, sent: float | None, done: float, error: str = "", detail: str = ""
    ) -> None:
        """A request's outcome (from any sender thread); ``error`` for anything but a 200."""
        sample = Sample(job.route, job.scheduled, sent, done, 0 if error else 200, job.counted)
        with self._lock:
            self.samples.append(sample)
            if error:
                self.errors[f"{job.route}: {error}"] += 1
                self.first_error.setdefault(f"{job.route}: {error}", detail[:300])


def sender(client: httpx.Client, jobs: queue.SimpleQueue[Job | None], load: Load) -> None:
    """One connection's worth of sending: the next due request as soon as the last is answered.

    The schedule queues requests here when every connection is busy, so that the
    wait counts in the latency from the schedule and httpx's pool never queues.
    """
    while (job := jobs.get()) is not None:
        sent = time.perf_counter()
        if sent - job.scheduled > TIMEOUT_S:
            load.record(job, None, sent, "not sent", f"no free connection in {TIMEOUT_S:.0f} s")
            continue
        try:
            response = client.get(job.path)
        except httpx.HTTPError as exc:
            load.record(job, sent, time.perf_counter(), type(exc).__name__, str(exc) or repr(exc))
            continue
        done = time.perf_counter()
        if response.status_code == 200:
            load.record(job, sent, done)
        else:
            load.record(job, sent, done, str(response.status_code), response.text)


def generate(base: str, keys: list[str], args: argparse.Namespace, server_pid: int) -> Load:
    """Queue each request at its scheduled time for --connections sender threads.

    Threads with a blocking client rather than asyncio: on the benchmark's own cores,
    httpx's ``AsyncClient`` costs about three times the CPU per request of its ``Client``.
    """
    load = Load()
    rng = random.Random(7)
    total = round((args.warmup + args.seconds) * args.rate)
    first_counted = round(args.warmup * args.rate)
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections
    )
    pids: list[int] = []
    cpu_at_start = client_at_start = started = 0.0
    jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
    with httpx.Client(
        base_url=base, auth=("admin", PASSWORD), limits=limits, timeout=TIMEOUT_S
    ) as client:
        senders = [
            threading.Thread(target=sender, args=(client, jobs, load), daemon=True)
            for _ in range(args.connections)
        ]
        for thread in senders:
            thread.start()
        try:
            origin = time.perf_counter() + 0.05
            for number in range(total):
                scheduled = origin + number / args.rate
                pause = scheduled - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                if number == first_counted:
                    pids = process_tree(server_pid)
                    cpu_at_start, client_at_start = cpu_seconds(pids), time.process_time()
                    started = time.perf_counter()
                    if args.profile:
                        os.kill(server_pid, signal.SIGUSR1)
                counted = number >= first_counted
                if number % 2 == 0:
                    path = f"/integrations/{rng.choice(keys)}/status"
                    jobs.put(Job(STATUS, path, scheduled, counted))
                else:
                    jobs.put(Job(LIST, "/integrations", scheduled, counted))
        finally:
            for _ in senders:
                jobs.put(None)
            for thread in senders:  # within 2 x TIMEOUT_S: the queue's wait, the answer's
                thread.join()
    load.window_s = time.perf_counter() - started
    load.server_cpu_s = cpu_seconds(pids) - cpu_at_start
    load.client_cpu_s = time.process_time() - client_at_start
    load.peak_rss_mb = peak_rss_mb(pids)
    load.server_processes = len(pids)
    return load


def describe(samples: list[Sample]) -> dict[str, float]:
    from_schedule = [(s.done - s.scheduled) * 1000 for s in samples]
    # Those never sent have no latency from their send; they count in the one above.
    from_send = [(s.done - s.sent) * 1000 for s in samples if s.sent is not None] or [0.0]
    answered = sum(s.status == 200 for s in samples)
    figures: dict[str, float] = {"count": len(samples), "errors": len(samples) - answered}
    for name, values in (("schedule", from_schedule), ("send", from_send)):
        for label, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
            figures[f"{name}_{label}"] = percentile(values, fraction)
        figures[f"{name}_max"] = max(values)
    # Answers (200) per second, from the first scheduled send to the last answer.
    figures["rate"] = answered / (max(s.done for s in samples) - min(s.scheduled for s in samples))
    return figures


def latency_line(figures: dict[str, float], name: str) -> str:
    return " / ".join(f"{figures[f'{name}_{k}']:.1f}" for k in ("p50", "p90", "p99", "max"))


# --- profiling the server ---------------------------------------------------------------------


class ServerProfiler:
    """cProfile of a server from SIGUSR1 to SIGUSR2, written to ``path`` at SIGUSR2.

    cProfile sees one thread: the event loop's thread gets one profiler, and each call
    the thread pool runs (endpoints and synchronous dependencies: the routes' work) runs
    under its thread's own; the stats are added up. The engine's threads are left out.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.active = False
        self.loop_profiler = cProfile.Profile()
        self.thread_profilers: list[cProfile.Profile] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def install(self) -> None:
        """Wrap FastAPI's thread-pool hop and take SIGUSR1/SIGUSR2 (call before serving)."""
        import fastapi.dependencies.utils  # noqa: PLC0415 - the server phase only
        import fastapi.routing  # noqa: PLC0415
        import starlette.concurrency  # noqa: PLC0415

        from issuesync.api import deps  # noqa: PLC0415

        original = starlette.concurrency.run_in_threadpool

        async def run_in_threadpool(
            call: Callable[..., T],
            *args: Any,  # noqa: ANN401 - whatever the call takes
            **kwargs: Any,  # noqa: ANN401
        ) -> T:
            return await original(self._run, functools.partial(call, *args, **kwargs))

        for module in (fastapi.routing, fastapi.dependencies.utils, deps):
            module.run_in_threadpool = run_in_threadpool  # type: ignore[attr-defined]
        signal.signal(signal.SIGUSR1, self._start)
        signal.signal(signal.SIGUSR2, self._stop)

    def _run(self, call: Callable[[], T]) -> T:
        if not self.active:
            return call()
        profiler: cProfile.Profile | None = getattr(self._local, "profiler", None)
        if profiler is None:
            profiler = self._local.profiler = cProfile.Profile()
            with self._lock:
                self.thread_profilers.append(profiler)
        return profiler.runcall(call)

    def _start(self, _signal: int, _frame: FrameType | None) -> None:
        self.active = True
        self.loop_profiler.enable()

    def _stop(self, _signal: int, _frame: FrameType | None) -> None:
        self.active = False
        self.loop_profiler.disable()
        stats = pstats.Stats(self.loop_profiler)
        with self._lock:
            for profiler in self.thread_profilers:
                stats.add(profiler)
        partial = self.path.with_suffix(".part")
        stats.dump_stats(partial)
        partial.replace(self.path)  # whole, or not there: the bench waits for it


def phase_server(args: argparse.Namespace) -> None:
    """`issuesync serve` with one worker (its ``workers == 1`` branch), profiled on signals."""
    import uvicorn  # noqa: PLC0415 - the server phase only

    settings = Settings()
    services = build_services(settings)
    try:
        bootstrap(services)
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
        )
        application = create_app(services)
        if settings.engine_enabled:
            install_engine(application, services)
        ServerProfiler(Path(args.profile) / "server.prof").install()
        uvicorn.run(
            application,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=False,
        )
    finally:
        services.close()


def collect_profile(process: subprocess.Popen[bytes], path: Path) -> None:
    """Ask the server for its profile (SIGUSR2) and wait until it is written."""
    process.send_signal(signal.SIGUSR2)
    deadline = time.monotonic() + 60
    while not path.exists():
        if time.monotonic() > deadline:
            msg = f"the server did not write its profile to {path}"
            raise SystemExit(msg)
        time.sleep(0.1)


def print_hotspots(path: Path) -> None:
    print(f"  server profile written to {path} (python -m pstats {path})")
    for order in ("tottime", "cumulative"):
        print(f"  -- top functions by {order} --")
        pstats.Stats(str(path), stream=sys.stdout).strip_dirs().sort_stats(order).print_stats(25)


# --- the whole run ----------------------------------------------------------------------------


def print_route(route: str, figures: dict[str, float], args: argparse.Namespace) -> None:
    what = f"{args.integrations} integrations with status" if route == LIST else "random key"
    ok = figures["schedule_p99"] <= P99_TARGET_MS
    errors = f" ({figures['errors']:.0f} errors)" if figures["errors"] else ""
    print(
        f"{route} ({what}): {figures['count']:.0f} requests{errors}, "
        f"{figures['rate']:.1f} answers/s; "
        f"from schedule p50 / p90 / p99 / max {latency_line(figures, 'schedule')} ms "
        f"(target p99 <= {P99_TARGET_MS:.0f} ms) {mark(ok)}"
    )
    print(f"  from actual send p50 / p90 / p99 / max {latency_line(figures, 'send')} ms")


def print_summary(
    args: argparse.Namespace, database: str, by_route: dict[str, dict[str, float]], load: Load
) -> None:
    rows = [("measurement", "figure", "target", "")]
    rows.extend(
        (
            f"{route} p50 / p99 / max",
            " / ".join(f"{figures[f'schedule_{k}']:.1f}" for k in ("p50", "p99", "max")) + " ms",
            f"p99 <= {P99_TARGET_MS:.0f} ms",
            mark(figures["schedule_p99"] <= P99_TARGET_MS),
        )
        for route, figures in by_route.items()
    )
    rows.append(
        (
            "server CPU / peak RSS",
            (
                f"{load.server_cpu_s / load.window_s:.0%} of a core "
                f"({load.idle_cpu_share:.0%} idle) / {load.peak_rss_mb:.0f} MB"
            ),
            "",
            "",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print()
    print(
        f"summary: {database}, {args.integrations} integrations, {args.rate:g} requests/s "
        f"for {args.seconds:g} s, {args.server_workers} server worker"
        f"{'s' if args.server_workers > 1 else ''}, {os.cpu_count()} cores"
        + (" (profiled)" if args.profile else "")
    )
    for number, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  " + "  ".join("-" * width for width in widths))


def report(args: argparse.Namespace, load: Load, database: str, engine: str) -> None:
    counted = [s for s in load.samples if s.counted]
    by_route = {
        route: describe([s for s in counted if s.route == route])
        for route in (STATUS, LIST)
        if any(s.route == route for s in counted)
    }
    for route, figures in by_route.items():
        print_route(route, figures, args)
    lag = [(s.sent - s.scheduled) * 1000 for s in counted if s.sent is not None] or [0.0]
    print(
        f"  generator: sent after the schedule by p50 {percentile(lag, 0.5):.1f} ms, "
        f"p99 {percentile(lag, 0.99):.1f} ms, max {max(lag):.1f} ms (its own delay, and any "
        f"wait for a free connection); its own CPU {load.client_cpu_s:.1f} s "
        f"({load.client_cpu_s * 1000 / len(counted):.2f} ms per request)"
    )
    processes = f" ({load.server_processes} processes)" if load.server_processes > 1 else ""
    print(
        f"  server{processes}: {load.server_cpu_s:.1f} CPU s in the measured "
        f"{load.window_s:.1f} s ({load.server_cpu_s / load.window_s:.0%} of a core, the engine "
        f"included: {load.idle_cpu_share:.0%} without requests); "
        f"peak RSS {load.peak_rss_mb:.0f} MB"
        + (" (the largest process)" if load.server_processes > 1 else "")
        + (" (under cProfile: slowed by the profiler)" if args.profile else "")
    )
    print(engine)
    if args.profile:
        print_hotspots(Path(args.profile) / "server.prof")
    print_summary(args, database, by_route, load)


def run(args: argparse.Namespace) -> None:
    if args.profile:
        if args.server_workers != 1:
            msg = "--profile profiles one server process: use --server-workers 1"
            raise SystemExit(msg)
        args.profile = str(Path(args.profile).resolve())
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="issuesync-bench-api-") as home,
        throwaway_schema(args.database_url) as database_url,
    ):
        settings = Settings(home=Path(home), database_url=database_url)
        database = settings.resolved_database_url.split("@")[-1].split("?")[0]
        print(
            f"database: {database}, server workers: {args.server_workers}, cores: {os.cpu_count()}"
        )
        started = time.perf_counter()
        keys = seed(home, database_url, args.integrations)
        issues = min(ISSUE_PROJECTS, args.integrations) * ISSUES_PER_PROJECT
        print(
            f"seeded {2 * args.integrations} projects ({issues} issues), {len(keys)} "
            f"integrations started, in {time.perf_counter() - started:.1f} s"
        )
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")} | {
            "ISSUESYNC_HOME": home,
            "ISSUESYNC_HOST": "127.0.0.1",
            "ISSUESYNC_PORT": str(port),
            "ISSUESYNC_ADMIN_PASSWORD": PASSWORD,
            "ISSUESYNC_LOG_LEVEL": "warning",
        }
        if database_url:
            env["ISSUESYNC_DATABASE_URL"] = database_url
        base = f"http://127.0.0.1:{port}{BACKBONE_PREFIX}"
        started = time.perf_counter()
        with (
            running_server(server_command(args), env, Path(home) / "server.log") as server,
            httpx.Client(base_url=base, auth=("admin", PASSWORD), timeout=30) as client,
        ):
            up = time.perf_counter() - started
            engine_s = wait_for_engine(client)
            settled_s = wait_for_twins(home, database_url, args.integrations, issues)
            idle = idle_cpu_share(server.pid, args.idle)
            print(
                f"server up in {up:.1f} s; its engine ran all {2 * len(keys)} connectors "
                f"{engine_s:.1f} s later and made every twin {settled_s:.1f} s after that; "
                f"then, without requests (the engine polling), it used {idle:.0%} of a core "
                f"for {args.idle:g} s"
            )
            print(
                f"load: {args.rate:g} requests/s, open loop, for {args.seconds:g} s after "
                f"{args.warmup:g} s of warm-up, alternating the two routes "
                f"(at most {args.connections} connections)"
            )
            gc.collect()
            gc.freeze()  # the setup's objects: the generator's collections stay short
            load = generate(base, keys, args, server.pid)
            load.idle_cpu_share = idle
            if args.profile:
                collect_profile(server, Path(args.profile) / "server.prof")
            try:
                running, total, in_error = connectors_started(client)
                routes = f"{running}/{total} connectors running, {in_error} issues in error"
            except httpx.HTTPError as exc:  # a server still working off a backlog
                routes = f"no status ({type(exc).__name__})"
        twins = twins_made(home, database_url, args.integrations)
        engine = (
            f"  engine after the load: {routes}, {twins}/{issues} seeded issues have their twin"
        )
        report(args, load, database, engine)
    if load.errors:
        details = "; ".join(f"{k} x{n}" for k, n in sorted(load.errors.items()))
        first = "\n  ".join(f"{k}: {v}" for k, v in load.first_error.items())
        msg = (
            f"FAILED: requests without a 200 (warm-up included): {details}\n"
            f"  first of each:\n  {first}"
        )
        raise SystemExit(msg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds not counted")
    parser.add_argument(
        "--idle", type=float, default=5.0, help="seconds of the server's CPU without requests"
    )
    parser.add_argument("--integrations", type=int, default=50)
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn workers")
    parser.add_argument(
        "--connections", type=int, default=64, help="the generator's connections at most"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", default=None, help="cProfile the server into DIR")
    parser.add_argument("--phase", choices=["all", "server"], default="all")
    args = parser.parse_args()
    if args.phase == "server":
        if args.profile is None:
            parser.error("--phase server needs --profile")
        phase_server(args)
        return
    run(args)


if __name__ == "__main__":
    main()
