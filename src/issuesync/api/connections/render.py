"""The seed's JSON of a connection, its jobs, a tracker system and a tracker connector.

Keys in the seed's order; times as the seed writes them: a job's ``last_run`` as
``2016-12-15T22:45:27.412Z``, a connection's ``last_successful_run`` (in its params) as
``2019-11-28T20:22:32.588388+00:00``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from issuesync.api.connections.params import server_params, settings_params
from issuesync.application.connections import ConnectionView, JobView, TrackerServerView

# The names SD Elements gives the systems it knows; another installed adapter is named by
# its id.
SYSTEM_NAMES: Final = {
    "jira": ("JIRA", "JIRA"),
    "redmine": ("Redmine", "Redmine"),
    "github": ("GitHub", "GitHub"),
    "gitlab": ("GitLab", "GitLab"),
}


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_z(ms: int) -> str:
    """``2016-12-15T22:45:27.412Z``: UTC to the millisecond."""
    return _at(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_offset(ms: int) -> str:
    """``2019-11-28T20:22:32.588000+00:00``: Python's ISO 8601, in UTC."""
    return _at(ms).isoformat(timespec="microseconds")


def system_json(system: str) -> dict[str, str]:
    """A tracker system: ``{"id", "name", "short_name"}``."""
    name, short = SYSTEM_NAMES.get(system, (system, system))
    return {"id": system, "name": name, "short_name": short}


def job_json(job: JobView) -> dict[str, object]:
    """A job, as the seed's ``last_job``: ``succeeded`` is null until it is ``ready``."""
    return {
        "succeeded": job.succeeded if job.ready else None,
        "last_run": iso_z(job.started_ms if job.started_ms is not None else job.queued_ms),
        "result_message": job.result_message,
        "user": job.user_id,
        "triggered_by": job.triggered_by,
        "ready": job.ready,
        "automatic": job.automatic,
        "id": job.id,
    }


def connection_json(view: ConnectionView, *, last_job: bool = False) -> dict[str, object]:
    """A connection in the seed's shape; ``params`` only for a caller who may edit it,
    ``last_job`` (null before the first) only when asked for."""
    body: dict[str, object] = {
        "id": view.id,
        "alias": view.alias,
        "system": system_json(view.system),
        "frequency": view.frequency.value,
        "command": f"sync_{view.system}",
        "debug_mode": view.debug_mode,
    }
    params = settings_params(view)
    if params is not None:
        if view.last_successful_ms is not None:
            params["last_successful_run"] = iso_offset(view.last_successful_ms)
        body["params"] = params
    body["inaccessible"] = view.inaccessible
    if last_job:
        body["last_job"] = job_json(view.last_job) if view.last_job is not None else None
    body |= {
        "in_progress": view.in_progress,
        "connector": view.tracker_server.id,
        "project": view.project_id,
    }
    return body


def connector_json(server: TrackerServerView) -> dict[str, object]:
    """A tracker connector: its id, name, system and params, never its password."""
    return {
        "id": server.id,
        "name": server.name,
        "system": system_json(server.system),
        "params": server_params(server),
    }
