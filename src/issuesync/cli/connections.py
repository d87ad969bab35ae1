"""``issuesync connection …``: a built-in project connected with a tracker project through a
tracker connector, synced by jobs (``application/connections.py``).

The commands act as the administrator (``cli/admin.py``). ``connection run`` queues a job as
the API does and sees it through: it claims the connection and runs the job in this process,
or waits while another process (a server, a worker, another ``run``) holds the connection.
The claim (``engine/runtime/jobs.py``) makes sure that a job runs once, whichever process
takes it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Annotated, Final

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from issuesync.application.connections import (
    ConnectionView,
    JobView,
    Prepared,
    check_tracker,
    connection_draft,
    create_connection,
    delete_connection,
    get_connection,
    get_job,
    list_connections,
    list_jobs,
    moves,
    prepare_connection,
    request_run,
    update_connection_settings,
)
from issuesync.application.proposals import ProposalOutcome
from issuesync.cli.admin import (
    administrator,
    listed_by,
    option_name,
    show_pairs,
    valid,
    validated,
    yes,
)
from issuesync.cli.home import UsageError, err, open_readonly, open_services, out, program, when
from issuesync.cli.tracker_connectors import stored_server, where
from issuesync.domain.integration import ConnectorDraft, IntegrationDraft
from issuesync.domain.schedule import Frequency
from issuesync.domain.scheduled import (
    DEFAULT_TITLE_FORMAT,
    MAX_RANK,
    MIN_RANK,
    ConflictPolicy,
    ConnectionDraft,
    ConnectionSettings,
)
from issuesync.engine.runtime.jobs import ConnectionJobs
from issuesync.errors import ConfigurationError, FatalError, InvalidInputError, NotFoundError
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User

connection_app = typer.Typer(
    help="Connections: a built-in project synced with a tracker project by jobs.",
    no_args_is_help=True,
)

POLL_S: Final = 0.25  # how often `connection run` looks at a job another process runs
DEBUG_HELP: Final = "Debug mode: each job's result names every issue it moved."


def _project_id(services: Services, principal: Principal, key_or_id: str) -> int:
    """The built-in project's id, from its key or its id."""
    try:
        with services.tracker.read(principal) as op:
            return op.project(key_or_id.strip()).id
    except NotFoundError as exc:
        raise InvalidInputError(
            f"There is no built-in project with key or id '{key_or_id}': give an existing "
            "project's key (such as PA) or its numeric id."
        ) from exc


ConnectionId = Annotated[int, typer.Argument(help="The connection's id (`connection list`).")]
FrequencyOption = Annotated[
    Frequency | None, typer.Option(case_sensitive=False, help="When jobs run by themselves.")
]
TitleOption = Annotated[
    str | None,
    typer.Option(help="The title of the tracker's issues ($task_id: the project issue's key)."),
]
ParentOption = Annotated[
    str | None, typer.Option("--parent", help="The tracker issue new issues are created under.")
]
StatusOption = Annotated[
    list[str] | None,
    typer.Option("--status", help="Only issues in this status are created (repeatable)."),
]
MinPriorityOption = Annotated[
    int | None,
    typer.Option(
        min=MIN_RANK,
        max=MAX_RANK,
        help="Only issues of this rank or higher are created (1 lowest, 10 highest).",
    ),
]
PolicyOption = Annotated[
    ConflictPolicy | None,
    typer.Option(
        case_sensitive=False,
        help="Whose status wins when both sides changed it: the tracker's or sde (the project).",
    ),
]


def _route(view: ConnectionView) -> str:
    tracker = view.settings.tracker_project if view.settings else "?"
    server = view.tracker_server
    connector = f"{server.system} connector {server.id} '{server.name}'"
    return f"{view.project_key} to {tracker} on {connector}"


def _schedule(view: ConnectionView) -> str:
    if view.frequency is Frequency.MANUALLY:
        return f"run by hand ({program()} connection run {view.id})"
    return f"runs {view.frequency.value}, next at {when(view.next_run_ms)}"


def _proposal_notice(prepared: Prepared, view: ConnectionView) -> None:
    """Whether the values (priorities, statuses, types) could be mapped from both schemas."""
    outcome = prepared.proposal
    if outcome is None or outcome.proposal is not None:
        return
    sides = {"first": view.project_key, "second": prepared.draft.settings.tracker_project}
    why = "; ".join(f"{sides.get(side, side)}: {reason}" for side, reason in outcome.unread.items())
    err.print(
        f"warning: no mappings could be proposed ({why}): the defaults are stored. Check the "
        f"tracker: {program()} connection test --connector {view.tracker_server.id} "
        f"--tracker-project {prepared.draft.settings.tracker_project}",
        highlight=False,
    )


def _prepare(services: Services, draft: ConnectionDraft, principal: Principal) -> Prepared:
    with err.status("Reading both projects' schemas…"), valid("connection"):
        return prepare_connection(services, draft, principal)


@connection_app.command("add")
def connection_add(
    alias: Annotated[str, typer.Argument(help="A name for people.")],
    project: Annotated[str, typer.Option(help="The built-in project: its key or numeric id.")],
    connector: Annotated[
        int, typer.Option(help="The tracker connector's id (`tracker-connector list`).")
    ],
    tracker_project: Annotated[
        str, typer.Option(help="The tracker's project key (GitHub, GitLab: owner/repo).")
    ],
    frequency: FrequencyOption = Frequency.MANUALLY,
    title_format: TitleOption = DEFAULT_TITLE_FORMAT,
    parent: ParentOption = None,
    status: StatusOption = None,
    min_priority: MinPriorityOption = None,
    conflict_policy: PolicyOption = ConflictPolicy.ISSUE_TRACKER,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
) -> None:
    """Connect a built-in project with a tracker project.

    The project's issues in scope are created in the tracker (title, description and
    priority sent one way), and their statuses kept in step both ways, by jobs.
    """
    with open_services() as services:
        principal = administrator(services)
        values = {
            "alias": alias,
            "project_id": _project_id(services, principal, project),
            "tracker_server_id": connector,
            "frequency": frequency,
            "debug_mode": debug,
            "settings": {
                "tracker_project": tracker_project,
                "title_format": title_format,
                "parent_issue": parent,
                "statuses": status or [],
                "min_priority": min_priority,
                "conflict_policy": conflict_policy,
            },
        }
        draft = validated(ConnectionDraft, "connection", values)
        prepared = _prepare(services, draft, principal)
        with valid("connection"), services.uow_factory() as uow:
            view = create_connection(uow.session, services, prepared, principal)
            uow.commit()
    out.print(
        f"Created connection {view.id} '{view.alias}': {_route(view)}; {_schedule(view)}.",
        highlight=False,
    )
    _proposal_notice(prepared, view)


@connection_app.command("list")
def connection_list(
    project: Annotated[
        str | None, typer.Option(help="Only this built-in project's (key or id).")
    ] = None,
) -> None:
    """Every connection: its schedule, last job, whether it runs or cannot reach its tracker."""
    with open_readonly() as services:
        principal = administrator(services)
        project_id = None if project is None else _project_id(services, principal, project)
        with services.uow_factory(readonly=True) as uow:
            views = list_connections(uow.session, principal, project_id)
    if not views:
        out.print(f"No connections; add one: {program()} connection add ALIAS …")
        return
    table = Table(
        "id", "alias", "project", "system", "frequency", "last job", "in progress", "inaccessible"
    )
    for view in views:
        table.add_row(
            str(view.id),
            view.alias,
            view.project_key,
            view.system,
            view.frequency.value,
            _job_line(view.last_job),
            yes(view.in_progress),
            yes(view.inaccessible),
        )
    out.print(table)


def _outcome(job: JobView) -> str:
    if job.succeeded is None:
        return job.state
    return "ok" if job.succeeded else "failed"


def _job_line(job: JobView | None) -> str:
    if job is None:
        return "never"
    return f"{when(job.started_ms or job.queued_ms)} {_outcome(job)}"


def _connection_json(view: ConnectionView) -> dict[str, object]:
    document = asdict(view)
    document["frequency"] = view.frequency.value
    document["settings"] = view.settings.model_dump(mode="json") if view.settings else None
    return document


@connection_app.command("show")
def connection_show(
    connection_id: ConnectionId,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One connection: its settings, when it runs next, its last job and what it said."""
    with open_readonly() as services:
        principal = administrator(services)
        with listed_by("connection list"), services.uow_factory(readonly=True) as uow:
            view = get_connection(uow.session, connection_id, principal)
    if as_json:
        typer.echo(json.dumps(_connection_json(view), indent=2, ensure_ascii=False))
        return
    rows = [
        ("project", f"{view.project_key} ({view.project_name}, id {view.project_id})"),
        ("tracker", f"{where(view.tracker_server)} (connector {view.tracker_server.id})"),
        *_settings_rows(view.settings),
        ("schedule", _schedule(view)),
        ("debug", yes(view.debug_mode)),
        ("integration", view.integration_key),
        ("in progress", yes(view.in_progress)),
        ("inaccessible", yes(view.inaccessible)),
        ("last success", when(view.last_successful_ms)),
    ]
    last = view.last_job
    rows.append(("last job", "none" if last is None else f"{last.id}: {_job_line(last)}"))
    if last is not None and last.result_message:
        rows.append(("message", last.result_message))
    show_pairs(f"Connection {view.id} '{view.alias}'", rows)


_POLICIES: Final = {
    ConflictPolicy.ISSUE_TRACKER: "issue_tracker (the tracker's status wins)",
    ConflictPolicy.SDE: "sde (the project's status wins)",
}


def _settings_rows(settings: ConnectionSettings | None) -> list[tuple[str, str]]:
    if settings is None:  # not the caller's to see
        return []
    return [
        ("tracker project", settings.tracker_project),
        ("title format", settings.title_format),
        ("parent issue", settings.parent_issue or "none"),
        ("statuses", ", ".join(settings.statuses) or "any"),
        ("min priority", "any" if settings.min_priority is None else f"{settings.min_priority}"),
        ("conflict policy", _POLICIES[settings.conflict_policy]),
    ]


@connection_app.command("change")
def connection_change(
    connection_id: ConnectionId,
    alias: Annotated[str | None, typer.Option(help="A new alias.")] = None,
    project: Annotated[str | None, typer.Option(help="Another built-in project.")] = None,
    connector: Annotated[int | None, typer.Option(help="Another tracker connector.")] = None,
    tracker_project: Annotated[str | None, typer.Option(help="Another tracker project.")] = None,
    frequency: FrequencyOption = None,
    title_format: TitleOption = None,
    parent: ParentOption = None,
    no_parent: Annotated[bool, typer.Option(help="Create new issues under no parent.")] = False,
    status: StatusOption = None,
    any_status: Annotated[bool, typer.Option(help="Create issues in any status.")] = False,
    min_priority: MinPriorityOption = None,
    any_priority: Annotated[bool, typer.Option(help="Create issues of any priority.")] = False,
    conflict_policy: PolicyOption = None,
    debug: Annotated[bool | None, typer.Option("--debug/--no-debug", help=DEBUG_HELP)] = None,
) -> None:
    """Change a connection; what is not given stays.

    Pointed at another project, connector or tracker project, it starts anew: the next job
    creates the issues in scope there.
    """
    settings = _cleared(
        {
            "tracker_project": tracker_project,
            "title_format": title_format,
            "conflict_policy": conflict_policy,
        },
        [
            ("parent_issue", parent, no_parent, None),
            ("statuses", status, any_status, []),
            ("min_priority", min_priority, any_priority, None),
        ],
    )
    top = {"alias": alias, "tracker_server_id": connector, "frequency": frequency}
    top = {k: v for k, v in (top | {"debug_mode": debug}).items() if v is not None}
    if not (settings or top or project):
        raise UsageError(f"Nothing to change: see `{program()} connection change --help`.")
    with open_services() as services:
        principal = administrator(services)
        if project is not None:
            top["project_id"] = _project_id(services, principal, project)
        with listed_by("connection list"), services.uow_factory(readonly=True) as uow:
            current = connection_draft(uow.session, connection_id, principal)
            before = get_connection(uow.session, connection_id, principal)
            merged = current.model_dump() | top
            merged["settings"] = current.settings.model_dump() | settings
            draft = validated(ConnectionDraft, "connection", merged)
            moved = moves(uow.session, connection_id, draft)
        prepared = (
            _prepare(services, draft, principal)
            if moved
            else Prepared(draft, _unmoved(before), ProposalOutcome(None))
        )
        with valid("connection"), services.uow_factory() as uow:
            view = update_connection_settings(
                uow.session, services, connection_id, prepared, principal
            )
            uow.commit()
    out.print(
        f"Changed connection {view.id} '{view.alias}': {_route(view)}; {_schedule(view)}.",
        highlight=False,
    )
    if moved:
        out.print("It starts anew there: the next job creates the issues in scope.")
        _proposal_notice(prepared, view)


def _cleared(
    given: dict[str, object], clearable: Sequence[tuple[str, object, bool, object]]
) -> dict[str, object]:
    """The settings' changes: the values given, and those cleared by --any-…/--no-…."""
    changes = {k: v for k, v in given.items() if v is not None}
    for field, value, clear, empty in clearable:
        option = option_name(field)
        if clear and value is not None:
            raise UsageError(f"Give {option} or clear it, not both.")
        if clear:
            changes[field] = empty
        elif value is not None:
            changes[field] = value
    return changes


def _unmoved(view: ConnectionView) -> IntegrationDraft:
    """The connection's integration as it is (a change that does not move it keeps it)."""
    tracker = view.settings.tracker_project if view.settings else view.project_key
    return IntegrationDraft(
        first=ConnectorDraft(project_key=view.project_key),
        second=ConnectorDraft(project_key=tracker),
    )


@connection_app.command("remove")
def connection_remove(connection_id: ConnectionId) -> None:
    """Delete a connection with its jobs and sync links; the tracker's issues stay."""
    with open_services() as services:
        principal = administrator(services)
        with listed_by("connection list"), services.uow_factory() as uow:
            view = get_connection(uow.session, connection_id, principal)
            delete_connection(uow.session, connection_id, principal)
            uow.commit()
    out.print(
        f"Removed connection {view.id} '{view.alias}' with its jobs and sync links; the "
        "tracker's issues stay.",
        highlight=False,
    )


@connection_app.command("run")
def connection_run(
    connection_id: ConnectionId,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="See the job through: run it here, or wait for the process that holds the "
            "connection (Ctrl-C stops waiting). --no-wait: queue it for a server or worker.",
        ),
    ] = True,
) -> None:
    """Run a job of the connection now; print what it did (exit code 1 when it failed)."""
    with open_services() as services:
        principal = administrator(services)
        with listed_by("connection list"), services.uow_factory() as uow:
            view = get_connection(uow.session, connection_id, principal)
            job = request_run(uow.session, connection_id, principal)
            uow.commit()
        if not wait:
            out.print(
                f"Queued job {job.id} of connection {view.id} '{view.alias}': a running server "
                f"or worker starts it within a second (see `{program()} connection jobs "
                f"{view.id}`).",
                highlight=False,
            )
            return
        done = _see_through(services, principal, view, job.id)
    out.print(f"Job {done.id}: {done.result_message}", highlight=False)
    if not done.succeeded:
        raise FatalError(
            f"Job {done.id} of connection {view.id} failed. To check the tracker: {program()} "
            f"connection test --connector {view.tracker_server.id} --tracker-project "
            f"{view.settings.tracker_project if view.settings else 'KEY'}"
        )


def _see_through(
    services: Services, principal: Principal, view: ConnectionView, job_id: int
) -> JobView:
    """The job once ended: run here when this process can claim the connection, else waited
    for while another process holds it (and claimed when that one lets it go)."""
    jobs = ConnectionJobs(services, f"{socket.gethostname()}:{os.getpid()}:cli")
    label = f"job {job_id} of connection {view.id} '{view.alias}'"
    with err.status(f"Waiting for {label}…") as status:
        while True:
            with services.uow_factory(readonly=True) as uow:
                job = get_job(uow.session, view.id, job_id, principal)
            if job.ready:
                return job
            claimed = jobs.claim(view.id)
            if claimed is not None:
                status.update(f"Running {label}…")
                jobs.run(claimed)
                continue
            status.update(f"{label.capitalize()} waits for another process (a server, a worker)…")
            time.sleep(POLL_S)


@connection_app.command("jobs")
def connection_jobs(
    connection_id: ConnectionId,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20,
) -> None:
    """The connection's jobs, newest first: when, who asked, whether they succeeded."""
    with open_readonly() as services:
        principal = administrator(services)
        with listed_by("connection list"), services.uow_factory(readonly=True) as uow:
            jobs = list_jobs(uow.session, connection_id, principal, limit)
            asked = {j.triggered_by for j in jobs if j.triggered_by is not None}
            names = dict(
                uow.session.execute(select(User.id, User.name).where(User.id.in_(asked))).all()
            )
    if not jobs:
        out.print(f"No jobs yet; run one: {program()} connection run {connection_id}")
        return
    table = Table("id", "started", "finished", "automatic", "triggered by", "ok", "message")
    for job in jobs:
        who = "-" if job.triggered_by is None else names.get(job.triggered_by, "?")
        table.add_row(
            str(job.id),
            when(job.started_ms) if job.started_ms else "not yet",
            when(job.finished_ms) if job.finished_ms else "-",
            yes(job.automatic),
            who,
            _outcome(job),
            job.result_message,
        )
    out.print(table)


@connection_app.command("test")
def connection_test(
    connector: Annotated[int, typer.Option(help="The tracker connector's id.")],
    tracker_project: Annotated[str, typer.Option(help="The tracker's project key.")],
    title_format: TitleOption = None,
) -> None:
    """Check a tracker connector and project as a connection would use them.

    The tracker reachable, logged in to, the project found, the right to create issues
    in it, and the title format when one is given.
    """
    with open_readonly() as services:
        principal = administrator(services)
        with listed_by("tracker-connector list"), services.uow_factory(readonly=True) as uow:
            view, server = stored_server(services, uow.session, connector, principal)
        with err.status(f"Testing {where(view)}…"):
            checks = check_tracker(services, server, tracker_project, title_format)
    for check in checks:
        mark = ("✓", "green") if check.ok else ("✗", "red")
        out.print(Text.assemble(mark, f" {check.name}: {check.detail}"))
    failed = [check.name for check in checks if not check.ok]
    if failed:
        raise ConfigurationError(
            f"{len(failed)} of {len(checks)} checks failed ({', '.join(failed)}): correct the "
            f"tracker connector ({program()} tracker-connector change {view.id}), the project "
            "or the title format, and test again."
        )
