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
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from issuesync.domain.integration import (
    Application,
    Configuration,
    ConnectionChange,
    ConnectionUpdate,
    ConnectorSpec,
    IntegrationSpec,
    QueueSettings,
    complete_configurations,
    connector_key_base,
)
from issuesync.domain.jql import parse_queries
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    SIDES,
    ConnectorConfig,
    QueuePlaces,
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
from issuesync.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    QueryError,
)
from issuesync.security import SecretBox
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, KeyCounter
from issuesync.store.users import User
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.credentials import ProxySettings
from issuesync.trackers.registry import known_systems

# The engine's view of connectors lives in ``engine/connectors.py``; it is
# re-exported here so that integrations and connectors are one import away.
__all__ = [
    "SYNCINFO_PREFIX",
    "ConnectorConfig",
    "Editor",
    "ProjectExists",
    "ProxySettings",
    "QueuePlaces",
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
        }.get(error["type"], error["msg"].removeprefix("Value error, "))
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


def project_checker(services: Services) -> ProjectExists:
    """``project_exists`` for this instance: the built-in tracker is asked, others trusted.

    The built-in tracker runs in this process, so its adapter tells at once
    whether the project is there (``describe``, as the administrator, who sees
    every project). A remote tracker's project can only be checked by its adapter
    when the connector connects; until then it is taken as given.
    """

    def exists(system: str, project_key: str) -> bool:
        if system != LOCAL:
            return True
        access = TrackerAccess(system, project_key, None, services.settings.admin_user, None)
        tracker = services.trackers(access)
        try:
            # By key, exactly: the tracker also finds a project by its id or in lower case.
            return tracker.describe().key == project_key
        except NotFoundError:
            return False
        finally:
            tracker.close()

    return exists


# --- who may name the sync user of a built-in connector --------------------------------------

LOCAL = "local"


@dataclass(frozen=True)
class Editor:
    """Who creates or changes an integration, as far as naming sync users goes.

    The engine writes to a built-in project as its connector's sync user, with
    that user's permissions; naming a user there is acting as them. So a system
    administrator (the CLI acts as one) may name any active user, and anyone
    else only themselves or a user in ``proven``: those whose password or API
    token the request gave and the surface checked (``api/backbone/access.py``,
    through the authenticator, so failed proofs count as failed logins). Remote
    trackers check their own users' credentials and are not concerned.
    """

    name: str
    is_admin: bool
    proven: frozenset[str] = frozenset()

    @classmethod
    def of(cls, actor: Editor | str) -> Editor:
        """``actor`` as an editor; a bare name stands for a system administrator (the CLI)."""
        return actor if isinstance(actor, Editor) else cls(actor, is_admin=True)


@dataclass(frozen=True)
class _Naming:
    """A built-in connector's sync user as a request sets it: who, and what proves it."""

    side: str
    user: str
    application: Application | None  # what the request gave for that side (its secret)
    changed: bool = True  # False: the stored user, repeated; not checked again


def _user_field(side: str) -> str:
    return f"{side}.connection.application.user"


def _sync_user_errors(session: Session, naming: _Naming, editor: Editor) -> dict[str, str]:
    """400s: the user must exist and be active (the caller too, when it is the default)."""
    user = session.scalar(select(User).where(User.name == naming.user))
    if user is not None and user.active:
        return {}
    named = naming.application is not None and bool(naming.application.user)
    if named or naming.user != editor.name:
        problem = f"there is no active user '{naming.user}' in the built-in tracker"
    else:
        problem = (
            f"is required: the sync user defaults to you, and '{naming.user}' is not an "
            "active user of the built-in tracker"
        )
    return {_user_field(naming.side): problem}


def _require_right_to_name(naming: _Naming, editor: Editor) -> None:
    """403 unless ``editor`` may make ``naming.user`` the sync user of a built-in connector."""
    if editor.is_admin or naming.user in {editor.name, *editor.proven}:
        return
    application = naming.application
    which = None
    if application is not None:
        which = "password" if application.password is not None else None
        which = "token" if application.token is not None else which
    base = f"{naming.side}.connection.application"
    if which is not None:
        raise PermissionDeniedError(
            f"The {which} given for the sync user '{naming.user}' is not valid.",
            field_errors={f"{base}.{which}": f"is not a valid {which} of user '{naming.user}'"},
        )
    raise PermissionDeniedError(
        f"The engine would act as '{naming.user}' in the built-in tracker: only a system "
        "administrator, or that user, may name them as a sync user; anyone else must give "
        "their password or an API token.",
        field_errors={
            _user_field(naming.side): f"give the password or an API token of '{naming.user}' "
            "(application.password or application.token), or name yourself"
        },
    )


def _check_namings(session: Session, namings: list[_Naming], editor: Editor) -> None:
    """400 for a user who cannot sync, then 403 for one the editor may not name."""
    changed = [naming for naming in namings if naming.changed]
    errors: dict[str, str] = {}
    for naming in changed:
        errors |= _sync_user_errors(session, naming, editor)
    if errors:
        raise InvalidInputError("The integration is not valid.", field_errors=errors)
    for naming in changed:
        _require_right_to_name(naming, editor)


def _given_user(application: Application) -> str | None:
    return application.user or None  # an empty name is no name


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
    actor: Editor | str,
    secrets: SecretBox,
    project_exists: ProjectExists,
    places: QueuePlaces,
    systems: Collection[str] | None = None,
) -> IntegrationRow:
    """Create an integration and its two connectors from a ``POST /integrations`` body.

    ``places`` says where file queues may be (``ISSUESYNC_QUEUE_ROOTS``).
    ``systems`` are the tracker systems a connector may name: by default those
    with an installed adapter (``trackers/registry.py``). A built-in connector
    that names no sync user gets ``actor``, stored; one that names another user
    needs the right to (:class:`Editor`).

    Raises:
        InvalidInputError: the body cannot work (fields named), a sync user included.
        PermissionDeniedError: ``actor`` may not name a built-in connector's sync user.
    """
    editor = Editor.of(actor)
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
    namings = {
        side: _Naming(
            side, _given_user(c.connection.application) or editor.name, c.connection.application
        )
        for side, c in zip(SIDES, specs, strict=True)
        if c.connection.application.resolved_system == LOCAL
        and not (spec.distributed and side == SIDES[1])
    }
    _check_namings(session, list(namings.values()), editor)
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
        places=places,
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
        created_user=editor.name,
        created_ms=now,
        modified_user=editor.name,
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
            created_user=editor.name,
            created_ms=now,
            modified_user=editor.name,
            modified_ms=now,
        )
        naming = namings.get(SIDES[index])
        _apply_application(row, application, secrets, sync_user=naming.user if naming else None)
        if spec.distributed and position == len(specs):
            row.system = PARTNER_SYSTEM
        session.add(row)
        session.flush()
        session.add(ConnectorState(connector_id=row.id))
    session.flush()
    return integration


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


SECRET_FIELD = "password"  # noqa: S105 - the name of a field, not a secret


def _place(url: str | None) -> str:
    """A URL as the place a secret is sent to: scheme, host, port and path, any case."""
    return (url or "").strip().rstrip("/").lower()


def _secrets_left_behind(row: ConnectorRow, application: Application) -> dict[str, str]:
    """The secrets a change of where a connector connects would send to a new place.

    A stored password, token or proxy password is sent only where it was given
    for: a body that moves the connector to another tracker (``system``,
    ``baseUrl``) or another proxy must give that secret again (as seed 001's
    ``applicationConnection`` examples do), or whoever may edit the connection
    could point it at a server of theirs and receive the stored secret. A new
    proxy in front of a plain-http tracker would see the tracker's secret too.
    Keys are the fields to give, relative to the application.
    """
    given = application.model_fields_set
    system = application.resolved_system if "system" in given else row.system
    if LOCAL in (row.system, system):  # a built-in connector uses no secret, and keeps none
        return {}
    base_url = application.base_url if "base_url" in given else row.base_url
    new_secret = application.password is not None or application.token is not None
    moved = system != row.system or _place(base_url) != _place(row.base_url)
    proxy = application.proxy
    new_proxy = proxy is not None and _place(proxy.proxy_uri) != _place(row.proxy_uri)
    missing: dict[str, str] = {}
    if row.secret is not None and not new_secret:
        if moved:
            missing[SECRET_FIELD] = (
                "give the sync user's password or token again with the new tracker address: "
                "a stored secret is sent only to the tracker it was given for"
            )
        elif new_proxy and _place(base_url).startswith("http://"):
            missing[SECRET_FIELD] = (
                "give the sync user's password or token again with the new proxy: the tracker "
                "is reached over plain http, so the proxy would see the stored secret"
            )
    if new_proxy and row.proxy_secret is not None and proxy is not None and proxy.password is None:
        missing["proxy.password"] = (
            "give the proxy's password again with the new proxyUri: a stored proxy password "
            "is sent only to the proxy it was given for"
        )
    return missing


def _apply_application(
    row: ConnectorRow,
    application: Application,
    secrets: SecretBox,
    *,
    merge: bool = False,
    sync_user: str | None = None,
) -> None:
    """Copy the connection onto the row.

    With ``merge``, only what the body gave changes. A secret left out always
    keeps the stored one. A built-in connector stores no new secret: the engine
    runs in-process as ``sync_user`` (checked by the caller), and a password or
    token given only proved who that is; one kept from a remote past is dropped.
    """
    given = application.model_fields_set
    if not merge or "system" in given:
        row.system = application.resolved_system
    if not merge or "base_url" in given:
        row.base_url = application.base_url
    if not merge or "user" in given:
        row.user = application.user
    if row.system == LOCAL:
        if sync_user is not None:
            row.user = sync_user
        row.secret = None  # the engine works in-process as the user: no secret to keep
    elif application.password is not None:
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
    actor: Editor | str,
    secrets: SecretBox,
    *,
    places: QueuePlaces,
    systems: Collection[str] | None = None,
) -> IntegrationRow:
    """Change summary, description, connections, queues and configurations.

    What the body leaves out stays as it is: a connection's fields, a
    password, token or proxy, the queues, a side's configuration. Project keys
    cannot change (the sync information belongs to them). ``places`` and
    ``systems`` as for :func:`create_integration`. A built-in connector's sync
    user is checked as on creation when it changes (a connector that becomes
    built-in included), and not when the body leaves it as it is, whoever set it.

    Raises:
        InvalidInputError: the body cannot work (fields named), a sync user included.
        PermissionDeniedError: ``actor`` may not name a built-in connector's sync user.
    """
    editor = Editor.of(actor)
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
        for name, problem in _secrets_left_behind(row, application).items():
            errors[f"{side}.connection.application.{name}"] = problem
        errors |= _query_errors(side, system or row.system, connector.configuration)
    if errors:
        raise InvalidInputError("The integration is not valid.", field_errors=errors)
    sync_users = [
        _changed_sync_user(side, c.connection.application, row, editor)
        for side, c, row in zip(SIDES, specs, rows, strict=True)
    ]
    _check_namings(session, [n for n in sync_users if n is not None], editor)
    for connector, row, naming in zip(specs, rows, sync_users, strict=True):
        _apply_application(
            row,
            connector.connection.application,
            secrets,
            merge=True,
            sync_user=naming.user if naming is not None else None,
        )
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
        places=places,
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
    integration.modified_user, integration.modified_ms = editor.name, now
    for index, row in enumerate(rows):
        row.send_queue, row.receive_queue = (queue_text(q) for q in queues[index])
        settings = given[index]
        if settings is not None:
            row.initial_delay_ms = settings.initial_internal_polling_delay
            row.polling_interval_ms = settings.internal_polling_interval
        row.configuration = configurations[index].model_dump_json(by_alias=True)
        row.modified_user, row.modified_ms = editor.name, now
    session.flush()
    return integration


def _changed_sync_user(
    side: str, application: Application, row: ConnectorRow, editor: Editor
) -> _Naming | None:
    """The built-in sync user an update stores; None when it leaves the stored one alone.

    A body that leaves a built-in connector's user out keeps it, and one that
    repeats it is not checked again, whoever set it; one that names nobody, or
    turns a remote connector into a built-in one without a user, sets the
    editor, as a creation would.
    """
    given = application.model_fields_set
    system = application.resolved_system if "system" in given else row.system
    if system != LOCAL or row.system == PARTNER_SYSTEM:
        return None
    if row.system == LOCAL and "user" not in given:
        return None
    user = _given_user(application) or editor.name
    return _Naming(side, user, application, changed=row.system != LOCAL or user != row.user)


def _application_of(change: ConnectionChange) -> Application:
    """A side of ``applicationConnection`` as an application that sets only what it gave
    (the user's name stays: this request cannot change it), so a merge keeps the rest."""
    return Application.model_validate(
        change.model_dump(by_alias=True, exclude_unset=True, exclude={"user"})
    )


def _connection_errors(
    sides: tuple[ConnectionChange | None, ConnectionChange | None],
    rows: tuple[ConnectorRow, ConnectorRow],
) -> dict[str, str]:
    """What is wrong with the sides of an ``applicationConnection`` body, by field."""
    errors: dict[str, str] = {}
    for side, given, row in zip(SIDES, sides, rows, strict=True):
        if given is None:
            continue
        if given.password is not None and given.token is not None:
            errors[f"{side}.token"] = "give the sync user's password or a token, not both"
        if row.system == PARTNER_SYSTEM and given.model_fields_set:
            errors[side] = f"{row.key} runs on the partner node; change its connection there"
        for name, problem in _secrets_left_behind(row, _application_of(given)).items():
            errors[f"{side}.{name}"] = problem
    if not any(sides):
        errors["firstConnector"] = "give firstConnector, secondConnector or both"
    return errors


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
    errors = _connection_errors(sides, rows)
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
        if row.system == LOCAL and (given.password is not None or given.token is not None):
            notes.append(
                f"{row.key} is a built-in project: the engine works there as '{row.user}' "
                "without a secret, so the password or token given was not stored."
            )
        _apply_application(row, _application_of(given), secrets, merge=True)
        row.modified_user, row.modified_ms = actor, now
    identities = (_row_identity(rows[0]), _row_identity(rows[1]))
    errors = _same_project_errors(identities)
    if errors:
        raise InvalidInputError("The connection is not valid.", field_errors=errors)
    _refuse_duplicate(session, identities, exclude_integration_id=integration.id)
    integration.modified_user, integration.modified_ms = actor, now
    session.flush()
    return integration, notes
