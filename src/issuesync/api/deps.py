"""FastAPI dependencies shared by every surface."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from issuesync.app import Services
from issuesync.auth import Principal


async def get_services(request: Request) -> Services:
    """The services of the running app."""
    services: Services = request.app.state.services
    return services


async def get_principal(
    services: Annotated[Services, Depends(get_services)],
    authorization: Annotated[
        str | None,
        Header(description="HTTP Basic (user and password or API token) or `Bearer <token>`"),
    ] = None,
) -> Principal:
    """The authenticated caller; 401 without valid credentials.

    Async so that a remembered check costs no thread hop; a real check (a
    database read, perhaps scrypt) runs in the thread pool, off the event loop.
    """
    remembered = services.authenticator.remembered(authorization)
    if remembered is not None:
        return remembered
    return await run_in_threadpool(services.authenticator.authenticate, authorization)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
