"""Benchmark: built-in -> Redmine initial sync against a real Redmine, and a bare script's rate.

1. A built-in project SRC with --issues issues of 2 comments each (bulk SQL inserts) and an
   empty project of a real Redmine (Debian's, started from scripts/redmine/install's
   template), linked by an integration (summary, description, priority and comments
   mapped); the engine is stepped until quiet. Prints issues/s end to end and the Redmine
   requests per issue (counted by Redmine: its log's "Started" lines), then checks with
   Redmine that every issue arrived once with its two notes.
2. A bare script makes the calls the adapter makes per issue (create, a note, a note, a
   read with journals) sequentially with httpx on another empty project: issues/s.

Prints the ratio (target >= 0.8: the tracker is the limit, not issuesync).

Usage: .venv/bin/python bench/redmine_sync.py [--issues 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The servers that only the tests and benchmarks use: tests/support/ (not shipped).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import httpx
from sqlalchemy import delete, select

import sync
from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.app import bootstrap
from issuesync.application.integrations import project_checker, set_running
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.store.users import User
from issuesync.trackers.local.defaults import default_initial_status
from issuesync.trackers.local.models import IssueLabel, IssueType, Priority
from support.redmine_server import RedmineServer, start_redmine

COMMENTS = 2
RATIO_TARGET = 0.8
PRIORITIES = [("Highest", "Immediate"), ("High", "High"), ("Medium", "Normal"), ("Low", "Low")]
PRIORITIES += [("Lowest", "Low")]
TYPES = [("Bug", "Bug"), ("Task", "Support"), ("Story", "Feature"), ("Epic", "Feature")]


def requests_served(redmine: RedmineServer) -> int:
    """How many requests Redmine has logged ("Started GET ..." lines of its production log)."""
    log = redmine.directory / "log" / "production.log"
    if not log.exists():
        return 0
    with log.open(errors="replace") as lines:
        return sum(1 for line in lines if "Started " in line)


def integration_body(redmine: RedmineServer, project: str) -> dict[str, Any]:
    mappings: list[dict[str, Any]] = [
        {"localField": name, "remoteField": name} for name in ("summary", "description", "comment")
    ]
    mappings.append(
        {
            "localField": "priority",
            "remoteField": "priority",
            "valueMappings": [{"local": a, "remote": b} for a, b in PRIORITIES],
        }
    )
    sync_side = {"sync": {"outgoingInterval": "1s", "incomingInterval": "1s"}}
    return {
        "summary": f"{sync.SOURCE} <> Redmine {project} (bench)",
        "firstConnector": {
            "projectKey": sync.SOURCE,
            "connection": {
                "application": {"user": sync.SYNC_USER, "password": sync.SYNC_PASSWORD},
                "connector": {"initialInternalPollingDelay": 0},
            },
            "configuration": {
                **sync_side,
                "fieldMappings": mappings,
                "issueTypeMappings": {
                    "outgoing": [{"local": a, "remote": b} for a, b in TYPES],
                    "incoming": [],
                },
                "workflowMappings": [
                    {"id": "##GLOBAL##", "statusMappings": [{"local": "To Do", "remote": "New"}]}
                ],
            },
        },
        "secondConnector": {
            "projectKey": project,
            "connection": {
                "application": {
                    "system": "redmine",
                    "baseUrl": redmine.url,
                    "token": redmine.sync_key,
                },
                "connector": {"initialInternalPollingDelay": 0},
            },
            "configuration": sync_side,
        },
    }


def seed(home: str, count: int, redmine: RedmineServer, project: str) -> None:
    """SRC with ``count`` issues of ``COMMENTS`` comments, and the integration, started."""
    services = sync.open_services(home, None)
    try:
        bootstrap(services)
        create_user(
            services.uow_factory,
            NewUser(
                name=sync.SYNC_USER, email="backbone@example.test", password=sync.SYNC_PASSWORD
            ),
        )
        with services.uow_factory() as uow:
            session = uow.session
            admin_id = session.scalar(select(User.id).where(User.name == "admin"))
            assert admin_id is not None
            project_id = sync.make_project(session, sync.SOURCE, admin_id, count)
            context = {
                "now": sync.now_ms(),
                "project_id": project_id,
                "admin_id": admin_id,
                "status_id": default_initial_status(session).id,
                "type_ids": list(
                    session.scalars(select(IssueType.id).where(IssueType.subtask.is_(False)))
                ),
                "priority_ids": list(session.scalars(select(Priority.id))),
            }
            uow.commit()
        sync.COMMENTS_PER_ISSUE = COMMENTS  # the shared seeder's comment count
        sync.seed_issues(services, count, context)
        with services.uow_factory() as uow:
            uow.session.execute(delete(IssueLabel))  # Redmine has no labels
            spec = IntegrationSpec.model_validate(integration_body(redmine, project))
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
    finally:
        services.close()


def engine_sync(home: str, count: int, redmine: RedmineServer) -> tuple[float, int]:
    """Seconds of the initial sync, stepped until quiet, and the requests Redmine served."""
    services = sync.open_services(home, None)
    try:
        ids = sorted(c.id for c in _connectors(services))
        before = requests_served(redmine)

        def progress(elapsed: float) -> None:
            print(f"  ... {elapsed:.0f} s")

        with sync.stopped_at_exit(SyncRunner(services, backoff_ms=0)) as engine:
            run = sync.run_until_quiet(engine, tuple(ids), time.monotonic() + 3600, progress)
        errors = sync.engine_errors(services)
    finally:
        services.close()
    if any(errors.values()):
        print(f"  engine errors: {errors}")
    del count
    return run.seconds, requests_served(redmine) - before


def _connectors(services: Any) -> list[Any]:  # noqa: ANN401 - the bench's own look-up
    from issuesync.store.sync import ConnectorRow  # noqa: PLC0415

    with services.uow_factory(readonly=True) as uow:
        rows = list(uow.session.scalars(select(ConnectorRow)))
        uow.session.expunge_all()
        return rows


def verify(redmine: RedmineServer, project: str, count: int) -> int:
    """The number of issues in the Redmine project; every sampled one has its two notes."""
    with redmine.admin() as admin:
        listed = admin.get(
            "/issues.json", params={"project_id": project, "status_id": "*", "limit": 100}
        )
        total = int(listed.json()["total_count"])
        for issue in listed.json()["issues"][:20]:
            journals = admin.get(f"/issues/{issue['id']}.json", params={"include": "journals"})
            notes = [j for j in journals.json()["issue"]["journals"] if j["notes"]]
            assert len(notes) == COMMENTS, (issue["id"], len(notes))
    if total != count:
        raise SystemExit(f"Redmine holds {total} issues, not {count}")
    return total


def bare(redmine: RedmineServer, project: str, count: int) -> tuple[float, int]:
    """Seconds for ``count`` issues made with the adapter's calls, one after another."""
    headers = {"X-Redmine-API-Key": redmine.sync_key}
    requests = 0
    with httpx.Client(base_url=redmine.url, headers=headers, timeout=30.0) as client:
        project_id = client.get(f"/projects/{project}.json").json()["project"]["id"]
        started = time.perf_counter()
        for n in range(count):
            made = client.post(
                "/issues.json",
                json={
                    "issue": {
                        "project_id": project_id,
                        "tracker_id": 1,
                        "subject": f"Bare {n}",
                        "description": "Words " * 16,
                        "priority_id": 2,
                    }
                },
            )
            made.raise_for_status()
            issue_id = made.json()["issue"]["id"]
            for c in range(COMMENTS):
                client.put(
                    f"/issues/{issue_id}.json", json={"issue": {"notes": f"Comment {c} " * 8}}
                ).raise_for_status()
            client.get(f"/issues/{issue_id}.json", params={"include": "journals,attachments"})
            requests += 2 + COMMENTS
        return time.perf_counter() - started, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=500)
    args = parser.parse_args()
    started = time.perf_counter()
    redmine = start_redmine()
    print(f"Redmine up at {redmine.url} in {time.perf_counter() - started:.1f} s")
    try:
        # The bare script runs before and after the sync: the host's load varies.
        half = max(args.issues // 2, 1)
        before_seconds, _ = bare(redmine, redmine.new_project(), half)
        target = redmine.new_project()
        with tempfile.TemporaryDirectory(prefix="issuesync-bench-") as home:
            seed(home, args.issues, redmine, target)
            cpu = time.process_time()
            seconds, served = engine_sync(home, args.issues, redmine)
            cpu = time.process_time() - cpu
        verify(redmine, target, args.issues)
        rate = args.issues / seconds
        print(
            f"built-in -> Redmine initial sync: {args.issues} issues x {COMMENTS} comments in "
            f"{seconds:.1f} s: {rate:.1f} issues/s; {served / args.issues:.2f} Redmine "
            f"requests per issue (all, polls included); issuesync's CPU "
            f"{cpu / args.issues * 1000:.0f} ms per issue; verified: {args.issues} issues, "
            f"{COMMENTS} notes each (sampled)"
        )
        after_seconds, bare_requests = bare(redmine, redmine.new_project(), half)
        bare_rate = 2 * half / (before_seconds + after_seconds)
        print(
            f"bare script, the same calls sequentially ({half} issues before the sync, {half} "
            f"after): {half / before_seconds:.1f} and {half / after_seconds:.1f} issues/s, "
            f"{bare_rate:.1f} on average; {bare_requests / half:.2f} requests per issue"
        )
        ratio = rate / bare_rate
        print(
            f"ratio issuesync / bare: {ratio:.2f} (target >= {RATIO_TARGET}) "
            f"{sync.mark(ratio >= RATIO_TARGET)}"
        )
    finally:
        redmine.stop()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
