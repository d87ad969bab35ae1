"""Integrations (seed 001), their status (seed 002), start/stop/connection tasks and conflicts."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from issuesync.api.backbone import access
from issuesync.api.backbone.common import (
    STOP_WAIT_S,
    BoardDep,
    MessageIdPath,
    WritesDep,
    snapshot_of,
)
from issuesync.api.backbone.documents.bodies import ConnectionUpdate, IntegrationSpec
from issuesync.api.backbone.documents.conflicts import conflicts_json
from issuesync.api.backbone.documents.integrations import (
    check_spec_draft,
    create_from_spec,
    draft_from_spec,
    integration_body,
    update_connection_from,
    update_from_spec,
)
from issuesync.api.backbone.documents.proposals import proposal_json
from issuesync.api.backbone.documents.tasks import task_json
from issuesync.api.backbone.schemas import (
    ConflictOut,
    CountOut,
    IntegrationOut,
    ProposalOut,
    StatusOut,
    TaskOut,
)
from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.application import lifecycle
from issuesync.application.conflicts import (
    data_conflicts,
    settle_conflict,
    validation_conflicts,
)
from issuesync.application.fields import SIDES
from issuesync.application.integrations import (
    connector_configs,
    connector_rows,
    delete_integration,
    integration_view,
    project_checker,
)
from issuesync.application.proposals import (
    apply_proposal,
    differences,
    proposal_conflicts,
    propose_for_draft,
    propose_for_integration,
    wants_proposal,
)
from issuesync.domain.diff import Winner
from issuesync.domain.task import Task
from issuesync.errors import ConflictError, InvalidInputError, NotFoundError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState


class ConflictDecision(BaseModel):
    """The body of ``PUT /integrations/{key}/conflicts/{messageId}``."""

    model_config = ConfigDict(extra="forbid")

    keep: Literal["local", "remote"] = Field(
        description="Whose values win: the receiving connector's own (local) or the sender's."
    )


def build_integrations_router() -> APIRouter:  # noqa: C901, PLR0915 - one route table, read top to bottom
    """Integrations (seed 001), their status (seed 002), lifecycle tasks and conflicts."""
    router = APIRouter()

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
        snapshot = await snapshot_of(board)
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
        editor = access.sync_user_editor(services.authenticator, principal, spec)
        draft = draft_from_spec(spec)
        # Outside the write transaction: a remote tracker's schema may take seconds to read.
        outcome = propose_for_draft(services, draft, editor) if wants_proposal(draft) else None
        with writes() as uow:
            view = create_from_spec(
                uow.session,
                spec,
                actor=editor,
                secrets=services.secrets,
                project_exists=project_checker(services),
                places=services.queue_places,
                proposal=outcome,
            )
            body = integration_body(view)
            uow.commit()
        return JSONResponse(body)

    @router.post(
        "/integrations/proposal",
        response_model=ProposalOut,
        tags=["integrations"],
        summary="Preview the mappings proposed from both projects' schemas; nothing is stored",
    )
    def post_proposal(
        services: ServicesDep,
        principal: PrincipalDep,
        spec: Annotated[IntegrationSpec, Body()],
    ) -> JSONResponse:
        access.require_create(principal, spec)
        editor = access.sync_user_editor(services.authenticator, principal, spec)
        draft = draft_from_spec(spec)
        check_spec_draft(draft, project_checker(services))
        if draft.distributed:
            raise InvalidInputError(
                "A distributed integration's partner project is not readable here: "
                "no mappings can be proposed for it."
            )
        outcome = propose_for_draft(services, draft, editor)
        keys = (draft.first.project_key, draft.second.project_key)
        return JSONResponse(proposal_json(outcome, keys))

    @router.get(
        "/integrations/{integrationKey}/proposal",
        response_model=ProposalOut,
        tags=["integrations"],
        summary="Propose the mappings again from both schemas as they are now; what it changes",
    )
    def get_proposal(
        services: ServicesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> JSONResponse:
        with services.uow_factory(readonly=True) as uow:
            row = access.visible_integration(uow.session, principal, integrationKey)
            outcome, configs = propose_for_integration(uow.session, services, row)
        keys = (configs[0].project_key, configs[1].project_key)
        found = None
        if outcome.proposal is not None:
            found = differences([c.configuration for c in configs], outcome.proposal)
        return JSONResponse(proposal_json(outcome, keys, found))

    @router.put(
        "/integrations/{integrationKey}/proposal",
        response_model=TaskOut,
        tags=["integrations"],
        summary="Store the mappings proposed from both schemas as they are now (a task; restarts)",
    )
    def put_proposal(
        services: ServicesDep,
        writes: WritesDep,
        principal: PrincipalDep,
        integrationKey: str,  # noqa: N803
    ) -> JSONResponse:
        with services.uow_factory(readonly=True) as uow:
            row = access.visible_integration(uow.session, principal, integrationKey)
            outcome, configs = propose_for_integration(uow.session, services, row)
        if outcome.proposal is None:
            said = "; ".join(
                f"project {configs[SIDES.index(side)].project_key}: {why}"
                for side, why in outcome.unread.items()
            )
            raise ConflictError(
                f"No mappings can be proposed: a schema cannot be read ({said}). "
                "Make both trackers reachable and try again."
            )
        with writes() as uow:
            integration = access.visible_integration(uow.session, principal, integrationKey)
            apply_proposal(uow.session, integration, outcome.proposal, principal.name)
            task = lifecycle.request_restart(uow.session, integration.key, "The proposed mappings")
            body = task_json(task)
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
            return JSONResponse(integration_body(integration_view(uow.session, row)))

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
        with services.uow_factory(readonly=True) as uow:
            access.visible_integration(uow.session, principal, integrationKey)
        # Outside the write transaction: a password check takes a while.
        editor = access.sync_user_editor(services.authenticator, principal, spec)
        with writes() as uow:
            integration = access.visible_integration(uow.session, principal, integrationKey)
            access.require_update(principal, spec, connector_rows(uow.session, integration.id))
            if spec.integration_key is not None and str(spec.integration_key).upper() != (
                integration.key
            ):
                raise InvalidInputError(
                    "The body's integrationKey is not the one in the URL.",
                    field_errors={"integrationKey": f"must be {integration.key} or left out"},
                )
            update_from_spec(
                uow.session,
                integration.key,
                spec,
                editor,
                services.secrets,
                places=services.queue_places,
            )
            task = lifecycle.request_restart(uow.session, integration.key, "The change")
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
        snapshot = await snapshot_of(board)
        text = snapshot.by_key.get(key)
        if text is None or not snapshot.visible(principal, text):
            # Perhaps created (or shared) a moment ago, elsewhere; looked up again either way,
            # so that a key the caller may not see costs what a missing one costs.
            snapshot = await run_in_threadpool(functools.partial(board.take, after=snapshot))
            text = snapshot.by_key.get(key)
        if text is None or not snapshot.visible(principal, text):
            raise NotFoundError(f"No integration with key {integrationKey}.")
        return Response(text.status, media_type="application/json")

    # -- lifecycle tasks ------------------------------------------------------------------

    def switch(action: str, request: Callable[[Session, str, str], Task]) -> None:
        """``PUT …/start`` and ``…/stop``: one route each, the same steps."""

        @router.put(
            f"/integrations/{{integrationKey}}/{action}",
            response_model=TaskOut,
            tags=["integrations"],
            summary=f"{action.capitalize()} the integration (a task)",
            name=action,
        )
        def route(
            writes: WritesDep,
            principal: PrincipalDep,
            integrationKey: str,  # noqa: N803
        ) -> JSONResponse:
            with writes() as uow:
                row = access.visible_integration(uow.session, principal, integrationKey)
                body = task_json(request(uow.session, row.key, principal.name))
                uow.commit()
            return JSONResponse(body)

    switch("start", lifecycle.request_start)
    switch("stop", lifecycle.request_stop)

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
            notes = update_connection_from(
                uow.session, row.key, change, principal.name, services.secrets
            )
            task = lifecycle.request_restart(uow.session, row.key, "The connection", notes)
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
            found += proposal_conflicts(row, connector_configs(uow.session, row.id))
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
            count = settle_conflict(uow.session, integration, messageId, Winner(decision.keep))
            uow.commit()
        return JSONResponse(
            {
                "count": count,
                "message": f"{count} field(s) of message {messageId} settled for the "
                f"{decision.keep} side; the message is queued again.",
            }
        )

    return router


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
