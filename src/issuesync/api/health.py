"""Liveness for load balancers and people: ``GET /healthz``."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from issuesync import __version__
from issuesync.api.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(services: ServicesDep) -> dict[str, object]:
    """Whether the process runs and its database answers."""
    with services.uow_factory(readonly=True) as uow:
        uow.session.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}
