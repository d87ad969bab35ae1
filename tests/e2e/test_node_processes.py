"""Two organisations, two `issuesync serve` processes paired over the node API (seed 003).

Each node owns one project; both are seeded with issues, comments and attachments, then
paired with `issuesync relation invite` / `relation accept`. While they sync, either
node is SIGKILLed at random moments and started again; later the partner is down for a
while (its events queue, the other shows it offline) and comes back. At the end both
projects are equal: no issue, comment or attachment missing or twice.
"""

from __future__ import annotations

import io
import os
import random
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from test_engine_processes import ADMIN_PASSWORD, cli, environment, free_port, start, stop

from issuesync.accounts import NewUser, create_user
from issuesync.app import bootstrap, build_services
from issuesync.config import Settings
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.local import catalog, issues, subresources
from issuesync.trackers.local.models import Attachment, Comment, Issue, Project

SOAK = os.environ.get("ISSUESYNC_SOAK") == "1"  # make soak: more issues, more kills
ISSUES = 500 if SOAK else 60  # per side
KILLS = 24 if SOAK else 3
PAUSE_S = (2.0, 5.0) if SOAK else (1.0, 3.0)  # between kills: they land during the sync
RELATION = "AllContent"
# The sync user posts a partner's comment under a header naming its author (another
# node's people are nobody here): compared without it.
HEADER = re.compile(r"^\*[^*\n]+\* wrote on [A-Z]+-\d+:\n\n")


class Node:
    """One organisation's issuesync: its home, its port, its server process."""

    def __init__(self, home: Path, project: str) -> None:
        self.home = home
        self.project = project
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = environment(home, ISSUESYNC_PORT=str(self.port), ISSUESYNC_BASE_URL=self.url)
        self.process: subprocess.Popen[bytes] | None = None
        self.services = build_services(
            Settings(home=home, admin_password=SecretStr(ADMIN_PASSWORD), engine_lease_ms=1500)
        )
        self.http = httpx.Client(base_url=self.url, auth=("admin", ADMIN_PASSWORD), timeout=30)

    def serve(self) -> None:
        self.process = start(self.env, "serve")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, "the server died at start"
            time.sleep(0.1)
        pytest.fail(f"{self.url} never answered")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            stop(self.process, sig)
            self.process = None

    def close(self) -> None:
        self.stop()
        self.http.close()
        self.services.close()

    def relation(self) -> dict[str, Any]:
        answer = self.http.get(f"/rest/issuehub/2.4/admin/relations/{RELATION}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found


@contextmanager
def two_nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    one, two = Node(tmp_path / "one", "PA"), Node(tmp_path / "two", "PB")
    try:
        yield one, two
    finally:
        one.close()
        two.close()


def _seed(node: Node, rng: random.Random) -> None:
    services = node.services
    bootstrap(services)
    actor = _admin(services)
    with services.tracker.write(actor) as op:
        catalog.create_project(op, {"key": node.project, "name": node.project})
    create_user(
        services.uow_factory, NewUser(name="backbone", email="bb@example.test", password="b")
    )
    for start_at in range(0, ISSUES, 100):
        with services.tracker.write(actor) as op:
            for number in range(start_at, min(ISSUES, start_at + 100)):
                made = issues.create_issue(
                    op,
                    {
                        "project": {"key": node.project},
                        "issuetype": {"name": "Task"},
                        "summary": f"{node.project} issue {number}",
                        "description": f"Seeded {rng.random()}",
                    },
                    {},
                )
                for c in range(2):
                    subresources.add_comment(
                        op, str(made["key"]), {"body": f"comment {c} of {node.project} {number}"}
                    )
    for number in range(0, ISSUES, 10):
        content = f"attachment of {node.project} {number}".encode()
        services.tracker.attach(
            actor,
            f"{node.project}-{number + 1}",
            [("note.txt", "text/plain", io.BytesIO(content))],
        )


def _admin(services: Services) -> Principal:
    with services.uow_factory(readonly=True) as uow:
        admin = uow.session.scalar(select(User).where(User.name == "admin"))
        assert admin is not None
        return Principal.of(admin)


def _edit(node: Node, rng: random.Random, round_number: int) -> None:
    """Edits while a node is down or dying: they must all arrive, once."""
    actor = _admin(node.services)
    with node.services.tracker.write(actor) as op:
        for _ in range(3):
            number = rng.randint(1, ISSUES)
            key = f"{node.project}-{number}"
            label = f"{node.project} number {number}"  # no issue key: see the engine test
            issues.edit_issue(op, key, {"summary": f"{label} edited in round {round_number}"}, {})
            subresources.add_comment(op, key, {"body": f"round {round_number} on {label}"})


def _content(services: Services) -> dict[str, tuple[Counter[str], Counter[str]]]:
    """By summary: the comment bodies (without the header) and attachment checksums."""
    with services.uow_factory(readonly=True) as uow:
        session = uow.session
        found: dict[str, tuple[Counter[str], Counter[str]]] = {}
        for project_id in session.scalars(select(Project.id)):
            for issue in session.scalars(select(Issue).where(Issue.project_id == project_id)):
                bodies = Counter(
                    HEADER.sub("", body)
                    for body in session.scalars(
                        select(Comment.body).where(Comment.issue_id == issue.id)
                    )
                )
                digests = Counter(
                    session.scalars(
                        select(Attachment.sha256).where(Attachment.issue_id == issue.id)
                    )
                )
                assert issue.summary not in found, f"two issues named {issue.summary!r}"
                found[issue.summary] = (bodies, digests)
        return found


def _quiet(node: Node) -> bool:
    relation = node.relation()
    queue = relation["syncQueue"]
    return bool(relation["state"] == "active") and queue == {
        "pendingOut": 0,
        "pendingIn": 0,
        "blobsPending": 0,
        "inError": 0,
    }


def _converged(one: Node, two: Node) -> bool:
    if not (_quiet(one) and _quiet(two)):
        return False
    a, b = _content(one.services), _content(two.services)
    return len(a) == 2 * ISSUES and a == b


@pytest.mark.timeout(3600 if SOAK else 600)
def test_two_serve_processes_survive_sigkills_and_an_absent_partner(tmp_path: Path) -> None:
    rng = random.Random(23)
    with two_nodes(tmp_path) as (one, two):
        _seed(one, rng)
        _seed(two, rng)
        invited = cli(
            one.env, "relation", "invite", RELATION, "--project", "PA", "--interval", "1s"
        ).stdout
        code = next(w for w in invited.split() if w.startswith("issuesync-invitation-1."))
        one.serve()
        cli(two.env, "relation", "accept", code, "--project", "PB")
        two.serve()

        kills = 0
        for round_number in range(KILLS):
            time.sleep(rng.uniform(*PAUSE_S))
            victim = rng.choice((one, two))
            _edit(rng.choice((one, two)), rng, round_number)
            victim.stop(signal.SIGKILL)
            kills += 1
            time.sleep(rng.uniform(0.2, 1.0))
            victim.serve()
        print(f"SIGKILLs: {kills}")  # noqa: T201

        # The partner is away: node one's events wait, and it shows the partner offline.
        two.stop()
        _edit(one, rng, KILLS)
        deadline = time.monotonic() + 60
        away = one.relation()
        while (away["partner"]["online"] or not away["syncQueue"]["pendingOut"]) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
            away = one.relation()
        assert away["partner"]["online"] is False
        assert "cannot be reached" in away["partner"]["lastFailure"]
        assert away["syncQueue"]["pendingOut"] > 0
        two.serve()

        deadline = time.monotonic() + (1800 if SOAK else 300)
        while not _converged(one, two):
            assert time.monotonic() < deadline, (one.relation(), two.relation())
            time.sleep(1.0)
        a = _content(one.services)
        total = sum(sum(bodies.values()) for bodies, _ in a.values())
        assert total == 4 * ISSUES + 3 * (KILLS + 1)  # every comment once
        attachments = sum(sum(digests.values()) for _, digests in a.values())
        assert attachments == 2 * (ISSUES // 10)
