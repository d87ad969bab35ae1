"""CPU per issue of each half of an initial sync, one route at a time, in this one process.

The end-to-end figure of ``bench/sync.py`` drifts by a third with the host's load and
mixes both sides' work with their waits for each other; this one measures each side's
own work, for comparing two versions of the code:

- sending: SRC's outgoing route polls until every one of --issues new issues (3 comments
  each) has left as a create message (reading, rendering, diffing, the messages' commit);
- receiving: DST's incoming route applies those messages until none is left (the
  built-in tracker's creates, reading the twins back, the engine's commit and answers).

Each is run --repeats times on a fresh copy of one seeded home (SQLite), and the CPU
seconds (``time.process_time``) per issue are printed for each run with their median.
The process tunes its garbage collector as ``issuesync worker`` does.

Usage: .venv/bin/python bench/routes.py [--issues 3000] [--repeats 3] [--side both]
       [--profile DIR]   (cProfile of each side's last run, written to DIR)
"""

from __future__ import annotations

import argparse
import cProfile
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from issuesync.engine.pipeline import incoming, outgoing
from issuesync.engine.pipeline.route import Route
from issuesync.engine.runtime.runner import SyncRunner, tune_garbage_collector
from sync import connector_ids, open_services, phase_seed


def send_all(route: Route) -> int:
    sent = 0
    while moved := outgoing.poll(route).messages_sent:
        sent += moved
    return sent


def apply_all(route: Route) -> int:
    applied = 0
    while moved := incoming.process(route).applied:
        applied += moved
    return applied


def timed_run(
    home: Path, side: str, work: Callable[[Route], int], profile: Path | None
) -> tuple[int, float]:
    """Run one side's route on ``home`` until it has nothing left; (messages, CPU seconds)."""
    services = open_services(str(home), None)
    engine = SyncRunner(services, backoff_ms=0, shares=False)
    try:
        engine.refresh()
        source_id, target_id = connector_ids(services)
        route = engine.route(source_id if side == "sending" else target_id)
        if route is None:
            msg = "the engine did not take the connector: is the integration running?"
            raise SystemExit(msg)
        profiler = cProfile.Profile() if profile else None
        started = time.process_time()
        if profiler is not None:
            profiler.enable()
        moved = work(route)
        if profiler is not None:
            profiler.disable()
        cpu = time.process_time() - started
        if profiler is not None and profile is not None:
            profiler.dump_stats(profile / f"{side}.prof")
    finally:
        engine.stop()
        services.close()
    return moved, cpu


def measure(
    seeded: Path, side: str, work: Callable[[Route], int], args: argparse.Namespace
) -> Path:
    """Run a side ``--repeats`` times on copies of ``seeded``; returns the last copy's home."""
    per_issue: list[float] = []
    home = seeded
    for run in range(args.repeats):
        home = Path(tempfile.mkdtemp(prefix=f"issuesync-bench-routes-{side}-"))
        shutil.copytree(seeded, home, dirs_exist_ok=True)
        last = run == args.repeats - 1
        profile = Path(args.profile) if args.profile and last else None
        moved, cpu = timed_run(home, side, work, profile)
        if moved != args.issues:
            msg = f"{side}: {moved} messages moved, {args.issues} expected"
            raise SystemExit(msg)
        per_issue.append(1000 * cpu / args.issues)
        print(f"  {side} run {run + 1}: {per_issue[-1]:.3f} ms CPU per issue")
        if not last:
            shutil.rmtree(home)
    note = " (the last under cProfile)" if args.profile else ""
    print(
        f"{side}: median {statistics.median(per_issue):.3f} ms CPU per issue over "
        f"{args.repeats} runs of {args.issues} issues{note}"
    )
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--issues", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=["both", "sending", "receiving"], default="both")
    parser.add_argument("--profile", default=None, help="cProfile each side's last run into DIR")
    args = parser.parse_args()
    if args.issues < 1 or args.repeats < 1:
        parser.error("--issues and --repeats must be at least 1")
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="issuesync-bench-routes-") as root:
        seeded = Path(root) / "seeded"
        phase_seed(
            argparse.Namespace(
                home=str(seeded), database_url=None, issues=args.issues, markup="none"
            )
        )
        tune_garbage_collector()  # after the seeding, as a worker after its start-up
        # The receiving side needs the messages: sent once, on a copy that stays.
        sent = Path(root) / "sent"
        shutil.copytree(seeded, sent)
        if timed_run(sent, "sending", send_all, None)[0] != args.issues:
            msg = "the sending route did not send every issue"
            raise SystemExit(msg)
        if args.side in ("both", "sending"):
            shutil.rmtree(measure(seeded, "sending", send_all, args))
        if args.side in ("both", "receiving"):
            shutil.rmtree(measure(sent, "receiving", apply_all, args))


if __name__ == "__main__":
    main()
