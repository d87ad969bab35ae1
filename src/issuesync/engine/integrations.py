"""Integrations and their connectors: create, read, update, start, stop, delete (seed 001).

Every function works in the caller's session; the caller's unit of work
commits. Secrets (the sync user's password or token, the proxy password) are
encrypted before they reach a row and are read back only by
:func:`connector_secret` and :func:`connector_proxy`.

Keys: an integration is ``INT-n``; a connector is ``<PROJECT>-n`` with ``n``
from one counter shared by all connectors, as Backbone numbers them (seed 001:
``INT-3`` has ``PA-4`` and ``PB-5``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuesync.domain.integration import (
    Application,
    Configuration,
    ConnectionUpdate,
    ConnectorSpec,
    IntegrationSpec,
    QueueSettings,
    complete_configurations,
    connector_key_base,
)
from issuesync.domain.jql import parse_queries
from issuesync.engine.connectors import (
    SIDES,
    ConnectorConfig,
    ProxySettings,
    connector_by_key,
    connector_configs,
    connector_proxy,
    connector_row_by_key,
    connector_rows,
    connector_secret,
    load_configuration,
    load_queue,
    queue_text,
    resolve_queues,
    seal_secret,
)
from issuesync.errors import ConflictError, InvalidInputError, NotFoundError, QueryError
from issuesync.security import SecretBox
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, KeyCounter
from issuesync.trackers.local.models import Project
from issuesync.trackers.registry import known_systems

# The engine's view of connectors lives in ``engine/connectors.py``; it is
# re-exported here so that integrations and connectors are one import away.
__all__ = [
    "SYNCINFO_PREFIX",
    "ConnectorConfig",
    "ProjectExists",
    "ProxySettings",
    "connector_by_key",
    "connector_configs",
    "connector_proxy",
    "connector_row_by_key",
    "connector_rows",
    "connector_secret",
    "create_integration",
    "delete_integration",
    "get_integration",
    "list_integrations",
    "load_configuration",
    "load_queue",
    "next_number",
    "parse_integration_spec",
    "project_checker",
    "set_running",
    "update_connection",
    "update_integration",
    "validation_field_errors",
]

SYNCINFO_PREFIX = "k15t.backbone.syncinfo."

ProjectExists = Callable[[str, str], bool]


# --- input -----------------------------------------------------------------------------------


def validation_field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors keyed by the dotted path of the field, in the body's own names."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        path = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
        ).lstrip(".")
        message = {
            "extra_forbidden": "is not a known field",
            "missing": "is required",
        }.get(error["type"], error["msg"])
        errors.setdefault(path or "body", message)
    return errors


def parse_integration_spec(body: object) -> IntegrationSpec:
    """The body of ``POST``/``PUT /integrations`` as a spec; a wrong body names its fields."""
    if not isinstance(body, dict):
        raise InvalidInputError("The body must be a JSON object describing an integration.")
    try:
        return IntegrationSpec.model_validate(body)
    except ValidationError as exc:
        raise InvalidInputError(
            "The integration is not valid.", field_errors=validation_field_errors(exc)
        ) from exc


def project_checker(session: Session) -> ProjectExists:
    """``project_exists`` for this instance: local projects are looked up, others trusted.

    A remote tracker's project can only be checked by its adapter when the
    connector connects; until then it is taken as given.
    """

    def exists(system: str, project_key: str) -> bool:
        if system != "local":
            return True
        found = session.scalar(select(Project.id).where(Project.key == project_key))
        return found is not None

    return exists


# --- keys ------------------------------------------------------------------------------------


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


# --- create ----------------------------------------------------------------------------------


def create_integration(
    session: Session,
    spec: IntegrationSpec,
    *,
    actor: str,
    secrets: SecretBox,
    project_exists: ProjectExists,
    systems: Collection[str] | None = None,
) -> IntegrationRow:
    """Create an integration and its two connectors from a ``POST /integrations`` body.

    ``systems`` are the tracker systems a connector may name: by default those
    with an installed adapter (``trackers/registry.py``).
    """
    systems = known_systems() if systems is None else systems
    specs = (spec.first_connector, spec.second_connector)
    errors: dict[str, str] = {}
    for side, connector in zip(SIDES, specs, strict=True):
        application = connector.connection.application
        system = application.resolved_system
        if spec.distributed and side == SIDES[1]:
            # The partner node runs this half; its project is not ours to check.
            errors |= _distributed_errors(specs)
            continue
        side_errors = _application_errors(side, application, system, systems)
        if not side_errors and not project_exists(system, connector.project_key):
            side_errors[f"{side}.projectKey"] = (
                f"There is no project with key '{connector.project_key}'."
            )
        errors |= side_errors | _query_errors(side, system, connector.configuration)
    identities = (_spec_identity(specs[0]), _spec_identity(specs[1]))
    if not errors:
        errors |= _same_project_errors(identities)
    if errors:
        raise InvalidInputError("The integration is not valid.", field_errors=errors)
    # Taking the next number first locks the counter until commit: concurrent creations
    # queue here, so the duplicate check below sees every integration committed before.
    number = next_number(session, "integration")
    _refuse_duplicate(session, identities, exclude_integration_id=None)
    key = f"INT-{number}"
    numbers = (next_number(session, "connector"), next_number(session, "connector"))
    keys = tuple(
        f"{connector_key_base(s.project_key)}-{n}" for s, n in zip(specs, numbers, strict=True)
    )
    queues = resolve_queues(
        key,
        (keys[0], keys[1]),
        (specs[0].connection.connector, specs[1].connection.connector),
        distributed=spec.distributed,
    )
    configurations = complete_configurations(specs[0].configuration, specs[1].configuration)

    now = now_ms()
    integration = IntegrationRow(
        number=number,
        key=key,
        summary=spec.summary or f"{specs[0].project_key} <> {specs[1].project_key}",
        description=spec.description or "",
        running=False,
        distributed=spec.distributed,
        created_user=actor,
        created_ms=now,
        modified_user=actor,
        modified_ms=now,
    )
    session.add(integration)
    session.flush()
    for position, connector in enumerate(specs, start=1):
        index = position - 1
        application = connector.connection.application
        settings = connector.connection.connector or QueueSettings()
        send, receive = queues[index]
        row = ConnectorRow(
            integration_id=integration.id,
            position=position,
            number=numbers[index],
            key=keys[index],
            project_key=connector.project_key,
            project_connector_key=SYNCINFO_PREFIX + str(uuid.uuid4()),
            send_queue=queue_text(send),
            receive_queue=queue_text(receive),
            initial_delay_ms=settings.initial_internal_polling_delay,
            polling_interval_ms=settings.internal_polling_interval,
            configuration=configurations[index].model_dump_json(by_alias=True),
            created_user=actor,
            created_ms=now,
            modified_user=actor,
            modified_ms=now,
        )
        _apply_application(row, application, secrets)
        if spec.distributed and position == len(specs):
            row.system = PARTNER_SYSTEM
        session.add(row)
        session.flush()
        session.add(ConnectorState(connector_id=row.id))
    session.flush()
    return integration


PARTNER_SYSTEM = "partner"


def _distributed_errors(specs: tuple[ConnectorSpec, ConnectorSpec]) -> dict[str, str]:
    """A distributed integration exchanges files with its partner node: both queues are files."""
    settings = specs[0].connection.connector
    queues = (settings.send_queue, settings.receive_queue) if settings else (None, None)
    if all(queue is not None and queue.type == "file" for queue in queues):
        return {}
    return {
        "firstConnector.connection.connector": (
            "a distributed integration needs file queues: sendQueue and receiveQueue "
            "with '@type': 'file' and the folders shared with the partner node"
        )
    }


def _application_errors(
    side: str, application: Application, system: str, systems: Collection[str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if system not in systems:
        errors[f"{side}.connection.application.system"] = (
            f"'{system}' is not a known tracker; the installed tracker adapters are: "
            f"{', '.join(sorted(systems))}"
        )
    if application.password is not None and application.token is not None:
        errors[f"{side}.connection.application.token"] = (
            "give the sync user's password or a token, not both"
        )
    return errors


def _query_errors(side: str, system: str, configuration: Configuration | None) -> dict[str, str]:
    """The built-in tracker runs a connector's outgoing queries as JQL: they must parse and,
    together, stay within JQL's limits (``domain/jql/limits.py``), as when they run."""
    if system != "local" or configuration is None:
        return {}
    try:
        parse_queries(configuration.sync.outgoing_jqls)
    except QueryError as exc:
        return {f"{side}.configuration.sync.outgoingJqls": exc.message}
    return {}


Identity = tuple[str, str, str]


def _identity(system: str, base_url: str | None, project_key: str) -> Identity:
    """What makes two connectors the same project: tracker, its base URL, project key."""
    url = "" if system == "local" else (base_url or "").rstrip("/").lower()
    return system, url, project_key


def _spec_identity(connector: ConnectorSpec) -> Identity:
    application = connector.connection.application
    return _identity(application.resolved_system, application.base_url, connector.project_key)


def _row_identity(row: ConnectorRow) -> Identity:
    return _identity(row.system, row.base_url, row.project_key)


def _same_project_errors(identities: tuple[Identity, Identity]) -> dict[str, str]:
    if identities[0] != identities[1]:
        return {}
    return {
        "secondConnector.projectKey": (
            "An integration needs two different projects; both connectors name "
            f"'{identities[0][2]}' of the same tracker."
        )
    }


def _refuse_duplicate(
    session: Session,
    identities: tuple[Identity, Identity],
    *,
    exclude_integration_id: int | None,
) -> None:
    """ConflictError when another integration already syncs the same two projects."""
    wanted = set(identities)
    keys = [identity[2] for identity in identities]
    found: dict[int, set[Identity]] = {}
    for row in session.scalars(select(ConnectorRow).where(ConnectorRow.project_key.in_(keys))):
        if row.integration_id != exclude_integration_id:
            found.setdefault(row.integration_id, set()).add(_row_identity(row))
    for integration_id, existing in found.items():
        if existing == wanted:
            other = session.get_one(IntegrationRow, integration_id)
            raise ConflictError(
                f"The projects {keys[0]} and {keys[1]} are already synchronized by {other.key}."
            )


def _apply_application(
    row: ConnectorRow, application: Application, secrets: SecretBox, *, merge: bool = False
) -> None:
    """Copy the connection onto the row.

    With ``merge``, only what the body gave changes. A secret left out always
    keeps the stored one.
    """
    given = application.model_fields_set
    if not merge or "system" in given:
        row.system = application.resolved_system
    if not merge or "base_url" in given:
        row.base_url = application.base_url
    if not merge or "user" in given:
        row.user = application.user
    if application.password is not None:
        row.secret = seal_secret(secrets, "password", application.password.get_secret_value())
    elif application.token is not None:
        row.secret = seal_secret(secrets, "token", application.token.get_secret_value())
    proxy = application.proxy
    if proxy is not None:
        row.proxy_uri = proxy.proxy_uri
        row.proxy_user = proxy.username
        if proxy.password is not None:
            row.proxy_secret = secrets.encrypt(proxy.password.get_secret_value())


# --- read, start, stop, delete ---------------------------------------------------------------


def list_integrations(session: Session, project_key: str | None = None) -> list[IntegrationRow]:
    """Every integration, oldest first; with ``project_key``, those that sync that project."""
    query = select(IntegrationRow).order_by(IntegrationRow.number)
    if project_key:
        query = query.where(
            IntegrationRow.id.in_(
                select(ConnectorRow.integration_id).where(
                    ConnectorRow.project_key == project_key.upper()
                )
            )
        )
    return list(session.scalars(query))


def get_integration(session: Session, key: str) -> IntegrationRow:
    """The integration with this key (``INT-n``), or NotFoundError."""
    row = session.scalar(select(IntegrationRow).where(IntegrationRow.key == key.upper()))
    if row is None:
        raise NotFoundError(f"No integration with key {key}.")
    return row


def set_running(session: Session, key: str, running: bool, actor: str) -> IntegrationRow:
    """Mark the integration as wanted running (or stopped); the workers follow."""
    row = get_integration(session, key)
    if row.running != running:
        row.running = running
        row.modified_user = actor
        row.modified_ms = now_ms()
    session.flush()
    return row


def delete_integration(session: Session, key: str) -> None:
    """Delete the integration; its connectors, state, messages and sync information go too."""
    row = get_integration(session, key)
    # The foreign keys cascade (SQLite runs with foreign_keys=ON).
    session.execute(delete(IntegrationRow).where(IntegrationRow.id == row.id))
    session.expunge(row)


# --- update ----------------------------------------------------------------------------------


def update_integration(
    session: Session,
    key: str,
    spec: IntegrationSpec,
    actor: str,
    secrets: SecretBox,
    *,
    systems: Collection[str] | None = None,
) -> IntegrationRow:
    """Change summary, description, connections, queues and configurations.

    What the body leaves out stays as it is: a connection's fields, a
    password, token or proxy, the queues, a side's configuration. Project keys
    cannot change (the sync information belongs to them). ``systems`` as for
    :func:`create_integration`.
    """
    systems = known_systems() if systems is None else systems
    integration = get_integration(session, key)
    rows = connector_rows(session, integration.id)
    specs = (spec.first_connector, spec.second_connector)
    errors: dict[str, str] = {}
    for side, connector, row in zip(SIDES, specs, rows, strict=True):
        application = connector.connection.application
        if connector.project_key != row.project_key:
            errors[f"{side}.projectKey"] = (
                f"The project of {row.key} is {row.project_key}; it cannot be changed."
            )
        system = application.resolved_system if "system" in application.model_fields_set else None
        errors |= _application_errors(side, application, system or row.system, systems)
        errors |= _query_errors(side, system or row.system, connector.configuration)
    if errors:
        raise InvalidInputError("The integration is not valid.", field_errors=errors)
    for connector, row in zip(specs, rows, strict=True):
        _apply_application(row, connector.connection.application, secrets, merge=True)
    identities = (_row_identity(rows[0]), _row_identity(rows[1]))
    errors = _same_project_errors(identities)
    if errors:
        raise InvalidInputError("The integration is not valid.", field_errors=errors)
    _refuse_duplicate(session, identities, exclude_integration_id=integration.id)

    given = (specs[0].connection.connector, specs[1].connection.connector)
    stored = tuple(
        QueueSettings.model_validate(
            {"sendQueue": json.loads(r.send_queue), "receiveQueue": json.loads(r.receive_queue)}
        )
        for r in rows
    )
    queues = resolve_queues(
        integration.key,
        (rows[0].key, rows[1].key),
        given if any(given) else (stored[0], stored[1]),
        distributed=integration.distributed,
    )
    configurations = complete_configurations(
        specs[0].configuration or load_configuration(rows[0].configuration),
        specs[1].configuration or load_configuration(rows[1].configuration),
    )
    now = now_ms()
    if spec.summary is not None:
        integration.summary = spec.summary
    if spec.description is not None:
        integration.description = spec.description
    integration.modified_user, integration.modified_ms = actor, now
    for index, row in enumerate(rows):
        row.send_queue, row.receive_queue = (queue_text(q) for q in queues[index])
        settings = given[index]
        if settings is not None:
            row.initial_delay_ms = settings.initial_internal_polling_delay
            row.polling_interval_ms = settings.internal_polling_interval
        row.configuration = configurations[index].model_dump_json(by_alias=True)
        row.modified_user, row.modified_ms = actor, now
    session.flush()
    return integration


def update_connection(
    session: Session, key: str, change: ConnectionUpdate, actor: str, secrets: SecretBox
) -> tuple[IntegrationRow, list[str]]:
    """Change base URLs, sync user secrets and proxies (seed 001's ``applicationConnection``).

    The sync user's name stays, as in Backbone: a different one is not applied,
    and the returned notes say so (seed 001's examples send the name along). What
    a side leaves out stays as it is. The connectors' new version makes running
    engines take them up again with the new connection.
    """
    integration = get_integration(session, key)
    rows = connector_rows(session, integration.id)
    sides = (change.first_connector, change.second_connector)
    errors: dict[str, str] = {}
    for side, given, row in zip(SIDES, sides, rows, strict=True):
        if given is None:
            continue
        if given.password is not None and given.token is not None:
            errors[f"{side}.token"] = "give the sync user's password or a token, not both"
        if row.system == PARTNER_SYSTEM and given.model_fields_set:
            errors[side] = f"{row.key} runs on the partner node; change its connection there"
    if not any(sides):
        errors["firstConnector"] = "give firstConnector, secondConnector or both"
    if errors:
        raise InvalidInputError("The connection is not valid.", field_errors=errors)
    now = now_ms()
    notes: list[str] = []
    for given, row in zip(sides, rows, strict=True):
        if given is None:
            continue
        if given.user is not None and given.user != row.user:
            notes.append(
                f"The sync user of {row.key} stays '{row.user}': this request cannot change "
                "it (PUT /integrations/{key} can)."
            )
        # Only what the side gave is set, so the merge keeps everything else.
        application = Application.model_validate(
            given.model_dump(by_alias=True, exclude_unset=True, exclude={"user"})
        )
        _apply_application(row, application, secrets, merge=True)
        row.modified_user, row.modified_ms = actor, now
    identities = (_row_identity(rows[0]), _row_identity(rows[1]))
    errors = _same_project_errors(identities)
    if errors:
        raise InvalidInputError("The connection is not valid.", field_errors=errors)
    _refuse_duplicate(session, identities, exclude_integration_id=integration.id)
    integration.modified_user, integration.modified_ms = actor, now
    session.flush()
    return integration, notes
