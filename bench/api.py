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

What ``GET /metrics`` costs (issue 22), on the same server: first --scrape-burst scrapes
back to back with no other request (the server's CPU per scrape, less its idle share, and
the scrape's latency); then the load runs in 2 x --scrape-rounds windows of --seconds,
alternating windows without and with a scrape every --scrape-interval s (15, as
Prometheus's default), and prints the routes' p50/p99 in each kind, the scrapes' latency,
the requests in flight during a scrape, and the server's CPU. The route figures above are
of the windows without a scrape.

What metrics cost the engine: after the server stopped, bench/sync.py's initial sync of
--engine-issues issues (a fresh home each run, synced in a fresh process) with metrics off
(``ISSUESYNC_METRICS_ENABLED=false``), on, and on in multiprocess mode (counts in files,
as ``serve --workers N`` and ``issuesync worker`` with a shared folder), --engine-rounds
rounds, the modes' order rotating; each run's own count of applied changes proves its mode
(0 when off). The runs' spread is larger than the difference, so the recording calls are
also timed alone per mode (--recording-calls each) and set against an issue's time.

Usage: .venv/bin/python bench/api.py [--rate 200] [--seconds 20] [--warmup 3] [--idle 5]
       [--integrations 50] [--server-workers N] [--connections 64]
       [--database-url postgresql://postgres@127.0.0.1:5432/test] [--profile DIR]
       [--scrape-interval 15] [--scrape-rounds 2] [--scrape-burst 20]
       [--engine-rounds 3] [--engine-issues 2000] [--recording-calls 200000]
About 4 minutes with the defaults on 2 cores; ``--scrape-rounds 0 --engine-rounds 0`` is
the routes' figures alone (under a minute), ``--engine-rounds 1 --engine-issues 500`` a
quick look at the engine's.
``--profile DIR`` runs the server (one worker) under cProfile from the first counted
request to the last (``--phase server``): the event loop's thread and every call the
thread pool runs (endpoints, synchronous dependencies), not the engine's threads.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import json
import logging
import os
import pstats
import queue
import random
import signal
import statistics
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
from issuesync.metrics import MULTIPROC_ENV
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.local.issues import insert_issues
from issuesync.trackers.local.models import Issue, Project
from sync import (
    COMMENTS_PER_ISSUE,
    PASSWORD,
    SYNC_PASSWORD,
    SYNC_USER,
    make_project,
    mark,
    open_services,
    run_phase,
)
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


@dataclass(frozen=True)
class Scrape:
    """One ``GET /metrics``: when it was sent and answered, its status and size."""

    started: float
    done: float
    status: int  # 0: no answer
    size: int


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
    scrapes: list[Scrape] = field(default_factory=list)  # GET /metrics during the window

    _lock: threading.Lock = field(default_factory=threading.Lock)

    def scraped(self, scrape: Scrape, detail: str) -> None:
        """A scrape's outcome; ``detail`` is kept for the report when it is not a 200."""
        with self._lock:
            self.scrapes.append(scrape)
            if scrape.status != 200:
                error = f"GET /metrics: {scrape.status or 'no answer'}"
                self.errors[error] += 1
                self.first_error.setdefault(error, detail[:300])

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


def scrape_offsets(seconds: float, interval: float) -> list[float]:
    """When a Prometheus scraping every ``interval`` s scrapes in a window of ``seconds``:
    half an interval in, then every interval (at least once, mid-window)."""
    if seconds <= interval / 2:
        return [seconds / 2]
    offsets, at = [], interval / 2
    while at < seconds:
        offsets.append(at)
        at += interval
    return offsets


def scraper(url: str, times: list[float], load: Load) -> None:
    """Prometheus's part: ``GET /metrics`` at each of ``times`` (perf_counter)."""
    with httpx.Client(timeout=TIMEOUT_S) as client:
        for at in times:
            pause = at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            started = time.perf_counter()
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                load.scraped(Scrape(started, time.perf_counter(), 0, 0), repr(exc))
                continue
            size = len(response.content)
            load.scraped(
                Scrape(started, time.perf_counter(), response.status_code, size), response.text
            )


def generate(
    base: str,
    keys: list[str],
    args: argparse.Namespace,
    server_pid: int,
    metrics_url: str | None = None,
) -> Load:
    """Queue each request at its scheduled time for --connections sender threads; with
    ``metrics_url``, a scrape of it every --scrape-interval s of the counted window too.

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
        scraping: threading.Thread | None = None
        try:
            origin = time.perf_counter() + 0.05
            if metrics_url is not None:
                counted_from = origin + args.warmup
                times = [
                    counted_from + offset
                    for offset in scrape_offsets(args.seconds, args.scrape_interval)
                ]
                scraping = threading.Thread(
                    target=scraper, args=(metrics_url, times, load), daemon=True
                )
                scraping.start()
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
            if scraping is not None:  # its last scrape is due before the window ends
                scraping.join()
    load.window_s = time.perf_counter() - started
    load.server_cpu_s = cpu_seconds(pids) - cpu_at_start
    load.client_cpu_s = time.process_time() - client_at_start
    load.peak_rss_mb = peak_rss_mb(pids)
    load.server_processes = len(pids)
    return load


def describe(samples: list[Sample], seconds: float) -> dict[str, float]:
    """Latencies of ``samples``, and their answers per second over ``seconds`` of load."""
    from_schedule = [(s.done - s.scheduled) * 1000 for s in samples]
    # Those never sent have no latency from their send; they count in the one above.
    from_send = [(s.done - s.sent) * 1000 for s in samples if s.sent is not None] or [0.0]
    answered = sum(s.status == 200 for s in samples)
    figures: dict[str, float] = {"count": len(samples), "errors": len(samples) - answered}
    for name, values in (("schedule", from_schedule), ("send", from_send)):
        for label, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
            figures[f"{name}_{label}"] = percentile(values, fraction)
        figures[f"{name}_max"] = max(values)
    figures["rate"] = answered / seconds
    return figures


def latency_line(figures: dict[str, float], name: str) -> str:
    return " / ".join(f"{figures[f'{name}_{k}']:.1f}" for k in ("p50", "p90", "p99", "max"))


# --- the cost of GET /metrics -----------------------------------------------------------------


@dataclass(frozen=True)
class ScrapeCost:
    """Scrapes back to back on a server doing nothing else but its engine's polls."""

    count: int
    cpu_ms: float  # the server's CPU per scrape, less its idle share over the same time
    latencies_ms: list[float]
    samples: int
    size: int


def scrape_cost(url: str, server_pid: int, count: int, idle_share: float) -> ScrapeCost:
    """The server's CPU and the latency of ``count`` scrapes, one after another, after one
    not counted (the first scrape builds the registry)."""
    pids = process_tree(server_pid)
    latencies = []
    with httpx.Client(timeout=TIMEOUT_S) as client:
        first = client.get(url)
        first.raise_for_status()
        cpu_at_start, started = cpu_seconds(pids), time.perf_counter()
        for _ in range(count):
            began = time.perf_counter()
            response = client.get(url)
            response.raise_for_status()
            latencies.append((time.perf_counter() - began) * 1000)
        wall = time.perf_counter() - started
        cpu = cpu_seconds(pids) - cpu_at_start
    text = response.text
    samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
    cpu_ms = max(cpu - idle_share * wall, 0.0) * 1000 / count
    return ScrapeCost(count, cpu_ms, latencies, samples, len(response.content))


def merged(loads: list[Load]) -> Load:
    """Windows of the same kind as one load: their samples and scrapes, summed times."""
    load = Load(
        window_s=sum(w.window_s for w in loads),
        idle_cpu_share=loads[0].idle_cpu_share,
        server_cpu_s=sum(w.server_cpu_s for w in loads),
        client_cpu_s=sum(w.client_cpu_s for w in loads),
        peak_rss_mb=max(w.peak_rss_mb for w in loads),
        server_processes=max(w.server_processes for w in loads),
    )
    for window in loads:
        load.samples.extend(window.samples)
        load.scrapes.extend(window.scrapes)
        load.errors.update(window.errors)
        for key, detail in window.first_error.items():
            load.first_error.setdefault(key, detail)
    return load


def during_scrapes(load: Load) -> list[Sample]:
    """The counted requests in flight while a scrape was (scheduled before its answer,
    answered after its send)."""
    return [
        s
        for s in load.samples
        if s.counted and any(s.scheduled < c.done and s.done > c.started for c in load.scrapes)
    ]


def p50_p99(samples: list[Sample]) -> str:
    values = [(s.done - s.scheduled) * 1000 for s in samples] or [0.0]
    return f"{percentile(values, 0.5):.1f} / {percentile(values, 0.99):.1f}"


def print_scrape_figures(
    args: argparse.Namespace, cost: ScrapeCost, without: Load, scraped: Load
) -> list[tuple[str, str, str, str]]:
    """The scrape's figures; returns the summary's rows."""
    interval = args.scrape_interval
    share = cost.cpu_ms / 1000 / interval
    latency = cost.latencies_ms
    print()
    print(
        f"GET /metrics, {args.integrations} integrations ({2 * args.integrations} connectors), "
        f"{cost.samples} samples, {cost.size:,} bytes:"
    )
    print(
        f"  alone ({cost.count} scrapes back to back, the server otherwise idle but for "
        f"its engine): server CPU {cost.cpu_ms:.1f} ms per scrape (its idle share "
        f"subtracted); latency p50 {percentile(latency, 0.5):.1f} ms, max {max(latency):.1f} "
        f"ms; at one scrape every {interval:g} s: {share:.2%} of a core"
    )
    rows = [
        ("GET /metrics: server CPU per scrape", f"{cost.cpu_ms:.1f} ms", "", ""),
        (f"  at one scrape per {interval:g} s", f"{share:.2%} of a core", "", ""),
    ]
    if not scraped.scrapes:
        return rows
    under = [(c.done - c.started) * 1000 for c in scraped.scrapes]
    print(
        f"  under the load ({len(under)} scrapes, one per {interval:g} s, in {args.scrape_rounds}"
        f" window{'s' if args.scrape_rounds > 1 else ''} of {args.seconds:g} s): latency p50 "
        f"{percentile(under, 0.5):.1f} ms, max {max(under):.1f} ms"
    )
    print(
        f"  the other routes' p50 / p99 from schedule, in windows without and with the scrape "
        f"({args.scrape_rounds} of each, alternating):"
    )
    for route in (STATUS, LIST):
        plain = [s for s in without.samples if s.counted and s.route == route]
        busy = [s for s in scraped.samples if s.counted and s.route == route]
        figure = f"{p50_p99(plain)} ms without, {p50_p99(busy)} ms with"
        print(f"    {route}: {figure}")
        rows.append((f"{route} p50 / p99, scrape", figure, "", ""))
    overlapping = during_scrapes(scraped)
    print(
        f"    the {len(overlapping)} requests in flight during a scrape: p50 / p99 "
        f"{p50_p99(overlapping)} ms"
    )
    print(
        f"  server CPU in those windows: {without.server_cpu_s / without.window_s:.1%} of a "
        f"core without, {scraped.server_cpu_s / scraped.window_s:.1%} with"
    )
    return rows


# --- the engine's rate with metrics on and off ------------------------------------------------

METRICS_MODES: dict[str, dict[str, str]] = {
    "off": {"ISSUESYNC_METRICS_ENABLED": "false"},
    "on": {"ISSUESYNC_METRICS_ENABLED": "true"},
    # As `serve --workers N` and `issuesync worker` with a shared folder count: in files.
    "on, multiprocess": {"ISSUESYNC_METRICS_ENABLED": "true", MULTIPROC_ENV: ""},
}


def engine_rates(args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    """bench/sync.py's initial sync (a fresh home, seeded alike, synced in a fresh process)
    in each metrics mode, --engine-rounds times, the modes' order rotating each round."""
    sync_args = argparse.Namespace(
        issues=args.engine_issues,
        edits=0,
        reverse_edits=0,
        linked=5,
        polls=1,
        sync_timeout=600.0,
        edit_timeout=30.0,
        workers=1,
        markup="none",
        profile=None,
    )
    modes = list(METRICS_MODES)
    rates: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
    print()
    print(
        f"engine with metrics on and off: bench/sync.py's initial sync, {args.engine_rounds}"
        f" round{'s' if args.engine_rounds > 1 else ''} of {len(modes)} runs"
    )
    for round_number in range(args.engine_rounds):
        shift = round_number % len(modes)
        for mode in modes[shift:] + modes[:shift]:
            with (
                tempfile.TemporaryDirectory(prefix="issuesync-bench-api-engine-") as home,
                throwaway_schema(args.database_url) as database_url,
            ):
                env = dict(METRICS_MODES[mode])
                if MULTIPROC_ENV in env:
                    env[MULTIPROC_ENV] = str(Path(home) / "metrics")
                    Path(env[MULTIPROC_ENV]).mkdir()
                run_phase("seed", sync_args, home, database_url, 900.0, env=env, quiet=True)
                result, _ = run_phase(
                    "initial-sync", sync_args, home, database_url, 900.0, env=env, quiet=True
                )
            counted = result["changes_applied_counted"]
            # Honest modes: off counted nothing; on counted every issue's creation.
            expected = counted == 0 if mode == "off" else counted >= args.engine_issues
            if not expected:
                msg = f"metrics {mode}: the sync's process counted {counted:g} applied changes"
                raise SystemExit(msg)
            cpu_ms = result["cpu_seconds"] * 1000 / args.engine_issues
            rates[mode].append((result["rate"], cpu_ms))
            print(
                f"  round {round_number + 1}, metrics {mode}: {result['rate']:.0f} issues/s, "
                f"{cpu_ms:.2f} CPU ms per issue ({args.engine_issues} in "
                f"{result['seconds']:.2f} s; {counted:g} applied changes counted)"
            )
    return rates


# What the incoming route records per applied change: a counter and a histogram, each
# through labels() (as engine/pipeline/incoming.py and engine/runtime/running.py do).
RECORDING = """
import json, sys, time
from issuesync.metrics import CHANGES_APPLIED, PROPAGATION, switch
switch(on=sys.argv[1] != "off")
calls = int(sys.argv[2])
def timed(record):
    record()
    started = time.perf_counter()
    for _ in range(calls):
        record()
    return (time.perf_counter() - started) / calls * 1e6
inc = timed(lambda: CHANGES_APPLIED.labels("INT-1", "PB-2").inc())
observe = timed(lambda: PROPAGATION.labels("INT-1", "PB-2").observe(0.7))
print(json.dumps({"inc": inc, "observe": observe}))
"""


def recording_costs(calls: int) -> dict[str, dict[str, float]]:
    """Microseconds per ``labels().inc()`` and ``labels().observe()`` in each metrics mode,
    each in a fresh interpreter (multiprocess mode is chosen at prometheus-client's import)."""
    costs = {}
    for mode, settings in METRICS_MODES.items():
        with tempfile.TemporaryDirectory(prefix="issuesync-bench-api-recording-") as folder:
            env = {k: v for k, v in os.environ.items() if k != MULTIPROC_ENV} | settings
            if MULTIPROC_ENV in settings:
                env[MULTIPROC_ENV] = folder
            done = subprocess.run(  # noqa: S603 - our own interpreter
                [sys.executable, "-c", RECORDING, mode, str(calls)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=300,
            )
        costs[mode] = json.loads(done.stdout)
    return costs


def print_engine_rates(
    args: argparse.Namespace, runs: dict[str, list[tuple[float, float]]]
) -> list[tuple[str, str, str, str]]:
    print(
        f"engine: initial sync of {args.engine_issues} issues x {COMMENTS_PER_ISSUE} comments, "
        f"{args.engine_rounds} alternating runs per mode; medians of issues/s (wall) and of "
        "the syncing process's CPU ms per issue (steadier on a shared host), runs listed:"
    )
    off_rate = statistics.median(rate for rate, _ in runs["off"])
    off_cpu = statistics.median(cpu for _, cpu in runs["off"])
    rows = []
    for mode, figures in runs.items():
        rate = statistics.median(r for r, _ in figures)
        cpu = statistics.median(c for _, c in figures)
        rates = ", ".join(f"{r:.0f}" for r, _ in figures)
        cpus = ", ".join(f"{c:.2f}" for _, c in figures)
        relative = "" if mode == "off" else f"; {rate / off_rate:.3f} / {cpu / off_cpu:.3f} x off"
        print(
            f"  metrics {mode:>16}: {rate:.0f} issues/s ({rates}), {cpu:.2f} CPU ms per issue "
            f"({cpus}){relative}"
        )
        rows.append(
            (
                f"engine, metrics {mode}",
                f"{rate:.0f} issues/s, {cpu:.2f} CPU ms/issue{relative}",
                "",
                "",
            )
        )
    cpus = [c for _, c in runs["off"]]
    spread = (max(cpus) - min(cpus)) / off_cpu
    print(
        f"  the runs with metrics off differ by up to {spread:.0%} in CPU per issue: a "
        "difference between modes smaller than that is noise, so the recording is also "
        "timed alone:"
    )
    costs = recording_costs(args.recording_calls)
    for mode, cost in costs.items():
        # The incoming route records one inc and one observe per applied change (an issue's
        # creation with its comments is one message); route runs are a few per sync.
        per_change = cost["inc"] + cost["observe"]
        share = per_change / 1000 / off_cpu
        print(
            f"  metrics {mode:>16}: labels().inc() {cost['inc']:.2f} us, labels().observe() "
            f"{cost['observe']:.2f} us: {per_change:.1f} us per applied change, "
            f"{share:.3%} of the {off_cpu:.2f} CPU ms an issue takes"
        )
        rows.append((f"recording per applied change, {mode}", f"{per_change:.1f} us", "", ""))
    return rows


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
    args: argparse.Namespace,
    database: str,
    by_route: dict[str, dict[str, float]],
    load: Load,
    extra: list[tuple[str, str, str, str]],
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
    rows.extend(extra)
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


def report(
    args: argparse.Namespace,
    load: Load,
    database: str,
    engine: str,
    extra: list[tuple[str, str, str, str]],
) -> None:
    counted = [s for s in load.samples if s.counted]
    by_route = {
        route: describe([s for s in counted if s.route == route], load.window_s)
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
    print_summary(args, database, by_route, load, extra)


def scrape_windows(args: argparse.Namespace) -> list[str]:
    """The load's windows, ``without`` and ``with`` a scrape alternating (each first in
    turn), as announced."""
    windows = ["without"]
    if args.scrape_rounds:
        pairs = [("without", "with"), ("with", "without")]
        windows = [kind for n in range(args.scrape_rounds) for kind in pairs[n % 2]]
    print(
        f"load: {args.rate:g} requests/s, open loop, for {args.seconds:g} s after "
        f"{args.warmup:g} s of warm-up, alternating the two routes "
        f"(at most {args.connections} connections), in {len(windows)} window"
        + (
            f"s: {args.scrape_rounds} without and {args.scrape_rounds} with a "
            f"GET /metrics every {args.scrape_interval:g} s, alternating"
            if args.scrape_rounds
            else ""
        )
    )
    return windows


def load_windows(
    windows: list[str],
    base: str,
    keys: list[str],
    args: argparse.Namespace,
    server_pid: int,
    metrics_url: str,
) -> tuple[list[Load], list[Load]]:
    """The load in each window, in order; those ``without`` a scrape, those ``with``."""
    plain: list[Load] = []
    scraped: list[Load] = []
    for kind in windows:
        scraping = kind == "with"
        window = generate(base, keys, args, server_pid, metrics_url if scraping else None)
        (scraped if scraping else plain).append(window)
    return plain, scraped


def run(args: argparse.Namespace) -> None:
    if args.profile:
        if args.server_workers != 1:
            msg = "--profile profiles one server process: use --server-workers 1"
            raise SystemExit(msg)
        args.profile = str(Path(args.profile).resolve())
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        args.scrape_rounds = 0  # one window: the profile is of the routes alone
    with (
        tempfile.TemporaryDirectory(prefix="issuesync-bench-api-") as home,
        throwaway_schema(args.database_url) as database_url,
    ):
        settings = Settings(home=Path(home), database_url=database_url)
        database = settings.resolved_database_url.split("@")[-1].split("?")[0]
        print(
            f"database: {database}, server workers: {args.server_workers}, cores: "
            f"{os.cpu_count()}, {host_load()}"
        )
        started = time.perf_counter()
        keys = seed(home, database_url, args.integrations)
        issues = min(ISSUE_PROJECTS, args.integrations) * ISSUES_PER_PROJECT
        print(
            f"seeded {2 * args.integrations} projects ({issues} issues), {len(keys)} "
            f"integrations started, in {time.perf_counter() - started:.1f} s"
        )
        port = free_port()
        env = server_env(home, port, database_url)
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
            metrics_url = f"http://127.0.0.1:{port}/metrics"
            cost = scrape_cost(metrics_url, server.pid, args.scrape_burst, idle)
            windows = scrape_windows(args)
            gc.collect()
            gc.freeze()  # the setup's objects: the generator's collections stay short
            plain, scraped = load_windows(windows, base, keys, args, server.pid, metrics_url)
            for window in plain + scraped:
                window.idle_cpu_share = idle
            load = merged(plain)
            everything = merged(plain + scraped)
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
    extra = print_scrape_figures(args, cost, load, merged(scraped) if scraped else Load())
    if args.engine_rounds:
        extra += print_engine_rates(args, engine_rates(args))
    print()
    report(args, load, database, engine, extra)
    print(f"  at the end: {host_load()}")
    fail_on_errors(everything)


def host_load() -> str:
    """The host's load average, to judge the figures by: other work may share the cores."""
    one, five, _ = os.getloadavg()
    return f"host load average {one:.1f} (1 min) / {five:.1f} (5 min)"


def server_env(home: str, port: int, database_url: str | None) -> dict[str, str]:
    """The server's environment: the bench's settings, none of this shell's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")} | {
        "ISSUESYNC_HOME": home,
        "ISSUESYNC_HOST": "127.0.0.1",
        "ISSUESYNC_PORT": str(port),
        "ISSUESYNC_ADMIN_PASSWORD": PASSWORD,
        "ISSUESYNC_LOG_LEVEL": "warning",
    }
    if database_url:
        env["ISSUESYNC_DATABASE_URL"] = database_url
    return env


def fail_on_errors(load: Load) -> None:
    """Fail the run, after its figures, when a request (or a scrape) got no 200."""
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
    # What metrics cost (issue 22): the scrape's figures, then the engine's.
    for flag, kind, default, text in (
        ("--scrape-interval", float, 15.0, "seconds between GET /metrics"),
        ("--scrape-rounds", int, 2, "load windows without and with a scrape, of each (0: none)"),
        ("--scrape-burst", int, 20, "scrapes back to back, timed alone"),
        ("--engine-rounds", int, 3, "initial syncs per metrics mode (off, on, multiprocess)"),
        ("--engine-issues", int, 2000, "issues of each engine run"),
        ("--recording-calls", int, 200_000, "calls timed per recording, per mode"),
    ):
        parser.add_argument(flag, type=kind, default=default, help=text)
    args = parser.parse_args()
    if args.phase == "server":
        if args.profile is None:
            parser.error("--phase server needs --profile")
        phase_server(args)
        return
    run(args)


if __name__ == "__main__":
    main()
