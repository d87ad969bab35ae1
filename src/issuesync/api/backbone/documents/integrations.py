"""Integrations as Backbone's API shows them (seed 001's body, seed 002's status block), and
the integration requests of seed 001 carried out in Backbone's terms.

Secrets never appear here: the application block carries the base URL, the sync user, the
tracker and the proxy's address and user, nothing else (the core's views hold no more).
The requests (:func:`create_from_spec`, :func:`update_from_spec`,
:func:`update_connection_from`) translate a body into the core's neutral models, call the
application service, and name the fields of its errors as the body does.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy.orm import Session

from issuesync.api.backbone.documents.bodies import (
    ConnectionUpdate,
    IntegrationSpec,
    changes_of,
    draft_of,
)
from issuesync.api.backbone.documents.configuration import configuration_json
from issuesync.api.backbone.documents.dates import backbone_date
from issuesync.api.backbone.documents.fields import (
    CONNECTION_FIELDS,
    INTEGRATION_FIELDS,
    backbone_fields,
)
from issuesync.api.backbone.documents.status import status_body
from issuesync.application.creation import check_draft
from issuesync.application.integrations import (
    Editor,
    ProjectExists,
    QueuePlaces,
    create_integration,
    integration_view,
    update_connection,
    update_integration,
)
from issuesync.application.monitoring import integration_status
from issuesync.application.proposals import ProposalOutcome
from issuesync.domain.connection import Queue
from issuesync.domain.integration import Audit, ConnectorView, IntegrationDraft, IntegrationView
from issuesync.domain.status import IntegrationStatus
from issuesync.errors import InvalidInputError
from issuesync.security import SecretBox
from issuesync.store.sync import IntegrationRow

JsonDict = dict[str, Any]


def audit_json(audit: Audit) -> JsonDict:
    """Who made it and when, who changed it last and when."""
    return {
        "createdUser": audit.created_user,
        "lastModifiedUser": audit.modified_user,
        "createdDate": backbone_date(audit.created_ms),
        "lastModifiedDate": backbone_date(audit.modified_ms),
    }


def queue_json(queue: Queue | None) -> JsonDict:
    """A queue: ``{"@type": "vm", "name": ...}`` or ``{"@type": "file", "path": ...}``."""
    if queue is None:
        return {}
    body: JsonDict = {"@type": queue.type}
    if queue.name is not None:
        body["name"] = queue.name
    if queue.path is not None:
        body["path"] = queue.path
    return body


def connector_json(view: ConnectorView) -> JsonDict:
    """One connector: keys, connection (no secrets), queues and configuration."""
    application: JsonDict = {"baseUrl": view.base_url, "user": view.user, "system": view.system}
    if view.proxy is not None:
        application["proxy"] = {"proxyUri": view.proxy.uri, "username": view.proxy.username}
    queues = view.queues
    return {
        **audit_json(view.audit),
        "connectorKey": view.key,
        "projectKey": view.project_key,
        "projectConnectorKey": view.project_connector_key,
        "connection": {
            "application": application,
            "connector": {
                "sendQueue": queue_json(queues.send_queue),
                "receiveQueue": queue_json(queues.receive_queue),
                "initialInternalPollingDelay": queues.initial_delay_ms,
                "internalPollingInterval": queues.polling_interval_ms,
            },
        },
        "configuration": configuration_json(view.configuration),
    }


def integration_body(
    view: IntegrationView, status: IntegrationStatus | None = None, trouble: str = ""
) -> JsonDict:
    """The integration as ``GET /integrations/{key}`` returns it (seed 001); with
    ``status``, the ``status`` block of seed 002's list, ``trouble`` in its routes' details."""
    body: JsonDict = {
        **audit_json(view.audit),
        "integrationKey": view.key,
        "summary": view.summary,
        "description": view.description,
    }
    if view.distributed:
        body["distributed"] = True
    if status is not None:
        body["status"] = status_body(status, trouble)
    body["firstConnector"] = connector_json(view.first)
    body["secondConnector"] = connector_json(view.second)
    return body


def integration_json(
    session: Session, row: IntegrationRow, *, with_status: bool = False, trouble: str = ""
) -> JsonDict:
    """The stored integration as ``GET /integrations/{key}`` returns it; ``with_status``:
    as ``GET /integrations`` lists it (``trouble``: see ``status.trouble_text``)."""
    status = integration_status(session, row) if with_status else None
    return integration_body(integration_view(session, row), status, trouble)


# --- seed 001's requests ---------------------------------------------------------------------


def create_from_spec(
    session: Session,
    spec: IntegrationSpec,
    *,
    actor: Editor | str,
    secrets: SecretBox,
    project_exists: ProjectExists,
    places: QueuePlaces,
    systems: Collection[str] | None = None,
    proposal: ProposalOutcome | None = None,
) -> IntegrationView:
    """``POST /integrations``: see :func:`~issuesync.application.creation.create_integration`."""
    with backbone_fields(INTEGRATION_FIELDS):
        return create_integration(
            session,
            draft_of(spec),
            actor=actor,
            secrets=secrets,
            project_exists=project_exists,
            places=places,
            systems=systems,
            proposal=proposal,
        )


def check_spec_draft(draft: IntegrationDraft, project_exists: ProjectExists) -> None:
    """What creating the draft would refuse, in Backbone's field names (for a preview)."""
    with backbone_fields(INTEGRATION_FIELDS):
        check_draft(draft, project_exists)


def draft_from_spec(spec: IntegrationSpec) -> IntegrationDraft:
    """The core's draft of a body; what is wrong with it is said in Backbone's field names."""
    with backbone_fields(INTEGRATION_FIELDS):
        return draft_of(spec)


def update_from_spec(
    session: Session,
    key: str,
    spec: IntegrationSpec,
    actor: Editor | str,
    secrets: SecretBox,
    *,
    places: QueuePlaces,
    systems: Collection[str] | None = None,
) -> IntegrationView:
    """``PUT /integrations/{key}``: see
    :func:`~issuesync.application.changes.update_integration`."""
    with backbone_fields(INTEGRATION_FIELDS):
        return update_integration(
            session, key, draft_of(spec), actor, secrets, places=places, systems=systems
        )


def update_connection_from(
    session: Session, key: str, update: ConnectionUpdate, actor: str, secrets: SecretBox
) -> list[str]:
    """``PUT /integrations/{key}/applicationConnection``: see
    :func:`~issuesync.application.changes.update_connection`."""
    if update.first_connector is None and update.second_connector is None:
        raise InvalidInputError(
            "The connection is not valid.",
            field_errors={"firstConnector": "give firstConnector, secondConnector or both"},
        )
    with backbone_fields(CONNECTION_FIELDS):
        return update_connection(session, key, changes_of(update), actor, secrets)
