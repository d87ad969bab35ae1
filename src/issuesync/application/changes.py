"""Changing an integration: its summary, connections, queues and configurations
(:func:`update_integration`), or only where its connectors connect (:func:`update_connection`).

What a change leaves out stays as it is. Project keys cannot change (the sync links belong
to them). Every function works in the caller's session; the caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.orm import Session

from issuesync.application.fields import SIDES, connection_field, project_field
from issuesync.application.lookup import get_integration, refuse_connection
from issuesync.application.monitoring import integration_view
from issuesync.application.queues import relation_queue_errors, resolve_queues
from issuesync.application.rules import (
    apply_connection,
    connection_errors,
    query_errors,
    refuse_duplicate,
    row_identity,
    same_project_errors,
    secrets_left_behind,
)
from issuesync.application.sync_users import (
    INVALID,
    Editor,
    changed_sync_user,
    check_namings,
)
from issuesync.domain.configuration import complete_configurations
from issuesync.domain.connection import LOCAL, QueueSettings, TrackerConnection
from issuesync.domain.integration import ConnectionChanges, IntegrationDraft, IntegrationView
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    QueuePlaces,
    configuration_text,
    connector_rows,
    load_configuration,
    load_queue,
    queue_text,
)
from issuesync.errors import InvalidInputError
from issuesync.security import SecretBox
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow
from issuesync.trackers.registry import known_systems


def _draft_errors(
    draft: IntegrationDraft, rows: tuple[ConnectorRow, ConnectorRow], systems: Collection[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for side, connector, row in zip(SIDES, draft.connectors, rows, strict=True):
        connection = connector.connection
        if connector.project_key != row.project_key:
            errors[project_field(side)] = (
                f"The project of {row.key} is {row.project_key}; it cannot be changed."
            )
        system = connection.resolved_system if "system" in connection.model_fields_set else None
        if row.system == PARTNER_SYSTEM:
            # The other node's half of a distributed integration: shown as it is stored,
            # and taken back unchanged (a round trip of GET and PUT).
            if system not in (None, PARTNER_SYSTEM):
                errors[connection_field(side, "system")] = (
                    "the partner node runs this connector: it stays 'partner'"
                )
            continue
        errors |= connection_errors(side, connection, system or row.system, systems)
        for name, problem in secrets_left_behind(row, connection).items():
            errors[f"{side}.connection.{name}"] = problem
        errors |= query_errors(side, system or row.system, connector.configuration)
    return errors


def update_integration(
    session: Session,
    key: str,
    draft: IntegrationDraft,
    actor: Editor | str,
    secrets: SecretBox,
    *,
    places: QueuePlaces,
    systems: Collection[str] | None = None,
) -> IntegrationView:
    """Change summary, description, connections, queues and configurations.

    What the draft leaves out stays as it is: a connection's fields, a
    password, token or proxy, the queues, a side's configuration. ``places`` and
    ``systems`` as for :func:`~issuesync.application.creation.create_integration`. A
    built-in connector's sync user is checked as on creation when it changes (a
    connector that becomes built-in included), and not when the draft leaves it as
    it is, whoever set it.

    Raises:
        InvalidInputError: the draft cannot work (fields named), a sync user included.
        PermissionDeniedError: ``actor`` may not name a built-in connector's sync user.
    """
    editor = Editor.of(actor)
    systems = known_systems() if systems is None else systems
    integration = get_integration(session, key)
    refuse_connection(session, integration)
    rows = connector_rows(session, integration.id)
    connectors = draft.connectors
    errors = _draft_errors(draft, rows, systems)
    if errors:
        raise InvalidInputError(INVALID, field_errors=errors)
    sync_users = [
        changed_sync_user(side, c.connection, row, editor)
        for side, c, row in zip(SIDES, connectors, rows, strict=True)
    ]
    check_namings(session, [n for n in sync_users if n is not None], editor)
    for connector, row, naming in zip(connectors, rows, sync_users, strict=True):
        apply_connection(
            row,
            connector.connection,
            secrets,
            merge=True,
            sync_user=naming.user if naming is not None else None,
        )
    identities = (row_identity(rows[0]), row_identity(rows[1]))
    errors = same_project_errors(identities)
    if errors:
        raise InvalidInputError(INVALID, field_errors=errors)
    refuse_duplicate(session, identities, exclude_integration_id=integration.id)

    given = (connectors[0].queues, connectors[1].queues)
    stored = tuple(
        QueueSettings(
            send_queue=load_queue(r.send_queue), receive_queue=load_queue(r.receive_queue)
        )
        for r in rows
    )
    queues = resolve_queues(
        integration.key,
        (rows[0].key, rows[1].key),
        given if any(given) else (stored[0], stored[1]),
        places=places,
        distributed=integration.distributed,
    )
    first, second = ((load_queue(r.send_queue), load_queue(r.receive_queue)) for r in rows)
    refused = relation_queue_errors((first, second), queues)
    if refused:
        raise InvalidInputError(INVALID, field_errors=refused)
    configurations = complete_configurations(
        connectors[0].configuration or load_configuration(rows[0].configuration),
        connectors[1].configuration or load_configuration(rows[1].configuration),
    )
    now = now_ms()
    if draft.summary is not None:
        integration.summary = draft.summary
    if draft.description is not None:
        integration.description = draft.description
    integration.modified_user, integration.modified_ms = editor.name, now
    for index, row in enumerate(rows):
        row.send_queue, row.receive_queue = (queue_text(q) for q in queues[index])
        settings = given[index]
        if settings is not None:
            row.initial_delay_ms = settings.initial_delay_ms
            row.polling_interval_ms = settings.polling_interval_ms
        row.configuration = configuration_text(configurations[index])
        row.modified_user, row.modified_ms = editor.name, now
    session.flush()
    return integration_view(session, integration)


def _merged(change: TrackerConnection) -> TrackerConnection:
    """A side's change as a connection that sets only what it gave, without the user's name
    (a change of the connection cannot change it) and the system, so a merge keeps the rest."""
    return TrackerConnection.model_validate(
        change.model_dump(exclude_unset=True, exclude={"user", "system"})
    )


def _connection_errors(
    changes: ConnectionChanges, rows: tuple[ConnectorRow, ConnectorRow]
) -> dict[str, str]:
    """What is wrong with the sides of a change of the connections, by field."""
    errors: dict[str, str] = {}
    for side, given, row in zip(SIDES, changes.sides, rows, strict=True):
        if given is None:
            continue
        if given.password is not None and given.token is not None:
            errors[f"{side}.token"] = "give the sync user's password or a token, not both"
        if row.system == PARTNER_SYSTEM and given.model_fields_set:
            errors[side] = f"{row.key} runs on the partner node; change its connection there"
        for name, problem in secrets_left_behind(row, _merged(given)).items():
            errors[f"{side}.{name}"] = problem
    if not any(changes.sides):
        errors[SIDES[0]] = "give a change of the first connector, the second or both"
    return errors


def update_connection(
    session: Session, key: str, changes: ConnectionChanges, actor: str, secrets: SecretBox
) -> list[str]:
    """Change base URLs, sync user secrets and proxies; returns notes for the caller.

    The sync user's name stays: a different one is not applied, and the returned
    notes say so. What a side leaves out stays as it is. The connectors' new version
    makes running engines take them up again with the new connection.
    """
    integration = get_integration(session, key)
    rows = connector_rows(session, integration.id)
    errors = _connection_errors(changes, rows)
    if errors:
        raise InvalidInputError("The connection is not valid.", field_errors=errors)
    now = now_ms()
    notes: list[str] = []
    for given, row in zip(changes.sides, rows, strict=True):
        if given is None:
            continue
        if given.user is not None and given.user != row.user:
            notes.append(
                f"The sync user of {row.key} stays '{row.user}': this request cannot change "
                "it (PUT /integrations/{key} can)."
            )
        if row.system == LOCAL and (given.password is not None or given.token is not None):
            notes.append(
                f"{row.key} is a built-in project: the engine works there as '{row.user}' "
                "without a secret, so the password or token given was not stored."
            )
        apply_connection(row, _merged(given), secrets, merge=True)
        row.modified_user, row.modified_ms = actor, now
    identities = (row_identity(rows[0]), row_identity(rows[1]))
    errors = same_project_errors(identities)
    if errors:
        raise InvalidInputError("The connection is not valid.", field_errors=errors)
    refuse_duplicate(session, identities, exclude_integration_id=integration.id)
    integration.modified_user, integration.modified_ms = actor, now
    session.flush()
    return notes
