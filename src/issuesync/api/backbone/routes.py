"""The Backbone management API (seeds 000-002): integrations, connectors, tasks, messages.

Served under Backbone's own base path and, identically, under ``/api/1``.
Every route is a thin layer over the engine's services: it checks who calls
(:mod:`issuesync.api.backbone.access`), runs one unit of work off the event
loop, and answers the seeds' JSON. Start, stop and connection changes are
tasks (:mod:`issuesync.engine.lifecycle`) that the engines carry out.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from issuesync.api.backbone import access
from issuesync.api.backbone.board import Snapshot, StatusBoard
from issuesync.api.backbone.schemas import (
    BackboneError,
    ConflictOut,
    CountOut,
    IntegrationOut,
    MessageDetailOut,
    MessageOut,
    StatusOut,
    SyncInfoOut,
    TaskOut,
)
from issuesync.api.deps import PrincipalDep, ServicesDep, refuse_nul, refuse_nul_in_body
from issuesync.app import Services
from issuesync.auth import Principal
from issuesync.domain.diff import Winner
from issuesync.domain.integration import ConnectionUpdate, IntegrationSpec
from issuesync.domain.message import ReceiveState, SendState
from issuesync.engine import incoming, lifecycle, queues
from issuesync.engine.conflicts import conflicts_json, data_conflicts, validation_conflicts
from issuesync.engine.integration_json import integration_json
from issuesync.engine.integrations import (
    connector_by_key,
    connector_rows,
    create_integration,
    delete_integration,
    project_checker,
    update_connection,
    update_integration,
)
from issuesync.engine.resync import ResyncRequest, request_resync
from issuesync.engine.syncinfo import (
    SyncInfoEntry,
    delete_sync_info,
    import_sync_info,
    list_sync_info,
)
from issuesync.engine.tasks import get_task, task_json
from issuesync.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, MessageRow, TaskRow
from issuesync.store.uow import UnitOfWork

BACKBONE_PREFIX = "/plugins/servlet/backbone-issue-sync/api/1"
SHORT_PREFIX = "/api/1"
PREFIXES = (BACKBONE_PREFIX, SHORT_PREFIX)
STOP_WAIT_S = 15.0
TASK_ID = re.compile(r"[0-9A-Fa-f]{32}")

JsonDict = dict[str, Any]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": BackboneError, "description": description}
    for status, description in (
        (400, "The request is not valid; `errors` names each wrong field."),
        (401, "Not authenticated."),
        (403, "Not allowed for this user."),
        (404, "The integration, connector, task, message or entry does not exist."),
        (409, "The request clashes with the current state."),
    )
}


class ConflictDecision(BaseModel):
    """The body of ``PUT /integrations/{key}/conflicts/{messageId}``."""

    model_config = ConfigDict(extra="forbid")

    keep: Literal["local", "remote"] = Field(
        description="Whose values win: the receiving connector's own (local) or the sender's."
    )


class MessageSelection(BaseModel):
    """Which messages to retry or discard: ids, or all of an issue, or all in a state."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    ids: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(default=None, max_length=10_000)
    issue_key: str | None = Field(default=None, alias="issueKey", min_length=1, max_length=64)
    state: str | None = Field(default=None, description="A receive or send queue state.")


MessageIdPath = Annotated[int, Path(ge=1, le=2**62, description="The message's id.")]

_STATES = sorted({*(s.value for s in ReceiveState), *(s.value for s in SendState)})


class Writes:
    """Opens write units of work; after each, the status board reads the store again."""

    def __init__(self, services: Services, board: StatusBoard) -> None:
        self._services = services
        self._board = board

    @contextmanager
    def __call__(self) -> Iterator[UnitOfWork]:
        """A write unit of work (the caller commits)."""
        try:
            with self._services.uow_factory() as uow:
                yield uow
        finally:
            self._board.invalidate()


async def get_board(request: Request) -> StatusBoard:
    """The app's status board (``mount`` made it)."""
    board: StatusBoard = request.app.state.backbone_board
    return board


async def get_writes(
    services: ServicesDep, board: Annotated[StatusBoard, Depends(get_board)]
) -> Writes:
    """Write units of work that keep the status board true."""
    return Writes(services, board)


BoardDep = Annotated[StatusBoard, Depends(get_board)]
WritesDep = Annotated[Writes, Depends(get_writes)]


def build_router() -> APIRouter:  # noqa: C901, PLR0915 - one route table, read top to bottom
    """Every route of the Backbone API, without a prefix (mounted under each of ``PREFIXES``)."""
    router = APIRouter(
        responses=ERRORS, dependencies=[Depends(refuse_nul), Depends(refuse_nul_in_body)]
    )

    # -- integrations (seed 001) ----------------------------------------------------------

    @router.get(
        "/integrations",
        response_model=list[IntegrationOut],
        tags=["integrations"],
        summary="All integrations, each with its status",
    )
    async def get_integrations(
        board: BoardDep,
        principal: PrincipalDep,
        project_key: Annotated[
            str | None,
            Query(
                alias="projectKey",
                max_length=32,
                description="Only integrations of this project; required for project admins.",
            ),
        ] = None,
    ) -> Response:
        access.require_some_project(principal)
        if not principal.is_admin:
            if not project_key:
                raise InvalidInputError(
                    "Give projectKey: a project administrator sees the integrations of one "
                    "project at a time.",
                    field_errors={"projectKey": "is required for project administrators"},
                )
            principal.require_project_admin(project_key)
        snapshot = await _snapshot(board)
        return Response(snapshot.listed(principal, project_key), media_type="application/json")

    @router.post(
        "/integrations",
        response_model=IntegrationOut,
        tags=["integrations"],
        summary="Create an integration",
    )
    def post_integration(
        services: ServicesDep,
        writes: WritesDep,
        principal: PrincipalDep,
        spec: Annotated[IntegrationSpec, Body()],
    ) -> JSONResponse:
        access.require_create(principal, spec)
        with writes() as uow:
            row = create_integration(
                uow.session,
                spec,
                actor=principal.name,
                secrets=services.secrets,
                project_exists=project_checker(uow.session),
            )
            body = integration_json(uow.session, row)
            uow.commit()
        return JSONResponse(body)

    @router.get(
        "/integrations/{integrationKey}",
        response_model=IntegrationOut,
        tags=["integrations"],
        summary="One integration",
    )
    def get_integration_route(
        services: ServicesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> JSONResponse:
        with services.uow_factory(readonly=True) as uow:
            row = access.visible_integration(uow.session, principal, integrationKey)
            return JSONResponse(integration_json(uow.session, row))

    @router.put(
        "/integrations/{integrationKey}",
        response_model=TaskOut,
        tags=["integrations"],
        summary="Change an integration; running connectors restart with the change",
    )
    def put_integration(
        services: ServicesDep,
        writes: WritesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
        spec: Annotated[IntegrationSpec, Body()],
    ) -> JSONResponse:
        with writes() as uow:
            integration = access.visible_integration(uow.session, principal, integrationKey)
            if spec.integration_key is not None and str(spec.integration_key).upper() != (
                integration.key
            ):
                raise InvalidInputError(
                    "The body's integrationKey is not the one in the URL.",
                    field_errors={"integrationKey": f"must be {integration.key} or left out"},
                )
            update_integration(uow.session, integration.key, spec, principal.name, services.secrets)
            task = lifecycle.request_restart(uow.session, integration, "The change")
            body = task_json(task)
            uow.commit()
        return JSONResponse(body)

    @router.delete(
        "/integrations/{integrationKey}",
        response_model=CountOut,
        tags=["integrations"],
        summary="Delete an integration (a running one is stopped first)",
    )
    def delete_integration_route(
        services: ServicesDep,
        writes: WritesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> JSONResponse:
        with writes() as uow:
            integration = access.visible_integration(uow.session, principal, integrationKey)
            key, integration_id = integration.key, integration.id
            if integration.running:
                lifecycle.request_stop(uow.session, key, principal.name)
            uow.commit()
        _wait_for_release(services, integration_id)
        with writes() as uow:
            delete_integration(uow.session, key)
            uow.commit()
        return JSONResponse({"count": 1, "message": f"{key} deleted."})

    @router.get(
        "/integrations/{integrationKey}/status",
        response_model=StatusOut,
        tags=["monitoring"],
        summary="The integration's status and each connector's routes (seed 002)",
    )
    async def get_status(
        board: BoardDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> Response:
        access.require_some_project(principal)
        key = integrationKey.upper()
        snapshot = await _snapshot(board)
        text = snapshot.by_key.get(key)
        if text is None:  # perhaps created a moment ago, elsewhere
            snapshot = await run_in_threadpool(functools.partial(board.take, after=snapshot))
            text = snapshot.by_key.get(key)
        if text is None:
            raise NotFoundError(f"No integration with key {integrationKey}.")
        if not snapshot.visible(principal, text):
            raise PermissionDeniedError(
                f"You must administer one of the projects of {text.key} to do this."
            )
        return Response(text.status, media_type="application/json")

    # -- lifecycle tasks ------------------------------------------------------------------

    @router.put(
        "/integrations/{integrationKey}/start",
        response_model=TaskOut,
        tags=["integrations"],
        summary="Start the integration (a task)",
    )
    def start(
        writes: WritesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> JSONResponse:
        with writes() as uow:
            row = access.visible_integration(uow.session, principal, integrationKey)
            body = task_json(lifecycle.request_start(uow.session, row.key, principal.name))
            uow.commit()
        return JSONResponse(body)

    @router.put(
        "/integrations/{integrationKey}/stop",
        response_model=TaskOut,
        tags=["integrations"],
        summary="Stop the integration (a task)",
    )
    def stop(
        writes: WritesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> JSONResponse:
        with writes() as uow:
            row = access.visible_integration(uow.session, principal, integrationKey)
            body = task_json(lifecycle.request_stop(uow.session, row.key, principal.name))
            uow.commit()
        return JSONResponse(body)

    @router.put(
        "/integrations/{integrationKey}/applicationConnection",
        response_model=TaskOut,
        tags=["integrations"],
        summary="Change base URLs, sync user passwords or proxies (a task; restarts)",
    )
    def put_connection(
        services: ServicesDep,
        writes: WritesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
        change: Annotated[ConnectionUpdate, Body()],
    ) -> JSONResponse:
        with writes() as uow:
            row = access.visible_integration(uow.session, principal, integrationKey)
            integration, notes = update_connection(
                uow.session, row.key, change, principal.name, services.secrets
            )
            task = lifecycle.request_restart(uow.session, integration, "The connection")
            task.message = " ".join([task.message, *notes])
            body = task_json(task)
            uow.commit()
        return JSONResponse(body)

    # -- conflicts ------------------------------------------------------------------------

    @router.get(
        "/integrations/{integrationKey}/conflicts",
        response_model=list[ConflictOut],
        tags=["conflicts"],
        summary="Validation conflicts against both trackers, and data conflicts to decide",
    )
    def get_conflicts(
        services: ServicesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> JSONResponse:
        # Read-only: checking a connection opens a unit of work of its own.
        with services.uow_factory(readonly=True) as uow:
            row = access.visible_integration(uow.session, principal, integrationKey)
            found = validation_conflicts(uow.session, services, row)
            found += data_conflicts(uow.session, row)
        return JSONResponse(conflicts_json(found))

    @router.put(
        "/integrations/{integrationKey}/conflicts/{messageId}",
        response_model=CountOut,
        tags=["conflicts"],
        summary="Settle a data conflict by picking a side; the message is applied again",
    )
    def resolve_conflict(
        writes: WritesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
        messageId: MessageIdPath,  # noqa: N803
        decision: Annotated[ConflictDecision, Body()],
    ) -> JSONResponse:
        with writes() as uow:
            integration = access.visible_integration(uow.session, principal, integrationKey)
            connector_id = _message_connector(uow.session, integration, messageId)
            count = incoming.resolve(uow.session, connector_id, messageId, Winner(decision.keep))
            uow.commit()
        return JSONResponse(
            {
                "count": count,
                "message": f"{count} field(s) of message {messageId} settled for the "
                f"{decision.keep} side; the message is queued again.",
            }
        )

    # -- connectors (seed 000) ------------------------------------------------------------

    @router.post(
        "/connectors/{connectorKey}/resync",
        response_model=TaskOut,
        tags=["connectors"],
        summary="Send the current values of matching issues again (a task)",
    )
    def resync(
        writes: WritesDep,
        principal: PrincipalDep,
        connectorKey: str,  # noqa: N803
        request: Annotated[ResyncRequest, Body()],
    ) -> JSONResponse:
        with writes() as uow:
            row = access.visible_connector(uow.session, principal, connectorKey)
            config = connector_by_key(uow.session, row.key)
            body = task_json(request_resync(uow.session, config, request))
            uow.commit()
        return JSONResponse(body)

    @router.get(
        "/connectors/{connectorKey}/syncInformation",
        response_model=list[SyncInfoOut],
        tags=["connectors"],
        summary="Which local issue belongs to which remote issue",
    )
    def get_sync_information(
        services: ServicesDep,
        principal: PrincipalDep,
        connectorKey: str,  # noqa: N803
        local_issue_key: Annotated[str | None, Query(alias="localIssueKey", max_length=64)] = None,
        remote_issue_key: Annotated[
            str | None, Query(alias="remoteIssueKey", max_length=64)
        ] = None,
    ) -> JSONResponse:
        with services.uow_factory(readonly=True) as uow:
            row = access.visible_connector(uow.session, principal, connectorKey)
            body = list_sync_info(uow.session, row.key, local_issue_key, remote_issue_key)
        return JSONResponse(body)

    @router.post(
        "/connectors/{connectorKey}/syncInformation",
        response_model=CountOut,
        tags=["connectors"],
        summary="Import sync information (add, or update by localIssueKey)",
    )
    def post_sync_information(
        writes: WritesDep,
        principal: PrincipalDep,
        connectorKey: str,  # noqa: N803
        entries: Annotated[list[SyncInfoEntry], Body(max_length=100_000)],
    ) -> JSONResponse:
        given = [entry.model_dump(exclude_unset=True) for entry in entries]
        with writes() as uow:
            row = access.visible_connector(uow.session, principal, connectorKey)
            count = import_sync_info(uow.session, row.key, given)
            uow.commit()
        return JSONResponse({"count": count, "message": f"{count} entries imported."})

    @router.delete(
        "/connectors/{connectorKey}/syncInformation",
        response_model=CountOut,
        tags=["connectors"],
        summary="Delete one entry (syncInfoId) or, without it, all of the connector's",
    )
    def delete_sync_information(
        writes: WritesDep,
        principal: PrincipalDep,
        connectorKey: str,  # noqa: N803
        sync_info_id: Annotated[int | None, Query(alias="syncInfoId", ge=1, le=2**62)] = None,
    ) -> JSONResponse:
        with writes() as uow:
            row = access.visible_connector(uow.session, principal, connectorKey)
            count = delete_sync_info(uow.session, row.key, sync_info_id)
            uow.commit()
        return JSONResponse({"count": count, "message": f"{count} entries deleted."})

    # -- messages -------------------------------------------------------------------------

    @router.get(
        "/connectors/{connectorKey}/messages",
        response_model=list[MessageOut],
        tags=["messages"],
        summary="A connector's messages, by state and issue",
    )
    def get_messages(
        services: ServicesDep,
        principal: PrincipalDep,
        connectorKey: str,  # noqa: N803
        state: Annotated[str | None, Query(description=", ".join(_STATES))] = None,
        issue_key: Annotated[str | None, Query(alias="issueKey", max_length=64)] = None,
        queue: Annotated[Literal["receive", "send"], Query()] = "receive",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> JSONResponse:
        with services.uow_factory(readonly=True) as uow:
            row = access.visible_connector(uow.session, principal, connectorKey)
            views = queues.list_messages(
                uow.session,
                row.id,
                queue=queue,
                state=_state(state),
                issue_key=issue_key,
                limit=limit,
            )
        return JSONResponse([view.to_json() for view in views])

    @router.get(
        "/connectors/{connectorKey}/messages/{messageId}",
        response_model=MessageDetailOut,
        tags=["messages"],
        summary="One message, with its replica decoded",
    )
    def get_message(
        services: ServicesDep,
        principal: PrincipalDep,
        connectorKey: str,  # noqa: N803
        messageId: MessageIdPath,  # noqa: N803
    ) -> JSONResponse:
        with services.uow_factory(readonly=True) as uow:
            row = access.visible_connector(uow.session, principal, connectorKey)
            body = queues.message_document(queues.get_message(uow.session, row.id, messageId))
        return JSONResponse(body)

    def move_messages(action: str, summary: str) -> None:
        """``POST .../messages/retry`` and ``.../discard``: one route each, one body."""
        move = queues.retry if action == "retry" else queues.discard
        done = "queued again" if action == "retry" else "discarded"

        @router.post(
            f"/connectors/{{connectorKey}}/messages/{action}",
            response_model=CountOut,
            tags=["messages"],
            summary=summary,
            name=f"{action}_messages",
        )
        def route(
            writes: WritesDep,
            principal: PrincipalDep,
            connectorKey: str,  # noqa: N803
            selection: Annotated[MessageSelection, Body()],
        ) -> JSONResponse:
            with writes() as uow:
                row = access.visible_connector(uow.session, principal, connectorKey)
                count = move(_chosen(uow.session, row.id, selection), now_ms())
                uow.commit()
            return JSONResponse({"count": count, "message": f"{count} message(s) {done}."})

    move_messages(
        "retry", "Queue messages again (error, offline, sequence-error, issue-missing, discard)"
    )
    move_messages("discard", "Give messages up: they move to discard and stop holding their issue")

    # -- tasks ----------------------------------------------------------------------------

    @router.get(
        "/tasks/{taskId}",
        response_model=TaskOut,
        tags=["tasks"],
        summary="An asynchronous task's progress",
    )
    def get_task_route(
        writes: WritesDep,
        principal: PrincipalDep,
        taskId: str,  # noqa: N803
    ) -> JSONResponse:
        with writes() as uow:
            task = _visible_task(uow.session, principal, taskId)
            if task.kind in lifecycle.KINDS and not task.finished:
                lifecycle.advance(uow.session, task)
            body = task_json(task)
            uow.commit()
        return JSONResponse(body)

    @router.delete(
        "/tasks/{taskId}",
        response_model=TaskOut,
        tags=["tasks"],
        summary="Cancel a task that has not finished",
    )
    def cancel_task(
        writes: WritesDep,
        principal: PrincipalDep,
        taskId: str,  # noqa: N803
    ) -> JSONResponse:
        with writes() as uow:
            task = _visible_task(uow.session, principal, taskId)
            if task.finished:
                raise ConflictError(f"Task {task.id} has finished; there is nothing to cancel.")
            task.cancelled = task.finished = True
            task.updated_ms = now_ms()
            task.message = f"Cancelled by {principal.name}." + (
                " The integration keeps the state that was asked for."
                if task.kind in lifecycle.KINDS
                else ""
            )
            body = task_json(task)
            uow.commit()
        return JSONResponse(body)

    return router


async def _snapshot(board: StatusBoard) -> Snapshot:
    """The board's snapshot; taking a new one reads the store, off the event loop."""
    current = board.current()
    if current is not None:
        return current
    return await run_in_threadpool(board.take)


def _state(value: str | None) -> str | None:
    if value is not None and value not in _STATES:
        raise InvalidInputError(
            f"Unknown state '{value}': use one of {', '.join(_STATES)}.",
            field_errors={"state": f"must be one of {', '.join(_STATES)}"},
        )
    return value


def _chosen(session: Session, connector_id: int, selection: MessageSelection) -> list[MessageRow]:
    """The messages a retry or discard names: by id, or by issue and/or state."""
    if not selection.ids and selection.issue_key is None and selection.state is None:
        raise InvalidInputError(
            "Name the messages: give ids, issueKey or state.",
            field_errors={"ids": "give ids, issueKey or state"},
        )
    if selection.ids:
        return [queues.get_message(session, connector_id, i) for i in dict.fromkeys(selection.ids)]
    views = queues.list_messages(
        session,
        connector_id,
        state=_state(selection.state),
        issue_key=selection.issue_key,
        limit=100_000,
    )
    rows = [session.get(MessageRow, view.id) for view in views]
    return [row for row in rows if row is not None]


def _message_connector(session: Session, integration: IntegrationRow, message_id: int) -> int:
    """The connector of the integration that holds this message, or 404."""
    ids = [row.id for row in connector_rows(session, integration.id)]
    found = session.scalar(
        select(MessageRow.connector_id).where(
            MessageRow.id == message_id, MessageRow.connector_id.in_(ids)
        )
    )
    if found is None:
        raise NotFoundError(f"{integration.key} has no message with id {message_id}.")
    return found


def _visible_task(session: Session, principal: Principal, task_id: str) -> TaskRow:
    """A task of an integration the caller may see (404 for a malformed or unknown id)."""
    if not TASK_ID.fullmatch(task_id):
        raise NotFoundError(f"No task with id {task_id}: a task id is 32 hexadecimal digits.")
    task = get_task(session, task_id)
    access.require_some_project(principal)
    if task.integration_id is not None:
        integration = session.get(IntegrationRow, task.integration_id)
        if integration is not None:
            access.require_integration(session, principal, integration)
    elif not principal.is_admin:
        principal.require_admin()
    return task


def _wait_for_release(services: Services, integration_id: int) -> None:
    """Wait (bounded) until no live engine holds a connector of the integration.

    The engines see the stop within a second and finish the route they are in;
    a lease of an engine that died expires by itself and does not count.
    """
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        now = now_ms()
        with services.uow_factory(readonly=True) as uow:
            held = uow.session.scalar(
                select(ConnectorState.connector_id)
                .join(ConnectorRow, ConnectorRow.id == ConnectorState.connector_id)
                .where(
                    ConnectorRow.integration_id == integration_id,
                    ConnectorState.lease_owner.is_not(None),
                    ConnectorState.lease_until_ms >= now,
                )
                .limit(1)
            )
        if held is None:
            return
        time.sleep(0.05)
