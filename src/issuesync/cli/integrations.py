"""``issuesync integration …`` (``resync`` included) and ``issuesync syncinfo …``: the Backbone
resources on the CLI.

The files they read and the JSON they print are Backbone's documents (seeds 000 and 001,
as the README shows them): the commands use ``api/backbone/documents``, which carries no
web framework.

The commands are built by :func:`integration_commands` and
:func:`syncinfo_commands` around the services opener of ``cli.py``, so that
this module does not import the CLI's entry point. Errors are raised from
:mod:`issuesync.errors`; the CLI's runner prints them on one line.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from issuesync.api.backbone.documents.bodies import parse_integration_spec
from issuesync.api.backbone.documents.integrations import (
    check_spec_draft,
    create_from_spec,
    draft_from_spec,
    integration_body,
    integration_json,
    update_from_spec,
)
from issuesync.api.backbone.documents.proposals import proposal_json
from issuesync.api.backbone.documents.resync import ResyncRequest, request_resync
from issuesync.api.backbone.documents.status import trouble_text
from issuesync.api.backbone.documents.syncinfo import (
    delete_sync_info,
    import_sync_info,
    list_sync_info,
)
from issuesync.application.fields import SIDES
from issuesync.application.integrations import (
    connector_by_key,
    delete_integration,
    get_integration,
    list_integrations,
    project_checker,
    set_running,
)
from issuesync.application.lifecycle import request_restart
from issuesync.application.proposals import (
    ProposalOutcome,
    apply_proposal,
    differences,
    propose_for_draft,
    propose_for_integration,
    wants_proposal,
)
from issuesync.application.sync_users import Editor
from issuesync.cli.home import program
from issuesync.cli.sync import follow_task, held_elsewhere
from issuesync.engine.connectors import connector_rows
from issuesync.engine.runtime.presence import problems_seen
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.errors import ConflictError, InvalidInputError
from issuesync.services import Services


@dataclass(frozen=True)
class CliContext:
    """What the commands need from the CLI: ways to open the services, and stdout.

    ``open_readonly`` opens an existing home only, and creates nothing (for the
    commands that only read).
    """

    open_services: Callable[[], AbstractContextManager[Services]]
    open_readonly: Callable[[], AbstractContextManager[Services]]
    out: Console


def read_json_file(file: Path) -> Any:  # noqa: ANN401 - any JSON document
    """The JSON document in ``file`` (``-``: standard input); bad JSON is an input error."""
    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"{file} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{file} is not UTF-8 text.") from exc


def _echo_json(document: object) -> None:
    # Plain text, not rich: the output is for jq and files as much as for people.
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the whole integration as JSON (as the API does).")
]


def _summary(document: dict[str, Any], done: str) -> str:
    """One line for people: the integration, its connectors, whether it runs."""
    first = document["firstConnector"]["connectorKey"]
    second = document["secondConnector"]["connectorKey"]
    key = document["integrationKey"]
    return f"{done} {key} with connectors {first} and {second}"


FileOption = Annotated[
    Path,
    typer.Option(
        "--file", "-f", help="The JSON file to read ('-' for standard input).", show_default=False
    ),
]


def _proposal_line(outcome: ProposalOutcome, key: str, projects: tuple[str, str]) -> str:
    """What a creation did about mappings, in one line."""
    if outcome.proposal is None:
        why = "; ".join(
            f"{projects[SIDES.index(side)]}: {reason}" for side, reason in outcome.unread.items()
        )
        return (
            f"No mappings could be proposed ({why}): the defaults are stored. When both "
            f"trackers answer: {program()} integration propose {key} --apply"
        )
    proposal = outcome.proposal
    return (
        f"Mappings proposed from both schemas: {len(proposal.pairs)} pairs, "
        f"{len(proposal.warnings)} warnings (see {program()} integration propose {key})."
    )


def _print_proposal(out: Console, shown: dict[str, Any]) -> None:
    """A proposal for people: its pairs, warnings and differences as tables."""
    if shown.get("state") != "proposed":
        unread = shown.get("unread") or []
        reasons = "; ".join(f"{u['projectKey']}: {u['reason']}" for u in unread)
        out.print(f"No mappings can be proposed: {reasons or 'nothing to propose'}.")
        return
    pairs = Table("kind", "project", "value", "maps to", "reason", title="Proposed mappings")
    for pair in shown["pairs"]:
        pairs.add_row(
            pair["kind"], pair["projectKey"], pair["value"], pair["partnerValue"], pair["reason"]
        )
    out.print(pairs)
    if shown["warnings"]:
        warnings = Table("kind", "project", "value", "why it does not cross", title="Warnings")
        for warning in shown["warnings"]:
            warnings.add_row(
                warning["kind"], warning["projectKey"], warning["value"], warning["reason"]
            )
        out.print(warnings)
    if "differences" in shown:
        if not shown["differences"]:
            out.print("The stored mappings are what this proposal says.")
            return
        changes = Table("kind", "project", "value", "stored", "proposed", title="Differences")
        for change in shown["differences"]:
            changes.add_row(
                change["kind"],
                change["projectKey"],
                change["value"],
                change["stored"] or "-",
                change["proposed"] or "-",
            )
        out.print(changes)


def integration_commands(context: CliContext) -> typer.Typer:  # noqa: C901, PLR0915 - a closure per command
    """The ``integration`` command group."""
    group = typer.Typer(
        help="Integrations: two connectors kept in step (Backbone's synchronizations).",
        no_args_is_help=True,
    )

    @group.command("create")
    def create(
        file: FileOption,
        as_json: JsonOption = False,
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run",
                help="Show the mappings proposed from both projects' schemas; store nothing.",
            ),
        ] = False,
    ) -> None:
        """Create an integration from a JSON body as `POST /integrations` takes it.

        It is created stopped; `integration start KEY` starts it. A body that maps
        nothing gets mappings proposed from both projects' schemas (`--dry-run` shows
        them first).
        """
        spec = parse_integration_spec(read_json_file(file))
        draft = draft_from_spec(spec)
        with context.open_services() as services:
            editor = Editor.of(services.settings.admin_user)
            wanted = wants_proposal(draft) or (dry_run and not draft.distributed)
            outcome = propose_for_draft(services, draft, editor) if wanted else None
            if dry_run:
                check_spec_draft(draft, project_checker(services))
                keys = (draft.first.project_key, draft.second.project_key)
                shown = proposal_json(outcome, keys) if outcome else {"state": "notProposed"}
                if as_json:
                    _echo_json(shown)
                else:
                    _print_proposal(context.out, shown)
                return
            with services.uow_factory() as uow:
                view = create_from_spec(
                    uow.session,
                    spec,
                    actor=editor,
                    secrets=services.secrets,
                    project_exists=project_checker(services),
                    places=services.queue_places,
                    proposal=outcome,
                )
                document = integration_body(view)
                uow.commit()
        if as_json:
            _echo_json(document)
            return
        context.out.print(
            _summary(document, "Created")
            + f" (stopped; to start it: {program()} integration start {view.key})",
            highlight=False,
        )
        if outcome is not None:
            projects = (draft.first.project_key, draft.second.project_key)
            context.out.print(_proposal_line(outcome, view.key, projects), highlight=False)

    @group.command("propose")
    def propose(
        key: Annotated[str, typer.Argument(help="The integration's key, e.g. INT-1.")],
        apply: Annotated[
            bool,
            typer.Option("--apply", help="Store the proposal (a running integration restarts)."),
        ] = False,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the proposal as JSON (as the API does).")
        ] = False,
    ) -> None:
        """Propose the mappings again from both projects' schemas as they are now.

        Shows each proposed pair with its reason, the warnings, and what storing it would
        change; `--apply` stores it.
        """
        with context.open_services() as services:
            with services.uow_factory(readonly=True) as uow:
                row = get_integration(uow.session, key)
                integration_key = row.key
                outcome, configs = propose_for_integration(uow.session, services, row)
            keys = (configs[0].project_key, configs[1].project_key)
            found = None
            if outcome.proposal is not None:
                found = differences([c.configuration for c in configs], outcome.proposal)
            shown = proposal_json(outcome, keys, found)
            if not apply or outcome.proposal is None:
                if as_json:
                    _echo_json(shown)
                else:
                    _print_proposal(context.out, shown)
                if apply:
                    raise ConflictError(
                        "No mappings can be proposed while a schema cannot be read; "
                        "make both trackers reachable and try again."
                    )
                return
            with services.uow_factory() as uow:
                integration = get_integration(uow.session, key)
                apply_proposal(
                    uow.session, integration, outcome.proposal, services.settings.admin_user
                )
                request_restart(uow.session, integration.key, "The proposed mappings")
                uow.commit()
        if as_json:
            _echo_json(shown)
            return
        changed = len(found or [])
        context.out.print(
            f"Stored the proposed mappings of {integration_key}: {changed} mapping(s) changed.",
            highlight=False,
        )

    @group.command("update")
    def update(
        key: Annotated[str, typer.Argument(help="The integration's key.")],
        file: FileOption,
        as_json: JsonOption = False,
    ) -> None:
        """Change an integration from a JSON body as `PUT /integrations/{key}` takes it.

        What the body leaves out stays; a running integration takes the change
        within a second, keeping its sync information and messages.
        """
        spec = parse_integration_spec(read_json_file(file))
        with context.open_services() as services, services.uow_factory() as uow:
            view = update_from_spec(
                uow.session,
                key,
                spec,
                services.settings.admin_user,
                services.secrets,
                places=services.queue_places,
            )
            document = integration_body(view)
            uow.commit()
        if as_json:
            _echo_json(document)
            return
        state = "running: it takes the change within a second" if view.running else "stopped"
        context.out.print(_summary(document, "Updated") + f" ({state})", highlight=False)

    @group.command("list")
    def list_(
        project: Annotated[
            str | None, typer.Option("--project", "-p", help="Only those syncing this project.")
        ] = None,
    ) -> None:
        """List the integrations: keys, projects, connectors, and whether they run."""
        with (
            context.open_readonly() as services,
            services.uow_factory(readonly=True) as uow,
        ):
            rows = []
            for row in list_integrations(uow.session, project):
                first, second = connector_rows(uow.session, row.id)
                rows.append(
                    (
                        row.key,
                        row.summary,
                        f"{first.project_key} <> {second.project_key}",
                        f"{first.key}, {second.key}",
                        "yes" if row.running else "no",
                    )
                )
        if not rows:
            context.out.print("No integrations" + (f" for {project}." if project else "."))
            return
        table = Table("key", "summary", "projects", "connectors", "running")
        for values in rows:
            table.add_row(*values)
        context.out.print(table)

    @group.command("show")
    def show(
        key: Annotated[str, typer.Argument(help="The integration's key, e.g. INT-1.")],
    ) -> None:
        """Show an integration with its status, as JSON.

        What fails in the engines of this home (a full disk, say) shows in the
        routes' details, as in the API's status.
        """
        with (
            context.open_readonly() as services,
            services.uow_factory(readonly=True) as uow,
        ):
            trouble = trouble_text(
                problems_seen(services.health, services.settings.home), detail=True
            )
            document = integration_json(
                uow.session, get_integration(uow.session, key), with_status=True, trouble=trouble
            )
        _echo_json(document)

    def switch(key: str, running: bool) -> None:
        with context.open_services() as services, services.uow_factory() as uow:
            row = set_running(uow.session, key, running, services.settings.admin_user)
            row_key = row.key
            uow.commit()
        if running:
            context.out.print(f"{row_key} is RUNNING: the workers start its routes.")
        else:
            context.out.print(f"{row_key} is STOPPED: the workers stop its routes.")

    @group.command("start")
    def start(key: Annotated[str, typer.Argument(help="The integration's key.")]) -> None:
        """Start synchronizing an integration."""
        switch(key, running=True)

    @group.command("stop")
    def stop(key: Annotated[str, typer.Argument(help="The integration's key.")]) -> None:
        """Stop synchronizing an integration (its messages wait)."""
        switch(key, running=False)

    @group.command("delete")
    def delete(key: Annotated[str, typer.Argument(help="The integration's key.")]) -> None:
        """Delete an integration with its sync information and messages (cannot be undone)."""
        with context.open_services() as services, services.uow_factory() as uow:
            row_key = get_integration(uow.session, key).key
            delete_integration(uow.session, key)
            uow.commit()
        context.out.print(f"Deleted {row_key} with its connectors and sync information.")

    return group


ConnectorArgument = Annotated[
    str, typer.Argument(help="The connector's key, e.g. PA-1 (see `integration show`).")
]


def syncinfo_commands(context: CliContext) -> typer.Typer:
    """The ``syncinfo`` command group."""
    group = typer.Typer(
        help="Sync information: which local issue is linked to which remote issue.",
        no_args_is_help=True,
    )

    @group.command("list")
    def list_(
        connector: ConnectorArgument,
        local_issue_key: Annotated[
            str | None, typer.Option(help="Only the entry of this issue of the connector.")
        ] = None,
        remote_issue_key: Annotated[
            str | None, typer.Option(help="Only the entry of this issue of the partner.")
        ] = None,
    ) -> None:
        """List a connector's sync information as JSON."""
        with (
            context.open_readonly() as services,
            services.uow_factory(readonly=True) as uow,
        ):
            entries = list_sync_info(uow.session, connector, local_issue_key, remote_issue_key)
        _echo_json(entries)

    @group.command("import")
    def import_(connector: ConnectorArgument, file: FileOption) -> None:
        """Link existing issues: import a JSON array of entries (by localIssueKey)."""
        entries = read_json_file(file)
        with context.open_services() as services, services.uow_factory() as uow:
            count = import_sync_info(uow.session, connector, entries)
            uow.commit()
        noun = "entry" if count == 1 else "entries"
        context.out.print(f"Imported {count} sync information {noun} into {connector.upper()}.")

    @group.command("delete")
    def delete(
        connector: ConnectorArgument,
        entry_id: Annotated[
            int | None, typer.Option("--id", help="The entry's id (see `syncinfo list`).")
        ] = None,
        everything: Annotated[
            bool,
            typer.Option(
                "--all",
                "--yes",
                help="Delete every entry of the connector (cannot be undone).",
            ),
        ] = False,
    ) -> None:
        """Delete one entry (--id) or all of a connector's sync information (--all)."""
        if entry_id is None and not everything:
            raise InvalidInputError(
                f"give --id N to delete one entry, or --all to delete every entry of "
                f"{connector.upper()} (cannot be undone)"
            )
        if entry_id is not None and everything:
            raise InvalidInputError("give either --id or --all, not both")
        with context.open_services() as services, services.uow_factory() as uow:
            count = delete_sync_info(uow.session, connector, entry_id)
            uow.commit()
        noun = "entry" if count == 1 else "entries"
        context.out.print(f"Deleted {count} sync information {noun} of {connector.upper()}.")

    return group


def add_resync_command(
    group: typer.Typer, open_services: Callable[[], AbstractContextManager[Services]], out: Console
) -> None:
    """``integration resync CONNECTOR``: a task, followed with a progress bar."""

    @group.command("resync")
    def resync(
        connector: Annotated[str, typer.Argument(help="The connector that sends, e.g. PA-1.")],
        jql: Annotated[
            str | None, typer.Option(help="Which issues (combined with the connector's own).")
        ] = None,
        field_mapping: Annotated[
            list[str] | None,
            typer.Option("--field-mapping", help="A field mapping id to resync (repeatable)."),
        ] = None,
        status: Annotated[
            bool, typer.Option("--status", help="Also force the status on the other side.")
        ] = False,
    ) -> None:
        """Send the current values of matching issues again, forcing them on the other side."""
        # The options as the API's body would give them: the same checks, the same errors.
        request = ResyncRequest.parse(
            {"jql": jql, "fieldMappings": field_mapping, "sendStatusField": status}
        )
        with open_services() as services:
            with services.uow_factory() as uow:
                config = connector_by_key(uow.session, connector)
                task_id = request_resync(uow.session, config.key, request).id
                uow.commit()
            engine = (
                None if held_elsewhere(services, config.id) else SyncRunner(services, shares=False)
            )
            try:
                if engine is not None:
                    engine.refresh()
                    threading.Thread(
                        target=engine.run_connector, args=(config.id,), kwargs={"force": True}
                    ).start()
                shown = follow_task(services, task_id, out)
            finally:
                if engine is not None:
                    engine.stop()
        if shown.failed:
            raise InvalidInputError(f"The resync failed: {shown.failure_message}")
        out.print(shown.message)
