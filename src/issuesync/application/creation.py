"""Creating an integration and its two connectors from an :class:`IntegrationDraft`.

Every function works in the caller's session; the caller's unit of work commits. Keys: an
integration is ``INT-n``; a connector is ``<PROJECT>-n`` with ``n`` from one counter shared
by all connectors (``INT-3`` has ``PA-4`` and ``PB-5``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Final

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuesync.application.fields import SIDES, project_field
from issuesync.application.monitoring import integration_view
from issuesync.application.proposals import (
    ProposalOutcome,
    record_text,
    wants_proposal,
    with_proposal,
)
from issuesync.application.queues import relation_queue_errors, resolve_queues
from issuesync.application.rules import (
    ProjectExists,
    apply_connection,
    connection_errors,
    distributed_errors,
    draft_identity,
    query_errors,
    refuse_duplicate,
    same_project_errors,
)
from issuesync.application.sync_users import INVALID, Editor, Naming, check_namings, given_user
from issuesync.domain.configuration import complete_configurations
from issuesync.domain.connection import LOCAL, QueueSettings
from issuesync.domain.integration import IntegrationDraft, IntegrationView, connector_key_base
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    QueuePlaces,
    configuration_text,
    queue_text,
)
from issuesync.errors import InvalidInputError
from issuesync.security import SecretBox
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, KeyCounter
from issuesync.trackers.registry import known_systems

# Backbone's prefix of the key that names a connector's sync information; kept by every
# dialect so that the keys of existing connectors never change.
SYNCINFO_PREFIX: Final = "k15t.backbone.syncinfo."


def next_number(session: Session, counter: str) -> int:
    """Advance the named counter and return its new value, safely under concurrent writers.

    One statement inserts the counter or increments it and returns the value,
    so two transactions never get the same number: the second waits for the
    first's row lock (PostgreSQL) or for the database's write lock (SQLite).
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(KeyCounter)
        .values(name=counter, value=1)
        .on_conflict_do_update(
            index_elements=[KeyCounter.name], set_={"value": KeyCounter.value + 1}
        )
        .returning(KeyCounter.value)
    )
    value = session.execute(statement).scalar_one()
    assert isinstance(value, int)
    return value


def _errors(
    draft: IntegrationDraft, systems: Collection[str], project_exists: ProjectExists
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for side, connector in zip(SIDES, draft.connectors, strict=True):
        system = connector.connection.resolved_system
        if draft.distributed and side == SIDES[1]:
            # The partner node runs this half; its project is not ours to check.
            errors |= distributed_errors(draft.connectors)
            continue
        side_errors = connection_errors(side, connector.connection, system, systems)
        if not side_errors and not project_exists(system, connector.project_key):
            side_errors[project_field(side)] = (
                f"There is no project with key '{connector.project_key}'."
            )
        errors |= side_errors | query_errors(side, system, connector.configuration)
    return errors


def check_draft(
    draft: IntegrationDraft,
    project_exists: ProjectExists,
    systems: Collection[str] | None = None,
) -> None:
    """What :func:`create_integration` refuses before it writes anything (a preview's check).

    Raises:
        InvalidInputError: the draft cannot work (fields named).
    """
    errors = _errors(draft, known_systems() if systems is None else systems, project_exists)
    if errors:
        raise InvalidInputError(INVALID, field_errors=errors)


def create_integration(
    session: Session,
    draft: IntegrationDraft,
    *,
    actor: Editor | str,
    secrets: SecretBox,
    project_exists: ProjectExists,
    places: QueuePlaces,
    systems: Collection[str] | None = None,
    proposal: ProposalOutcome | None = None,
    relation: bool = False,
) -> IntegrationView:
    """Create an integration and its two connectors; returns it as stored.

    ``proposal``: the mappings proposed from both schemas (``application/proposals.py``,
    read by the caller before its write transaction), used when the draft gives none
    on either side and stored with its reasons; when it could not be made, the defaults
    are stored and the integration says why.

    ``places`` says where file queues may be (``ISSUESYNC_QUEUE_ROOTS``). ``relation``:
    the integration is a relation's half, made by pairing (only it has ``http`` queues).
    ``systems`` are the tracker systems a connector may name: by default those
    with an installed adapter (``trackers/registry.py``). A built-in connector
    that names no sync user gets ``actor``, stored; one that names another user
    needs the right to (:class:`Editor`).

    Raises:
        InvalidInputError: the draft cannot work (fields named), a sync user included.
        PermissionDeniedError: ``actor`` may not name a built-in connector's sync user.
    """
    editor = Editor.of(actor)
    systems = known_systems() if systems is None else systems
    connectors = draft.connectors
    errors = _errors(draft, systems, project_exists)
    identities = (draft_identity(connectors[0]), draft_identity(connectors[1]))
    if not errors:
        errors |= same_project_errors(identities)
    if errors:
        raise InvalidInputError(INVALID, field_errors=errors)
    namings = {
        side: Naming(side, given_user(c.connection) or editor.name, c.connection)
        for side, c in zip(SIDES, connectors, strict=True)
        if c.connection.resolved_system == LOCAL and not (draft.distributed and side == SIDES[1])
    }
    check_namings(session, list(namings.values()), editor)
    # Taking the next number first locks the counter until commit: concurrent creations
    # queue here, so the duplicate check below sees every integration committed before.
    number = next_number(session, "integration")
    refuse_duplicate(session, identities, exclude_integration_id=None)
    key = f"INT-{number}"
    numbers = (next_number(session, "connector"), next_number(session, "connector"))
    keys = tuple(
        f"{connector_key_base(c.project_key)}-{n}" for c, n in zip(connectors, numbers, strict=True)
    )
    queues = resolve_queues(
        key,
        (keys[0], keys[1]),
        (connectors[0].queues, connectors[1].queues),
        places=places,
        distributed=draft.distributed,
    )
    if not relation and (refused := relation_queue_errors(None, queues)):
        raise InvalidInputError(INVALID, field_errors=refused)
    outcome = proposal if proposal is not None and wants_proposal(draft) else None
    if outcome is not None and outcome.proposal is not None:
        connectors = with_proposal(draft, outcome.proposal).connectors
    configurations = complete_configurations(
        connectors[0].configuration, connectors[1].configuration
    )

    now = now_ms()
    integration = IntegrationRow(
        number=number,
        key=key,
        summary=draft.summary or f"{connectors[0].project_key} <> {connectors[1].project_key}",
        description=draft.description or "",
        running=False,
        distributed=draft.distributed,
        created_user=editor.name,
        created_ms=now,
        modified_user=editor.name,
        modified_ms=now,
        proposal=record_text(outcome) if outcome is not None else None,
    )
    session.add(integration)
    session.flush()
    for index, connector in enumerate(connectors):
        settings = connector.queues or QueueSettings()
        send, receive = queues[index]
        row = ConnectorRow(
            integration_id=integration.id,
            position=index + 1,
            number=numbers[index],
            key=keys[index],
            project_key=connector.project_key,
            project_connector_key=SYNCINFO_PREFIX + str(uuid.uuid4()),
            send_queue=queue_text(send),
            receive_queue=queue_text(receive),
            initial_delay_ms=settings.initial_delay_ms,
            polling_interval_ms=settings.polling_interval_ms,
            configuration=configuration_text(configurations[index]),
            created_user=editor.name,
            created_ms=now,
            modified_user=editor.name,
            modified_ms=now,
        )
        naming = namings.get(SIDES[index])
        apply_connection(
            row, connector.connection, secrets, sync_user=naming.user if naming else None
        )
        if draft.distributed and index == 1:
            row.system = PARTNER_SYSTEM
        session.add(row)
        session.flush()
        session.add(ConnectorState(connector_id=row.id))
    session.flush()
    return integration_view(session, integration)
