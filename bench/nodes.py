"""Benchmarks of a relation: two issuesync nodes syncing over the node API (seed 003).

Three measurements, in one process, on temporary homes (SQLite):

(a) initial sync over the node API: two nodes on loopback, each a real uvicorn server
    (``LiveServer``) with its own home; node one's project SRC holds --issues issues of
    --comments comments each (bulk SQL inserts, before the pairing), node two's DST is
    empty. Node one invites with a 1 s interval, node two accepts, then both engines
    run for real (``SyncRunner.start()``). The clock runs from the engines' start until
    node two holds every issue with its comments, node one has linked every issue (the
    responses came back) and neither relation has anything pending. Prints issues/s,
    node-to-node HTTP requests per issue and bytes per issue, counted by an ASGI
    middleware on both servers (paths under /rest/issuehub/ only: bodies exactly, headers
    as HTTP/1.1 writes them), by route; when each step ran (from the message rows of
    both nodes); and what gzip would save on the largest pages (the API sends plain JSON).
(b) the same initial sync on ONE node, SRC <> DST with the in-process vm transport (the
    integration of bench/sync.py, 1 s intervals), engine started for real: issues/s,
    for comparison (--skip-vm leaves it out). Twice: with bench/sync.py's sync user
    "backbone", and with the administrator as the sync user, as a relation has it (the
    built-in tracker then writes the partner's comments in their authors' names; as
    "backbone" it cannot, and each comment is edited afterwards to put its header on).
(c) propagation latency of single edits at the 1 s interval, after (a): the summary of
    a linked issue is edited through the adapter on one node and its twin on the other
    node read every 10 ms until it matches; --edits times, alternating one -> two and
    two -> one, after a random 0-1 s pause each (one interval: the edits fall at every
    phase of the polls). Prints p50/p99/max (target p99 <= 2 s) and where the time goes,
    from the message rows of both nodes (queued, pulled, applied).
Last, the relation idles for --idle seconds: its node-to-node requests per second.

(b) runs first, on its own home; then (a), (c) and the idle look on the two nodes.

Both nodes, their servers and their engines share this process (and its GIL), as in
tests/integration/node_pair.py: on a 2-core host the figures are those of two nodes
sharing about one core of Python, not of two machines.

Usage: .venv/bin/python bench/nodes.py [--issues 2000] [--comments 3] [--edits 50]
       [--skip-vm] [--linked 5] [--idle 5] [--sync-timeout 1200] [--edit-timeout 30]
``--issues 100 --edits 10`` is a quick look (a minute); the defaults take about two.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import sync as sync_bench
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.app import bootstrap, build_services, create_app
from issuesync.application import relations
from issuesync.application.integrations import project_checker, set_running
from issuesync.config import Settings
from issuesync.engine.runtime.runner import SyncRunner, tune_garbage_collector
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, MessageRow, SyncInfo
from issuesync.store.users import User
from issuesync.testing.server import LiveServer
from issuesync.trackers.local.adapter import LocalAdapter, local_adapter_for
from issuesync.trackers.local.defaults import default_initial_status
from issuesync.trackers.local.models import Comment, Issue, IssueType, Priority, Project
from sync import SOURCE, TARGET, mark
from tracker import WORDS, analyze, percentile

RELATION = "Bench"
NODE_PATHS = "/rest/issuehub/"
ADMIN_PASSWORD = "bench-password"  # noqa: S105 - a throwaway home's admin
P99_TARGET_S = 2.0
INTERVAL_S = 1.0  # the relation's interval ("1s")
POLL_S = 0.25  # how often the initial sync's end is looked for
PROGRESS_S = 10.0


# --- counting the node-to-node traffic ------------------------------------------------------


@dataclass
class Traffic:
    """Requests and bytes a server took under /rest/issuehub/, by method and route."""

    requests: Counter[str] = field(default_factory=Counter)
    body_bytes: Counter[str] = field(default_factory=Counter)  # request + response bodies
    header_bytes: Counter[str] = field(default_factory=Counter)  # both ways, with start lines
    largest: dict[str, bytes] = field(default_factory=dict)  # the largest response body

    def snapshot(self) -> Traffic:
        return Traffic(Counter(self.requests), Counter(self.body_bytes), Counter(self.header_bytes))

    def since(self, before: Traffic) -> Traffic:
        return Traffic(
            self.requests - before.requests,
            self.body_bytes - before.body_bytes,
            self.header_bytes - before.header_bytes,
        )

    def __add__(self, other: Traffic) -> Traffic:
        return Traffic(
            self.requests + other.requests,
            self.body_bytes + other.body_bytes,
            self.header_bytes + other.header_bytes,
        )


def route_name(method: str, path: str) -> str:
    """``GET syncevents/syncrequests``: the route under the relation, without its name."""
    parts = path.split("/")  # "", rest, issuehub, 2.4, relations, <name>, tail...
    if len(parts) > 6 and parts[4] == "relations":
        tail = parts[6:]
        return f"{method} {'blobs' if tail[0] == 'blobs' else '/'.join(tail)}"
    return f"{method} {'/'.join(parts[4:])}"


def _headers_size(headers: Any) -> int:  # noqa: ANN401 - ASGI's iterable of byte pairs
    return sum(len(name) + len(value) + 4 for name, value in headers)  # "name: value\r\n"


class CountingMiddleware:
    """Pure ASGI: counts the requests under /rest/issuehub/ and their bytes, both ways.

    Bodies are counted exactly; headers as HTTP/1.1 writes them (start line, ``name:
    value`` lines, the blank line), less what uvicorn adds itself (date, server).
    """

    def __init__(self, app: ASGIApp, traffic: Traffic) -> None:
        self.app = app
        self.traffic = traffic

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(NODE_PATHS):
            await self.app(scope, receive, send)
            return
        name = route_name(scope["method"], scope["path"])
        traffic = self.traffic
        traffic.requests[name] += 1
        query = len(scope.get("query_string", b""))
        line = len(scope["method"]) + len(scope["path"]) + (query + 1 if query else 0) + 11
        traffic.header_bytes[name] += line + _headers_size(scope["headers"]) + 2

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                traffic.body_bytes[name] += len(message.get("body", b""))
            return message

        answer = bytearray()

        async def counted_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                traffic.header_bytes[name] += 17 + _headers_size(message.get("headers", [])) + 2
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                traffic.body_bytes[name] += len(body)
                answer.extend(body)
                done = not message.get("more_body", False)
                if done and len(answer) > len(traffic.largest.get(name, b"")):
                    traffic.largest[name] = bytes(answer)
            await send(message)

        await self.app(scope, counted_receive, counted_send)


# --- seeding --------------------------------------------------------------------------------


def seed_project(services: Services, key: str, issues: int) -> None:
    """Project ``key`` with ``issues`` issues of ``sync_bench.COMMENTS_PER_ISSUE`` comments
    each, by bench/sync.py's bulk inserts (its issue keys are SRC-n)."""
    with services.uow_factory() as uow:
        session = uow.session
        admin_id = session.scalar(select(User.id).where(User.name == "admin"))
        assert admin_id is not None
        project_id = sync_bench.make_project(session, key, admin_id, issues)
        context = {
            "now": now_ms(),
            "project_id": project_id,
            "admin_id": admin_id,
            "status_id": default_initial_status(session).id,
            "type_ids": list(
                session.scalars(select(IssueType.id).where(IssueType.subtask.is_(False)))
            ),
            "priority_ids": list(session.scalars(select(Priority.id))),
            "rich": False,
        }
        uow.commit()
    if issues:
        sync_bench.seed_issues(services, issues, context)
    analyze(services)


# --- the nodes ------------------------------------------------------------------------------


@dataclass
class Node:
    """One node: its services, its server (counting), its engine and its project."""

    name: str
    services: Services
    server: LiveServer
    engine: SyncRunner
    traffic: Traffic
    project: LocalAdapter


@contextmanager
def running_node(home: Path, name: str, project_key: str, issues: int) -> Iterator[Node]:
    """A node serving on loopback, its project seeded; its engine made, not started.

    The engine, the server and the services are stopped on exit, in that order.
    """
    server = LiveServer()
    settings = Settings(
        home=home,
        database_url=None,
        admin_password=SecretStr(ADMIN_PASSWORD),
        base_url=server.url,
        engine_enabled=False,
    )
    services = build_services(settings)
    engine: SyncRunner | None = None
    try:
        bootstrap(services)
        seed_project(services, project_key, issues)
        traffic = Traffic()
        app = create_app(services)
        app.add_middleware(CountingMiddleware, traffic=traffic)
        engine = SyncRunner(services)  # as `issuesync serve` runs it
        server.start(app)
        project = local_adapter_for(services.tracker, project_key, "admin")
        yield Node(name, services, server, engine, traffic, project)
    finally:
        if engine is not None:
            engine.stop()
        server.stop()
        services.close()


def stop_engines(*nodes: Node) -> None:
    """Stop every engine before any server: an engine pumps its partner until it stops."""
    for node in nodes:
        node.engine.stop()


# --- (a) initial sync over the node API -----------------------------------------------------


def count_twins(services: Services, key: str) -> int:
    with services.uow_factory(readonly=True) as uow:
        return (
            uow.session.scalar(
                select(func.count()).select_from(Issue).join(Project).where(Project.key == key)
            )
            or 0
        )


def comments_complete(services: Services, key: str, issues: int, comments: int) -> bool:
    """Every issue of ``key`` has exactly ``comments`` comments."""
    with services.uow_factory(readonly=True) as uow:
        session = uow.session
        project = select(Project.id).where(Project.key == key).scalar_subquery()
        per_issue = (
            select(Issue.id, func.count(Comment.id).label("n"))
            .outerjoin(Comment, Comment.issue_id == Issue.id)
            .where(Issue.project_id == project)
            .group_by(Issue.id)
            .subquery()
        )
        right = session.scalar(
            select(func.count()).select_from(per_issue).where(per_issue.c.n == comments)
        )
    return right == issues


def links(node: Node) -> int:
    """How many of the node's issues are linked to a twin (the partner's answers arrived)."""
    connector_id = relations.get_relation(node.services, RELATION).connector_id
    with node.services.uow_factory(readonly=True) as uow:
        return (
            uow.session.scalar(
                select(func.count())
                .select_from(SyncInfo)
                .where(
                    SyncInfo.connector_id == connector_id, SyncInfo.remote_issue_key.is_not(None)
                )
            )
            or 0
        )


def pending(node: Node) -> tuple[int, int, int]:
    """The relation's (pending out, pending in, in error) on this node; raises when broken."""
    view = relations.get_relation(node.services, RELATION)
    if view.state != "active":
        msg = f"the relation on node {node.name} is {view.state}: {view.reason}"
        raise SystemExit(msg)
    counts = view.counts
    return counts.pending_out, counts.pending_in + counts.blobs_pending, counts.in_error


def answered(one: Node, two: Node, issues: int) -> bool:
    """Node one has linked every issue (node two's answers came back) and nothing waits
    on either node; raises when messages are in error."""
    if links(one) != issues:
        return False
    states = [pending(one), pending(two)]
    if any(errors for _, _, errors in states):
        msg = f"messages in error after the initial sync (out, in, errors): {states}"
        raise SystemExit(msg)
    return all(out == 0 and waiting == 0 for out, waiting, _ in states)


@dataclass
class InitialSync:
    seconds: float = 0.0
    twins_seconds: float = 0.0  # when node two held every issue
    cpu_seconds: float = 0.0
    pairing_seconds: float = 0.0
    traffic: Traffic = field(default_factory=Traffic)
    timeline: list[tuple[str, float, float]] = field(default_factory=list)
    initial_delay_ms: int = 0  # the relation's connectors' initialInternalPollingDelay


def spans(node: Node, queue: str, kind: str, column: str) -> tuple[int, int]:
    """The first and last ``column`` (ms) of the node's messages of this queue and kind."""
    field_ = getattr(MessageRow, column)
    kinds = MessageRow.kind == "response"
    with node.services.uow_factory(readonly=True) as uow:
        first, last = uow.session.execute(
            select(func.min(field_), func.max(field_)).where(
                MessageRow.connector_id == connector_of(node),
                MessageRow.queue == queue,
                kinds if kind == "response" else ~kinds,
            )
        ).one()
    return int(first or 0), int(last or 0)


def timeline(one: Node, two: Node, started_ms: int) -> list[tuple[str, float, float]]:
    """When each step of the initial sync ran, first to last message (s after the start)."""
    steps = [
        ("node one's outgoing poll queues the creates", one, "send", "request", "created_ms"),
        ("node two takes them in (pulled pages)", two, "receive", "request", "created_ms"),
        ("node two applies them (twins made)", two, "receive", "request", "updated_ms"),
        ("node two queues the responses", two, "send", "response", "created_ms"),
        ("node one takes them in (pulled pages)", one, "receive", "response", "created_ms"),
        ("node one applies them (links)", one, "receive", "response", "updated_ms"),
    ]
    found = []
    for label, node, queue, kind, column in steps:
        first, last = spans(node, queue, kind, column)
        found.append((label, (first - started_ms) / 1000, (last - started_ms) / 1000))
    return found


def initial_sync_over_nodes(
    one: Node, two: Node, args: argparse.Namespace, result: InitialSync
) -> None:
    began = time.perf_counter()
    invited = relations.invite(
        one.services,
        name=RELATION,
        project_key=SOURCE,
        actor="admin",
        interval=f"{INTERVAL_S:g}s",
    )
    relations.accept(two.services, code=invited.code, project_key=TARGET, actor="admin")
    result.pairing_seconds = time.perf_counter() - began
    before = one.traffic.snapshot() + two.traffic.snapshot()
    cpu = time.process_time()
    started = last_report = time.perf_counter()
    started_ms = now_ms()
    deadline = started + args.sync_timeout
    one.engine.start()
    two.engine.start()
    while True:
        time.sleep(POLL_S)
        now = time.perf_counter()
        twins = count_twins(two.services, TARGET)
        if (
            twins == args.issues
            and not result.twins_seconds
            and comments_complete(two.services, TARGET, args.issues, args.comments)
        ):
            result.twins_seconds = now - started
        if result.twins_seconds and answered(one, two, args.issues):
            result.seconds = now - started
            break
        if now > deadline:
            msg = (
                f"the initial sync did not finish within {args.sync_timeout:.0f} s: {twins} "
                f"twins on node two, {links(one)} links on node one, "
                f"(out, in, errors) one {pending(one)}, two {pending(two)}"
            )
            raise SystemExit(msg)
        if now - last_report >= PROGRESS_S:
            last_report = now
            print(
                f"  ... {twins}/{args.issues} twins on node two, {links(one)} linked on "
                f"node one after {now - started:.0f} s ({twins / (now - started):.0f}/s)"
            )
    result.cpu_seconds = time.process_time() - cpu
    result.traffic = (one.traffic.snapshot() + two.traffic.snapshot()).since(before)
    result.timeline = timeline(one, two, started_ms)
    with one.services.uow_factory(readonly=True) as uow:
        delay = uow.session.scalar(
            select(ConnectorRow.initial_delay_ms).where(ConnectorRow.id == connector_of(one))
        )
    result.initial_delay_ms = int(delay or 0)


def report_initial_sync(args: argparse.Namespace, run: InitialSync) -> float:
    issues: int = args.issues
    rate = issues / run.seconds
    traffic = run.traffic
    requests = sum(traffic.requests.values())
    body = sum(traffic.body_bytes.values())
    headers = sum(traffic.header_bytes.values())
    print(
        f"(a) initial sync over the node API: {issues} issues x {args.comments} comments in "
        f"{run.seconds:.1f} s: {rate:.0f} issues/s end to end (pairing before: "
        f"{run.pairing_seconds * 1000:.0f} ms)"
    )
    print(
        f"  every twin on node two after {run.twins_seconds:.1f} s; the last answers linked "
        f"on node one {run.seconds - run.twins_seconds:.1f} s later; process CPU "
        f"{run.cpu_seconds:.1f} s ({run.cpu_seconds / run.seconds:.2f} cores, both nodes, "
        f"{1000 * run.cpu_seconds / issues:.1f} ms per issue)"
    )
    print(
        f"  node-to-node HTTP: {requests} requests, {requests / issues:.3f} per issue; "
        f"{body / issues / 1000:.1f} kB of bodies per issue "
        f"({(body + headers) / issues / 1000:.1f} kB with headers), "
        f"{(body + headers) / 1e6:.1f} MB in all"
    )
    print_routes(traffic)
    print(
        "  timeline, s after the engines' start (first - last message; the connectors first "
        f"poll after their initial delay, {run.initial_delay_ms} ms):"
    )
    for label, first, last in run.timeline:
        print(f"    {label}: {first:.1f} - {last:.1f}")
    return rate


def print_routes(traffic: Traffic, indent: str = "    ") -> None:
    for name, count in sorted(traffic.requests.items(), key=lambda item: -item[1]):
        body = traffic.body_bytes[name]
        print(
            f"{indent}{name}: {count} requests, {body / 1e6:.2f} MB of bodies "
            f"({body / count / 1000:.1f} kB each), {traffic.header_bytes[name] / count:.0f} B "
            "of headers each"
        )


# --- (b) the same initial sync on one node, vm transport -------------------------------------


def seed_vm(home: Path, args: argparse.Namespace, sync_user: str) -> None:
    """bench/sync.py's home: SRC seeded, DST empty, its integration (1 s intervals, no
    initial delay) started; with ``sync_user`` "admin" the integration's sync user is the
    administrator, as a relation's is, instead of bench/sync.py's "backbone"."""
    if sync_user == sync_bench.SYNC_USER:
        sync_bench.phase_seed(
            argparse.Namespace(home=str(home), database_url=None, issues=args.issues, markup="none")
        )
        return
    services = sync_bench.open_services(str(home), None)
    try:
        bootstrap(services)
        seed_project(services, SOURCE, args.issues)
        seed_project(services, TARGET, 0)
        body = sync_bench.integration_body()
        for side in ("firstConnector", "secondConnector"):
            body[side]["connection"]["application"] = {
                "user": sync_user,
                "password": sync_bench.PASSWORD,
            }
        with services.uow_factory() as uow:
            row = create_from_spec(
                uow.session,
                IntegrationSpec.model_validate(body),
                actor="admin",
                secrets=services.secrets,
                project_exists=project_checker(services),
                places=services.queue_places,
            )
            set_running(uow.session, row.key, running=True, actor="admin")
            uow.commit()
    finally:
        services.close()


def initial_sync_vm(root: Path, args: argparse.Namespace, sync_user: str) -> float:
    """The initial sync on one node (``seed_vm``), the engine started for real; issues/s
    from its start to every issue linked, nothing waiting."""
    home = root / f"vm-{sync_user}"
    seed_vm(home, args, sync_user)
    services = sync_bench.open_services(str(home), None)
    tune_garbage_collector()  # as `issuesync serve` does once it has started
    try:
        engine = SyncRunner(services)
        with sync_bench.stopped_at_exit(engine):
            cpu = time.process_time()
            started = last_report = time.perf_counter()
            deadline = started + args.sync_timeout
            engine.start()
            while not sync_bench.sync_done(services, args.issues):
                time.sleep(POLL_S)
                now = time.perf_counter()
                if now > deadline:
                    msg = f"the vm initial sync did not finish within {args.sync_timeout:.0f} s"
                    raise SystemExit(msg)
                if now - last_report >= PROGRESS_S:
                    last_report = now
                    made = sync_bench.twins_made(services)
                    print(f"  ... {made}/{args.issues} twins after {now - started:.0f} s")
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
        twins = count_twins(services, TARGET)
        if twins != args.issues or not comments_complete(
            services, TARGET, args.issues, args.comments
        ):
            msg = f"the vm initial sync is incomplete: {twins} twins, or comments missing"
            raise SystemExit(msg)
    finally:
        services.close()
    rate: float = args.issues / seconds
    print(
        f"(b) initial sync on one node, vm transport, sync user {sync_user}: {args.issues} "
        f"issues x {args.comments} comments in {seconds:.1f} s: {rate:.0f} issues/s end to end "
        f"(engine started, 1 s intervals, no initial polling delay); CPU {cpu:.1f} s "
        f"({1000 * cpu / args.issues:.1f} ms per issue); verified"
    )
    return rate


# --- (c) propagation latency --------------------------------------------------------------


def linked_pairs(one: Node, count: int) -> list[tuple[str, str]]:
    """``count`` linked (key on node one, key on node two) pairs."""
    connector_id = relations.get_relation(one.services, RELATION).connector_id
    with one.services.uow_factory(readonly=True) as uow:
        rows = uow.session.execute(
            select(SyncInfo.local_issue_key, SyncInfo.remote_issue_key)
            .where(SyncInfo.connector_id == connector_id, SyncInfo.remote_issue_key.is_not(None))
            .order_by(SyncInfo.id)
            .limit(count)
        ).all()
    if len(rows) < count:
        msg = f"only {len(rows)} linked issues: the initial sync did not finish"
        raise SystemExit(msg)
    return [(local, str(remote)) for local, remote in rows]


def summary_of(node: Node, key: str) -> str | None:
    with node.services.uow_factory(readonly=True) as uow:
        return uow.session.scalar(select(Issue.summary).where(Issue.key == key))


@dataclass(frozen=True)
class Edit:
    """One edit's latency and its parts (seconds), from the two nodes' message rows."""

    seconds: float
    queued: float  # commit -> in the source's send queue (its outgoing poll)
    pulled: float  # -> in the target's receive queue (nudge, the target's pump)
    applied: float  # -> applied on the target (its incoming route)

    @property
    def seen(self) -> float:
        """-> read by this bench (10 ms polling, and the reading's own time)."""
        return self.seconds - self.queued - self.pulled - self.applied


def connector_of(node: Node) -> int:
    connector_id = relations.get_relation(node.services, RELATION).connector_id
    assert connector_id is not None
    return connector_id


def message_times(source: Node, key: str, target: Node, since_ms: int) -> tuple[int, int, int]:
    """When the edit's message was queued on ``source``, taken in and archived on
    ``target`` (wall ms); the rows share the message's uuid and the source's issue key."""
    with source.services.uow_factory(readonly=True) as uow:
        sent = uow.session.execute(
            select(MessageRow.uuid, MessageRow.created_ms)
            .where(
                MessageRow.connector_id == connector_of(source),
                MessageRow.queue == "send",
                MessageRow.issue_key == key,
                MessageRow.created_ms >= since_ms,
            )
            .order_by(MessageRow.id)
            .limit(1)
        ).one()
    with target.services.uow_factory(readonly=True) as uow:
        taken = uow.session.execute(
            select(MessageRow.created_ms, MessageRow.updated_ms).where(
                MessageRow.connector_id == connector_of(target),
                MessageRow.queue == "receive",
                MessageRow.uuid == sent.uuid,
            )
        ).one()
    return sent.created_ms, taken.created_ms, taken.updated_ms


def one_edit(source: Node, key: str, target: Node, twin: str, text: str, timeout: float) -> Edit:
    """How long from the edit's commit on ``source`` until ``twin`` on ``target`` shows it."""
    source.project.update(key, {"summary": text})
    committed = time.perf_counter()
    committed_ms = now_ms()
    deadline = committed + timeout
    while summary_of(target, twin) != text:
        if time.perf_counter() > deadline:
            msg = f"the edit of {key} did not reach {twin} on node {target.name} in {timeout} s"
            raise SystemExit(msg)
        time.sleep(0.01)
    seconds = time.perf_counter() - committed
    queued, taken, applied = message_times(source, key, target, committed_ms - 1)
    return Edit(
        seconds,
        (queued - committed_ms) / 1000,
        (taken - queued) / 1000,
        (applied - taken) / 1000,
    )


def latencies(one: Node, two: Node, args: argparse.Namespace) -> dict[str, list[Edit]]:
    rng = random.Random(7)
    pairs = linked_pairs(one, args.linked)
    # Warm-up, not counted: each way once. (No issue key in a summary: a linked issue's
    # key crosses as its twin's, so the twin would never show the text as written.)
    for key, twin in pairs[:1]:
        one_edit(one, key, two, twin, "warm-up one", args.edit_timeout)
        one_edit(two, twin, one, key, "warm-up two", args.edit_timeout)
    found: dict[str, list[Edit]] = {"one -> two": [], "two -> one": []}
    for number in range(args.edits):
        # A pause of up to one interval: the edits fall at every phase of the polls (a
        # shorter one locks onto them, as an edit follows the previous one's arrival).
        time.sleep(rng.uniform(0, INTERVAL_S))
        key, twin = rng.choice(pairs)
        text = f"edit {number}: {rng.choice(WORDS)} {rng.randrange(10**6)}"
        if number % 2 == 0:
            found["one -> two"].append(one_edit(one, key, two, twin, text, args.edit_timeout))
        else:
            found["two -> one"].append(one_edit(two, twin, one, key, text, args.edit_timeout))
    return found


def report_latencies(found: dict[str, list[Edit]], traffic: Traffic, seconds: float) -> bool:
    everything = [e for edits in found.values() for e in edits]
    ok = True
    for name, edits in [*found.items(), ("both ways", everything)]:
        if not edits:
            continue
        values = [e.seconds for e in edits]
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        ok = ok and p99 <= P99_TARGET_S
        print(
            f"  {name} ({len(values)} edits): p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {max(values) * 1000:.0f} ms (target p99 <= {P99_TARGET_S * 1000:.0f} ms) "
            f"{mark(p99 <= P99_TARGET_S)}"
        )
    print("  where the time goes, ms (p50 / p99 / max over both ways):")
    parts = {
        "commit -> source's send queue (its outgoing poll, 1 s interval)": "queued",
        "send queue -> target's receive queue (nudge, pull)": "pulled",
        "receive queue -> applied on the target": "applied",
        "applied -> seen by the bench (10 ms polling)": "seen",
    }
    for label, attribute in parts.items():
        values = [getattr(e, attribute) * 1000 for e in everything]
        print(
            f"    {label}: {percentile(values, 0.5):.0f} / {percentile(values, 0.99):.0f} / "
            f"{max(values):.0f}"
        )
    requests = sum(traffic.requests.values())
    print(
        f"  node-to-node HTTP meanwhile: {requests} requests in {seconds:.0f} s "
        f"({requests / seconds:.1f}/s, {requests / max(len(everything), 1):.1f} per edit)"
    )
    print_routes(traffic)
    return ok


# --- the whole run --------------------------------------------------------------------------

Figures = list[tuple[str, str, str, str]]


def compressibility(*nodes: Node) -> None:
    """How much gzip (level 6) would save on the largest pull of each kind (none is
    compressed now: the node API answers plain JSON)."""
    for route in ("GET syncevents/syncrequests", "GET syncrequests/syncresponses"):
        bodies = [node.traffic.largest[route] for node in nodes if route in node.traffic.largest]
        if not bodies:
            continue
        body = max(bodies, key=len)
        packed = len(gzip.compress(body, compresslevel=6))
        print(
            f"  the largest {route} answer: {len(body) / 1000:.0f} kB, {packed / 1000:.0f} kB "
            f"gzipped ({len(body) / packed:.1f}x smaller)"
        )


def phase_a(one: Node, two: Node, args: argparse.Namespace, figures: Figures) -> float:
    tune_garbage_collector()  # as `issuesync serve` does once it has started
    run_a = InitialSync()
    initial_sync_over_nodes(one, two, args, run_a)
    rate = report_initial_sync(args, run_a)
    compressibility(one, two)
    traffic = run_a.traffic
    requests = sum(traffic.requests.values()) / args.issues
    wire = (sum(traffic.body_bytes.values()) + sum(traffic.header_bytes.values())) / args.issues
    figures.append(("(a) initial sync, node API", f"{rate:.0f} issues/s", "", ""))
    figures.append(("(a) HTTP requests per issue", f"{requests:.3f}", "", ""))
    figures.append(("(a) bytes on the wire per issue", f"{wire / 1000:.1f} kB", "", ""))
    return rate


def phase_idle(one: Node, two: Node, seconds: float, figures: Figures) -> None:
    """The node-to-node requests of a relation with nothing to sync, per second."""
    if seconds <= 0:
        return
    before = [one.traffic.snapshot(), two.traffic.snapshot()]
    time.sleep(seconds)
    served = [
        node.traffic.snapshot().since(earlier)
        for node, earlier in zip((one, two), before, strict=True)
    ]
    traffic = served[0] + served[1]
    requests = sum(traffic.requests.values())
    by_node = ", ".join(
        f"{sum(t.requests.values()) / seconds:.1f}/s served by node {node.name}"
        for node, t in zip((one, two), served, strict=True)
    )
    print(
        f"idle relation (nothing to sync) for {seconds:.0f} s: {requests / seconds:.1f} "
        f"requests/s ({by_node}), {sum(traffic.header_bytes.values()) / seconds:.0f} B/s "
        "of headers"
    )
    print_routes(traffic)
    figures.append(("idle relation, both nodes", f"{requests / seconds:.1f} requests/s", "", ""))


def phase_c(one: Node, two: Node, args: argparse.Namespace, figures: Figures) -> None:
    before = one.traffic.snapshot() + two.traffic.snapshot()
    began = time.perf_counter()
    found = latencies(one, two, args)
    seconds = time.perf_counter() - began
    traffic = (one.traffic.snapshot() + two.traffic.snapshot()).since(before)
    print("(c) propagation latency of single edits, 1 s interval:")
    report_latencies(found, traffic, seconds)
    everything = [e.seconds for edits in found.values() for e in edits]
    p50, p99 = percentile(everything, 0.5), percentile(everything, 0.99)
    figures.append(
        (
            "(c) latency p50 / p99 / max",
            f"{p50 * 1000:.0f} / {p99 * 1000:.0f} / {max(everything) * 1000:.0f} ms",
            f"p99 <= {P99_TARGET_S * 1000:.0f} ms",
            mark(p99 <= P99_TARGET_S),
        )
    )
    leftovers = {node.name: pending(node) for node in (one, two)}
    if any(any(values) for values in leftovers.values()):
        print(f"  (out, in, errors) after the edits: {leftovers}")


def run(args: argparse.Namespace) -> None:
    sync_bench.COMMENTS_PER_ISSUE = args.comments  # bench/sync.py's seeding reads it
    print(f"cores: {os.cpu_count()}, SQLite, {args.issues} issues x {args.comments} comments")
    figures: Figures = []
    with tempfile.TemporaryDirectory(prefix="issuesync-bench-nodes-") as root:
        vm_rates: dict[str, float] = {}
        if not args.skip_vm:
            for user in (sync_bench.SYNC_USER, "admin"):
                vm_rates[user] = initial_sync_vm(Path(root), args, user)
        with ExitStack() as stack:
            seeding = time.perf_counter()
            one = stack.enter_context(running_node(Path(root) / "one", "one", SOURCE, args.issues))
            two = stack.enter_context(running_node(Path(root) / "two", "two", TARGET, 0))
            print(
                f"two nodes serving at {one.server.url} and {two.server.url}, SRC seeded, "
                f"in {time.perf_counter() - seeding:.1f} s"
            )
            try:
                rate = phase_a(one, two, args, figures)
                for user, vm_rate in vm_rates.items():
                    figures.append(
                        (
                            f"(b) initial sync, vm, sync user {user}",
                            f"{vm_rate:.0f} issues/s",
                            "",
                            "",
                        )
                    )
                    figures.append((f"(a) / (b, {user})", f"{rate / vm_rate:.2f}", "", ""))
                if args.edits:
                    phase_c(one, two, args, figures)
                phase_idle(one, two, args.idle, figures)
            finally:
                stop_engines(one, two)
    print_summary(figures)


def print_summary(figures: Figures) -> None:
    rows = [("measurement", "figure", "target", ""), *figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print()
    print(f"summary ({os.cpu_count()} cores):")
    for number, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if number == 0:
            print("  " + "  ".join("-" * width for width in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--comments", type=int, default=3, help="comments per issue")
    parser.add_argument("--edits", type=int, default=50, help="latency samples, alternating")
    parser.add_argument("--skip-vm", action="store_true", help="leave out (b)")
    parser.add_argument("--linked", type=int, default=5, help="issues the edits rotate over")
    parser.add_argument("--sync-timeout", type=float, default=1200.0, help="seconds")
    parser.add_argument("--edit-timeout", type=float, default=30.0, help="seconds per edit")
    parser.add_argument(
        "--idle", type=float, default=5.0, help="seconds of an idle relation, traffic counted"
    )
    args = parser.parse_args()
    if args.issues < max(1, args.linked) or args.comments < 0 or args.edits < 0:
        parser.error("--issues must be at least 1 and --linked; --comments, --edits >= 0")
    run(args)


if __name__ == "__main__":
    main()
