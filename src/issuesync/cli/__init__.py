"""The ``issuesync`` command line: every error is one line and a non-zero exit code."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Final, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError

from issuesync import __version__
from issuesync.app import admin_password, create_app, install_engine
from issuesync.cli.connections import connection_app
from issuesync.cli.home import (
    UsageError,
    bootstrapped,
    err,
    load_settings,
    open_readonly,
    open_services,
    out,
    program,
    safe_url,
)
from issuesync.cli.integrations import (
    CliContext,
    add_resync_command,
    integration_commands,
    syncinfo_commands,
)
from issuesync.cli.relations import relation_app
from issuesync.cli.sync import messages_commands, run_worker
from issuesync.cli.tracker_connectors import tracker_connector_app
from issuesync.cli.users import token_app, user_app
from issuesync.config import Settings
from issuesync.demo import create_demo
from issuesync.domain.redaction import redact
from issuesync.errors import BusyError, IssueSyncError, nearest
from issuesync.logs import LogFormat, configure_logging
from issuesync.metrics import prepare_multiprocess_dir
from issuesync.security import PROCESS_UMASK, redact_logs
from issuesync.services import Services
from issuesync.store.db import UNREACHABLE, database_failure
from issuesync.store.migrate import Migration

__all__ = ["EXIT_CODES", "UsageError", "app", "exit_code", "main"]

app = typer.Typer(
    name="issuesync",
    help="Keeps issues in two issue-tracker projects in step.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(relation_app, name="relation")
app.add_typer(tracker_connector_app, name="tracker-connector")
app.add_typer(connection_app, name="connection")

EXIT_FAILURE = 1
EXIT_USAGE = 2  # what click answers a command line it cannot parse with
EXIT_TEMPFAIL = 75  # sysexits.h EX_TEMPFAIL: the store is busy; the same command may be retried
T = TypeVar("T")

# The exit code of each error of the tree: the entry of its nearest class.
EXIT_CODES: Final[Mapping[type[IssueSyncError], int]] = {
    UsageError: EXIT_USAGE,
    BusyError: EXIT_TEMPFAIL,  # a script may run the same command again
    IssueSyncError: EXIT_FAILURE,
}


def exit_code(error: IssueSyncError) -> int:
    """The exit code the command ends with for ``error`` (:data:`EXIT_CODES`)."""
    return nearest(EXIT_CODES, error) or EXIT_FAILURE


_context = CliContext(open_services=open_services, open_readonly=open_readonly, out=out)
_integration_app = integration_commands(_context)
add_resync_command(_integration_app, open_services, out)
app.add_typer(_integration_app, name="integration")
app.add_typer(messages_commands(open_services, open_readonly, out), name="messages")
app.add_typer(syncinfo_commands(_context), name="syncinfo")


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
    """Log lines at the configured level and format, never with a credential in them."""
    configure_logging(settings.log_level, settings.log_format)
    redact_logs()  # and any other handler (a test's, say)


LogFormatOption = Annotated[
    LogFormat | None,
    typer.Option(
        "--log-format",
        help="Log lines as 'json' or 'console' text (ISSUESYNC_LOG_FORMAT; "
        "default: console on a terminal, json otherwise).",
        case_sensitive=False,
    ),
]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (ISSUESYNC_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (ISSUESYNC_PORT).")] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Server processes; more use more cores (SQLite too)."),
    ] = 1,
    log_format: LogFormatOption = None,
) -> None:
    """Run the server: the REST APIs, the built-in tracker and the sync engine."""
    from issuesync.cli.serve import APP_FACTORY, listen, run_server  # noqa: PLC0415 - loads uvicorn

    # Workers read their settings from the environment, so overrides go there too.
    if host is not None:
        os.environ["ISSUESYNC_HOST"] = host
    if port is not None:
        os.environ["ISSUESYNC_PORT"] = str(port)
    if log_format is not None:
        os.environ["ISSUESYNC_LOG_FORMAT"] = log_format
    settings = load_settings()
    # The port first: a server that cannot listen creates and migrates nothing.
    sock = listen(settings.host, settings.port)
    try:
        with bootstrapped() as (services, _):
            login = _login_line(services)
            err.print(
                f"issuesync {__version__}: home {settings.home.resolve()}, "
                f"database {safe_url(services)}",
                highlight=False,
            )
            _configure_logging(settings)
            trusted = _trusted_proxies(settings)
            url = _url(settings.host, settings.port)

            def listening() -> None:
                # Blank lines around it: the one line to find among the server's logs.
                err.print(f"\nserving on {url} (dashboard: {url}/ui/); {login}\n", highlight=False)

            if workers == 1:
                application = create_app(services)
                if settings.engine_enabled:
                    install_engine(application, services)
                run_server(
                    application,
                    sock,
                    workers=1,
                    log_level=settings.log_level,
                    trusted_proxies=trusted,
                    on_listening=listening,
                )
                return
        # Each worker builds its own services; the parent keeps none open. Their metrics
        # are summed from the files of prometheus-client's multiprocess mode (docs/operations.md).
        prepare_multiprocess_dir(settings.home)
        run_server(
            APP_FACTORY,
            sock,
            workers=workers,
            log_level=settings.log_level,
            trusted_proxies=trusted,
            on_listening=listening,
        )
    finally:
        sock.close()


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _login_line(services: Services) -> str:
    """Who logs in and where the password is; first, a warning when ISSUESYNC_ADMIN_PASSWORD
    is not the stored password (it counts only when the administrator is created)."""
    name = services.settings.admin_user
    found = admin_password(services)
    reset = f"{program()} user password {name}"
    if found.configured_differs:
        err.print(
            f'warning: ISSUESYNC_ADMIN_PASSWORD is set but the stored password of "{name}" '
            f"differs; it is used only when the admin is created. To set it: {reset}",
            highlight=False,
        )
    if found.where is None:
        return f'log in as "{name}" (to set its password: {reset})'
    return f'log in as "{name}" with the password in {found.where}'


def _trusted_proxies(settings: Settings) -> list[str]:
    """The reverse proxies whose X-Forwarded-For is believed (none by default).

    The client address counts failed logins; a header anyone can send must not choose it.
    """
    return [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]


@app.command()
def worker(log_format: LogFormatOption = None) -> None:
    """Run the sync engine alone, without the API (several may run: they share the work)."""
    if log_format is not None:
        os.environ["ISSUESYNC_LOG_FORMAT"] = log_format
    settings = load_settings()
    _configure_logging(settings)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with open_services(migrate=False) as services:
        run_worker(services, out)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or apply the migrations it lacks (safe to run again)."""
    with bootstrapped() as (services, done):
        url = safe_url(services)
    out.print(_migration_text(url, done.migration), highlight=False)


def _migration_text(url: str, migration: Migration | None) -> str:
    if migration is None or not migration.changed:
        schema = migration.after if migration else "?"
        return f"The database {url} is up to date (schema {schema})."
    if migration.before is None:
        return f"Created the database {url} (schema {migration.after})."
    return f"Upgraded the database {url} from schema {migration.before} to {migration.after}."


@app.command()
def demo() -> None:
    """Create two projects with realistic issues, sub-tasks, comments and attachments."""
    with open_services() as services:
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
    sys.exit(_run(_invoke))


def _invoke() -> int:
    """Run the command; a command line click cannot parse is one line on stderr, exit 2.

    typer would draw its parsing errors in a panel of five or six lines; it raises them
    instead when it does not run standalone, and this says each on one line, with the
    command whose ``--help`` to read.
    """
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        # A group named alone (typer's NoArgsIsHelpError, not exported): its help is shown.
        if type(exc).__name__ == "NoArgsIsHelpError":
            return EXIT_USAGE
        err.print(f"error: {usage_line(exc)}", highlight=False, markup=False)
        return exc.exit_code
    except typer.Abort:  # Ctrl-D at a prompt
        err.print("error: aborted", highlight=False)
        return EXIT_FAILURE
    return code if isinstance(code, int) else 0


def usage_line(exc: typer.TyperException) -> str:
    """A parsing error on one line: the message, then where to read the usage."""
    # typer checks a value through pydantic, whose "Value error, " prefix says nothing.
    message = " ".join(exc.format_message().split()).replace("Value error, ", "")
    command_path = getattr(getattr(exc, "ctx", None), "command_path", None)
    if exc.exit_code == EXIT_USAGE and command_path:
        end = "" if message.endswith((".", "!", "?")) else "."
        message += f"{end} Try '{command_path} --help'."
    return message
