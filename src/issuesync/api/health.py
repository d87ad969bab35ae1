"""Liveness and health for load balancers, monitoring and people: ``GET /healthz``.

It answers from memory only (:class:`~issuesync.health.Health`): no database
read, no thread from the pool, so it answers at once even while the store
hangs, a lock is held or every thread of the pool waits. 200 with
``{"status": "ok"}`` while nothing fails; 503 with ``{"status": "failing"}``
and the problems while something does: a plain HTTP check (a load balancer, a
readiness probe, ``check_http``) notices without reading the body, and the body
says what and since when. Only issuesync's own words are shown (no login is
needed here); the driver's messages are in the log and the status readings.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from issuesync import __version__
from issuesync.api.deps import ServicesDep
from issuesync.health import Problem

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    responses={
        200: {"description": '`{"status": "ok", "version": …, "problems": []}`'},
        503: {"description": '`{"status": "failing", "version": …, "problems": [{"area": …}]}`'},
    },
)
async def healthz(services: ServicesDep) -> JSONResponse:
    """Whether this process works: its store and its engine (see the module's docstring)."""
    problems = services.health.problems()
    body = {
        "status": "failing" if problems else "ok",
        "version": __version__,
        "problems": [_problem_json(problem) for problem in problems],
    }
    return JSONResponse(body, status_code=503 if problems else 200)


def _problem_json(problem: Problem) -> dict[str, object]:
    since = dt.datetime.fromtimestamp(problem.since_ms / 1000, tz=dt.UTC)
    return {
        "area": problem.area,
        "reason": problem.reason,
        "since": since.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "sinceMs": problem.since_ms,
    }
