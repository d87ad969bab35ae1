"""FastAPI dependencies shared by every surface."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from issuesync.services import Services
from issuesync.store.principals import Principal


async def get_services(request: Request) -> Services:
    """The services of the running app."""
    services: Services = request.app.state.services
    return services


async def get_principal(
    request: Request,
    services: Annotated[Services, Depends(get_services)],
    authorization: Annotated[
        str | None,
        Header(
            description="HTTP Basic (user and password or API token), `Bearer <token>` "
            "or `Token <token>`"
        ),
    ] = None,
) -> Principal:
    """The authenticated caller; 401 without valid credentials, 429 after too many wrong ones.

    Every route of every dialect authenticates here. Failed logins are counted
    per client address: the peer of the connection, or the address a trusted
    reverse proxy names (``ISSUESYNC_TRUSTED_PROXIES``); nothing else is believed.

    Async so that a remembered check costs no thread hop; a real check (a
    database read, perhaps scrypt) runs in the thread pool, off the event loop.
    """
    remembered = services.authenticator.remembered(authorization)
    if remembered is not None:
        return remembered
    address = request.client.host if request.client is not None else None
    return await run_in_threadpool(services.authenticator.authenticate, authorization, address)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
