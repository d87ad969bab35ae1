"""Tracker connectors (the seed's ``connector`` ids): ``/api/v2/connections/connectors/``.

A connector is a tracker server and how to log in to it:
``{"id", "name", "system": {"id", "name", "short_name"}, "params": {"issue_tracker_server",
"issue_tracker_method", "issue_tracker_validate_cert", "issue_tracker_auth_mode",
"issue_tracker_user"}}``. Its password (``params.issue_tracker_pass``) is taken by POST
and PATCH and never shown; a PATCH without it keeps the stored one. Administrators and
project administrators read connectors; only administrators create, change and delete
them (a connection's change moves the connections that use it from their next job).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from issuesync.api.connections.bodies import Fields, json_object, raise_errors
from issuesync.api.connections.common import answer, named, path_id, reads, serve, writes
from issuesync.api.connections.params import (
    SERVER_NAMES,
    server_changes,
    system_of,
    tracker_server,
)
from issuesync.api.connections.render import connector_json
from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.application.connections import (
    create_tracker_server,
    delete_tracker_server,
    get_tracker_server,
    list_tracker_servers,
    update_tracker_server,
)
from issuesync.services import Services
from issuesync.store.principals import Principal


def _changes(
    body: dict[str, object], errors: dict[str, str], *, creating: bool
) -> dict[str, object]:
    """A tracker server's fields that a connector's body gives."""
    fields = Fields(body, errors)
    given = {
        "name": fields.text("name", required=creating),
        "system": system_of(fields, required=creating),
    }
    changes: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    params = fields.object("params", required=creating)
    if params is not None:
        changes |= server_changes(params, creating=creating)
    return changes


def _create(services: Services, principal: Principal, body: dict[str, object]) -> object:
    principal.require_admin()
    errors: dict[str, str] = {}
    changes = _changes(body, errors, creating=True)
    server = tracker_server(changes, errors) if not errors else None
    raise_errors(errors)
    assert server is not None
    with named(lambda name: SERVER_NAMES.get(name, name)):
        view = writes(
            services,
            lambda s: create_tracker_server(s, server, principal, services.secrets),
        )
    return connector_json(view)


def _update(
    services: Services, principal: Principal, server_id: int, body: dict[str, object]
) -> object:
    principal.require_admin()
    current = reads(services, lambda s: get_tracker_server(s, server_id, principal))
    errors: dict[str, str] = {}
    changes = _changes(body, errors, creating=False)
    if not errors:  # checked whole, as the application will merge it
        columns = {name: getattr(current, name) for name in SERVER_NAMES if name != "secret"}
        tracker_server(columns | changes, errors)
    raise_errors(errors)
    with named(lambda name: SERVER_NAMES.get(name, name)):
        view = writes(
            services,
            lambda s: update_tracker_server(s, server_id, changes, principal, services.secrets),
        )
    return connector_json(view)


async def list_connectors(services: ServicesDep, principal: PrincipalDep) -> Response:
    """Every tracker connector."""

    def work() -> object:
        servers = reads(services, lambda s: list_tracker_servers(s, principal))
        return {"results": [connector_json(server) for server in servers]}

    return await answer(work)


async def get_connector(
    services: ServicesDep, principal: PrincipalDep, connector_id: str
) -> Response:
    """One tracker connector."""
    number = path_id(connector_id)
    return await answer(
        lambda: connector_json(reads(services, lambda s: get_tracker_server(s, number, principal)))
    )


async def create_connector(
    request: Request, services: ServicesDep, principal: PrincipalDep
) -> Response:
    """Store a tracker connector (201)."""
    body = await json_object(request)
    return await answer(lambda: _create(services, principal, body), status=201)


async def update_connector(
    request: Request, services: ServicesDep, principal: PrincipalDep, connector_id: str
) -> Response:
    """Change a tracker connector: what the body leaves out stays (its password too)."""
    number = path_id(connector_id)
    body = await json_object(request)
    return await answer(lambda: _update(services, principal, number, body))


async def delete_connector(
    services: ServicesDep, principal: PrincipalDep, connector_id: str
) -> Response:
    """Delete a tracker connector that no connection uses (409 while one does)."""
    number = path_id(connector_id)
    return await answer(
        lambda: writes(services, lambda s: delete_tracker_server(s, number, principal))
    )


def add_routes(router: APIRouter) -> None:
    """The connectors' routes, on the dialect's router."""
    one = "/connectors/{connector_id}"
    serve(router, "GET", "/connectors", list_connectors)
    serve(router, "POST", "/connectors", create_connector, status_code=201)
    serve(router, "GET", one, get_connector)
    serve(router, "PATCH", one, update_connector)
    serve(router, "DELETE", one, delete_connector, status_code=204)
