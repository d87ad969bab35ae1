"""The Backbone dialect: K15t Backbone Issue Sync's management REST API (seeds 000-002)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute

from issuesync.api.backbone.board import StatusBoard
from issuesync.api.backbone.errors import BACKBONE, backbone_error
from issuesync.api.backbone.routers import BACKBONE_PREFIX, PREFIXES, SHORT_PREFIX, build_router
from issuesync.api.errors import ErrorShapes


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


__all__ = [
    "BACKBONE_PREFIX",
    "PREFIXES",
    "SHORT_PREFIX",
    "backbone_error",
    "include_routes",
    "install",
    "mount",
]
