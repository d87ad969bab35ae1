"""Benchmark of the built-in tracker, over real HTTP against `issuesync serve` in its own process.

Prints:
  * issues created per second through POST /rest/api/2/issue (concurrent clients);
  * JQL search latency p50/p99 on a project of --issues issues (default 100,000) for
    `project = X AND updated >= -1d ORDER BY updated` (a 50-issue page) and for a text search.

Usage: .venv/bin/python bench/tracker.py [--issues 100000] [--create 3000] [--clients 8]
       [--searches 300] [--database-url postgresql://postgres@127.0.0.1:5432/test]
The big project is seeded with bulk SQL inserts (seeding 100,000 issues over HTTP
would measure the seeding, not the search).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text

from issuesync.app import bootstrap, build_services
from issuesync.config import Settings, normalize_database_url
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.users import User
from issuesync.trackers.local.defaults import default_initial_status, install_default_workflow
from issuesync.trackers.local.models import (
    Comment,
    Issue,
    IssueLabel,
    IssueType,
    Priority,
    Project,
)

PASSWORD = "bench-password"  # noqa: S105 - a throwaway server's admin
WORDS = [
    "checkout",
    "gateway",
    "invoice",
    "search",
    "index",
    "timeout",
    "cart",
    "payment",
    "export",
    "report",
    "login",
    "session",
    "cache",
    "database",
    "latency",
    "error",
    "crash",
    "upgrade",
    "certificate",
    "customer",
    "vendor",
    "release",
    "build",
]
DAY_MS = 86_400_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def seed(settings: Settings, key: str, count: int) -> None:
    """Bulk-insert a project of ``count`` issues with updated times over the last 30 days."""
    services = build_services(settings)
    bootstrap(services)
    rng = random.Random(42)
    now = now_ms()
    with services.uow_factory() as uow:
        session = uow.session
        admin_id = session.scalar(select(User.id).where(User.name == "admin"))
        project = Project(
            key=key,
            name=f"Bench {key}",
            description="",
            lead_id=admin_id,
            initial_status_id=default_initial_status(session).id,
            issue_counter=count,
            created_ms=now,
        )
        session.add(project)
        session.flush()
        install_default_workflow(session, project.id)
        type_ids = list(session.scalars(select(IssueType.id).where(IssueType.subtask.is_(False))))
        priority_ids = list(session.scalars(select(Priority.id)))
        status_id = project.initial_status_id
        project_id = project.id
        uow.commit()
    batch = 5000
    for start in range(0, count, batch):
        rows = []
        for number in range(start + 1, min(count, start + batch) + 1):
            updated = now - rng.randrange(30 * DAY_MS)
            words = rng.sample(WORDS, 6)
            rows.append(
                {
                    "key": f"{key}-{number}",
                    "project_id": project_id,
                    "number": number,
                    "issue_type_id": rng.choice(type_ids),
                    "status_id": status_id,
                    "priority_id": rng.choice(priority_ids),
                    "summary": " ".join(words[:3]).capitalize() + f" #{number}",
                    "description": " ".join(words) + " " + " ".join(rng.sample(WORDS, 10)),
                    "reporter_id": admin_id,
                    "creator_id": admin_id,
                    "created_ms": updated - rng.randrange(DAY_MS),
                    "updated_ms": updated,
                }
            )
        with services.uow_factory() as uow:
            uow.session.execute(insert(Issue), rows)
            ids = list(
                uow.session.scalars(
                    select(Issue.id).where(Issue.project_id == project_id, Issue.number > start)
                )
            )
            uow.session.execute(
                insert(IssueLabel), [{"issue_id": i, "label": rng.choice(WORDS)} for i in ids]
            )
            uow.session.execute(
                insert(Comment),
                [
                    {
                        "issue_id": i,
                        "author_id": admin_id,
                        "update_author_id": admin_id,
                        "body": " ".join(rng.sample(WORDS, 8)),
                        "created_ms": now,
                        "updated_ms": now,
                    }
                    for i in ids[::4]
                ],
            )
            uow.commit()
    analyze(services)
    services.close()


def analyze(services: Services) -> None:
    """What autovacuum (PostgreSQL) or ``PRAGMA optimize`` (SQLite) would have done by the
    time a real project had grown this large: statistics and a visibility map."""
    engine = services.database.write_engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def start_server(env: dict[str, str], workers: int = 1) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "issuesync", "serve", "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{env['ISSUESYNC_PORT']}/healthz"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    msg = "the server did not start"
    raise SystemExit(msg)


def bench_create(base: str, clients: int, count: int) -> float:
    """Issues per second created by ``clients`` concurrent HTTP clients.

    The clients use the standard library's keep-alive ``http.client``: the
    benchmark shares the machine with the server, and a heavier client would
    measure itself as much as the server.
    """
    payload = json.dumps(
        {
            "fields": {
                "project": {"key": "CRE"},
                "summary": "Created by the benchmark",
                "issuetype": {"name": "Task"},
                "description": "A realistic description with a few words in it.",
                "labels": ["bench", "load"],
                "priority": {"name": "High"},
            }
        }
    ).encode()
    credentials = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {credentials}", "Content-Type": "application/json"}
    host, port = base.removeprefix("http://").split(":")
    per_client = count // clients

    def worker(_: int) -> int:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        made = 0
        try:
            for _ in range(per_client):
                connection.request("POST", "/rest/api/2/issue", body=payload, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != HTTPStatus.CREATED:
                    msg = f"create answered {response.status}"
                    raise SystemExit(msg)
                made += 1
        finally:
            connection.close()
        return made

    with httpx.Client(base_url=base, auth=("admin", PASSWORD), timeout=60) as client:
        client.post("/rest/api/2/project", json={"key": "CRE", "name": "Create bench"})
    worker(0)  # warm-up: the server remembers the credentials, as for any script
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        made = sum(pool.map(worker, range(clients)))
    return made / (time.perf_counter() - started)


def bench_search(
    base: str, jql: Callable[[int], str], runs: int, max_results: int
) -> tuple[float, float, int]:
    """p50 and p99 latency in ms of GET /search, and the last total."""
    latencies = []
    total = 0
    with httpx.Client(base_url=base, auth=("admin", PASSWORD), timeout=60) as client:
        for run in range(runs + 10):
            started = time.perf_counter()
            response = client.get(
                "/rest/api/2/search", params={"jql": jql(run), "maxResults": max_results}
            )
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            total = response.json()["total"]
            if run >= 10:  # the first runs warm the caches
                latencies.append(elapsed)
    return percentile(latencies, 0.5), percentile(latencies, 0.99), total


@contextmanager
def throwaway_schema(url: str | None) -> Iterator[str | None]:
    """For a PostgreSQL URL, a fresh schema to benchmark in, dropped afterwards."""
    if not url or not url.startswith(("postgresql", "postgres:")):
        yield url
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_database_url(url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in url else "?"
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--create", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="issuesync-bench-") as home,
        throwaway_schema(args.database_url) as database_url,
    ):
        args.database_url = database_url
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ISSUESYNC_")} | {
            "ISSUESYNC_HOME": home,
            "ISSUESYNC_PORT": str(port),
            "ISSUESYNC_ADMIN_PASSWORD": PASSWORD,
            "ISSUESYNC_LOG_LEVEL": "warning",
        }
        if args.database_url:
            env["ISSUESYNC_DATABASE_URL"] = args.database_url
        settings = Settings(
            home=Path(home),
            database_url=args.database_url,
            admin_password=PASSWORD,  # type: ignore[arg-type]
        )
        print(
            f"database: {settings.resolved_database_url.split('@')[-1]}, "
            f"server workers: {args.workers}, cores: {os.cpu_count()}"
        )
        started = time.perf_counter()
        seed(settings, "BIG", args.issues)
        print(
            f"seeded {args.issues} issues in project BIG in {time.perf_counter() - started:.1f} s"
        )
        server = start_server(env, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            rate = bench_create(base, args.clients, args.create)
            print(
                f"create: {rate:.0f} issues/s over HTTP "
                f"({args.create} issues, {args.clients} clients)"
            )
            p50, p99, total = bench_search(
                base,
                lambda _: "project = BIG AND updated >= -1d ORDER BY updated",
                args.searches,
                50,
            )
            print(
                "search 'project = BIG AND updated >= -1d ORDER BY updated' "
                f"(50/page, total {total}): "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            )
            p50, p99, total = bench_search(
                base,
                lambda run: (
                    f'project = BIG AND text ~ "{WORDS[run % len(WORDS)]}" ORDER BY updated DESC'
                ),
                max(args.searches // 3, 20),
                50,
            )
            print(
                "search 'project = BIG AND text ~ <word> ORDER BY updated DESC' "
                f"(50/page, total {total}): "
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
