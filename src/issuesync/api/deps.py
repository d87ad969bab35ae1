"""FastAPI dependencies shared by every surface."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from issuesync.app import Services
from issuesync.auth import Principal


def get_services(request: Request) -> Services:
    """The services of the running app."""
    services: Services = request.app.state.services
    return services


def get_principal(
    services: Annotated[Services, Depends(get_services)],
    authorization: Annotated[
        str | None,
        Header(description="HTTP Basic (user and password or API token) or `Bearer <token>`"),
    ] = None,
) -> Principal:
    """The authenticated caller; 401 without valid credentials."""
    return services.authenticator.authenticate(authorization)


ServicesDep = Annotated[Services, Depends(get_services)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
