"""``issuesync messages …`` and ``worker``: the engine on the CLI (and what ``integration
resync`` uses of it)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table
from sqlalchemy.orm import Session

from issuesync.application.integrations import ConnectorConfig, connector_by_key
from issuesync.application.tasks import find_task
from issuesync.domain.diff import Winner
from issuesync.domain.message import ReceiveState, SendState
from issuesync.domain.task import Task
from issuesync.engine.pipeline import incoming
from issuesync.engine.runtime.jobs import ConnectionJobs, ConnectionScheduler
from issuesync.engine.runtime.runner import SyncRunner, tune_garbage_collector
from issuesync.engine.transports import queues
from issuesync.engine.transports.folders import list_invalid
from issuesync.errors import InvalidInputError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorState, MessageRow

OpenServices = Callable[[], AbstractContextManager[Services]]

_STATES = list(dict.fromkeys([*(s.value for s in ReceiveState), *(s.value for s in SendState)]))


def _state(value: str | None) -> str | None:
    if value is not None and value not in _STATES:
        raise InvalidInputError(f"Unknown state '{value}': use one of {', '.join(_STATES)}.")
    return value


def _echo_json(document: object) -> None:
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _without_payload(document: dict[str, Any]) -> dict[str, Any]:
    """The message without the encoded replica it carries (shown decoded beside it)."""
    message = document.get("message")
    if not isinstance(message, dict):
        return document
    wire = message.get("replica")
    if not isinstance(wire, dict) or "encodedPayload" not in wire:
        return document
    rest = {k: v for k, v in wire.items() if k != "encodedPayload"}
    shown = {k: rest if k == "replica" else v for k, v in message.items() if k != "replica" or rest}
    return {**document, "message": shown}


def _chosen(
    session: Session,
    connector: ConnectorConfig,
    ids: list[int] | None,
    issue: str | None,
    state: str | None,
) -> list[MessageRow]:
    if not ids and issue is None and state is None:
        raise InvalidInputError("Name the messages: give ids, --issue KEY or --state STATE.")
    if ids:
        return [queues.get_message(session, connector.id, message_id) for message_id in ids]
    views = queues.list_messages(session, connector.id, state=_state(state), issue_key=issue)
    rows = [session.get(MessageRow, view.id) for view in views]
    return [row for row in rows if row is not None]


ConnectorArg = Annotated[str, typer.Argument(help="The connector's key, e.g. PA-1.")]
IdsArg = Annotated[list[int] | None, typer.Argument(help="Message ids (from `messages list`).")]
IssueOpt = Annotated[
    str | None, typer.Option("--issue", help="All messages of this (partner's) issue key.")
]
StateOpt = Annotated[str | None, typer.Option("--state", help="All messages in this state.")]


def messages_commands(  # noqa: C901, PLR0915 - one closure per command
    open_services: OpenServices, open_readonly: OpenServices, out: Console
) -> typer.Typer:
    """The ``messages`` command group (``open_readonly``: for those that only read)."""
    group = typer.Typer(
        help="Messages in a connector's queues: list, show, retry, discard, resolve conflicts.",
        no_args_is_help=True,
    )

    @group.command("list")
    def list_(
        connector: ConnectorArg,
        state: StateOpt = None,
        issue: IssueOpt = None,
        queue: Annotated[
            str, typer.Option(help="receive or send.", case_sensitive=False)
        ] = "receive",
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List a connector's messages (by default its receive queue)."""
        if queue not in (queues.RECEIVE, queues.SEND):
            raise InvalidInputError("--queue must be 'receive' or 'send'.")
        with open_readonly() as services, services.uow_factory(readonly=True) as uow:
            config = connector_by_key(uow.session, connector)
            views = queues.list_messages(
                uow.session, config.id, queue=queue, state=_state(state), issue_key=issue
            )
        files = []
        if state == ReceiveState.INVALID and "file" in (
            config.send_queue.type,
            config.receive_queue.type,
        ):
            # Files that are not messages were never indexed: they are only on disk (those
            # refused into RECEIVE/invalid, and what the engine left in place as not its own).
            files = list_invalid(services.queue_places, config)
        if as_json:
            documents = [view.to_json() for view in views]
            documents += [
                {"state": "invalid", "file": str(f.path), "reason": f.reason} for f in files
            ]
            _echo_json(documents)
            return
        for found in files:
            out.print(f"invalid file {found.path}: {found.reason}", highlight=False)
        if not views and files:
            return
        if not views:
            out.print(f"No {queue} messages of {config.key} match.")
            return
        table = Table("id", "state", "kind", "issue", "seq", "attempts", "reason")
        for view in views:
            table.add_row(
                str(view.id),
                view.state,
                view.kind,
                view.issue_key,
                str(view.sequence_id),
                str(view.attempts),
                view.reason or "",
            )
        out.print(table)

    @group.command("show")
    def show(
        connector: ConnectorArg,
        message_id: Annotated[int, typer.Argument(help="The message's id.")],
        raw: Annotated[
            bool,
            typer.Option("--raw", help="Also print the replica as sent: base64 of its JSON."),
        ] = False,
    ) -> None:
        """Show one message as JSON, with its replica decoded."""
        with open_readonly() as services, services.uow_factory(readonly=True) as uow:
            config = connector_by_key(uow.session, connector)
            document = queues.message_document(
                queues.get_message(uow.session, config.id, message_id)
            )
        if not raw:
            document = _without_payload(document)
        _echo_json(document)

    @group.command("retry")
    def retry(
        connector: ConnectorArg,
        ids: IdsArg = None,
        issue: IssueOpt = None,
        state: StateOpt = None,
    ) -> None:
        """Queue messages again (error, offline, sequence-error, issue-missing, discard)."""
        with open_services() as services, services.uow_factory() as uow:
            config = connector_by_key(uow.session, connector)
            count = queues.retry(_chosen(uow.session, config, ids, issue, state), now_ms())
            uow.commit()
        out.print(f"{count} message(s) of {config.key} queued again.")

    @group.command("discard")
    def discard(
        connector: ConnectorArg,
        ids: IdsArg = None,
        issue: IssueOpt = None,
        state: StateOpt = None,
    ) -> None:
        """Give messages up: they move to discard and stop holding their issue."""
        with open_services() as services, services.uow_factory() as uow:
            config = connector_by_key(uow.session, connector)
            chosen = _chosen(uow.session, config, ids, issue, state)
            count = queues.discard(chosen, now_ms())
            uow.commit()
        out.print(f"{count} message(s) of {config.key} discarded.")

    @group.command("resolve")
    def resolve(
        connector: ConnectorArg,
        message_id: Annotated[int, typer.Argument(help="The message in error with a conflict.")],
        keep: Annotated[
            str, typer.Option(help="'local' keeps this side's values, 'remote' the partner's.")
        ],
    ) -> None:
        """Settle a conflict by picking a side; the message is then applied again."""
        if keep not in (Winner.LOCAL, Winner.REMOTE):
            raise InvalidInputError("--keep must be 'local' or 'remote'.")
        with open_services() as services, services.uow_factory() as uow:
            config = connector_by_key(uow.session, connector)
            count = incoming.resolve(uow.session, config.id, message_id, Winner(keep))
            uow.commit()
        out.print(f"{count} field(s) of message {message_id} settled for the {keep} side.")

    return group


def held_elsewhere(services: Services, connector_id: int) -> bool:
    """Whether a live engine elsewhere holds the connector's lease (it runs its tasks)."""
    with services.uow_factory(readonly=True) as uow:
        state = uow.session.get(ConnectorState, connector_id)
        return bool(state and state.lease_owner and (state.lease_until_ms or 0) > now_ms())


def follow_task(services: Services, task_id: str, out: Console) -> Task:
    """Show a task's progress until it finishes (an hour at most); the finished task."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), console=out
    ) as progress:
        bar = progress.add_task("resync", total=100)
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            with services.uow_factory(readonly=True) as uow:
                shown = find_task(uow.session, task_id)
            progress.update(bar, completed=shown.progress, description=shown.message)
            if shown.finished:
                return shown
            time.sleep(0.2)
    raise InvalidInputError(f"The resync task {task_id} did not finish within an hour.")


def run_worker(services: Services, out: Console) -> None:
    """Run the engine alone until SIGTERM or Ctrl-C."""
    tune_garbage_collector()
    engine = SyncRunner(services)
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler = ConnectionScheduler(ConnectionJobs(services, engine.owner))
    engine.start()
    scheduler.start()
    out.print(f"issuesync worker {engine.owner} running; stop it with Ctrl-C or SIGTERM.")
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        scheduler.stop()
        engine.stop()
        out.print("issuesync worker stopped.")
