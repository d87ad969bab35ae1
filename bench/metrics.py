"""What a scrape of ``GET /metrics`` costs the server: the store's readings with N connectors.

Setup, in a temporary home (SQLite, or a PostgreSQL URL with --database-url): --integrations
integrations (default 50, so 100 connectors), each connector with a stored cursor and
--messages messages (default 2,000) spread over the queues' states as a busy install has
them (mostly archived and sent, some new, a few in error), --connections SD Elements
connections (at most one per integration) with --jobs jobs each. Rows are written
straight into the tables: what is measured is the reading, not how the rows came.

Prints the collector's time (the store's readings alone: the SQL and building the
families) and the whole scrape's (the text of every metric, the process's own included),
as the median and the maximum of --repeat scrapes after one warm-up, the number of
samples, and the exposition's size.

Usage: .venv/bin/python bench/metrics.py [--integrations 50] [--messages 2000]
       [--connections 20] [--jobs 50] [--repeat 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from prometheus_client import generate_latest
from sqlalchemy import insert

from issuesync.api.metrics import build_registry
from issuesync.app import bootstrap, build_services
from issuesync.config import Settings
from issuesync.engine.runtime.readings import StoreReadings
from issuesync.store.connections import ConnectionRow, JobRow, TrackerConnectorRow
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, MessageRow

STATES = (  # (queue, state, share of the messages)
    ("receive", "archive", 0.45),
    ("send", "sent", 0.45),
    ("receive", "new", 0.04),
    ("send", "new", 0.03),
    ("receive", "error", 0.01),
    ("receive", "sequence-error", 0.01),
    ("receive", "discard", 0.01),
)


def populate(services: object, args: argparse.Namespace) -> None:
    now = int(time.time() * 1000)
    uow_factory = services.uow_factory  # type: ignore[attr-defined]
    with uow_factory() as uow:
        session = uow.session
        connector_id = 0
        for number in range(1, args.integrations + 1):
            session.execute(
                insert(IntegrationRow).values(
                    id=number,
                    number=number,
                    key=f"INT-{number}",
                    running=True,
                    created_user="admin",
                    created_ms=now,
                    modified_user="admin",
                    modified_ms=now,
                )
            )
            for position in (1, 2):
                connector_id += 1
                project = f"P{connector_id:03d}"
                session.execute(
                    insert(ConnectorRow).values(
                        id=connector_id,
                        integration_id=number,
                        position=position,
                        number=connector_id,
                        key=f"{project}-{connector_id}",
                        project_key=project,
                        project_connector_key=f"{project}:{connector_id}",
                        system="local",
                        send_queue="{}",
                        receive_queue="{}",
                        configuration="{}",
                        created_user="admin",
                        created_ms=now,
                        modified_user="admin",
                        modified_ms=now,
                    )
                )
                seen = {f"{project}-{n}": now for n in range(200)}
                session.execute(
                    insert(ConnectorState).values(
                        connector_id=connector_id,
                        cursor=json.dumps({"version": 1, "updated_ms": now - 5_000, "seen": seen}),
                        online=True,
                    )
                )
                rows = []
                for queue, state, share in STATES:
                    rows += [
                        {
                            "uuid": str(uuid.uuid4()),
                            "connector_id": connector_id,
                            "queue": queue,
                            "state": state,
                            "kind": "update",
                            "issue_key": f"{project}-{n % 500}",
                            "sequence_id": n,
                            "attempts": 0,
                            "created_ms": now - n,
                            "updated_ms": now,
                        }
                        for n in range(int(args.messages * share))
                    ]
                session.execute(insert(MessageRow), rows)
        session.execute(
            insert(TrackerConnectorRow).values(
                id=1,
                name="Jira",
                system="jira",
                server="jira.example.test",
                method="https",
                auth_mode="token",
                created_user="admin",
                created_ms=now,
                modified_ms=now,
            )
        )
        for connection in range(1, min(args.connections, args.integrations) + 1):
            session.execute(
                insert(ConnectionRow).values(
                    id=connection,
                    alias=f"Connection {connection}",
                    project_id=1,
                    tracker_connector_id=1,
                    integration_id=connection,
                    frequency="hourly",
                    params="{}",
                    last_successful_ms=now,
                    created_user="admin",
                    created_ms=now,
                    modified_ms=now,
                )
            )
            session.execute(
                insert(JobRow),
                [
                    {
                        "connection_id": connection,
                        "state": "done",
                        "automatic": True,
                        "queued_ms": now,
                        "finished_ms": now,
                        "succeeded": job % 7 != 0,
                        "result_message": "",
                    }
                    for job in range(args.jobs)
                ],
            )
        uow.commit()


def timed(work: object, repeat: int) -> list[float]:
    work()  # type: ignore[operator]  # warm: the first statement compiles, the pool connects
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--integrations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), database_url=args.database_url)
        services = build_services(settings)
        bootstrap(services)
        populate(services, args)
        readings = StoreReadings(services.uow_factory)
        registry = build_registry(services)
        collect = timed(lambda: list(readings.collect()), args.repeat)
        scrape = timed(lambda: generate_latest(registry), args.repeat)
        text = generate_latest(registry).decode()
        samples = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        connectors = args.integrations * 2
        print(
            f"{connectors} connectors, {connectors * args.messages:,} messages, "
            f"{min(args.connections, args.integrations)} connections x {args.jobs} jobs "
            f"({services.database.url.split(':', 1)[0]})"
        )
        for name, times in (("store readings", collect), ("whole scrape", scrape)):
            print(f"{name:15} median {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")
        print(f"{samples} samples, {len(text):,} bytes")
        services.close()


if __name__ == "__main__":
    main()
