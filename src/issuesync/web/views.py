"""What the dashboard's pages show, read through the application's services.

Each function reads one page's data in one unit of work, applying the same rule of
who sees what as every API (:mod:`issuesync.application.access`): an administrator
sees every integration, a project administrator those with a built-in project of
theirs, and anything else does not exist for them (404, as in the APIs).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from issuesync.application import lifecycle
from issuesync.application.access import (
    require_some_project,
    visible_integration,
    visible_integration_ids,
)
from issuesync.application.conflicts import (
    CONNECTION_CHECK_FAILED,
    CONNECTION_FAILED,
    data_conflicts,
    validation_conflicts,
)
from issuesync.application.integrations import list_integrations
from issuesync.application.monitoring import Statuses, integration_view
from issuesync.application.proposals import proposal_conflicts
from issuesync.application.syncinfo import list_sync_links
from issuesync.domain.conflict import Conflict
from issuesync.domain.integration import ConnectorView, IntegrationView
from issuesync.domain.message import ReceiveState, SendState
from issuesync.domain.status import PROCESSING, STARTED, ConnectorStatus, IntegrationStatus
from issuesync.domain.synclink import SyncLink
from issuesync.domain.task import Task
from issuesync.engine.connectors import connector_configs
from issuesync.engine.tasks import task_view
from issuesync.engine.transports import queues
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.sync import MessageRow, TaskRow
from issuesync.store.throughput import ConnectorMinute, minutes_since

HOUR_MS: Final = 3600 * 1000
MAX_LISTED: Final = 50  # messages in error, per connector and page
MAX_TASKS: Final = 10
# Receive states a person acts on: retry (after fixing the cause) or discard.
STUCK_STATES: Final = (
    ReceiveState.ERROR,
    ReceiveState.ISSUE_MISSING,
    ReceiveState.SEQUENCE_ERROR,
    ReceiveState.OFFLINE,
)
RECEIVE_STATES: Final = tuple(s.value for s in ReceiveState)
SEND_STATES: Final = tuple(s.value for s in SendState)


def connector_state(status: ConnectorStatus) -> str:
    """One word for a connector: stopped, reconnecting, processing or idle."""
    if status.incoming != STARTED or status.outgoing != STARTED:
        return "stopped"
    if status.reconnecting or not status.online:
        return "reconnecting"
    if PROCESSING in (status.incoming_processing, status.outgoing_processing):
        return "processing"
    return "idle"


def integration_state(status: IntegrationStatus) -> str:
    """One word for an integration, the busier of its connectors' (stopped when not running)."""
    if not status.running:
        return "stopped"
    states = {connector_state(status.first), connector_state(status.second)}
    for word in ("reconnecting", "processing", "stopped"):
        if word in states:
            return "starting" if word == "stopped" else word
    return "idle"


@dataclass(frozen=True)
class BoardRow:
    """One integration on the board."""

    key: str
    summary: str
    state: str
    first: tuple[str, str, str]  # connector key, system, project
    second: tuple[str, str, str]
    first_state: str
    second_state: str
    issues_in_error: int


def board(session: Session, principal: Principal, now: int) -> list[BoardRow]:
    """Every integration the caller may see, with its live status, in key order."""
    require_some_project(principal)
    rows = list_integrations(session)
    visible = visible_integration_ids(session, principal)
    if visible is not None:
        rows = [row for row in rows if row.id in visible]
    statuses = Statuses.load(session, [row.id for row in rows], errors=True)
    found = []
    for row in rows:
        status = statuses.status(row, now)
        first_id, second_id = statuses.pair(row.id)
        found.append(
            BoardRow(
                key=row.key,
                summary=row.summary,
                state=integration_state(status),
                first=(status.first.connector_key, *statuses.projects[first_id]),
                second=(status.second.connector_key, *statuses.projects[second_id]),
                first_state=connector_state(status.first),
                second_state=connector_state(status.second),
                issues_in_error=status.first.issues_in_error + status.second.issues_in_error,
            )
        )
    return sorted(found, key=lambda r: (len(r.key), r.key))


@dataclass
class Side:
    """One connector of an integration, as its page shows it."""

    view: ConnectorView
    status: ConnectorStatus
    state: str
    receive: dict[str, int] = field(default_factory=dict)  # messages per state
    send: dict[str, int] = field(default_factory=dict)
    stuck: list[queues.MessageView] = field(default_factory=list)
    links: list[SyncLink] = field(default_factory=list)


@dataclass
class IntegrationPage:
    """Everything one integration's page shows."""

    view: IntegrationView
    state: str
    running: bool
    sides: tuple[Side, Side]
    conflicts: list[Conflict]
    tasks: list[Task]
    minutes: list[ConnectorMinute]
    searched: str | None


def integration_page(
    session: Session,
    principal: Principal,
    key: str,
    now: int,
    *,
    issue: str | None = None,
    live: bool = False,
) -> IntegrationPage:
    """One integration's page; 404 when the caller may not see it. ``live``: only what the
    page refreshes every two seconds (status, queues, chart), not the lists under them."""
    row = visible_integration(session, principal, key)
    view = integration_view(session, row)
    statuses = Statuses.load(session, [row.id], errors=True)
    status = statuses.status(row, now)
    counts = _counts(session, (view.first.id, view.second.id))
    sides = []
    for connector, connector_status in ((view.first, status.first), (view.second, status.second)):
        side = Side(connector, connector_status, connector_state(connector_status))
        side.receive = {s: counts[connector.id, "receive"].get(s, 0) for s in RECEIVE_STATES}
        side.send = {s: counts[connector.id, "send"].get(s, 0) for s in SEND_STATES}
        for state in () if live else STUCK_STATES:
            left = MAX_LISTED - len(side.stuck)
            if left > 0 and side.receive[state.value]:
                side.stuck += queues.list_messages(
                    session, connector.id, state=state.value, limit=left
                )
        if issue:
            side.links = list_sync_links(session, connector.key, local_issue_key=issue)
            side.links += list_sync_links(session, connector.key, remote_issue_key=issue)
        sides.append(side)
    tasks = (
        []
        if live
        else [
            task_view(task)
            for task in session.scalars(
                select(TaskRow)
                .where(
                    or_(
                        TaskRow.integration_id == row.id,
                        TaskRow.connector_id.in_((view.first.id, view.second.id)),
                    )
                )
                .order_by(TaskRow.start_ms.desc())
                .limit(MAX_TASKS)
            )
        ]
    )
    return IntegrationPage(
        view=view,
        state=integration_state(status),
        running=row.running,
        sides=(sides[0], sides[1]),
        conflicts=[] if live else data_conflicts(session, row),
        tasks=tasks,
        minutes=minutes_since(session, [view.first.id, view.second.id], now - HOUR_MS),
        searched=issue,
    )


@dataclass(frozen=True)
class Checks:
    """The integration's configuration checked against both trackers (opened as their sync
    users): whether each connects, and what else cannot work, each with what to do."""

    connection: list[Conflict]
    configuration: list[Conflict]


CONNECTION_TYPES: Final = frozenset({CONNECTION_FAILED, CONNECTION_CHECK_FAILED})


def checks(session: Session, services: Services, principal: Principal, key: str) -> Checks:
    """The validation conflicts of ``GET /integrations/{key}/conflicts``, split into the
    connection test's and the rest (a read-only session: the test opens its own)."""
    row = visible_integration(session, principal, key)
    found = validation_conflicts(session, services, row)
    found += proposal_conflicts(row, connector_configs(session, row.id))
    return Checks(
        connection=[c for c in found if c.type in CONNECTION_TYPES],
        configuration=[c for c in found if c.type not in CONNECTION_TYPES],
    )


def advance_tasks(session: Session, principal: Principal, key: str) -> None:
    """Bring the integration's unfinished start, stop and restart tasks up to date with the
    engines (as reading one through the API does), so that the page shows their progress."""
    row = visible_integration(session, principal, key)
    for task in session.scalars(
        select(TaskRow).where(TaskRow.integration_id == row.id, TaskRow.finished.is_(False))
    ):
        lifecycle.advance(session, task)


def _counts(
    session: Session, connector_ids: tuple[int, ...]
) -> dict[tuple[int, str], dict[str, int]]:
    counted: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    for connector_id, queue, state, count in session.execute(
        select(MessageRow.connector_id, MessageRow.queue, MessageRow.state, func.count())
        .where(MessageRow.connector_id.in_(connector_ids))
        .group_by(MessageRow.connector_id, MessageRow.queue, MessageRow.state)
    ):
        counted[connector_id, queue][state] = count
    return counted
