"""What the dialect's routers share: paths with and without their trailing slash, ids in
paths, the application's field names in the body's terms, who may write, and the one hop
into the thread pool with its unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from issuesync.api.connections.bodies import INVALID, MAX_ID, model_errors
from issuesync.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from issuesync.services import Services
from issuesync.store.principals import Principal

BASE: Final = "/api/v2/connections"
T = TypeVar("T")


def serve(
    router: APIRouter,
    method: str,
    path: str,
    endpoint: Callable[..., Any],
    *,
    status_code: int = 200,
) -> None:
    """Serve ``endpoint`` at ``path/`` (the seed's, documented) and at ``path`` (as a
    script may write it): the same route, never a redirect."""
    for documented, template in ((True, f"{path}/"), (False, path)):
        router.add_api_route(
            template,
            endpoint,
            methods=[method],
            status_code=status_code,
            include_in_schema=documented,
            name=endpoint.__name__ if documented else f"{endpoint.__name__}_without_slash",
        )


def path_id(text: str) -> int:
    """An id in a path; a path with anything else names nothing (404, as DRF answers)."""
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)):
        number = int(text)
        if 1 <= number <= MAX_ID:
            return number
    raise NotFoundError("Not found.")


@contextmanager
def named(rename: Callable[[str], str]) -> Iterator[None]:
    """The application's field errors under the body's names for them; a neutral model's
    refusal too (the routes check first what it checks: this is a net, not the check)."""
    try:
        yield
    except InvalidInputError as exc:
        raise InvalidInputError(
            exc.message, field_errors=_renamed(exc.field_errors, rename)
        ) from None
    except ValidationError as exc:
        fields = _renamed(model_errors(exc, {}), rename)
        raise InvalidInputError(INVALID, field_errors=fields) from None


def _renamed(fields: Mapping[str, str], rename: Callable[[str], str]) -> dict[str, str]:
    """The messages under their new names; where two names become one, the first's."""
    renamed: dict[str, str] = {}
    for name, text in fields.items():
        renamed.setdefault(rename(name), text)
    return renamed


def require_some_admin(principal: Principal) -> None:
    """403 unless the caller administers issuesync or a project (who may edit a connection)."""
    if not principal.is_admin and not principal.project_admin_keys:
        raise PermissionDeniedError(
            "You do not have permission to perform this action: you must administer "
            "issuesync or a project."
        )


async def answer(work: Callable[[], object], *, status: int = 200) -> Response:
    """Run ``work`` in the thread pool (a route's one hop off the event loop) and answer
    what it returns as JSON; nothing: 204 without a body."""
    result = await run_in_threadpool(work)
    if result is None:
        return Response(status_code=204)
    return JSONResponse(result, status_code=status)


def reads(services: Services, read: Callable[[Session], T]) -> T:
    """``read`` in a read-only unit of work."""
    with services.uow_factory(readonly=True) as uow:
        return read(uow.session)


def writes(services: Services, write: Callable[[Session], T]) -> T:
    """``write`` in a unit of work, committed when it returns."""
    with services.uow_factory() as uow:
        done = write(uow.session)
        uow.commit()
    return done
