"""``issuesync tracker-connector …``: tracker servers and their logins, which connections
share (``application/connections.py``).

A tracker connector's secret (a password or a token) is never an argument, which every user
of the machine would see in ``ps``: it is asked for, hidden, on a terminal, or read from the
first line of standard input (``--password-stdin``) or from ``ISSUESYNC_TRACKER_SECRET``; no
command shows it back. The commands act as the administrator (``cli/admin.py``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
from typing import Annotated, Final

import typer
from pydantic import SecretStr
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.application.connections import (
    TrackerServerView,
    create_tracker_server,
    delete_tracker_server,
    get_tracker_server,
    list_connections,
    list_tracker_servers,
    update_tracker_server,
)
from issuesync.cli.admin import administrator, listed_by, show_pairs, valid, validated, yes
from issuesync.cli.home import UsageError, open_readonly, open_services, out, program
from issuesync.domain.scheduled import TrackerServer
from issuesync.errors import InvalidInputError
from issuesync.services import Services
from issuesync.store.connections import TrackerConnectorRow
from issuesync.store.principals import Principal

tracker_connector_app = typer.Typer(
    help="Tracker connectors: a tracker server and its login, shared by connections.",
    no_args_is_help=True,
)

SECRET_ENV: Final = "ISSUESYNC_TRACKER_SECRET"  # noqa: S105 - where the secret is, not it
VALIDATE_CERT_HELP: Final = (
    "Whether to check the TLS certificate: stored and shown; for now it is always checked."
)


def read_secret(*, from_stdin: bool) -> SecretStr:
    """The tracker's secret: standard input's first line, ISSUESYNC_TRACKER_SECRET, or asked
    for, hidden, on a terminal; never a command-line argument."""
    if from_stdin:
        line = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not line:
            raise InvalidInputError("Standard input held no secret on its first line.")
        return SecretStr(line)
    if given := os.environ.get(SECRET_ENV):
        return SecretStr(given)
    if not sys.stdin.isatty():
        raise UsageError(
            "Standard input is not a terminal to ask on: give --password-stdin (the secret "
            f"on its first line) or set {SECRET_ENV}."
        )
    typed: str = typer.prompt("The tracker's password or token", hide_input=True, err=True)
    return SecretStr(typed)


PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the secret from the first line of standard input (for scripts: "
        "printf '%s\\n' \"$SECRET\" | issuesync tracker-connector add …).",
    ),
]
ConnectorId = Annotated[int, typer.Argument(help="The tracker connector's id.")]


def where(view: TrackerServerView) -> str:
    """The tracker and the login of a tracker connector, for people."""
    login = f" as '{view.user}'" if view.user else ""
    return f"{view.system} at {view.method}://{view.server}{login}"


def _server_options(ctx: typer.Context) -> dict[str, object]:
    """The options given that are a tracker server's fields (those not given are None)."""
    return {
        k: v for k, v in ctx.params.items() if k in TrackerServer.model_fields and v is not None
    }


def _fields(view: TrackerServerView) -> dict[str, object]:
    """A stored tracker connector as a draft's fields (without its secret)."""
    return {k: v for k, v in asdict(view).items() if k not in ("id", "has_secret")}


def stored_server(
    services: Services, session: Session, connector_id: int, principal: Principal
) -> tuple[TrackerServerView, TrackerServer]:
    """A stored tracker connector, and it as a draft with its secret (to test it)."""
    view = get_tracker_server(session, connector_id, principal)
    sealed = session.scalar(
        select(TrackerConnectorRow.secret).where(TrackerConnectorRow.id == connector_id)
    )
    secret = SecretStr(services.secrets.decrypt(sealed)) if sealed else None
    return view, validated(TrackerServer, "tracker connector", _fields(view) | {"secret": secret})


@tracker_connector_app.command("add")
def tracker_connector_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for people (unique).")],
    system: Annotated[str, typer.Option(help="jira, redmine, github or gitlab.")],
    server: Annotated[str, typer.Option(help=r"HOST\[:PORT]\[/PATH], without http(s)://.")],
    method: Annotated[str, typer.Option(help="https or http.")] = "https",
    validate_cert: Annotated[
        bool, typer.Option("--validate-cert/--no-validate-cert", help=VALIDATE_CERT_HELP)
    ] = True,
    auth_mode: Annotated[
        str, typer.Option(help="basic (a user and a password) or token (an API token).")
    ] = "basic",
    user: Annotated[str | None, typer.Option(help="The tracker login (with basic).")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Store a tracker server and its login.

    The secret is asked for, hidden; scripts give it with --password-stdin or
    ISSUESYNC_TRACKER_SECRET, never as an argument.
    """
    del name, system, server, method, validate_cert, auth_mode, user  # read from ctx.params
    draft = validated(TrackerServer, "tracker connector", _server_options(ctx))
    draft = draft.model_copy(update={"secret": read_secret(from_stdin=password_stdin)})
    with open_services() as services:
        principal = administrator(services)
        with services.uow_factory() as uow:
            view = create_tracker_server(uow.session, draft, principal, services.secrets)
            uow.commit()
    out.print(
        f"Created tracker connector {view.id} '{view.name}' ({where(view)}).", highlight=False
    )
    out.print(
        f"Test it: {program()} connection test --connector {view.id} --tracker-project KEY",
        highlight=False,
    )


@tracker_connector_app.command("list")
def tracker_connector_list() -> None:
    """Every tracker connector (never its secret: whether one is stored)."""
    with open_readonly() as services:
        principal = administrator(services)
        with services.uow_factory(readonly=True) as uow:
            views = list_tracker_servers(uow.session, principal)
    if not views:
        out.print(f"No tracker connectors; add one: {program()} tracker-connector add NAME …")
        return
    table = Table("id", "name", "system", "server", "user", "secret stored")
    for view in views:
        table.add_row(
            str(view.id),
            view.name,
            view.system,
            f"{view.method}://{view.server}",
            view.user or "-",
            yes(view.has_secret),
        )
    out.print(table)


@tracker_connector_app.command("show")
def tracker_connector_show(connector_id: ConnectorId) -> None:
    """One tracker connector, and the connections that use it (never its secret)."""
    with open_readonly() as services:
        principal = administrator(services)
        with listed_by("tracker-connector list"), services.uow_factory(readonly=True) as uow:
            view = get_tracker_server(uow.session, connector_id, principal)
            using = [
                f"{c.id} '{c.alias}'"
                for c in list_connections(uow.session, principal)
                if c.tracker_server.id == view.id
            ]
    show_pairs(
        f"Tracker connector {view.id} '{view.name}'",
        [
            ("system", view.system),
            ("server", f"{view.method}://{view.server}"),
            ("validate cert", yes(view.validate_cert)),
            ("auth mode", view.auth_mode),
            ("user", view.user or "-"),
            ("secret stored", yes(view.has_secret)),
            ("connections", ", ".join(using) or "none"),
        ],
    )


@tracker_connector_app.command("change")
def tracker_connector_change(
    ctx: typer.Context,
    connector_id: ConnectorId,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    system: Annotated[str | None, typer.Option(help="jira, redmine, github or gitlab.")] = None,
    server: Annotated[str | None, typer.Option(help=r"HOST\[:PORT]\[/PATH].")] = None,
    method: Annotated[str | None, typer.Option(help="https or http.")] = None,
    validate_cert: Annotated[
        bool | None,
        typer.Option("--validate-cert/--no-validate-cert", help=VALIDATE_CERT_HELP),
    ] = None,
    auth_mode: Annotated[str | None, typer.Option(help="basic or token.")] = None,
    user: Annotated[str | None, typer.Option(help="The tracker login.")] = None,
    new_secret: Annotated[
        bool,
        typer.Option(
            "--new-secret", help=f"Set a new secret: asked for, hidden (or from {SECRET_ENV})."
        ),
    ] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Change a tracker connector; what is not given stays.

    The connections that use it connect the new way from their next job.
    """
    if new_secret and password_stdin:
        raise UsageError("Give either --new-secret or --password-stdin, not both.")
    del name, system, server, method, validate_cert, auth_mode, user  # read from ctx.params
    changes = _server_options(ctx)
    if not changes and not (new_secret or password_stdin):
        raise UsageError(f"Nothing to change: see `{program()} tracker-connector change --help`.")
    with open_services() as services:
        principal = administrator(services)
        with listed_by("tracker-connector list"), services.uow_factory(readonly=True) as uow:
            stored = get_tracker_server(uow.session, connector_id, principal)
        # Checked before the secret is asked for: a typo costs no typing of it.
        validated(TrackerServer, "tracker connector", _fields(stored) | changes)
        if new_secret or password_stdin:
            changes["secret"] = read_secret(from_stdin=password_stdin)
        with valid("tracker connector"), services.uow_factory() as uow:
            view = update_tracker_server(
                uow.session, connector_id, changes, principal, services.secrets
            )
            uow.commit()
    said = ", ".join("secret" if k == "secret" else k.replace("_", " ") for k in changes)
    out.print(
        f"Changed the {said} of tracker connector {view.id} '{view.name}' ({where(view)}); "
        "its connections use it from their next job.",
        highlight=False,
    )


@tracker_connector_app.command("remove")
def tracker_connector_remove(connector_id: ConnectorId) -> None:
    """Delete a tracker connector that no connection uses."""
    with open_services() as services:
        principal = administrator(services)
        with listed_by("tracker-connector list"), services.uow_factory() as uow:
            view = get_tracker_server(uow.session, connector_id, principal)
            delete_tracker_server(uow.session, connector_id, principal)
            uow.commit()
    out.print(f"Removed tracker connector {view.id} '{view.name}'.", highlight=False)
