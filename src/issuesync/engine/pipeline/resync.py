"""Resync: send the current values of chosen field mappings for matching issues again.

A resync is a task. It is asked for in the store (:func:`request_resync`) and
run by the engine that holds the connector (:func:`run_resync`), between the
connector's routes, so it never races the outgoing route over an issue's
sequence ids.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue
from sqlalchemy.orm import Session

from issuesync.domain.jql import parse_jql
from issuesync.engine.connectors import ConnectorConfig
from issuesync.engine.pipeline.outgoing import ResyncOptions, send_page
from issuesync.engine.pipeline.route import Route
from issuesync.engine.tasks import RESYNC, create_task, get_task
from issuesync.errors import ConflictError, InvalidInputError, IssueSyncError, QueryError
from issuesync.store.base import now_ms
from issuesync.store.sync import IntegrationRow, TaskRow


@dataclass(frozen=True)
class ResyncRequest:
    """What to send again: issues matching ``query`` (with the connector's own queries),
    the field mappings ``field_mapping_ids`` (None: all), and the status if ``send_status``.
    ``responsibility`` is accepted and kept with the task, as asked."""

    query: str | None = None
    field_mapping_ids: tuple[str, ...] | None = None
    responsibility: bool = False
    send_status: bool = False

    def parameters(self) -> dict[str, JsonValue]:
        """The request as the task stores it."""
        ids: JsonValue = (
            list(self.field_mapping_ids) if self.field_mapping_ids is not None else None
        )
        return {
            "query": self.query,
            "field_mapping_ids": ids,
            "responsibility": self.responsibility,
            "send_status": self.send_status,
        }

    @classmethod
    def from_parameters(cls, data: Mapping[str, Any]) -> ResyncRequest:
        """The request a task stored."""
        ids = data.get("field_mapping_ids")
        return cls(
            query=data.get("query"),
            field_mapping_ids=tuple(ids) if ids is not None else None,
            responsibility=bool(data.get("responsibility", False)),
            send_status=bool(data.get("send_status", False)),
        )


def request_resync(session: Session, connector: ConnectorConfig, request: ResyncRequest) -> TaskRow:
    """Check the request and queue it as a task of the connector."""
    integration = session.get(IntegrationRow, connector.integration_id)
    if integration is None or not integration.running:
        raise ConflictError(
            f"{connector.integration_key} is stopped: start it "
            f"(`issuesync integration start {connector.integration_key}`) before a resync."
        )
    known = {m.id for m in connector.configuration.field_mappings}
    for index, mapping_id in enumerate(request.field_mapping_ids or ()):
        if mapping_id not in known:
            raise InvalidInputError(
                f"The connector {connector.key} has no field mapping with id '{mapping_id}'.",
                field_errors={f"field_mapping_ids[{index}]": "unknown field mapping id"},
            )
    if request.query:
        try:
            parse_jql(request.query)
        except QueryError as exc:
            raise InvalidInputError(exc.message, field_errors={"query": exc.message}) from exc
    return create_task(
        session,
        RESYNC,
        f"Starting resync for connector {connector.key}",
        connector_id=connector.id,
        integration_id=connector.integration_id,
        parameters=request.parameters(),
    )


def combined_queries(configured: Sequence[str], jql: str | None) -> list[str]:
    """The resync's JQL combined with the connector's own queries (AND)."""
    if not jql:
        return list(configured)
    if not configured:
        return [jql]
    return [f"({query}) AND ({jql})" for query in configured]


def run_resync(route: Route, task_id: str) -> None:
    """Run a queued resync task to its end, updating its progress; failures end up in the task."""
    with route.uow_factory(readonly=True) as uow:
        task = get_task(uow.session, task_id)
        request = ResyncRequest.from_parameters(json.loads(task.parameters))
    options = ResyncOptions(
        mapping_ids=frozenset(request.field_mapping_ids) if request.field_mapping_ids else None,
        send_status=request.send_status,
    )
    queries = combined_queries(route.connector.configuration.sync.outgoing_jqls, request.query)
    try:
        replicas = [
            replica
            for page in route.tracker.changed_since(None, queries, route.page_size)
            for replica in page
        ]
        total = len(replicas)
        _update(route, task_id, message=f"Resyncing {_issues(total)} of {route.connector.key}")
        for start in range(0, total, route.page_size):
            if _cancelled(route, task_id):
                return
            send_page(route, replicas[start : start + route.page_size], resync=options)
            done = min(start + route.page_size, total)
            _update(route, task_id, progress=done * 100 // max(total, 1))
        _update(
            route,
            task_id,
            progress=100,
            finished=True,
            message=f"Resync finished: {_issues(total)} of {route.connector.key} sent.",
        )
    except IssueSyncError as exc:
        _update(route, task_id, finished=True, failed=True, failure_message=exc.message)


def _issues(count: int) -> str:
    return "1 issue" if count == 1 else f"{count} issues"


def _cancelled(route: Route, task_id: str) -> bool:
    with route.uow_factory(readonly=True) as uow:
        return get_task(uow.session, task_id).cancelled


def _update(route: Route, task_id: str, **values: object) -> None:
    with route.uow_factory() as uow:
        task = get_task(uow.session, task_id)
        for name, value in values.items():
            setattr(task, name, value)
        task.updated_ms = now_ms()
        uow.commit()
