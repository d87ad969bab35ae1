"""The Backbone management API (seeds 000-002): integrations, connectors, tasks, messages.

Served under Backbone's own base path and, identically, under ``/api/1``.
Every route is a thin layer over the engine's services: it checks who calls
(:mod:`issuesync.api.backbone.access`), runs one unit of work off the event
loop, and answers the seeds' JSON. Start, stop and connection changes are
tasks (:mod:`issuesync.application.lifecycle`) that the engines carry out.
"""

from fastapi import APIRouter

from issuesync.api.backbone.common import (
    BACKBONE_PREFIX,
    ERRORS,
    PREFIXES,
    SHORT_PREFIX,
)
from issuesync.api.backbone.connectors import build_connectors_router
from issuesync.api.backbone.integrations import build_integrations_router
from issuesync.api.backbone.tasks import build_tasks_router

__all__ = ["BACKBONE_PREFIX", "PREFIXES", "SHORT_PREFIX", "build_router"]


def build_router() -> APIRouter:
    """Every route of the Backbone API, without a prefix (mounted under each of ``PREFIXES``)."""
    router = APIRouter(responses=ERRORS)
    router.include_router(build_integrations_router())
    router.include_router(build_connectors_router())
    router.include_router(build_tasks_router())
    return router
