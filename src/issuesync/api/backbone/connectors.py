"""Connectors (seed 000): resync and sync information; and their messages."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from issuesync.api.backbone import access
from issuesync.api.backbone.common import MessageIdPath, WritesDep
from issuesync.api.backbone.documents.resync import ResyncRequest, request_resync
from issuesync.api.backbone.documents.syncinfo import (
    SyncInfoEntry,
    delete_sync_info,
    import_sync_info,
    list_sync_info,
)
from issuesync.api.backbone.documents.tasks import task_json
from issuesync.api.backbone.schemas import (
    CountOut,
    MessageDetailOut,
    MessageOut,
    SyncInfoOut,
    TaskOut,
)
from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.domain.message import ReceiveState, SendState
from issuesync.engine.transports import queues
from issuesync.errors import InvalidInputError
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageRow


class MessageSelection(BaseModel):
    """Which messages to retry or discard: ids, or all of an issue, or all in a state."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    ids: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(default=None, max_length=10_000)
    issue_key: str | None = Field(default=None, alias="issueKey", min_length=1, max_length=64)
    state: str | None = Field(default=None, description="A receive or send queue state.")


_STATES = sorted({*(s.value for s in ReceiveState), *(s.value for s in SendState)})


def build_connectors_router() -> APIRouter:
    """Connectors (seed 000): resync and sync information; and their messages."""
    router = APIRouter()

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
            body = task_json(request_resync(uow.session, row.key, request))
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
        if not (principal.is_admin or services.settings.show_email_addresses):
            body = queues.without_addresses(body)  # as the Jira API shows users to them
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

    return router


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
