"""What the dashboard (/ui/) costs the server: each page's latency and CPU, with 50 integrations.

A real `issuesync serve` (its engine on) over a seeded home, as ``bench/api.py`` makes
it: --integrations started integrations of two built-in projects, ten of them with
issues already synced. One client logs in through the login form, then asks each page
--requests times in a row (one at a time, as one person's browser does), and the
server's CPU time is read from /proc around each page's requests. Prints per page
p50/p99 and the server's CPU per request, and what one open browser tab costs: the
board refreshes itself every two seconds, an integration's page its status every two.

Usage: .venv/bin/python bench/dashboard.py [--integrations 50] [--requests 200]
       [--database-url postgresql://postgres@127.0.0.1:5432/test]
(``make bench-dashboard``).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api import (
    ISSUE_PROJECTS,
    ISSUES_PER_PROJECT,
    cpu_seconds,
    host_load,
    process_tree,
    running_server,
    seed,
    server_env,
    wait_for_engine,
    wait_for_twins,
)
from issuesync.api.backbone.routers import BACKBONE_PREFIX
from sync import PASSWORD
from tracker import free_port, percentile, throwaway_schema

REFRESH_S = 2.0  # live.js
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def log_in(client: httpx.Client) -> None:
    """A dashboard session, through the login form as a browser sends it."""
    form = client.get("/ui/login")
    found = CSRF.search(form.text)
    if found is None:
        raise SystemExit("the login page has no form")
    answer = client.post(
        "/ui/login",
        data={"csrf": found.group(1), "next": "/ui/", "username": "admin", "password": PASSWORD},
    )
    if answer.status_code != 303:
        raise SystemExit(f"the login failed: {answer.status_code} {answer.text[:200]}")


def measure(client: httpx.Client, path: str, requests: int, pids: list[int]) -> dict[str, float]:
    """p50/p99 in ms and the server's CPU ms per request, ``requests`` in a row."""
    client.get(path).raise_for_status()  # warm: templates compiled, caches filled
    times = []
    cpu_before = cpu_seconds(pids)
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:200]}")
    cpu_ms = (cpu_seconds(pids) - cpu_before) * 1000 / requests
    ordered = sorted(times)
    return {
        "p50": statistics.median(ordered),
        "p99": percentile(ordered, 0.99),
        "cpu": cpu_ms,
        "bytes": float(len(answer.content)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200, help="per page")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="issuesync-bench-dashboard-") as home,
        throwaway_schema(args.database_url) as database_url,
    ):
        print(f"cores: {os.cpu_count()}, {host_load()}")
        keys = seed(home, database_url, args.integrations)
        issues = min(ISSUE_PROJECTS, args.integrations) * ISSUES_PER_PROJECT
        port = free_port()
        env = server_env(home, port, database_url)
        command = [sys.executable, "-m", "issuesync", "serve"]
        url = f"http://127.0.0.1:{port}"
        with (
            running_server(command, env, Path(home) / "server.log") as server,
            httpx.Client(
                base_url=f"{url}{BACKBONE_PREFIX}", auth=("admin", PASSWORD), timeout=30
            ) as api,
            httpx.Client(base_url=url, timeout=30) as browser,
        ):
            wait_for_engine(api)
            wait_for_twins(home, database_url, args.integrations, issues)
            log_in(browser)
            pids = process_tree(server.pid)
            key = keys[0]
            pages = {
                "the board (/ui/)": "/ui/",
                "the board's refresh": "/ui/fragments/board",
                f"an integration (/ui/integrations/{key})": f"/ui/integrations/{key}",
                "an integration's refresh": f"/ui/integrations/{key}/fragments/status",
                "its checks against both trackers": f"/ui/integrations/{key}/fragments/checks",
            }
            print(
                f"{len(keys)} integrations, {issues} issues synced; {args.requests} requests "
                f"per page, one at a time"
            )
            figures = {}
            for name, path in pages.items():
                count = args.requests if "checks" not in name else max(args.requests // 10, 5)
                figures[name] = measure(browser, path, count, pids)
                f = figures[name]
                print(
                    f"  {name}: p50 {f['p50']:.1f} ms, p99 {f['p99']:.1f} ms; server CPU "
                    f"{f['cpu']:.1f} ms per request; {f['bytes'] / 1000:.0f} kB"
                )
        board = figures["the board's refresh"]["cpu"]
        page = figures["an integration's refresh"]["cpu"]
        print(
            f"one open tab: the board costs the server {board / REFRESH_S / 10:.2f}% of a core "
            f"(a refresh every {REFRESH_S:g} s), an integration's page "
            f"{page / REFRESH_S / 10:.2f}%; at the end: {host_load()}"
        )


if __name__ == "__main__":
    main()
