"""Starting, stopping and restarting integrations as asynchronous tasks (seed 001).

Backbone answers ``PUT /integrations/{key}/start``, ``/stop`` and
``/applicationConnection`` with a task. Here the request only changes what is
wanted (``integrations.running``, a connector's connection); the engines that
hold the connectors' leases follow within a second. The task's progress is
read from the connectors' states, so it is true whichever process runs them:

- ``start``: done when every connector this node runs is leased by a live
  engine with its routes ``STARTED``; failed when a connector could not start
  (its tracker could not be opened: the reason is in its details);
- ``stop``: done when no live engine holds a lease on them any more;
- ``restart`` (after a change of connection or configuration): when the
  integration runs, done when every connector was taken up again after the
  change; when it is stopped, done at once.

A task is evaluated when it is read (:func:`advance`); a task that no engine
follows within :data:`LIFECYCLE_TIMEOUT_MS` fails with what to check.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.application.lookup import get_integration, refuse_connection, set_running
from issuesync.domain.task import Task
from issuesync.engine.connectors import PARTNER_SYSTEM
from issuesync.engine.tasks import create_task, task_view
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorRow, ConnectorState, IntegrationRow, TaskRow

START = "start"
STOP = "stop"
RESTART = "restart"
KINDS = frozenset({START, STOP, RESTART})
LIFECYCLE_TIMEOUT_MS = 120_000
STARTED = "STARTED"


def request_start(session: Session, key: str, actor: str) -> Task:
    """Want the integration running; the task follows the engines taking it up (not one
    that a connection runs by jobs: ConflictError)."""
    refuse_connection(session, get_integration(session, key))
    integration = set_running(session, key, running=True, actor=actor)
    return _task(session, integration, START, f"Starting {integration.key}.")


def request_stop(session: Session, key: str, actor: str) -> Task:
    """Want the integration stopped; the task follows the engines letting it go."""
    integration = set_running(session, key, running=False, actor=actor)
    return _task(session, integration, STOP, f"Stopping {integration.key}.")


def request_restart(session: Session, key: str, what: str, notes: Sequence[str] = ()) -> Task:
    """A change that running connectors must pick up (the engines see the new version).

    ``notes`` (what the change did not do, say) follow the task's first message.
    """
    integration = get_integration(session, key)
    return _task(session, integration, RESTART, f"{what} of {integration.key} saved.", notes)


def _task(
    session: Session,
    integration: IntegrationRow,
    kind: str,
    message: str,
    notes: Sequence[str] = (),
) -> Task:
    task = create_task(session, kind, message, integration_id=integration.id)
    session.flush()
    advance(session, task)
    if notes:
        task.message = " ".join([task.message, *notes])
    return task_view(task)


def advance(session: Session, task: TaskRow, now: int | None = None) -> None:
    """Bring a lifecycle task up to date with the connectors' states (others are left alone)."""
    if task.kind not in KINDS or task.finished or task.integration_id is None:
        return
    now = now_ms() if now is None else now
    integration = session.get(IntegrationRow, task.integration_id)
    if integration is None:  # deleted meanwhile; the cascade removes the task too
        return
    wanted = task.kind != STOP
    if task.kind == RESTART and not integration.running:
        _finish(task, now, f"{integration.key} is stopped; the change applies when it starts.")
        return
    if integration.running != wanted:
        _finish(
            task,
            now,
            failure=f"{integration.key} was {'stopped' if wanted else 'started'} "
            "again before this task finished.",
        )
        return
    states = _states(session, integration.id)
    if not states:  # a distributed integration's partner side only: nothing runs here
        _finish(task, now, f"{integration.key} has no connector that runs on this node.")
        return
    done = 0
    for row, state in states:
        leased = state.lease_owner is not None and (state.lease_until_ms or 0) >= now
        if not wanted:
            done += not leased
            continue
        taken_up = (
            leased
            and state.incoming_status == STARTED
            and (task.kind != RESTART or (state.start_ms or 0) >= task.start_ms)
        )
        if taken_up:
            done += 1
        elif not leased and (state.incoming_details or state.outgoing_details):
            reason = state.incoming_details or state.outgoing_details
            _finish(task, now, failure=f"{row.key} cannot start: {reason}")
            return
    task.progress = done * 100 // len(states)
    task.updated_ms = now
    if done == len(states):
        verb = {START: "started", STOP: "stopped", RESTART: "restarted"}[task.kind]
        _finish(task, now, f"{integration.key} {verb}.")
    elif now - task.start_ms > LIFECYCLE_TIMEOUT_MS:
        _finish(
            task,
            now,
            failure=f"No engine {'took up' if wanted else 'let go of'} {integration.key} "
            f"within {LIFECYCLE_TIMEOUT_MS // 1000} s: check that `issuesync serve` (with its "
            "engine) or an `issuesync worker` runs on this database.",
        )


def _states(session: Session, integration_id: int) -> list[tuple[ConnectorRow, ConnectorState]]:
    rows = session.execute(
        select(ConnectorRow, ConnectorState)
        .join(ConnectorState, ConnectorState.connector_id == ConnectorRow.id)
        .where(
            ConnectorRow.integration_id == integration_id,
            ConnectorRow.system != PARTNER_SYSTEM,
        )
        .order_by(ConnectorRow.position)
    )
    return [(row, state) for row, state in rows]


def _finish(
    task: TaskRow, now: int, message: str | None = None, *, failure: str | None = None
) -> None:
    task.finished = True
    task.updated_ms = now
    if failure is not None:
        task.failed = True
        task.failure_message = failure
        task.message = failure
    else:
        task.progress = 100
        task.message = message or task.message


__all__ = [
    "KINDS",
    "LIFECYCLE_TIMEOUT_MS",
    "RESTART",
    "START",
    "STOP",
    "advance",
    "request_restart",
    "request_start",
    "request_stop",
]
