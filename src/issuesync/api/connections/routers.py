"""SD Elements' issue tracker connections (seed 004) under ``/api/v2/connections/``.

- ``issue-tracker/``: list (``?project=``, ``?include=last_job``), create; one
  connection: read, change (``PATCH``: what the body leaves out stays, ``params`` are
  merged into the stored ones), delete;
- ``issue-tracker/{id}/run/`` asks for a job now (202), ``issue-tracker/{id}/jobs/`` lists
  its jobs newest first, ``jobs/{job_id}/`` is one, each in the seed's ``last_job`` shape;
- ``test-issue-tracker/``: the connection test, ``{"success": true}`` or
  ``{"success": false, "errors": [{"check", "message"}]}`` naming each failed check;
- ``connectors/``: the tracker connectors the connections name (``connectors.py``).

Every route needs a caller (Basic, Bearer, or SD Elements' ``Token "<token>"``). Any caller
reads connections, without their params unless they may edit them (an administrator, or
an administrator of the connection's project); only those create, change, delete and run
them. Each route is async, reads its body here and makes one hop to the thread pool,
where the application's services run in a unit of work; schemas are read (a new
connection, a changed tracker project) outside any write.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from issuesync.api.connections import connectors
from issuesync.api.connections.bodies import Fields, json_object, raise_errors
from issuesync.api.connections.common import (
    BASE,
    answer,
    named,
    path_id,
    reads,
    require_some_admin,
    serve,
    writes,
)
from issuesync.api.connections.params import (
    PASSWORD,
    PROJECT,
    SERVER_PARAMS,
    TITLE_FORMAT,
    connection_settings,
    refuse_changed_server,
    server_changes,
    system_of,
    tracker_server,
)
from issuesync.api.connections.render import connection_json, job_json
from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.application.connections import (
    ConnectionView,
    Prepared,
    check_tracker,
    connection_draft,
    create_connection,
    delete_connection,
    get_connection,
    get_job,
    list_connections,
    list_jobs,
    moves,
    prepare_connection,
    request_run,
    stored_tracker_server,
    update_connection_settings,
)
from issuesync.application.fields import FIRST, SECOND, project_field
from issuesync.domain.schedule import Frequency
from issuesync.domain.scheduled import ConnectionDraft, ConnectionSettings, TrackerServer
from issuesync.errors import NotFoundError
from issuesync.services import Services
from issuesync.store.principals import Principal

LAST_JOB: Final = "last_job"
# A connection draft's fields by the names a body gives them.
DRAFT_NAMES: Final = {"tracker_server_id": "connector", "project_id": "project"}
FREQUENCIES: Final = tuple(f.value for f in Frequency)

Include = Annotated[
    str | None,
    Query(max_length=200, description="`last_job`: each connection's last job too."),
]
ProjectFilter = Annotated[
    str | None, Query(max_length=200, description="Only the connections of this project (id).")
]


# -- reading ---------------------------------------------------------------------------------


def _wants_last_job(include: str | None) -> bool:
    # Unknown names are passed over, as SD Elements' include parameter does.
    return include is not None and LAST_JOB in (part.strip() for part in include.split(","))


async def list_issue_trackers(
    services: ServicesDep,
    principal: PrincipalDep,
    project: ProjectFilter = None,
    include: Include = None,
) -> Response:
    """Every connection (of one project with ``?project=``)."""
    errors: dict[str, str] = {}
    project_id = Fields({"project": project}, errors).integer("project", nullable=True)
    raise_errors(errors)
    last_job = _wants_last_job(include)

    def work() -> object:
        views = reads(services, lambda s: list_connections(s, principal, project_id))
        return {"results": [connection_json(view, last_job=last_job) for view in views]}

    return await answer(work)


async def get_issue_tracker(
    services: ServicesDep, principal: PrincipalDep, connection_id: str, include: Include = None
) -> Response:
    """One connection."""
    number = path_id(connection_id)
    last_job = _wants_last_job(include)

    def work() -> object:
        view = reads(services, lambda s: get_connection(s, number, principal))
        return connection_json(view, last_job=last_job)

    return await answer(work)


# -- writing ---------------------------------------------------------------------------------


def _body_field(name: str) -> str:
    """A field the application names (a draft's, or the integration's neutral path:
    ``second.connection.base_url``) in a connection body's terms."""
    if name in DRAFT_NAMES:
        return DRAFT_NAMES[name]
    if name == project_field(SECOND):
        return f"params.{PROJECT}"
    if name.startswith(f"{SECOND}.connection."):
        return "connector"  # the tracker connector's server, user or secret
    if name.startswith(f"{FIRST}."):
        return "project"
    return "params" if name.startswith(f"{SECOND}.") else name


def _draft(
    body: dict[str, object], stored: ConnectionDraft | None, errors: dict[str, str]
) -> tuple[dict[str, object], Fields | None]:
    """A draft's fields from a body, over the stored ones (None: a new connection), and
    its ``params``; every wrong field is named in ``errors``."""
    fields = Fields(body, errors)
    creating = stored is None
    given = {
        "alias": fields.text("alias", required=creating),
        "tracker_server_id": fields.integer("connector", required=creating),
        "project_id": fields.integer("project", required=creating),
        "frequency": fields.choice("frequency", FREQUENCIES),
        "debug_mode": fields.boolean("debug_mode"),
    }
    values = stored.model_dump() if stored is not None else {}
    values |= {name: value for name, value in given.items() if value is not None}
    return values, fields.object("params", required=creating)


def _check_server_params(
    services: Services, principal: Principal, params: Fields, server_id: object
) -> None:
    """Refuse the tracker connector's params that a connection's body would change."""
    if not isinstance(server_id, int) or not any(
        key in params for key in (*SERVER_PARAMS, PASSWORD)
    ):
        return
    try:
        server = reads(
            services, lambda s: stored_tracker_server(s, server_id, principal, services.secrets)
        )
    except NotFoundError:
        return  # the application names the connector
    refuse_changed_server(params, server_id, server)


def _create(services: Services, principal: Principal, body: dict[str, object]) -> ConnectionView:
    require_some_admin(principal)
    errors: dict[str, str] = {}
    values, params = _draft(body, None, errors)
    settings = connection_settings(params, None) if params is not None else None
    if params is not None:
        _check_server_params(services, principal, params, values.get("tracker_server_id"))
    raise_errors(errors)
    with named(_body_field):
        draft = ConnectionDraft.model_validate(values | {"settings": settings})
        prepared = prepare_connection(services, draft, principal)
        return writes(services, lambda s: create_connection(s, services, prepared, principal))


def _update(
    services: Services, principal: Principal, connection_id: int, body: dict[str, object]
) -> ConnectionView:
    errors: dict[str, str] = {}
    stored = reads(services, lambda s: connection_draft(s, connection_id, principal))
    values, params = _draft(body, stored, errors)
    settings: ConnectionSettings | None = stored.settings
    if params is not None:
        settings = connection_settings(params, stored.settings)
        _check_server_params(services, principal, params, values.get("tracker_server_id"))
    raise_errors(errors)
    with named(_body_field):
        draft = ConnectionDraft.model_validate(values | {"settings": settings})
        # Another project, connector or tracker project: both schemas are read anew.
        moving = reads(services, lambda s: moves(s, connection_id, draft))
        prepared = prepare_connection(services, draft, principal) if moving else Prepared(draft)
        return writes(
            services,
            lambda s: update_connection_settings(s, services, connection_id, prepared, principal),
        )


async def create_issue_tracker(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    """Create a connection (201)."""
    body = await json_object(request)
    return await answer(lambda: connection_json(_create(services, principal, body)), status=201)


async def update_issue_tracker(
    request: Request, services: ServicesDep, principal: PrincipalDep, connection_id: str
) -> Response:
    """Change a connection: what the body leaves out stays; ``params`` are merged."""
    number = path_id(connection_id)
    body = await json_object(request)
    return await answer(lambda: connection_json(_update(services, principal, number, body)))


async def delete_issue_tracker(
    services: ServicesDep, principal: PrincipalDep, connection_id: str
) -> Response:
    """Delete a connection, its jobs and its sync links (the tracker's issues stay)."""
    number = path_id(connection_id)
    return await answer(lambda: writes(services, lambda s: delete_connection(s, number, principal)))


# -- jobs ------------------------------------------------------------------------------------


async def run_issue_tracker(
    services: ServicesDep, principal: PrincipalDep, connection_id: str
) -> Response:
    """Ask for a job now (the one waiting, when there is one); a running engine starts it
    within a second."""
    number = path_id(connection_id)
    return await answer(
        lambda: job_json(writes(services, lambda s: request_run(s, number, principal))), status=202
    )


async def list_issue_tracker_jobs(
    services: ServicesDep, principal: PrincipalDep, connection_id: str
) -> Response:
    """A connection's jobs, newest first (the last 100)."""
    number = path_id(connection_id)

    def work() -> object:
        jobs = reads(services, lambda s: list_jobs(s, number, principal))
        return {"results": [job_json(job) for job in jobs]}

    return await answer(work)


async def get_issue_tracker_job(
    services: ServicesDep, principal: PrincipalDep, connection_id: str, job_id: str
) -> Response:
    """One job of a connection."""
    number, job_number = path_id(connection_id), path_id(job_id)
    return await answer(
        lambda: job_json(reads(services, lambda s: get_job(s, number, job_number, principal)))
    )


# -- the connection test ---------------------------------------------------------------------


def _tested_server(
    services: Services, principal: Principal, fields: Fields
) -> tuple[dict[str, object], Fields | None]:
    """The tracker server a test body describes: its connector's, with what ``params``
    change; and its params."""
    fields.integer("project")  # the seed sends them; the test needs neither
    alias = fields.text("alias")
    connector_id = fields.integer("connector")
    system = system_of(fields, required=True)
    params = fields.object("params", required=True)
    values: dict[str, object] = {}
    if connector_id is not None:
        try:
            stored = reads(
                services,
                lambda s: stored_tracker_server(s, connector_id, principal, services.secrets),
            )
        except NotFoundError:
            fields.refuse("connector", f"There is no tracker connector with id {connector_id}.")
        else:
            values = stored.model_dump()
    if params is not None:
        values |= server_changes(params, creating=connector_id is None, own_only=False)
    values |= {"name": alias or values.get("name") or "connection test", "system": system}
    return values, params


def _test(services: Services, principal: Principal, body: dict[str, object]) -> dict[str, object]:
    require_some_admin(principal)
    errors: dict[str, str] = {}
    fields = Fields(body, errors)
    values, params = _tested_server(services, principal, fields)
    project = params.text(PROJECT, required=True) if params is not None else None
    title_format = params.text(TITLE_FORMAT) if params is not None else None
    server: TrackerServer | None = None
    if not errors:
        server = tracker_server(values, errors)
    raise_errors(errors)
    assert server is not None
    assert project is not None
    checks = check_tracker(services, server, project, title_format)
    failed = [{"check": c.name, "message": c.detail} for c in checks if not c.ok]
    if not failed:
        return {"success": True}
    return {"success": False, "errors": failed}


async def test_issue_tracker(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    """Test a tracker server and project as a connection would use them (within 10 s):
    reachable, logged in, the project, the right to create issues, the title format."""
    body = await json_object(request)
    return await answer(lambda: _test(services, principal, body))


# -- the router ------------------------------------------------------------------------------


def build_router() -> APIRouter:
    """Every route of the dialect, under ``/api/v2/connections``."""
    router = APIRouter(prefix=BASE, tags=["SD Elements connections"])
    one = "/issue-tracker/{connection_id}"
    serve(router, "GET", "/issue-tracker", list_issue_trackers)
    serve(router, "POST", "/issue-tracker", create_issue_tracker, status_code=201)
    serve(router, "GET", one, get_issue_tracker)
    serve(router, "PATCH", one, update_issue_tracker)
    serve(router, "DELETE", one, delete_issue_tracker, status_code=204)
    serve(router, "POST", f"{one}/run", run_issue_tracker, status_code=202)
    serve(router, "GET", f"{one}/jobs", list_issue_tracker_jobs)
    serve(router, "GET", f"{one}/jobs/{{job_id}}", get_issue_tracker_job)
    serve(router, "POST", "/test-issue-tracker", test_issue_tracker)
    connectors.add_routes(router)
    return router


__all__ = ["build_router"]
