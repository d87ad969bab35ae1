"""What the Backbone routes share: base paths, documented errors, writes, the status board."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from issuesync.api.backbone.board import Snapshot, StatusBoard
from issuesync.api.backbone.schemas import BackboneError
from issuesync.api.deps import ServicesDep
from issuesync.services import Services
from issuesync.store.uow import UnitOfWork

BACKBONE_PREFIX = "/plugins/servlet/backbone-issue-sync/api/1"
SHORT_PREFIX = "/api/1"
PREFIXES = (BACKBONE_PREFIX, SHORT_PREFIX)
STOP_WAIT_S = 15.0
TASK_ID = re.compile(r"[0-9A-Fa-f]{32}")

JsonDict = dict[str, Any]
MessageIdPath = Annotated[int, Path(ge=1, le=2**62, description="The message's id.")]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": BackboneError, "description": description}
    for status, description in (
        (400, "The request is not valid; `errors` names each wrong field."),
        (401, "Not authenticated."),
        (403, "Not allowed for this user."),
        (
            404,
            "The integration, connector, task, message or entry does not exist (or is not yours).",
        ),
        (409, "The request clashes with the current state."),
        (429, "Too many failed logins for this user or from this address: wait Retry-After."),
    )
}


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


async def snapshot_of(board: StatusBoard) -> Snapshot:
    """The board's snapshot; taking a new one reads the store, off the event loop."""
    current = board.current()
    if current is not None:
        return current
    return await run_in_threadpool(board.take)
