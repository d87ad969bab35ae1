"""Helpers for end-to-end sync tests: two built-in projects, an integration, an engine."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any, TypeVar

import httpx
import pytest
from integration_helpers import SEED_REQUEST
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from tracker_helpers import API, create_project

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.application.integrations import (
    connector_configs,
    project_checker,
    set_running,
)
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.store.sync import MessageRow, SyncInfo
from issuesync.store.users import ProjectAdmin, User
from issuesync.trackers.registry import Trackers

SEED_BODY = SEED_REQUEST
WAIT_S = 60.0
T = TypeVar("T")


def wait_for(what: str, check: Callable[[], T | None], timeout: float = WAIT_S) -> T:
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def local_body(**sync: object) -> dict[str, Any]:
    """The seed's body for two built-in projects (no base URL: the ``local`` tracker)."""
    body = copy.deepcopy(SEED_BODY)
    for side in ("firstConnector", "secondConnector"):
        del body[side]["connection"]["application"]["baseUrl"]
        if sync:
            body[side]["configuration"] = {"sync": {"incomingInterval": "1s", **sync}}
    return body


def refused_priority_body() -> dict[str, Any]:
    """:func:`local_body` whose first connector maps "Highest" to a priority PB lacks: PB's
    tracker refuses such an issue's write (and only that issue's)."""
    body = local_body()
    body["firstConnector"]["configuration"] = {
        "fieldMappings": [
            {
                "localField": "priority",
                "remoteField": "priority",
                "valueMappings": [{"local": "Highest", "remote": "No such priority"}],
            },
            {"localField": "summary", "remoteField": "summary"},
        ]
    }
    return body


@dataclass
class Pair:
    """Two built-in projects PA and PB kept in step by INT-1, and the engine that runs it."""

    services: Services
    client: httpx.Client
    engine: SyncRunner
    key: str
    first_id: int
    second_id: int

    def settle(self) -> int:
        """Run both connectors until nothing moves."""
        return self.engine.settle()

    def fields(self, key: str) -> dict[str, Any]:
        """An issue's fields over HTTP."""
        response = self.client.get(f"{API}/issue/{key}")
        assert response.status_code == 200, response.text
        fields: dict[str, Any] = response.json()["fields"]
        return fields

    def twin(self, key: str) -> str:
        """The partner's key of an issue, from the sync information."""
        first = key.startswith("PA-")
        connector = self.first_id if first else self.second_id
        with self.services.uow_factory(readonly=True) as uow:
            info = uow.session.scalar(
                select(SyncInfo).where(
                    SyncInfo.connector_id == connector, SyncInfo.local_issue_key == key
                )
            )
            assert info is not None, f"{key} is not linked"
            assert info.remote_issue_key is not None, f"{key} has no twin yet"
            return info.remote_issue_key

    def messages(self, connector_id: int, state: str | None = None) -> list[MessageRow]:
        """Receive-queue messages of a connector."""
        with self.services.uow_factory(readonly=True) as uow:
            query = (
                select(MessageRow)
                .where(MessageRow.connector_id == connector_id, MessageRow.queue == "receive")
                .options(selectinload(MessageRow.content))  # bodies readable once detached
            )
            if state is not None:
                query = query.where(MessageRow.state == state)
            rows = list(uow.session.scalars(query.order_by(MessageRow.id)))
            uow.session.expunge_all()
            return rows

    def edit(self, key: str, **fields: object) -> None:
        """Edit an issue over HTTP."""
        response = self.client.put(f"{API}/issue/{key}", json={"fields": fields})
        assert response.status_code == 204, response.text

    def comment(self, key: str, body: str) -> str:
        """Add a comment over HTTP; returns its id."""
        response = self.client.post(f"{API}/issue/{key}/comment", json={"body": body})
        assert response.status_code == 201, response.text
        comment_id: str = response.json()["id"]
        return comment_id

    def comments(self, key: str) -> list[str]:
        """The bodies of an issue's comments."""
        response = self.client.get(f"{API}/issue/{key}/comment")
        assert response.status_code == 200, response.text
        return [c["body"] for c in response.json()["comments"]]


def make_project_admin(services: Services, user: str, *projects: str) -> None:
    """Give ``user`` the project-admin role of ``projects`` (in the store: no API does yet).

    A sync user needs it to edit or delete other users' comments and attachments,
    and to write comments in their authors' names.
    """
    with services.uow_factory() as uow:
        user_id = uow.session.scalar(select(User.id).where(User.name == user))
        assert user_id is not None, f"no user {user}"
        uow.session.add_all(ProjectAdmin(user_id=user_id, project_key=p) for p in projects)
        uow.commit()


@contextmanager
def integration_pair(
    services: Services,
    client: httpx.Client,
    body: dict[str, Any] | None = None,
    adapters: Mapping[str, EntryPoint] | None = None,
) -> Iterator[Pair]:
    """Projects PA and PB, the sync user ``backbone``, INT-1 started, and a stopped engine
    (opening trackers with ``adapters`` instead of the installed ones, when given)."""
    create_project(client, "PA")
    create_project(client, "PB")
    create_user(
        services.uow_factory,
        NewUser(name="backbone", email="backbone@example.test", password="backbone"),
    )
    spec = IntegrationSpec.model_validate(body or local_body())
    with services.uow_factory() as uow:
        row = create_from_spec(
            uow.session,
            spec,
            actor="admin",
            secrets=services.secrets,
            project_exists=project_checker(services),
            places=services.queue_places,
        )
        key = row.key
        first, second = connector_configs(uow.session, row.id)
        set_running(uow.session, key, running=True, actor="admin")
        uow.commit()
    default_user = services.settings.admin_user
    trackers = None if adapters is None else Trackers(services.tracker, default_user, adapters)
    engine = SyncRunner(services, backoff_ms=0, deletion_check_ms=0, trackers=trackers)
    try:
        yield Pair(services, client, engine, key, first.id, second.id)
    finally:
        engine.stop()


def synced_twin(client: httpx.Client, connector: str, key: str) -> str | None:
    """The partner's key of ``key``, as ``/syncInformation`` of ``connector`` tells it."""
    entries = client.get(
        f"/api/1/connectors/{connector}/syncInformation", params={"localIssueKey": key}
    ).json()
    return entries[0]["remoteIssueKey"] if entries and entries[0]["remoteIssueKey"] else None
