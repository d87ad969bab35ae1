"""Two issuesync nodes on loopback, each a real HTTP server, paired by an invitation code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from issuesync.app import bootstrap, build_services, create_app
from issuesync.application import relations
from issuesync.config import Settings
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.testing.server import LiveServer
from issuesync.trackers.local import catalog
from issuesync.trackers.local.adapter import LocalAdapter, local_adapter_for

ADMIN_PASSWORD = "admin-pw"


@dataclass
class Node:
    """One node: its services, its server, its engine (stepped by the test) and project."""

    services: Services
    server: LiveServer
    engine: SyncRunner
    project: LocalAdapter

    @property
    def url(self) -> str:
        return self.server.url


def make_project(services: Services, key: str) -> LocalAdapter:
    with services.uow_factory(readonly=True) as uow:
        admin = Principal.of(uow.session.scalars(select(User).where(User.name == "admin")).one())
    with services.tracker.write(admin) as op:
        catalog.create_project(op, {"key": key, "name": key})
    return local_adapter_for(services.tracker, key, "admin")


@contextmanager
def running_node(home: Path, project: str, *, tls: tuple[str, str] | None = None) -> Iterator[Node]:
    server = LiveServer(tls=tls)
    settings = Settings(
        home=home,
        admin_password=SecretStr(ADMIN_PASSWORD),
        base_url=server.url,
        engine_enabled=False,
    )
    services = build_services(settings)
    bootstrap(services)
    engine = SyncRunner(services, backoff_ms=0)
    try:
        adapter = make_project(services, project)
        server.start(create_app(services))
        yield Node(services, server, engine, adapter)
    finally:
        engine.stop()
        server.stop()
        services.close()


@contextmanager
def paired_nodes(
    tmp_path: Path,
    *,
    name: str = "AllContent",
    tls: tuple[str, str] | None = None,
    ca_bundle: str | None = None,
) -> Iterator[tuple[Node, Node]]:
    """Node one (PA) invites, node two (PB) accepts; both integrations run."""
    with (
        running_node(tmp_path / "one", "PA", tls=tls) as one,
        running_node(tmp_path / "two", "PB", tls=tls) as two,
    ):
        invited = relations.invite(one.services, name=name, project_key="PA", actor="admin")
        relations.accept(
            two.services,
            code=invited.code,
            project_key="PB",
            actor="admin",
            ca_bundle=ca_bundle,
        )
        if ca_bundle is not None:
            _trust(one.services, name, ca_bundle)
        try:
            yield one, two
        finally:
            # Both engines first: each holds connections to the other's server, which
            # would otherwise wait for them when it stops.
            one.engine.stop()
            two.engine.stop()


def _trust(services: Services, name: str, ca_bundle: str) -> None:
    """The inviting node's CA bundle for its partner (set like `relation set --ca-bundle`)."""
    relations.set_ca_bundle(services, name, ca_bundle)


def settle(one: Node, two: Node, rounds: int = 40) -> None:
    """Step both engines until a round moves nothing on either."""
    for _ in range(rounds):
        if (
            one.engine.step() + two.engine.step() == 0
            and one.engine.step() + two.engine.step() == 0
        ):
            return
    pytest.fail("the two nodes never became quiet")
