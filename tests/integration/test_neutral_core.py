"""The core speaks no dialect: an integration is created, changed, linked and read with the
neutral models alone, as a second API dialect would; Backbone's names appear nowhere."""

from __future__ import annotations

import json

import pytest
from integration_helpers import make_projects

from issuesync.application.integrations import (
    create_integration,
    get_integration,
    project_checker,
    update_connection,
    update_integration,
)
from issuesync.application.monitoring import integration_status, integration_view
from issuesync.application.syncinfo import import_sync_links, list_sync_links
from issuesync.domain.configuration import (
    Configuration,
    Direction,
    FieldMapping,
    SyncSettings,
)
from issuesync.domain.connection import Queue, QueueSettings, TrackerConnection
from issuesync.domain.integration import ConnectionChanges, ConnectorDraft, IntegrationDraft
from issuesync.domain.synclink import SyncLinkImport
from issuesync.errors import InvalidInputError
from issuesync.services import Services
from issuesync.store.sync import ConnectorRow


def _create(services: Services, draft: IntegrationDraft) -> str:
    with services.uow_factory() as uow:
        view = create_integration(
            uow.session,
            draft,
            actor="admin",
            secrets=services.secrets,
            project_exists=project_checker(services),
            places=services.queue_places,
        )
        uow.commit()
    return view.key


def test_an_integration_made_of_neutral_models(services: Services) -> None:
    make_projects(services, "PA", "PB")
    draft = IntegrationDraft(
        first=ConnectorDraft(
            project_key="pa",
            configuration=Configuration(
                sync=SyncSettings(outgoing_interval="2s"),
                field_mappings=[
                    FieldMapping(
                        local_field="summary", remote_field="summary", direction=Direction.OUTGOING
                    )
                ],
            ),
        ),
        second=ConnectorDraft(project_key="PB"),
    )
    key = _create(services, draft)
    with services.uow_factory(readonly=True) as uow:
        view = integration_view(uow.session, get_integration(uow.session, key))
        status = integration_status(uow.session, get_integration(uow.session, key))
        stored = [row.configuration for row in uow.session.query(ConnectorRow)]
    assert (view.key, view.summary, view.first.key, view.second.key) == (
        "INT-1",
        "PA <> PB",
        "PA-1",
        "PB-2",
    )
    assert view.first.queues.send_queue == Queue(type="vm", name="PA-1_PB-2")
    assert view.first.queues.send_queue == view.second.queues.receive_queue
    assert view.first.configuration.sync.outgoing_interval_ms == 2000
    mirrored = view.second.configuration.field_mappings[0]
    assert (mirrored.local_field, mirrored.direction) == ("summary", Direction.INCOMING)
    assert (status.running, status.first.incoming, status.second.issues_in_error) == (
        False,
        "STOPPED",
        0,
    )
    # The store keeps the neutral models' own JSON: no dialect's names.
    for text in stored:
        assert "fieldMappings" not in text
        assert "field_mappings" in json.loads(text)


def test_errors_name_the_neutral_fields(services: Services) -> None:
    make_projects(services, "PA")
    with pytest.raises(InvalidInputError) as raised:
        _create(
            services,
            IntegrationDraft(
                first=ConnectorDraft(project_key="PA"),
                second=ConnectorDraft(
                    project_key="PX", connection=TrackerConnection(system="nothing")
                ),
            ),
        )
    assert set(raised.value.field_errors) == {"second.connection.system"}
    with pytest.raises(InvalidInputError) as raised:
        _create(
            services,
            IntegrationDraft(
                first=ConnectorDraft(project_key="PA"),
                second=ConnectorDraft(project_key="PX"),
            ),
        )
    assert set(raised.value.field_errors) == {"second.project_key"}


def test_changes_and_links_with_neutral_models(services: Services) -> None:
    make_projects(services, "PA", "PB")
    key = _create(
        services,
        IntegrationDraft(
            first=ConnectorDraft(project_key="PA"), second=ConnectorDraft(project_key="PB")
        ),
    )
    draft = IntegrationDraft(
        summary="Renamed",
        first=ConnectorDraft(project_key="PA", queues=QueueSettings(polling_interval_ms=500)),
        second=ConnectorDraft(project_key="PB"),
    )
    with services.uow_factory() as uow:
        view = update_integration(
            uow.session, key, draft, "admin", services.secrets, places=services.queue_places
        )
        with pytest.raises(InvalidInputError) as raised:
            update_connection(uow.session, key, ConnectionChanges(), "admin", services.secrets)
        assert set(raised.value.field_errors) == {"first"}
        links = [SyncLinkImport(local_issue_key="PA-1", remote_issue_key="PB-1")]
        assert import_sync_links(uow.session, "PA-1", links) == 1
        with pytest.raises(InvalidInputError) as raised:
            import_sync_links(
                uow.session,
                "PA-1",
                [SyncLinkImport(local_issue_key="PA-2", remote_issue_key="PB-1")],
            )
        assert set(raised.value.field_errors) == {"[0].remote_issue_key"}
        uow.commit()
    assert (view.summary, view.first.queues.polling_interval_ms) == ("Renamed", 500)
    with services.uow_factory(readonly=True) as uow:
        (link,) = list_sync_links(uow.session, "PA-1")
    assert (link.local_issue_key, link.remote_issue_key, link.outgoing_sequence_id) == (
        "PA-1",
        "PB-1",
        0,
    )
