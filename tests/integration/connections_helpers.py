"""A world for SD Elements' connections API (seed 004), over real HTTP.

The built-in tracker serves both sides: PA ("Project 1") is the connection's project, PB
the tracker's project, reached through the ``jira`` adapter on the live server's own Jira
API as a Jira Server would be. Scripts authenticate as the seed shows:
``Authorization: Token "<token>"``, with an API token of issuesync's. The tests of the
application and the job runner make and run connections without the API (``Clock``,
``make_connection``): the clock is theirs to move.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr
from tracker_helpers import API, create_project

from issuesync.accounts import NewUser, create_token, create_user
from issuesync.application.connections import (
    ConnectionView,
    create_connection,
    create_tracker_server,
    prepare_connection,
)
from issuesync.domain.schedule import Frequency
from issuesync.domain.scheduled import ConnectionDraft, ConnectionSettings, TrackerServer
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.testing.server import LiveServer

BASE = "/api/v2/connections"
SYNC_PASSWORD = "tracker-sync-secret-4c1f"
# The keys of a connection as the seed shows them, in its order.
CONNECTION_KEYS = [
    "id",
    "alias",
    "system",
    "frequency",
    "command",
    "debug_mode",
    "params",
    "inaccessible",
    "in_progress",
    "connector",
    "project",
]
JOB_KEYS = [
    "succeeded",
    "last_run",
    "result_message",
    "user",
    "triggered_by",
    "ready",
    "automatic",
    "id",
]
LAST_RUN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LAST_SUCCESSFUL_RUN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


@dataclass(frozen=True)
class World:
    """The projects, the tracker connector and a script's client of a test."""

    admin: httpx.Client  # HTTP Basic, for the built-in tracker's Jira API
    script: httpx.Client  # Token "<token>" of the administrator
    token: str
    pa: int  # the built-in projects' ids
    pb: int
    pc: int
    connector: int
    server: str  # the connector's issue_tracker_server


def token_client(server: str, token: str, *, quoted: bool = True) -> httpx.Client:
    """A client that sends ``Authorization: Token "<token>"`` (the seed's form) or without
    the quotes."""
    value = f'Token "{token}"' if quoted else f"Token {token}"
    return httpx.Client(
        base_url=server,
        headers={"Authorization": value, "Accept": "application/json"},
        timeout=30,
    )


def project_id(client: httpx.Client, key: str) -> int:
    return int(client.get(f"{API}/project/{key}").json()["id"])


def world_of(
    services: Services, server: str, admin: httpx.Client, live_server: LiveServer
) -> Iterator[World]:
    """Three projects, a sync user of the tracker's API, a connector to it, and a token
    (a fixture's body: the script's client is closed after the test)."""
    create_project(admin, "PA", "Project 1")
    create_project(admin, "PB")
    create_project(admin, "PC")
    create_user(
        services.uow_factory,
        NewUser(name="jirasync", email="jirasync@example.test", password=SYNC_PASSWORD, admin=True),
    )
    token = create_token(services.uow_factory, "admin", "sde-script")
    host = live_server.url.removeprefix("http://")
    with token_client(server, token) as script:
        made = script.post(
            f"{BASE}/connectors/",
            json={
                "name": "Local Jira",
                "system": {"id": "jira"},
                "params": {
                    "issue_tracker_server": host,
                    "issue_tracker_method": "http",
                    "issue_tracker_user": "jirasync",
                    "issue_tracker_pass": SYNC_PASSWORD,
                },
            },
        )
        assert made.status_code == 201, made.text
        yield World(
            admin=admin,
            script=script,
            token=token,
            pa=project_id(admin, "PA"),
            pb=project_id(admin, "PB"),
            pc=project_id(admin, "PC"),
            connector=made.json()["id"],
            server=host,
        )


def new_connection(world: World, project: int, alias: str = "To PB", **params: object) -> Any:
    """A connection of ``project`` to PB through the world's connector, made over the API."""
    made = world.script.post(
        f"{BASE}/issue-tracker/",
        json={
            "alias": alias,
            "connector": world.connector,
            "project": project,
            "params": {"issue_tracker_project": "PB", **params},
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


def with_ids(seed_text: str, **ids: int) -> str:
    """A seed's request body with its ids (``"connector": 1``) replaced by existing ones."""
    for name, value in ids.items():
        seed_text = re.sub(rf'"{name}": \d+', f'"{name}": {value}', seed_text)
    return seed_text


# -- the application's side: connections made and run without the API --------------------


class Clock:
    """An injected clock: now in epoch milliseconds, moved by the test."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def admin_principal(services: Services) -> Principal:
    """The administrator, as the surfaces would authenticate them."""
    with services.uow_factory(readonly=True) as uow:
        user = uow.session.query(User).filter_by(name="admin").one()
        return Principal.of(user)


def projects_and_sync_user(services: Services, admin: httpx.Client) -> None:
    """PA (the connection's project), PB (the tracker's) and the tracker's sync user."""
    create_project(admin, "PA")
    create_project(admin, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="jirasync", email="jirasync@example.test", password=SYNC_PASSWORD, admin=True),
    )


def make_connection(
    services: Services, live_server: LiveServer, admin: httpx.Client
) -> ConnectionView:
    """An hourly connection PA -> PB: "To Do" issues of rank 7 or more, titled "[KEY] title"."""
    principal = admin_principal(services)
    with services.uow_factory() as uow:
        server = create_tracker_server(
            uow.session,
            TrackerServer(
                name="Local Jira",
                system="jira",
                server=live_server.url.removeprefix("http://"),
                method="http",
                user="jirasync",
                secret=SecretStr(SYNC_PASSWORD),
            ),
            principal,
            services.secrets,
        )
        uow.commit()
    draft = ConnectionDraft(
        alias="To PB",
        project_id=project_id(admin, "PA"),
        tracker_server_id=server.id,
        frequency=Frequency.HOURLY,
        settings=ConnectionSettings(
            tracker_project="PB",
            statuses=["To Do"],
            min_priority=7,
            title_format="[$task_id] $title",
        ),
    )
    prepared = prepare_connection(services, draft, principal)
    with services.uow_factory() as uow:
        view = create_connection(uow.session, services, prepared, principal)
        uow.commit()
    return view
