"""The Backbone management API (seeds 000-002): integrations, connectors, tasks, messages.

Served under Backbone's own base path and, identically, under ``/api/1``.
Every route is a thin layer over the engine's services: it checks who calls
(:mod:`issuesync.api.backbone.access`), runs one unit of work off the event
loop, and answers the seeds' JSON. Start, stop and connection changes are
tasks (:mod:`issuesync.application.lifecycle`) that the engines carry out.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from issuesync.api.backbone.board import StatusBoard
from issuesync.api.backbone.common import (
    BACKBONE_PREFIX,
    ERRORS,
    PREFIXES,
    SHORT_PREFIX,
)
from issuesync.api.backbone.connectors import build_connectors_router
from issuesync.api.backbone.errors import BACKBONE, backbone_error
from issuesync.api.backbone.integrations import build_integrations_router
from issuesync.api.backbone.tasks import build_tasks_router
from issuesync.api.errors import ErrorShapes

__all__ = [
    "BACKBONE_PREFIX",
    "PREFIXES",
    "SHORT_PREFIX",
    "backbone_error",
    "build_router",
    "include_routes",
    "install",
    "mount",
]


def build_router() -> APIRouter:
    """Every route of the Backbone API, without a prefix (mounted under each of ``PREFIXES``)."""
    router = APIRouter(responses=ERRORS)
    router.include_router(build_integrations_router())
    router.include_router(build_connectors_router())
    router.include_router(build_tasks_router())
    return router


def install(app: FastAPI, shapes: ErrorShapes) -> None:
    """What the routes need of their app: the status board, and Backbone's errors."""
    services = app.state.services
    app.state.backbone_board = StatusBoard(services.uow_factory, home=services.settings.home)
    for prefix in PREFIXES:
        shapes.register(prefix, BACKBONE)


def include_routes(app: FastAPI) -> None:
    """Serve the API under Backbone's base path and under ``/api/1``, documented under both."""
    for prefix in PREFIXES:
        short = prefix == SHORT_PREFIX
        app.include_router(
            build_router(),
            prefix=prefix,
            generate_unique_id_function=_operation_id("short_" if short else "backbone_"),
        )


def mount(app: FastAPI, shapes: ErrorShapes) -> None:
    """:func:`install` and :func:`include_routes`."""
    install(app, shapes)
    include_routes(app)


def _operation_id(prefix: str):  # type: ignore[no-untyped-def]  # noqa: ANN202 - FastAPI's hook type
    def generate(route: APIRoute) -> str:
        return f"{prefix}{route.name}"

    return generate
