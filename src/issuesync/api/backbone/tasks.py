"""Asynchronous tasks: read one's progress, cancel one."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from issuesync.api.backbone import access
from issuesync.api.backbone.common import TASK_ID, WritesDep
from issuesync.api.backbone.documents.tasks import task_json
from issuesync.api.backbone.schemas import TaskOut
from issuesync.api.deps import PrincipalDep
from issuesync.application import tasks
from issuesync.domain.task import Task
from issuesync.errors import NotFoundError
from issuesync.store.principals import Principal
from issuesync.store.sync import IntegrationRow


def build_tasks_router() -> APIRouter:
    """Asynchronous tasks: read one's progress, cancel one."""
    router = APIRouter()

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
            found = _visible_task(uow.session, principal, taskId)
            body = task_json(tasks.refresh_task(uow.session, found.id))
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
            found = _visible_task(uow.session, principal, taskId)
            body = task_json(tasks.cancel_task(uow.session, found.id, principal.name))
            uow.commit()
        return JSONResponse(body)

    return router


def _visible_task(session: Session, principal: Principal, task_id: str) -> Task:
    """A task of an integration the caller may see; 404 for any other id, as for a missing one.

    Tasks of no integration, or of a deleted one, are for administrators only.
    """
    access.require_some_project(principal)
    if not TASK_ID.fullmatch(task_id):
        raise NotFoundError(f"No task with id {task_id}: a task id is 32 hexadecimal digits.")
    task = tasks.find_task(session, task_id)  # "No task with id ..."
    if principal.is_admin:
        return task
    integration = (
        session.get(IntegrationRow, task.integration_id)
        if task.integration_id is not None
        else None
    )
    if integration is None or not access.sees(session, principal, integration):
        raise NotFoundError(f"No task with id {task_id}.")
    return task
