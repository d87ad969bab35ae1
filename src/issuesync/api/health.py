"""Liveness and health for load balancers, monitoring and people: ``GET /healthz``.

It answers from memory only (:class:`~issuesync.health.Health`): no database
read, no thread from the pool, so it answers at once even while the store
hangs, a lock is held or every thread of the pool waits. 200 with
``{"status": "ok"}`` while nothing fails; 503 with ``{"status": "failing"}``
and the problems while something does: a plain HTTP check (a load balancer, a
readiness probe, ``check_http``) notices without reading the body, and the body
says what and since when. Only issuesync's own words are shown (no login is
needed here); the driver's messages are in the log and the status readings.

So that a process that serves only the API (``ISSUESYNC_ENGINE_ENABLED=false``)
also knows whether its database answers, a :class:`DatabaseProbe` reads it every
:data:`PROBE_S` seconds in a thread of its own; the unit of work records what
fails and what works again (an engine in the process writes every second, which
also shows a full disk).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from issuesync import __version__
from issuesync.api.deps import ServicesDep
from issuesync.engine.runtime.leases import unleased_connectors
from issuesync.errors import IssueSyncError
from issuesync.health import Problem
from issuesync.services import Services
from issuesync.store.migrate import is_current

log = logging.getLogger(__name__)

PROBE_S = 5.0

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


@router.get(
    "/readyz",
    responses={
        200: {"description": '`{"ready": true, "checks": {"database": {"ok": true, …}, …}}`'},
        503: {"description": '`{"ready": false, "checks": {…: {"ok": false, "detail": …}}}`'},
    },
)
def readyz(request: Request) -> JSONResponse:
    """Whether this process is ready for work: its database answers, is at the newest
    migration, and the engine holds the leases of every started integration's connectors
    (or no engine runs here). Unlike ``/healthz`` it reads the database (a thread of the
    pool); each failed check says what failed, in issuesync's words (no login here)."""
    services: Services = request.app.state.services
    checks = {
        "database": _check_database(services),
        "migrations": _check_migrations(services),
        "engine": _check_engine(services, engine=getattr(request.app.state, "engine", None)),
    }
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _check_database(services: Services) -> dict[str, object]:
    try:
        with services.uow_factory(readonly=True) as uow:
            uow.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - the answer says it; the store logged the cause
        return {"ok": False, "detail": f"the database cannot be read: {_said(exc)}"}
    return {"ok": True, "detail": "the database answers"}


def _check_migrations(services: Services) -> dict[str, object]:
    try:
        current = is_current(services.database)
    except Exception as exc:  # noqa: BLE001 - as above
        return {"ok": False, "detail": f"the migration cannot be read: {_said(exc)}"}
    if not current:
        return {
            "ok": False,
            "detail": "the database is not at the newest migration: run `issuesync db upgrade`",
        }
    return {"ok": True, "detail": "the database is at the newest migration"}


def _check_engine(services: Services, *, engine: object) -> dict[str, object]:
    if not services.settings.engine_enabled or engine is None:
        return {"ok": True, "detail": "no engine runs in this process"}
    try:
        with services.uow_factory(readonly=True) as uow:
            unleased = unleased_connectors(uow.session, services.clock())
    except Exception as exc:  # noqa: BLE001 - as above
        return {"ok": False, "detail": f"the leases cannot be read: {_said(exc)}"}
    if unleased:
        shown = ", ".join(unleased[:10]) + (" …" if len(unleased) > 10 else "")  # noqa: PLR2004
        return {
            "ok": False,
            "detail": f"no engine holds the lease of {len(unleased)} connectors of started "
            f"integrations: {shown}",
            "connectors": unleased[:10],
        }
    return {"ok": True, "detail": "every started integration's connectors are leased"}


def _said(exc: Exception) -> str:
    """issuesync's own words for a failure (a driver's message may name a host)."""
    if isinstance(exc, IssueSyncError):
        return exc.message.split("; ")[0]
    return exc.__class__.__name__


def _problem_json(problem: Problem) -> dict[str, object]:
    since = dt.datetime.fromtimestamp(problem.since_ms / 1000, tz=dt.UTC)
    return {
        "area": problem.area,
        "reason": problem.reason,
        "since": since.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "sinceMs": problem.since_ms,
    }


class DatabaseProbe:
    """Reads the database every ``interval_s`` in its own thread: what fails and what
    works again is recorded in the process's health by the unit of work."""

    def __init__(self, services: Services, interval_s: float = PROBE_S) -> None:
        self._services = services
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Probe until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="issuesync-probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop probing (waits for a probe under way, which is bounded by the wait setting)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                with self._services.uow_factory(readonly=True) as uow:
                    uow.session.execute(text("SELECT version_num FROM alembic_version"))
            except Exception:  # recorded in the health by the unit of work
                log.debug("the database probe failed", exc_info=True)
