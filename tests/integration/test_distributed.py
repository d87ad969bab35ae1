"""Two issuesync nodes, one project each, synchronized through a folder they share."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.app import bootstrap, build_services
from issuesync.application.integrations import project_checker, set_running
from issuesync.config import Settings
from issuesync.domain.replica import UserRef
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.errors import InvalidInputError
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.sync import ConnectorRow, MessageRow
from issuesync.store.users import User
from issuesync.trackers.adapter import IssueDraft
from issuesync.trackers.local import catalog
from issuesync.trackers.local.adapter import LocalAdapter, local_adapter_for


def _node(home: Path, shared: Path) -> Services:
    """A node whose file queues may be in ``shared`` (the folder both nodes see)."""
    settings = Settings(
        home=home,
        admin_password=SecretStr("admin-pw"),
        base_url="http://127.0.0.1:9",
        queue_roots=str(shared),
    )
    services = build_services(settings)
    bootstrap(services)
    return services


def _body(local: str, partner: str, send: Path, receive: Path) -> dict[str, Any]:
    return {
        "summary": f"{local} <> {partner} (distributed)",
        "distributed": True,
        "firstConnector": {
            "projectKey": local,
            "connection": {
                "application": {"user": "backbone"},
                "connector": {
                    "sendQueue": {"@type": "file", "path": str(send)},
                    "receiveQueue": {"@type": "file", "path": str(receive)},
                },
            },
        },
        "secondConnector": {"projectKey": partner},
    }


def _set_up(services: Services, local: str, body: dict[str, object]) -> LocalAdapter:
    with services.uow_factory(readonly=True) as uow:
        admin = Principal.of(uow.session.scalars(select(User).where(User.name == "admin")).one())
    with services.tracker.write(admin) as op:
        catalog.create_project(op, {"key": local, "name": local})
    create_user(services.uow_factory, NewUser(name="backbone", email="bb@x.test", password="b"))
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
    return local_adapter_for(services.tracker, local, "admin")


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[LocalAdapter, LocalAdapter, SyncRunner, SyncRunner]]:
    shared = tmp_path / "shared"
    one, two = _node(tmp_path / "one", shared), _node(tmp_path / "two", shared)
    engines = [SyncRunner(one, backoff_ms=0), SyncRunner(two, backoff_ms=0)]
    try:
        pa = _set_up(one, "PA", _body("PA", "PB", shared / "a_to_b", shared / "b_to_a"))
        pb = _set_up(two, "PB", _body("PB", "PA", shared / "b_to_a", shared / "a_to_b"))
        yield pa, pb, engines[0], engines[1]
    finally:
        for engine in engines:
            engine.stop()
        one.close()
        two.close()


def _settle(first: SyncRunner, second: SyncRunner) -> None:
    for _ in range(30):
        if first.step() + second.step() == 0:
            return
    pytest.fail("the two nodes never became quiet")


def test_two_nodes_sync_through_a_shared_folder(
    nodes: tuple[LocalAdapter, LocalAdapter, SyncRunner, SyncRunner],
) -> None:
    pa, pb, one, two = nodes
    made = pa.create(
        IssueDraft(issue_type="Task", fields={"summary": "From node one", "labels": ["x"]}),
        idempotency_key="test-1",
    )
    pa.add_comment(made.key, "hello from one", None, idempotency_key="test-c1")
    pa.add_attachment(made.key, "a.txt", "text/plain", b"shared bytes", idempotency_key="t-a1")
    _settle(one, two)

    [twin] = [r for page in pb.changed_since(None, []) for r in page]
    assert twin.hub_issue.summary == "From node one"
    # Node two's admin is not node one's (another tracker; no e-mail says they are the
    # same person): the sync user posts the comment, naming its author.
    said = "*Administrator* wrote on PA-1:\n\nhello from one"
    assert [c.body for c in twin.hub_issue.comments] == [said]
    [attachment] = twin.hub_issue.attachments
    assert pb.read_attachment(attachment.id) == b"shared bytes"

    pb.update(twin.key, {"summary": "Edited on node two"})
    _settle(one, two)
    back = pa.get(made.key)
    assert back is not None
    assert back.hub_issue.summary == "Edited on node two"
    assert pa.find_user(UserRef(username="backbone")) is not None


def test_a_distributed_integration_needs_file_queues(tmp_path: Path) -> None:
    services = _node(tmp_path / "home", tmp_path)
    try:
        body = _body("PA", "PB", tmp_path / "s", tmp_path / "r")
        body["firstConnector"]["connection"]["connector"] = None
        with services.uow_factory() as uow, pytest.raises(InvalidInputError) as refused:
            create_from_spec(
                uow.session,
                IntegrationSpec.model_validate(body),
                actor="admin",
                secrets=services.secrets,
                project_exists=lambda _system, _key: True,
                places=services.queue_places,
            )
        assert "firstConnector.connection.connector" in refused.value.field_errors
    finally:
        services.close()


def test_users_map_by_user_mappings_or_email_else_the_sync_user(
    nodes: tuple[LocalAdapter, LocalAdapter, SyncRunner, SyncRunner],
) -> None:
    """Two nodes are two trackers: a login name they share makes nobody the same person."""
    pa, pb, one, two = nodes
    home_one, home_two = one.services, two.services
    create_user(home_one.uow_factory, NewUser(name="alice", email="alice@x.test", password="a"))
    create_user(home_two.uow_factory, NewUser(name="alicia", email="ALICE@x.test", password="a"))
    create_user(home_one.uow_factory, NewUser(name="carol", email="carol@one.test", password="c"))
    create_user(home_two.uow_factory, NewUser(name="carol", email="carol@two.test", password="c"))
    create_user(home_one.uow_factory, NewUser(name="dave", email="dave@one.test", password="d"))
    create_user(home_two.uow_factory, NewUser(name="dave", email="dave@two.test", password="d"))
    create_user(home_one.uow_factory, NewUser(name="bob", email="bob@x.test", password="b"))
    for assignee in ("alice", "carol", "dave", "bob"):
        pa.create(
            IssueDraft(
                issue_type="Task",
                fields={"summary": f"for {assignee}", "assignee": {"username": assignee}},
            ),
            idempotency_key=f"user-{assignee}",
        )
    for services in (home_one, home_two):
        with services.uow_factory() as uow:
            row = uow.session.scalars(select(ConnectorRow).where(ConnectorRow.position == 1)).one()
            configuration = json.loads(row.configuration)  # the neutral model's JSON
            configuration["field_mappings"].append(
                {"id": "assignee", "local_field": "assignee", "remote_field": "assignee"}
            )
            if services is home_two:  # node two says its carol is node one's carol
                configuration["user_mappings"] = [{"local": "carol", "remote": "carol"}]
            row.configuration = json.dumps(configuration)
            row.modified_ms += 1
            uow.commit()
    _settle(one, two)
    assignees = {
        r.hub_issue.summary: (r.hub_issue.assignee.username if r.hub_issue.assignee else None)
        for page in pb.changed_since(None, [])
        for r in page
    }
    assert assignees == {
        "for alice": "alicia",  # by e-mail
        "for carol": "carol",  # by user mapping
        "for dave": "backbone",  # the same name, another person
        "for bob": "backbone",  # nobody here
    }
    with home_two.uow_factory(readonly=True) as uow:
        archived = select(MessageRow.reason).where(MessageRow.state == "archive")
        notes = [reason or "" for reason in uow.session.scalars(archived)]
    assert any("bob" in note and "sync user" in note for note in notes)
