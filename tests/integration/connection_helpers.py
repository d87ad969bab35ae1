"""Helpers of the connections' tests: an injected clock, the administrator, a connection
from the built-in project PA to PB of the built-in tracker served over its Jira API."""

from __future__ import annotations

import httpx
from pydantic import SecretStr
from tracker_helpers import API, create_project

from issuesync.accounts import NewUser, create_user
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

SYNC_PASSWORD = "tracker-sync-secret"


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


def project_id(client: httpx.Client, key: str) -> int:
    """A built-in project's numeric id, as its Jira API shows it."""
    return int(client.get(f"{API}/project/{key}").json()["id"])


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
