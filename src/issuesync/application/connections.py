"""Tracker servers and connections run by jobs: create, read, change, delete, run, test.

A connection is an integration between a built-in project (first connector) and a project
of a tracker reached through a stored tracker server (second connector), which the
continuous engine never runs (it is not started): jobs run it (``engine/runtime/jobs.py``).
Its configuration is written here from the connection's settings and the mappings proposed
from both schemas (``application/proposals.py``):

- the project's summary (through the title format), description and priority go to the
  tracker, one way; the status goes both ways; the tracker's other changes stay there;
- only issues in scope (statuses, minimum priority) are created in the tracker, under
  the parent issue when one is set; the tracker creates nothing in the project;
- a status both sides changed since the last job: the conflict policy's side wins.

Who may do what: any user sees connections, without their settings; an administrator,
or an administrator of the connection's project, sees and changes them; only
administrators manage tracker servers, whose secret no one reads back.

Every function that writes works in the caller's session; the caller commits.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Final

from pydantic import SecretStr
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuesync.application.changes import update_connection
from issuesync.application.creation import create_integration
from issuesync.application.lookup import delete_integration
from issuesync.application.proposals import ProposalOutcome, propose_for_draft, with_proposal
from issuesync.application.rules import project_checker
from issuesync.application.sync_users import Editor
from issuesync.domain.configuration import (
    Configuration,
    ConflictWinner,
    Direction,
    FieldMapping,
    NewIssues,
    template_problem,
)
from issuesync.domain.connection import LOCAL, TrackerConnection
from issuesync.domain.integration import ConnectionChanges, ConnectorDraft, IntegrationDraft
from issuesync.domain.schedule import Frequency
from issuesync.domain.scheduled import (
    ConflictPolicy,
    ConnectionDraft,
    ConnectionSettings,
    TrackerServer,
    priorities_at_or_above,
)
from issuesync.engine.connectors import configuration_text, connector_rows, load_configuration
from issuesync.engine.runtime.jobs import QUEUED, RUNNING
from issuesync.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from issuesync.security import SecretBox
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.connections import ConnectionRow, JobRow, TrackerConnectorRow
from issuesync.store.principals import Principal
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import ConnectionCheck
from issuesync.trackers.local.models import Priority, Project
from issuesync.trackers.registry import known_systems

TEST_DEADLINE_S: Final = 10.0
# The fields a connection sends to the tracker, one way (the status goes both ways).
SENT_FIELDS: Final = ("summary", "description", "priority")
JOBS_SHOWN: Final = 100


# -- what the surfaces show --------------------------------------------------------------------


@dataclass(frozen=True)
class TrackerServerView:
    """A tracker server without its secret (``has_secret`` says whether one is stored)."""

    id: int
    name: str
    system: str
    server: str
    method: str
    validate_cert: bool
    auth_mode: str
    user: str | None
    has_secret: bool


@dataclass(frozen=True)
class JobView:
    """One job of a connection."""

    id: int
    state: str
    automatic: bool
    triggered_by: int | None
    user_id: int | None
    queued_ms: int
    started_ms: int | None
    finished_ms: int | None
    succeeded: bool | None
    result_message: str

    @property
    def ready(self) -> bool:
        """Whether the job has ended."""
        return self.state not in (QUEUED, RUNNING)


@dataclass(frozen=True)
class ConnectionView:
    """A connection as the surfaces show it; ``settings`` None for a caller who may not
    edit it (SD Elements shows params only to them)."""

    id: int
    alias: str
    system: str
    frequency: Frequency
    debug_mode: bool
    project_id: int
    project_key: str
    project_name: str
    tracker_server: TrackerServerView
    settings: ConnectionSettings | None
    integration_key: str
    inaccessible: bool
    in_progress: bool
    last_successful_ms: int | None
    next_run_ms: int | None
    last_job: JobView | None


# -- tracker servers -----------------------------------------------------------------------


# A tracker server's columns as a draft and a view name them (the secret apart).
_SERVER_COLUMNS: Final = (
    "name",
    "system",
    "server",
    "method",
    "validate_cert",
    "auth_mode",
    "user",
)


def _server_columns(row: TrackerConnectorRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in _SERVER_COLUMNS}


def _server_view(row: TrackerConnectorRow) -> TrackerServerView:
    return TrackerServerView(id=row.id, has_secret=bool(row.secret), **_server_columns(row))  # type: ignore[arg-type]


def _system_errors(system: str) -> dict[str, str]:
    systems = sorted(s for s in known_systems() if s != LOCAL)
    if system not in systems:
        return {"system": f"Unknown system '{system}': use one of {', '.join(systems)}."}
    return {}


def list_tracker_servers(session: Session, principal: Principal) -> list[TrackerServerView]:
    """Every tracker server, for a caller who may edit some connection."""
    _require_some_admin(principal)
    rows = session.scalars(select(TrackerConnectorRow).order_by(TrackerConnectorRow.id))
    return [_server_view(row) for row in rows]


def get_tracker_server(session: Session, server_id: int, principal: Principal) -> TrackerServerView:
    """One tracker server (404 when there is none)."""
    _require_some_admin(principal)
    return _server_view(_server_row(session, server_id))


def create_tracker_server(
    session: Session, draft: TrackerServer, principal: Principal, secrets: SecretBox
) -> TrackerServerView:
    """Store a tracker server (administrators only)."""
    principal.require_admin()
    errors = _system_errors(draft.system) | _secret_errors(draft)
    if errors:
        raise InvalidInputError("The tracker connector is not valid.", field_errors=errors)
    _refuse_taken_name(session, draft.name, None)
    now = now_ms()
    row = TrackerConnectorRow(
        name=draft.name,
        system=draft.system,
        server=draft.server,
        method=draft.method,
        validate_cert=draft.validate_cert,
        auth_mode=draft.auth_mode,
        user=draft.user,
        secret=secrets.encrypt(draft.secret.get_secret_value()) if draft.secret else None,
        created_user=principal.name,
        created_ms=now,
        modified_ms=now,
    )
    session.add(row)
    session.flush()
    return _server_view(row)


def update_tracker_server(
    session: Session,
    server_id: int,
    changes: dict[str, object],
    principal: Principal,
    secrets: SecretBox,
) -> TrackerServerView:
    """Change a tracker server; what ``changes`` leaves out stays (its secret too). The
    connections that use it connect the new way from their next job."""
    principal.require_admin()
    row = _server_row(session, server_id)
    current = _server_draft(row)
    merged = TrackerServer.model_validate(current.model_dump(exclude={"secret"}) | dict(changes))
    secret = merged.secret if "secret" in changes else None
    errors = _system_errors(merged.system)
    if errors:
        raise InvalidInputError("The tracker connector is not valid.", field_errors=errors)
    if merged.name != row.name:
        _refuse_taken_name(session, merged.name, row.id)
    row.name, row.system, row.server = merged.name, merged.system, merged.server
    row.method, row.validate_cert = merged.method, merged.validate_cert
    row.auth_mode, row.user = merged.auth_mode, merged.user
    if secret is not None:
        row.secret = secrets.encrypt(secret.get_secret_value())
    row.modified_ms = now_ms()
    for connection in session.scalars(
        select(ConnectionRow).where(ConnectionRow.tracker_connector_id == row.id)
    ):
        integration = session.get(IntegrationRow, connection.integration_id)
        if integration is None:
            continue
        tracker = connector_rows(session, integration.id)[1]
        tracker.system = row.system
        update_connection(
            session,
            integration.key,
            ConnectionChanges(second=_tracker_connection(row, secrets)),
            principal.name,
            secrets,
        )
    session.flush()
    return _server_view(row)


def delete_tracker_server(session: Session, server_id: int, principal: Principal) -> None:
    """Delete a tracker server no connection uses (409 while one does)."""
    principal.require_admin()
    row = _server_row(session, server_id)
    used = session.scalars(
        select(ConnectionRow.id).where(ConnectionRow.tracker_connector_id == row.id)
    ).all()
    if used:
        raise ConflictError(
            f"Connections {', '.join(map(str, used))} use this tracker connector: "
            "delete them or move them to another connector first."
        )
    session.delete(row)
    session.flush()


def stored_tracker_server(
    session: Session, server_id: int, principal: Principal, secrets: SecretBox
) -> TrackerServer:
    """A tracker server with its secret, for a connection test on it or to compare a secret a
    request repeats (never to show: no surface renders a :class:`TrackerServer`'s secret)."""
    _require_some_admin(principal)
    row = _server_row(session, server_id)
    return _server_draft(row).model_copy(update={"secret": _secret(row, secrets)})


def _server_row(session: Session, server_id: int) -> TrackerConnectorRow:
    row = session.get(TrackerConnectorRow, server_id)
    if row is None:
        raise NotFoundError(f"There is no tracker connector with id {server_id}.")
    return row


def _server_draft(row: TrackerConnectorRow) -> TrackerServer:
    return TrackerServer.model_validate(_server_columns(row))


def _secret_errors(draft: TrackerServer) -> dict[str, str]:
    if draft.auth_mode == "basic" and draft.secret is not None and not draft.user:
        return {"user": "A user is needed with a password (auth mode 'basic')."}
    return {}


def _refuse_taken_name(session: Session, name: str, own_id: int | None) -> None:
    taken = session.scalar(select(TrackerConnectorRow.id).where(TrackerConnectorRow.name == name))
    if taken is not None and taken != own_id:
        raise InvalidInputError(
            "The tracker connector is not valid.",
            field_errors={"name": f"A tracker connector named '{name}' exists (id {taken})."},
        )


def _secret(row: TrackerConnectorRow, secrets: SecretBox) -> SecretStr | None:
    return SecretStr(secrets.decrypt(row.secret)) if row.secret else None


def _tracker_connection(row: TrackerConnectorRow, secrets: SecretBox) -> TrackerConnection:
    secret = _secret(row, secrets)
    token = row.auth_mode == "token"
    return TrackerConnection(
        system=row.system,
        base_url=f"{row.method}://{row.server}",
        user=row.user,
        password=None if token else secret,
        token=secret if token else None,
    )


def _require_some_admin(principal: Principal) -> None:
    if not principal.is_admin and not principal.project_admin_keys:
        raise PermissionDeniedError(
            "You must administer a project or issuesync to see tracker connectors."
        )


# -- connections ---------------------------------------------------------------------------


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        # Every user may browse every built-in project: naming them tells nobody news.
        known = session.execute(select(Project.id, Project.key).order_by(Project.id).limit(20))
        listed = ", ".join(f"{number} ({key})" for number, key in known) or "none yet"
        raise InvalidInputError(
            "The connection is not valid.",
            field_errors={
                "project": f"There is no built-in project with id {project_id} (known: {listed})."
            },
        )
    return project


def _priorities(session: Session) -> list[str]:
    return list(session.scalars(select(Priority.name).order_by(Priority.position)))


def _may_edit(principal: Principal, project: Project) -> bool:
    return principal.administers(project.key)


def _configurations(
    draft: IntegrationDraft, settings: ConnectionSettings, priorities: Sequence[str]
) -> tuple[Configuration, Configuration]:
    """Both sides' configurations: the proposal's value, type and status mappings, with the
    connection's directions, scope, title, parent and conflict policy."""
    first = draft.first.configuration or Configuration()
    second = draft.second.configuration or Configuration()
    proposed = {m.local_field: m for m in first.field_mappings}
    sent: list[FieldMapping] = []
    for name in SENT_FIELDS:
        found = proposed.get(name)
        mapping = (
            found.model_copy(update={"direction": Direction.OUTGOING})
            if found is not None
            else FieldMapping(local_field=name, remote_field=name, direction=Direction.OUTGOING)
        )
        if name == "summary":
            mapping = mapping.model_copy(update={"template": settings.title_format})
        sent.append(mapping)
    first.field_mappings = sent
    second.field_mappings = [m.mirrored() for m in sent]
    winner = (
        ConflictWinner.SECOND
        if settings.conflict_policy is ConflictPolicy.ISSUE_TRACKER
        else ConflictWinner.FIRST
    )
    for side in (first, second):
        side.sync.automatic_conflict_resolution = True
        side.sync.conflict_winner = winner
    first.sync.new_issues = NewIssues(
        statuses=list(settings.statuses),
        priorities=priorities_at_or_above(priorities, settings.min_priority),
    )
    first.sync.parent_issue = None
    second.sync.new_issues = NewIssues(send=False)
    second.sync.parent_issue = settings.parent_issue
    return first, second


def _integration_draft(
    project: Project, server: TrackerConnectorRow, settings: ConnectionSettings, alias: str
) -> IntegrationDraft:
    return IntegrationDraft(
        summary=f"Connection '{alias}'"[:255],
        first=ConnectorDraft(project_key=project.key, connection=TrackerConnection()),
        second=ConnectorDraft(
            project_key=settings.tracker_project,
            connection=TrackerConnection(
                system=server.system, base_url=f"{server.method}://{server.server}"
            ),
        ),
    )


@dataclass(frozen=True)
class Prepared:
    """What a connection's creation read before its write: the project, the tracker server
    and the mappings proposed from both schemas (None when a schema could not be read).

    A change that does not :func:`move <moves>` the connection reads nothing: it is
    ``Prepared(draft)``, without an integration or a proposal."""

    draft: ConnectionDraft
    integration: IntegrationDraft | None = None
    proposal: ProposalOutcome | None = None


def prepare_connection(
    services: Services, draft: ConnectionDraft, principal: Principal
) -> Prepared:
    """Check a connection and read both schemas (outside any write: a tracker may be slow).

    Raises:
        InvalidInputError: no such project or tracker connector.
        PermissionDeniedError: the caller does not administer the project.
    """
    with services.uow_factory(readonly=True) as uow:
        project = _project(uow.session, draft.project_id)
        if not _may_edit(principal, project):
            raise PermissionDeniedError(
                f"You must administer project {project.key} to change its connections."
            )
        server = _known_server(uow.session, draft.tracker_server_id)
        integration = _integration_draft(project, server, draft.settings, draft.alias)
        secret_draft = integration.model_copy(
            update={
                "second": integration.second.model_copy(
                    update={"connection": _tracker_connection(server, services.secrets)}
                )
            }
        )
    editor = Editor(principal.name, is_admin=principal.is_admin)
    return Prepared(draft, integration, propose_for_draft(services, secret_draft, editor))


def _known_server(session: Session, server_id: int) -> TrackerConnectorRow:
    server = session.get(TrackerConnectorRow, server_id)
    if server is None:
        ids = session.scalars(select(TrackerConnectorRow.id).order_by(TrackerConnectorRow.id))
        known = ", ".join(map(str, ids)) or "none yet"
        raise InvalidInputError(
            "The connection is not valid.",
            field_errors={
                "connector": f"There is no tracker connector with id {server_id} (known: {known})."
            },
        )
    return server


def _new_integration(
    session: Session, services: Services, prepared: Prepared, principal: Principal
) -> int:
    """The connection's integration, made from the prepared draft and proposal; its id."""
    draft = prepared.draft
    server = _known_server(session, draft.tracker_server_id)
    integration = prepared.integration
    if integration is None or prepared.proposal is None:
        # Prepared as a change in place, but the connection moved meanwhile.
        raise ConflictError(
            "The connection was changed meanwhile; read it again and send the change again."
        )
    if prepared.proposal.proposal is not None:
        integration = with_proposal(integration, prepared.proposal.proposal)
    first, second = _configurations(integration, draft.settings, _priorities(session))
    connection = _tracker_connection(server, services.secrets)
    integration = integration.model_copy(
        update={
            "first": integration.first.model_copy(update={"configuration": first}),
            "second": integration.second.model_copy(
                update={"configuration": second, "connection": connection}
            ),
        }
    )
    view = create_integration(
        session,
        integration,
        actor=Editor(principal.name, is_admin=principal.is_admin),
        secrets=services.secrets,
        project_exists=project_checker(services),
        places=services.queue_places,
    )
    return view.id


def create_connection(
    session: Session, services: Services, prepared: Prepared, principal: Principal
) -> ConnectionView:
    """Store a connection and its integration (not started: jobs run it)."""
    draft = prepared.draft
    project = _project(session, draft.project_id)
    integration_id = _new_integration(session, services, prepared, principal)
    now = now_ms()
    row = ConnectionRow(
        alias=draft.alias,
        project_id=project.id,
        tracker_connector_id=draft.tracker_server_id,
        integration_id=integration_id,
        frequency=draft.frequency.value,
        debug_mode=draft.debug_mode,
        params=draft.settings.model_dump_json(),
        inaccessible=False,
        next_run_ms=None if draft.frequency is Frequency.MANUALLY else now,
        created_user=principal.name,
        created_ms=now,
        modified_ms=now,
    )
    session.add(row)
    session.flush()
    return _view(session, row, principal)


def moves(session: Session, connection_id: int, draft: ConnectionDraft) -> bool:
    """Whether a change points the connection elsewhere (another project, tracker connector
    or tracker project): then its integration is made anew, from a new proposal."""
    row = session.get(ConnectionRow, connection_id)
    if row is None:
        return False
    stored = load_settings(row.params)
    return (
        draft.tracker_server_id != row.tracker_connector_id
        or draft.project_id != row.project_id
        or draft.settings.tracker_project != stored.tracker_project
    )


def update_connection_settings(
    session: Session,
    services: Services,
    connection_id: int,
    prepared: Prepared,
    principal: Principal,
) -> ConnectionView:
    """Change a connection: alias, frequency, debug mode and settings at once (the caller
    merged what the request left out, and prepared it: :func:`prepare_connection` when it
    :func:`moves`). A connection pointed elsewhere gets a new integration: the old one's
    links go, and the next job creates the issues in the new tracker project."""
    draft = prepared.draft
    row = _connection_row(session, connection_id, principal, edit=True)
    project = _project(session, draft.project_id)
    if not _may_edit(principal, project):
        raise PermissionDeniedError(
            f"You must administer project {project.key} to change its connections."
        )
    _known_server(session, draft.tracker_server_id)
    stored = load_settings(row.params)
    now = now_ms()
    if moves(session, connection_id, draft):
        old = session.get(IntegrationRow, row.integration_id)
        made = _new_integration(session, services, prepared, principal)
        row.integration_id = made
        row.project_id = project.id
        row.tracker_connector_id = draft.tracker_server_id
        row.inaccessible = False
        if old is not None:
            session.flush()
            delete_integration(session, old.key)
    else:
        rows = connector_rows(session, row.integration_id)
        integration = IntegrationDraft(
            first=ConnectorDraft(
                project_key=rows[0].project_key,
                configuration=load_configuration(rows[0].configuration),
            ),
            second=ConnectorDraft(
                project_key=rows[1].project_key,
                configuration=load_configuration(rows[1].configuration),
            ),
        )
        first, second = _configurations(integration, draft.settings, _priorities(session))
        for connector, configuration in zip(rows, (first, second), strict=True):
            connector.configuration = configuration_text(configuration)
            connector.modified_user, connector.modified_ms = principal.name, now
        if _scope_widened(stored, draft.settings):
            # Issues the old scope passed over are read again by the next job.
            _forget_cursor(session, rows[0])
    frequency_changed = row.frequency != draft.frequency.value
    row.alias = draft.alias
    row.frequency = draft.frequency.value
    row.debug_mode = draft.debug_mode
    row.params = draft.settings.model_dump_json()
    row.modified_ms = now
    if frequency_changed:
        row.next_run_ms = None if draft.frequency is Frequency.MANUALLY else now
    session.flush()
    return _view(session, row, principal)


def _scope_widened(old: ConnectionSettings, new: ConnectionSettings) -> bool:
    return old.statuses != new.statuses or old.min_priority != new.min_priority


def _forget_cursor(session: Session, connector: ConnectorRow) -> None:
    state = session.get(ConnectorState, connector.id)
    if state is not None:
        state.cursor = None


def delete_connection(session: Session, connection_id: int, principal: Principal) -> None:
    """Delete a connection, its integration, jobs and sync links (the tracker's issues stay)."""
    row = _connection_row(session, connection_id, principal, edit=True)
    integration = session.get(IntegrationRow, row.integration_id)
    session.execute(delete(ConnectionRow).where(ConnectionRow.id == row.id))
    if integration is not None:
        delete_integration(session, integration.key)
    session.flush()


def load_settings(text: str) -> ConnectionSettings:
    """A connection's stored settings."""
    return ConnectionSettings.model_validate_json(text)


def _connection_row(
    session: Session, connection_id: int, principal: Principal, *, edit: bool
) -> ConnectionRow:
    row = session.get(ConnectionRow, connection_id)
    if row is None:
        raise NotFoundError(f"There is no connection with id {connection_id}.")
    if edit:
        project = session.get(Project, row.project_id)
        if project is None or not _may_edit(principal, project):
            raise PermissionDeniedError(
                "You must administer the connection's project to change it."
            )
    return row


def connection_draft(session: Session, connection_id: int, principal: Principal) -> ConnectionDraft:
    """A connection as stored, as the draft a change starts from."""
    row = _connection_row(session, connection_id, principal, edit=True)
    return ConnectionDraft(
        alias=row.alias,
        project_id=row.project_id,
        tracker_server_id=row.tracker_connector_id,
        frequency=Frequency(row.frequency),
        debug_mode=row.debug_mode,
        settings=load_settings(row.params),
    )


def list_connections(
    session: Session, principal: Principal, project_id: int | None = None
) -> list[ConnectionView]:
    """Every connection (of one project when ``project_id`` is given)."""
    query = select(ConnectionRow).order_by(ConnectionRow.id)
    if project_id is not None:
        query = query.where(ConnectionRow.project_id == project_id)
    return [_view(session, row, principal) for row in session.scalars(query)]


def get_connection(session: Session, connection_id: int, principal: Principal) -> ConnectionView:
    """One connection (404 when there is none)."""
    return _view(session, _connection_row(session, connection_id, principal, edit=False), principal)


def _view(session: Session, row: ConnectionRow, principal: Principal) -> ConnectionView:
    project = session.get(Project, row.project_id)
    server = session.get(TrackerConnectorRow, row.tracker_connector_id)
    integration = session.get(IntegrationRow, row.integration_id)
    assert server is not None
    assert integration is not None
    last = session.scalars(
        select(JobRow).where(JobRow.connection_id == row.id).order_by(JobRow.id.desc()).limit(1)
    ).first()
    now = now_ms()
    in_progress = (row.job_owner is not None and (row.job_until_ms or 0) >= now) or (
        last is not None and last.state == RUNNING
    )
    editable = project is not None and _may_edit(principal, project)
    return ConnectionView(
        id=row.id,
        alias=row.alias,
        system=server.system,
        frequency=Frequency(row.frequency),
        debug_mode=row.debug_mode,
        project_id=row.project_id,
        project_key=project.key if project else "",
        project_name=project.name if project else "",
        tracker_server=_server_view(server),
        settings=load_settings(row.params) if editable else None,
        integration_key=integration.key,
        inaccessible=row.inaccessible,
        in_progress=in_progress,
        last_successful_ms=row.last_successful_ms,
        next_run_ms=row.next_run_ms,
        last_job=_job_view(last) if last is not None else None,
    )


# -- jobs ----------------------------------------------------------------------------------


def _job_view(row: JobRow) -> JobView:
    return JobView(
        id=row.id,
        state=row.state,
        automatic=row.automatic,
        triggered_by=row.triggered_by,
        user_id=row.user_id,
        queued_ms=row.queued_ms,
        started_ms=row.started_ms,
        finished_ms=row.finished_ms,
        succeeded=row.succeeded,
        result_message=row.result_message,
    )


def request_run(session: Session, connection_id: int, principal: Principal) -> JobView:
    """Ask for a job of the connection now; the one already waiting when there is one.
    A running engine (``serve``, ``worker``) starts it within a second."""
    row = _connection_row(session, connection_id, principal, edit=True)
    waiting = session.scalars(
        select(JobRow)
        .where(JobRow.connection_id == row.id, JobRow.state == QUEUED)
        .order_by(JobRow.id)
        .limit(1)
    ).first()
    if waiting is not None:
        return _job_view(waiting)
    job = JobRow(
        connection_id=row.id,
        state=QUEUED,
        automatic=False,
        triggered_by=principal.id,
        queued_ms=now_ms(),
        result_message="",
    )
    session.add(job)
    session.flush()
    return _job_view(job)


def list_jobs(
    session: Session, connection_id: int, principal: Principal, limit: int = JOBS_SHOWN
) -> list[JobView]:
    """The connection's jobs, newest first."""
    row = _connection_row(session, connection_id, principal, edit=False)
    jobs = session.scalars(
        select(JobRow).where(JobRow.connection_id == row.id).order_by(JobRow.id.desc()).limit(limit)
    )
    return [_job_view(job) for job in jobs]


def get_job(session: Session, connection_id: int, job_id: int, principal: Principal) -> JobView:
    """One job of the connection (404 when there is none)."""
    row = _connection_row(session, connection_id, principal, edit=False)
    job = session.get(JobRow, job_id)
    if job is None or job.connection_id != row.id:
        raise NotFoundError(f"Connection {connection_id} has no job with id {job_id}.")
    return _job_view(job)


# -- the connection test ---------------------------------------------------------------------


def check_tracker(
    services: Services, server: TrackerServer, project: str, title_format: str | None
) -> list[ConnectionCheck]:
    """Check a tracker server and project as a connection would use them, within
    :data:`TEST_DEADLINE_S`: reachable (TLS included), logged in, the project, the right
    to create issues (the adapter's connection test), and the title format."""
    checks: list[ConnectionCheck] = []
    if title_format is not None:
        problem = template_problem(title_format)
        checks.append(
            ConnectionCheck("title format", ok=problem is None, detail=problem or "valid")
        )
    if errors := _system_errors(server.system):
        return [ConnectionCheck("system", ok=False, detail=errors["system"]), *checks]
    secret = None
    if server.secret is not None:
        kind = "token" if server.auth_mode == "token" else "password"
        secret = (kind, server.secret.get_secret_value())
    access = TrackerAccess(server.system, project, server.base_url, server.user, secret)

    def run() -> list[ConnectionCheck]:
        tracker = services.trackers(access)
        try:
            return list(tracker.test_connection().checks)
        finally:
            tracker.close()

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="connection-test")
    try:
        # In the caller's context: the test's log lines carry the request's id.
        found = pool.submit(contextvars.copy_context().run, run).result(timeout=TEST_DEADLINE_S)
    except FutureTimeout:
        found = [
            ConnectionCheck(
                "reachable", ok=False, detail=f"no answer within {TEST_DEADLINE_S:.0f} s"
            )
        ]
    except Exception as exc:  # noqa: BLE001 - any failure to open the tracker is a check's
        said = getattr(exc, "describe", None)
        detail = said() if callable(said) else type(exc).__name__
        found = [ConnectionCheck("reachable", ok=False, detail=str(detail))]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [*found, *checks]


def params_json(settings: ConnectionSettings) -> str:
    """The stored settings as JSON (for the CLI's display)."""
    return json.dumps(settings.model_dump(mode="json"), indent=2)
