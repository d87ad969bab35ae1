"""Integrations at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from integration_helpers import (
    BACKBONE_DATE,
    SEED_CONFIGURATION,
    SEED_REQUEST,
    SEED_RESPONSE,
    SEED_SYNC_INFO,
    assert_same_keys,
    create,
    local_body,
    make_projects,
    show,
    stopped_connector_status,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.api.backbone.documents.bodies import IntegrationSpec, parse_integration_spec
from issuesync.api.backbone.documents.integrations import update_from_spec
from issuesync.api.backbone.documents.status import status_json
from issuesync.api.backbone.documents.syncinfo import import_sync_info
from issuesync.api.backbone.errors import BACKBONE
from issuesync.application.integrations import (
    connector_by_key,
    connector_configs,
    connector_proxy,
    connector_secret,
    delete_integration,
    get_integration,
    list_integrations,
    set_running,
)
from issuesync.domain.configuration import GLOBAL_WORKFLOW
from issuesync.errors import ConflictError, InvalidInputError, NotFoundError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState, MessageBody, MessageRow, SyncInfo

# --- creating: the seed's example ------------------------------------------------------------


def test_the_seed_example_creates_int_1_in_the_seeds_shape(services: Services) -> None:
    make_projects(services, "PA", "PB")
    created = create(services, SEED_REQUEST)
    assert created == show(services, "INT-1")

    expected = json.loads(json.dumps(SEED_RESPONSE))
    for side in ("firstConnector", "secondConnector"):
        # The tracker is named; the default queues are in-process ones (see below).
        expected[side]["connection"]["application"]["system"] = "jira"
        expected[side]["connection"]["connector"]["sendQueue"] = {"@type": "vm", "name": "x"}
        expected[side]["connection"]["connector"]["receiveQueue"] = {"@type": "vm", "name": "x"}
        expected[side]["configuration"]["fieldMappings"] = [
            {
                "id": "x",
                "localField": "x",
                "remoteField": "x",
                "direction": "BOTH",
                "valueMappings": [],
            }
        ]
        # Beyond the seed: whether references to synced issues name their twins (issue 19).
        expected[side]["configuration"]["rewriteReferences"] = True
    assert_same_keys(created, expected)
    assert list(created) == list(expected)

    assert created["integrationKey"] == "INT-1"
    assert created["summary"] == SEED_REQUEST["summary"]
    assert created["description"] == SEED_REQUEST["description"]
    assert created["createdUser"] == created["lastModifiedUser"] == "admin"
    first, second = created["firstConnector"], created["secondConnector"]
    assert (first["connectorKey"], second["connectorKey"]) == ("PA-1", "PB-2")
    assert (first["projectKey"], second["projectKey"]) == ("PA", "PB")
    for connector in (first, second):
        for date in ("createdDate", "lastModifiedDate"):
            assert BACKBONE_DATE.match(connector[date])
            assert BACKBONE_DATE.match(created[date])
        prefix, _, tail = connector["projectConnectorKey"].rpartition(".")
        assert prefix == "k15t.backbone.syncinfo"
        uuid.UUID(tail)
        assert connector["connection"]["application"] == {
            "baseUrl": "http://localhost:8510/jira",
            "user": "backbone",
            "system": "jira",
        }
        configuration = connector["configuration"]
        for block in ("sync", "advanced", "fieldDefaults", "issueTypeMappings"):
            assert configuration[block] == SEED_CONFIGURATION[block]
        assert configuration["workflowMappings"] == [{"id": GLOBAL_WORKFLOW}]
    assert first["projectConnectorKey"] != second["projectConnectorKey"]
    assert first["connection"]["connector"] == {
        "sendQueue": {"@type": "vm", "name": "PA-1_PB-2"},
        "receiveQueue": {"@type": "vm", "name": "PB-2_PA-1"},
        "initialInternalPollingDelay": 1000,
        "internalPollingInterval": 1000,
    }
    assert second["connection"]["connector"]["sendQueue"] == {"@type": "vm", "name": "PB-2_PA-1"}
    assert second["connection"]["connector"]["receiveQueue"] == {
        "@type": "vm",
        "name": "PA-1_PB-2",
    }


def test_secrets_are_write_only_and_encrypted_at_rest(services: Services) -> None:
    make_projects(services, "PA", "PB")
    body = json.loads(json.dumps(SEED_REQUEST))
    body["secondConnector"]["connection"]["application"]["proxy"] = {
        "proxyUri": "http://proxy.example:3128",
        "username": "squid",
        "password": "proxy-pass",
    }
    created = create(services, body)
    text = json.dumps(show(services, "INT-1", with_status=True))
    assert "password" not in text
    assert "proxy-pass" not in text
    assert created["secondConnector"]["connection"]["application"]["proxy"] == {
        "proxyUri": "http://proxy.example:3128",
        "username": "squid",
    }
    with services.uow_factory(readonly=True) as uow:
        rows = uow.session.scalars(select(ConnectorRow).order_by(ConnectorRow.position)).all()
        for row in rows:
            assert row.secret is not None
            assert "backbone" not in row.secret
        assert rows[1].proxy_secret is not None
        assert "proxy-pass" not in rows[1].proxy_secret
        assert connector_secret(uow.session, services.secrets, rows[0].id) == (
            "password",
            "backbone",
        )
        proxy = connector_proxy(uow.session, services.secrets, rows[1].id)
        assert proxy is not None
        assert (proxy.uri, proxy.username, proxy.password) == (
            "http://proxy.example:3128",
            "squid",
            "proxy-pass",
        )
        assert "proxy-pass" not in repr(proxy)
        assert connector_proxy(uow.session, services.secrets, rows[0].id) is None


def test_a_token_is_stored_as_a_token(services: Services) -> None:
    body = local_body("PA", "PB")
    body["firstConnector"]["connection"] = {
        "application": {"system": "jira", "baseUrl": "https://jira.example", "token": "tok-1"}
    }
    make_projects(services, "PB")
    create(services, body)
    with services.uow_factory(readonly=True) as uow:
        first, second = connector_configs(uow.session, get_integration(uow.session, "INT-1").id)
        assert connector_secret(uow.session, services.secrets, first.id) == ("token", "tok-1")
        assert connector_secret(uow.session, services.secrets, second.id) is None


# --- defaults --------------------------------------------------------------------------------


def test_default_field_mappings_and_workflow(services: Services) -> None:
    make_projects(services, "PA", "PB")
    created = create(services, local_body("PA", "PB"))
    first = created["firstConnector"]["configuration"]
    second = created["secondConnector"]["configuration"]
    fields = ["summary", "description", "priority", "labels", "duedate", "comment", "attachment"]
    fields.append("issuelinks")  # links between issues both synchronized
    for configuration in (first, second):
        mappings = configuration["fieldMappings"]
        assert [m["localField"] for m in mappings] == fields
        assert [m["remoteField"] for m in mappings] == fields
        assert {m["direction"] for m in mappings} == {"BOTH"}
        for mapping in mappings:
            uuid.UUID(mapping["id"])
        assert configuration["workflowMappings"] == [{"id": "##GLOBAL##"}]
    # Both sides name a mapping by the same id, so a resync can name it on either side.
    assert [m["id"] for m in first["fieldMappings"]] == [m["id"] for m in second["fieldMappings"]]
    assert created["summary"] == "PA <> PB"
    assert created["description"] == ""
    # A built-in connector that names no sync user works as the one who created it, stored.
    assert created["firstConnector"]["connection"]["application"] == {
        "baseUrl": None,
        "user": "admin",
        "system": "local",
    }


def test_one_sides_mappings_are_mirrored_on_the_other(services: Services) -> None:
    make_projects(services, "PA", "PB")
    body = local_body("PA", "PB")
    body["firstConnector"]["configuration"] = {
        "fieldMappings": [
            {
                "localField": "priority",
                "remoteField": "customfield_10001",
                "direction": "OUTGOING",
                "valueMappings": [{"local": "High", "remote": "P1"}],
            }
        ],
        "issueTypeMappings": {"outgoing": [{"local": "Bug", "remote": "Defect"}]},
        "workflowMappings": [
            {"id": "##GLOBAL##", "statusMappings": [{"local": "Done", "remote": "Closed"}]}
        ],
    }
    created = create(services, body)
    first = created["firstConnector"]["configuration"]
    second = created["secondConnector"]["configuration"]
    (mapping,) = second["fieldMappings"]
    assert mapping == {
        "id": first["fieldMappings"][0]["id"],
        "localField": "customfield_10001",
        "remoteField": "priority",
        "direction": "INCOMING",
        "valueMappings": [{"local": "P1", "remote": "High"}],
    }
    assert second["issueTypeMappings"] == {
        "incoming": [{"local": "Defect", "remote": "Bug"}],
        "outgoing": [],
    }
    assert second["workflowMappings"] == [
        {"id": "##GLOBAL##", "statusMappings": [{"local": "Closed", "remote": "Done"}]}
    ]
    with services.uow_factory(readonly=True) as uow:
        config = connector_by_key(uow.session, "pb-2").configuration
    assert config.field_mappings[0].direction.incoming
    assert not config.field_mappings[0].direction.outgoing


def test_file_queues_get_the_seeds_default_paths(services: Services) -> None:
    make_projects(services, "PA", "PB")
    body = local_body("PA", "PB")
    body["firstConnector"]["connection"] = {
        "connector": {"sendQueue": {"@type": "file"}, "internalPollingInterval": 500}
    }
    created = create(services, body)
    first = created["firstConnector"]["connection"]["connector"]
    second = created["secondConnector"]["connection"]["connector"]
    assert first == {
        "sendQueue": {"@type": "file", "path": "INT-1/PA-1_to_PB-2"},
        "receiveQueue": {"@type": "file", "path": "INT-1/PB-2_to_PA-1"},
        "initialInternalPollingDelay": 1000,
        "internalPollingInterval": 500,
    }
    assert second["sendQueue"] == {"@type": "file", "path": "INT-1/PB-2_to_PA-1"}
    assert second["receiveQueue"] == {"@type": "file", "path": "INT-1/PA-1_to_PB-2"}
    # With file queues the whole response is seed 001's example, key by key.
    expected = json.loads(json.dumps(SEED_RESPONSE))
    for side in ("firstConnector", "secondConnector"):
        del expected[side]["configuration"]["fieldMappings"]
        expected[side]["configuration"]["rewriteReferences"] = True
        expected[side]["connection"]["application"]["system"] = "local"
    for side in ("firstConnector", "secondConnector"):
        del created[side]["configuration"]["fieldMappings"]
    assert_same_keys(created, expected)


def test_a_file_queue_stays_inside_the_data_folder(services: Services) -> None:
    make_projects(services, "PA", "PB")
    body = local_body("PA", "PB")
    body["firstConnector"]["connection"] = {
        "connector": {"sendQueue": {"@type": "file", "path": "../../etc"}}
    }
    with pytest.raises(InvalidInputError) as raised:
        create(services, body)
    assert set(raised.value.field_errors) == {
        "firstConnector.connection.connector.sendQueue",
        "secondConnector.connection.connector.receiveQueue",
    }


def test_connectors_number_from_one_shared_counter(services: Services) -> None:
    make_projects(services, "PA", "PB", "PC")
    create(services, local_body("PA", "PB"))
    second = create(services, local_body("PC", "PA"))
    assert second["integrationKey"] == "INT-2"
    assert second["firstConnector"]["connectorKey"] == "PC-3"
    assert second["secondConnector"]["connectorKey"] == "PA-4"


def test_concurrent_creations_never_share_a_key(services: Services) -> None:
    pairs = [(f"PA{i}", f"PB{i}") for i in range(6)]
    make_projects(services, *[key for pair in pairs for key in pair])
    keys: list[str] = []
    failures: list[BaseException] = []

    def worker(first: str, second: str) -> None:
        try:
            keys.append(create(services, local_body(first, second))["integrationKey"])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(keys) == sorted(f"INT-{n}" for n in range(1, 7))


def test_concurrent_creations_of_one_pair_make_one_integration(services: Services) -> None:
    make_projects(services, "PA", "PB")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            outcomes.append(create(services, local_body("PA", "PB"))["integrationKey"])
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["INT-1", "conflict", "conflict", "conflict"]


# --- validation ------------------------------------------------------------------------------


def test_an_unknown_local_project_names_the_field(services: Services) -> None:
    make_projects(services, "PB")
    with pytest.raises(InvalidInputError) as raised:
        create(services, local_body("PX", "PB"))
    assert BACKBONE.status(raised.value) == 400
    assert "firstConnector.projectKey" in raised.value.field_errors
    assert "PX" in raised.value.field_errors["firstConnector.projectKey"]
    with pytest.raises(InvalidInputError) as raised:
        create(services, local_body("PX", "PY"))
    assert set(raised.value.field_errors) == {
        "firstConnector.projectKey",
        "secondConnector.projectKey",
    }
    with services.uow_factory(readonly=True) as uow:
        assert list_integrations(uow.session) == []


def test_an_unknown_key_in_the_body_is_named(services: Services) -> None:
    del services
    body = json.loads(json.dumps(SEED_REQUEST))
    body["firstConnector"]["connection"]["application"]["pasword"] = "typo"
    body["colour"] = "blue"
    with pytest.raises(InvalidInputError) as raised:
        parse_integration_spec(body)
    errors = raised.value.field_errors
    assert errors["firstConnector.connection.application.pasword"] == "is not a known field"
    assert errors["colour"] == "is not a known field"
    assert "typo" not in str(raised.value) + json.dumps(errors)


def test_a_missing_or_wrong_field_is_named(services: Services) -> None:
    del services
    with pytest.raises(InvalidInputError) as raised:
        parse_integration_spec({"firstConnector": {"projectKey": "PA"}})
    assert raised.value.field_errors == {"secondConnector": "is required"}
    with pytest.raises(InvalidInputError) as raised:
        parse_integration_spec([1, 2])
    assert "JSON object" in raised.value.message
    body = local_body("PA", "PB")
    body["firstConnector"]["connection"] = {"connector": {"sendQueue": {"@type": "jms"}}}
    with pytest.raises(InvalidInputError) as raised:
        parse_integration_spec(body)
    assert list(raised.value.field_errors) == [
        "firstConnector.connection.connector.sendQueue.@type"
    ]


def test_the_same_project_on_both_sides_is_refused(services: Services) -> None:
    make_projects(services, "PA")
    with pytest.raises(InvalidInputError) as raised:
        create(services, local_body("PA", "pa"))
    assert "secondConnector.projectKey" in raised.value.field_errors


def test_an_unknown_tracker_is_refused(services: Services) -> None:
    make_projects(services, "PA")
    body = local_body("PA", "PB")
    body["secondConnector"]["connection"] = {"application": {"system": "bugzilla"}}
    with pytest.raises(InvalidInputError) as raised:
        create(services, body)
    assert "secondConnector.connection.application.system" in raised.value.field_errors


def test_a_synchronized_pair_cannot_be_synchronized_again(services: Services) -> None:
    make_projects(services, "PA", "PB", "PC")
    create(services, local_body("PA", "PB"))
    for body in (local_body("PA", "PB"), local_body("PB", "PA")):
        with pytest.raises(ConflictError) as raised:
            create(services, body)
        assert BACKBONE.status(raised.value) == 409
        assert "INT-1" in raised.value.message
    # Another pair with one of the projects is fine, and so is a remote project of that key.
    create(services, local_body("PA", "PC"))
    remote = local_body("PA", "PB")
    remote["secondConnector"]["connection"] = {
        "application": {"system": "jira", "baseUrl": "https://jira.example"}
    }
    assert create(services, remote)["integrationKey"] == "INT-3"


# --- start, stop, status, delete, list -------------------------------------------------------


def test_start_stop_and_the_status_block(services: Services) -> None:
    make_projects(services, "PA", "PB")
    create(services, local_body("PA", "PB"))
    with services.uow_factory() as uow:
        assert set_running(uow.session, "int-1", running=True, actor="ops").running
        uow.commit()
    shown = show(services, "INT-1", with_status=True)
    assert list(shown)[:8] == [
        "createdUser",
        "lastModifiedUser",
        "createdDate",
        "lastModifiedDate",
        "integrationKey",
        "summary",
        "description",
        "status",
    ]
    assert shown["lastModifiedUser"] == "ops"
    status = shown["status"]
    assert status["status"] == "RUNNING"
    assert status["firstConnector"] == stopped_connector_status("PA-1")
    # What the workers write shows: route states, start time, issues in error.
    with services.uow_factory() as uow:
        first, _ = connector_configs(uow.session, get_integration(uow.session, "INT-1").id)
        state = uow.session.get_one(ConnectorState, first.id)
        state.start_ms = 1484063311224
        state.incoming_status = state.outgoing_status = "STARTED"
        for number, (issue, state_name) in enumerate(
            [("PB-1", "error"), ("PB-1", "error"), ("PB-2", "error"), ("PB-3", "archive")]
        ):
            uow.session.add(
                MessageRow(
                    uuid=str(uuid.uuid4()),
                    connector_id=first.id,
                    queue="receive",
                    state=state_name,
                    kind="update",
                    issue_key=issue,
                    sequence_id=number + 1,
                    content=MessageBody(body="{}"),
                    created_ms=now_ms(),
                    updated_ms=now_ms(),
                )
            )
        uow.commit()
    with services.uow_factory(readonly=True) as uow:
        status = status_json(uow.session, get_integration(uow.session, "INT-1"))
    assert status["firstConnector"]["startTime"] == 1484063311224
    assert list(status["firstConnector"])[:2] == ["connectorKey", "startTime"]
    assert status["firstConnector"]["externalRouteStatus"] == "STARTED"
    assert status["firstConnector"]["issuesInError"] == 2
    assert status["secondConnector"]["issuesInError"] == 0
    assert "startTime" not in status["secondConnector"]
    with services.uow_factory() as uow:
        set_running(uow.session, "INT-1", running=False, actor="ops")
        uow.commit()
    assert show(services, "INT-1", with_status=True)["status"]["status"] == "STOPPED"


def test_delete_takes_everything_of_the_integration(services: Services) -> None:
    make_projects(services, "PA", "PB")
    create(services, local_body("PA", "PB"))
    with services.uow_factory() as uow:
        import_sync_info(uow.session, "PA-1", SEED_SYNC_INFO)
        uow.commit()
    with services.uow_factory() as uow:
        delete_integration(uow.session, "INT-1")
        uow.commit()
    with services.uow_factory(readonly=True) as uow:
        with pytest.raises(NotFoundError, match=r"^No integration with key INT-1\.$"):
            get_integration(uow.session, "INT-1")
        assert uow.session.scalars(select(ConnectorRow)).all() == []
        assert uow.session.scalars(select(ConnectorState)).all() == []
        assert uow.session.scalars(select(SyncInfo)).all() == []
        with pytest.raises(NotFoundError, match="PA-1"):
            connector_by_key(uow.session, "PA-1")
    with services.uow_factory() as uow, pytest.raises(NotFoundError):
        delete_integration(uow.session, "INT-1")
    # The pair can be synchronized again, under a new key.
    assert create(services, local_body("PA", "PB"))["integrationKey"] == "INT-2"


def test_list_is_filtered_by_project(services: Services) -> None:
    make_projects(services, "PA", "PB", "PC", "PD")
    create(services, local_body("PA", "PB"))
    create(services, local_body("PA", "PC"))
    create(services, local_body("PD", "PB"))
    with services.uow_factory(readonly=True) as uow:

        def keys(project: str | None) -> list[str]:
            return [row.key for row in list_integrations(uow.session, project)]

        assert keys(None) == ["INT-1", "INT-2", "INT-3"]
        assert keys("PA") == ["INT-1", "INT-2"]
        assert keys("pb") == ["INT-1", "INT-3"]
        assert keys("PC") == ["INT-2"]
        assert keys("PZ") == []


# --- update and the engine's view ------------------------------------------------------------


def update_as_ops(services: Services, session: Session, body: dict[str, Any]) -> None:
    update_from_spec(
        session,
        "INT-1",
        IntegrationSpec.model_validate(body),
        "ops",
        services.secrets,
        places=services.queue_places,
    )


def test_update_keeps_what_is_left_out(services: Services) -> None:
    make_projects(services, "PA", "PB")
    create(services, SEED_REQUEST)
    body = json.loads(json.dumps(SEED_REQUEST))
    body["summary"] = "Renamed"
    del body["firstConnector"]["connection"]["application"]["password"]
    body["secondConnector"]["connection"]["application"]["password"] = "new-secret"
    with services.uow_factory() as uow:
        update_as_ops(services, uow.session, body)
        uow.commit()
    shown = show(services, "INT-1")
    assert shown["summary"] == "Renamed"
    assert shown["description"] == SEED_REQUEST["description"]
    assert shown["lastModifiedUser"] == "ops"
    assert shown["createdUser"] == "admin"
    with services.uow_factory(readonly=True) as uow:
        first, second = connector_configs(uow.session, get_integration(uow.session, "INT-1").id)
        assert connector_secret(uow.session, services.secrets, first.id) == ("password", "backbone")
        assert connector_secret(uow.session, services.secrets, second.id) == (
            "password",
            "new-secret",
        )
    body["firstConnector"]["projectKey"] = "PC"
    with services.uow_factory() as uow, pytest.raises(InvalidInputError) as raised:
        update_as_ops(services, uow.session, body)
    assert "firstConnector.projectKey" in raised.value.field_errors


def test_the_engines_view_of_the_connectors(services: Services) -> None:
    make_projects(services, "PA", "PB")
    created = create(services, SEED_REQUEST)
    with services.uow_factory(readonly=True) as uow:
        integration_id = get_integration(uow.session, "INT-1").id
        first, second = connector_configs(uow.session, integration_id)
        assert connector_by_key(uow.session, "PB-2") == second
    assert (first.key, first.position, first.partner_key, first.partner_id) == (
        "PA-1",
        1,
        "PB-2",
        second.id,
    )
    assert (second.partner_key, second.partner_id) == ("PA-1", first.id)
    assert first.integration_key == "INT-1"
    assert first.integration_id == integration_id
    assert first.project_connector_key == created["firstConnector"]["projectConnectorKey"]
    assert (first.system, first.base_url, first.user) == (
        "jira",
        "http://localhost:8510/jira",
        "backbone",
    )
    assert first.send_queue == second.receive_queue
    assert first.send_queue.type == "vm"
    assert first.send_queue.name == "PA-1_PB-2"
    assert first.configuration.sync.outgoing_interval_ms == 5000
    assert (first.initial_delay_ms, first.polling_interval_ms) == (1000, 1000)
    assert not hasattr(first, "secret")
