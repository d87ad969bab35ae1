"""The ``issuesync`` command line: every error is one line and a non-zero exit code."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Final, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from issuesync import __version__
from issuesync.accounts import (
    NewUser,
    Roles,
    change_roles,
    create_token,
    create_user,
    list_tokens,
    revoke_token,
)
from issuesync.app import bootstrap, build_services, create_app, install_engine
from issuesync.cli.integrations import (
    CliContext,
    add_resync_command,
    integration_commands,
    syncinfo_commands,
)
from issuesync.cli.sync import messages_commands, run_worker
from issuesync.config import Settings
from issuesync.demo import create_demo
from issuesync.domain.redaction import redact
from issuesync.errors import (
    BusyError,
    ConfigurationError,
    InvalidInputError,
    IssueSyncError,
    nearest,
)
from issuesync.security import PROCESS_UMASK, generate_password, redact_logs
from issuesync.services import Services
from issuesync.store.db import UNREACHABLE, database_failure

app = typer.Typer(
    name="issuesync",
    help="Keeps issues in two issue-tracker projects in step.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Users of issuesync and of its built-in tracker.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")

EXIT_FAILURE = 1
EXIT_USAGE = 2  # what click answers a command line it cannot parse with
EXIT_TEMPFAIL = 75  # sysexits.h EX_TEMPFAIL: the store is busy; the same command may be retried
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


class UsageError(InvalidInputError):
    """The command line is wrong: an option that must be given is missing, say."""


# The exit code of each error of the tree: the entry of its nearest class.
EXIT_CODES: Final[Mapping[type[IssueSyncError], int]] = {
    UsageError: EXIT_USAGE,
    BusyError: EXIT_TEMPFAIL,  # a script may run the same command again
    IssueSyncError: EXIT_FAILURE,
}


def exit_code(error: IssueSyncError) -> int:
    """The exit code the command ends with for ``error`` (:data:`EXIT_CODES`)."""
    return nearest(EXIT_CODES, error) or EXIT_FAILURE


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ISSUESYNC_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigurationError(f"the configuration is not valid: {problems}") from exc


@contextmanager
def _services(*, migrate: bool = True) -> Iterator[Services]:
    services = build_services(_settings())
    try:
        generated = bootstrap(services, migrate=migrate)
        if generated:
            _announce_admin(services.settings.admin_user, generated)
        yield services
    finally:
        services.close()


_context = CliContext(open_services=_services, out=out)
_integration_app = integration_commands(_context)
add_resync_command(_integration_app, _services, out)
app.add_typer(_integration_app, name="integration")
app.add_typer(messages_commands(_services, out), name="messages")
app.add_typer(syncinfo_commands(_context), name="syncinfo")


def _announce_admin(name: str, password: str) -> None:
    out.print(
        f"[bold]Created the administrator '{name}' with the password:[/bold] {password}\n"
        "It is shown only this once and stored hashed; set ISSUESYNC_ADMIN_PASSWORD "
        "before the first start to choose it yourself."
    )


def _safe_url(services: Services) -> str:
    return services.database.write_engine.url.render_as_string(hide_password=True)


def _version(value: bool) -> None:
    if value:
        out.print(f"issuesync {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """issuesync: keeps issues in two issue-tracker projects in step."""
    del version


def _configure_logging(settings: Settings) -> None:
    """Log lines at the configured level, never with a credential in them."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    redact_logs()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (ISSUESYNC_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (ISSUESYNC_PORT).")] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Server processes; more use more cores (SQLite too)."),
    ] = 1,
) -> None:
    """Run the server: the REST APIs, the built-in tracker and the sync engine."""
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    # Workers read their settings from the environment, so overrides go there too.
    if host is not None:
        os.environ["ISSUESYNC_HOST"] = host
    if port is not None:
        os.environ["ISSUESYNC_PORT"] = str(port)
    settings = _settings()
    services = build_services(settings)
    try:
        generated = bootstrap(services)
        if generated:
            _announce_admin(settings.admin_user, generated)
        out.print(
            f"issuesync {__version__} serving on http://{settings.host}:{settings.port} "
            f"(database: {_safe_url(services)}, "
            f"home: {settings.home.resolve()})"
        )
        _configure_logging(settings)
        trusted = _trusted_proxies(settings)
        if workers == 1:
            application = create_app(services)
            if settings.engine_enabled:
                install_engine(application, services)
            uvicorn.run(
                application,
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                access_log=False,
                proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None,
            )
        else:
            services.close()
            uvicorn.run(
                "issuesync.app:app_from_environment",
                factory=True,
                workers=workers,
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                access_log=False,
                proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None,
            )
    finally:
        services.close()


def _trusted_proxies(settings: Settings) -> list[str]:
    """The reverse proxies whose X-Forwarded-For is believed (none by default).

    The client address counts failed logins; a header anyone can send must not choose it.
    """
    return [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]


@app.command()
def worker() -> None:
    """Run the sync engine alone, without the API (several may run: they share the work)."""
    settings = _settings()
    _configure_logging(settings)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with _services(migrate=False) as services:
        run_worker(services, out)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (safe to run again)."""
    with _services():
        out.print("The database is up to date.")


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="The login name.")],
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    project_admin: Annotated[
        list[str] | None,
        typer.Option("--project-admin", help="A project key the user administers (repeatable)."),
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="E-mail address (users are mapped by it).")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="The name people see.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            help="The password; when omitted one is generated and shown once.",
            envvar="ISSUESYNC_USER_PASSWORD",
        ),
    ] = None,
) -> None:
    """Create a user of issuesync and of its built-in tracker."""
    chosen = password or generate_password()
    with _services() as services:
        create_user(
            services.uow_factory,
            NewUser(
                name=name,
                display_name=display_name,
                email=email,
                password=chosen,
                admin=admin,
                project_admin_keys=tuple(project_admin or ()),
            ),
        )
    roles = ["admin"] if admin else []
    roles += [f"project admin of {k.upper()}" for k in project_admin or ()]
    out.print(f"Created user '{name}'" + (f" ({', '.join(roles)})" if roles else "") + ".")
    if password is None:
        out.print(f"Password (shown once): {chosen}")


AdminOption = Annotated[bool, typer.Option("--admin", help="The administrator role.")]
ProjectAdminOption = Annotated[
    list[str] | None,
    typer.Option("--project-admin", help="A project key, to administer (repeatable)."),
]


@user_app.command("grant")
def user_grant(
    name: Annotated[str, typer.Argument(help="The login name.")],
    admin: AdminOption = False,
    project_admin: ProjectAdminOption = None,
) -> None:
    """Give a user roles: administrator, or administrator of projects (a sync user, say)."""
    _change_roles(name, admin, project_admin or [], grant=True)


@user_app.command("withdraw")
def user_withdraw(
    name: Annotated[str, typer.Argument(help="The login name.")],
    admin: AdminOption = False,
    project_admin: ProjectAdminOption = None,
) -> None:
    """Take roles back from a user."""
    _change_roles(name, admin, project_admin or [], grant=False)


def _change_roles(name: str, admin: bool, projects: list[str], *, grant: bool) -> None:
    if not admin and not projects:
        what = "grant" if grant else "withdraw"
        raise UsageError(f"Say what to {what}: --admin or --project-admin KEY.")
    with _services() as services:
        roles = change_roles(
            services.uow_factory,
            name,
            admin=grant if admin else None,
            add_projects=projects if grant else (),
            remove_projects=() if grant else projects,
        )
    out.print(f"'{name}' is now {_roles_text(roles)}.")


def _roles_text(roles: Roles) -> str:
    parts = ["an administrator"] if roles.admin else []
    if roles.project_admin_keys:
        parts.append("administrator of " + ", ".join(roles.project_admin_keys))
    return " and ".join(parts) or "a user without administrator roles"


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="The user the token acts as.")],
    name: Annotated[str, typer.Option(help="A label for the token.")] = "cli",
) -> None:
    """Create an API token; it is printed once and stored only hashed."""
    with _services() as services:
        token = create_token(services.uow_factory, user, name)
    out.print(token, highlight=False)
    err.print(
        f"Use it as `Authorization: Bearer <token>` or as the password of '{user}' in HTTP Basic."
    )


@token_app.command("list")
def token_list(user: Annotated[str, typer.Argument(help="Whose tokens to list.")]) -> None:
    """List a user's API tokens (ids, labels and use; never the tokens)."""
    with _services() as services:
        tokens = list_tokens(services.uow_factory, user)
    if not tokens:
        out.print(f"'{user}' has no API tokens.")
        return
    table = Table("id", "name", "created", "last used")
    for token in tokens:
        table.add_row(str(token.id), token.name, _when(token.created_ms), _when(token.last_used_ms))
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id, from `token list`.")],
) -> None:
    """Revoke an API token; running servers stop accepting it within 10 seconds."""
    with _services() as services:
        info = revoke_token(services.uow_factory, token_id)
    out.print(f"Revoked token {info.id} ('{info.name}') of '{info.user}'.")


def _when(ms: int | None) -> str:
    if ms is None:
        return "never"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command()
def demo() -> None:
    """Create two projects with realistic issues, sub-tasks, comments and attachments."""
    with _services() as services:
        made = create_demo(services)
    if made:
        out.print(
            f"Created the demo projects {' and '.join(made)} with users alice, bob and carol "
            f"(no password set: use `issuesync user create` for a login of your own)."
        )
    else:
        out.print("The demo projects SHOP and VEND already exist; nothing to do.")


def _run(command: Callable[[], T]) -> T:
    try:
        return command()
    except IssueSyncError as exc:
        err.print(f"error: {redact(exc.describe())}", highlight=False)
        sys.exit(exit_code(exc))
    except SQLAlchemyError as exc:
        failure = database_failure(exc)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if failure is not None and failure.retryable:  # outside a unit of work: migrations
            hint = " (check ISSUESYNC_DATABASE_URL)" if failure.kind == UNREACHABLE else ""
            err.print(f"error: {failure.error().describe()} ({reason}){hint}", highlight=False)
            sys.exit(EXIT_TEMPFAIL)
        err.print(
            f"error: the database failed: {reason} (check ISSUESYNC_DATABASE_URL)", highlight=False
        )
        sys.exit(EXIT_FAILURE)
    except OSError as exc:
        err.print(f"error: {exc.strerror or exc} ({exc.filename or 'I/O'})", highlight=False)
        sys.exit(EXIT_FAILURE)
    except KeyboardInterrupt:
        sys.exit(130)


def main() -> None:
    """Entry point of the ``issuesync`` command.

    Everything the command creates is its user's alone (folders 0700, files 0600):
    the database and its ``-wal``, attachments, message files, blobs in transit.
    """
    os.umask(PROCESS_UMASK)
    # A command's failure is its one line on stderr: what the store logs on the way (a
    # busy store, a full disk) is for servers, which configure logging (serve, worker).
    # Other warnings (a home that was open to others) still reach stderr.
    logging.getLogger("issuesync.store").addHandler(logging.NullHandler())
    _run(lambda: app(standalone_mode=True))
