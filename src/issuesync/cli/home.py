"""Where a command finds its home: the settings, and the services opened on them.

A command that changes something opens the home with :func:`open_services`
(created, migrated, with an administrator, on first use); one that only reads
uses :func:`open_readonly`, which creates nothing. What a command prints for people
goes to :data:`out`; notices (the generated password, warnings) and errors go to
:data:`err`, so that ``TOKEN=$(issuesync token create admin)`` captures only the token.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from issuesync.app import Bootstrap, bootstrap, build_services, sqlite_file
from issuesync.config import Settings
from issuesync.errors import ConfigurationError, InvalidInputError
from issuesync.services import Services
from issuesync.store.migrate import is_current

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class UsageError(InvalidInputError):
    """The command line is wrong: an option that must be given is missing, say."""


def load_settings() -> Settings:
    """The settings of the environment; a wrong one is a ConfigurationError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ISSUESYNC_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigurationError(f"the configuration is not valid: {problems}") from exc


@contextmanager
def bootstrapped(*, migrate: bool = True) -> Iterator[tuple[Services, Bootstrap]]:
    """The services of the home, migrated, with an administrator (made on first use)."""
    services = build_services(load_settings())
    try:
        done = bootstrap(services, migrate=migrate)
        if done.generated_password:
            announce_admin(services.settings.admin_user, done)
        yield services, done
    finally:
        services.close()


@contextmanager
def open_services(*, migrate: bool = True) -> Iterator[Services]:
    """The services of the home for a command that changes something (see :func:`bootstrapped`)."""
    with bootstrapped(migrate=migrate) as (services, _):
        yield services


@contextmanager
def open_readonly() -> Iterator[Services]:
    """The services of an existing home, for a command that only reads.

    Nothing is created: no home, no database, no administrator. A home or an SQLite
    database that is not there is one line saying where it was looked for.
    """
    settings = load_settings()
    require_home(settings)
    services = build_services(settings)
    try:
        if not is_current(services.database):
            raise ConfigurationError(
                f"the database {safe_url(services)} is not up to date: "
                f"run `{program()} db upgrade` first"
            )
        yield services
    finally:
        services.close()


def require_home(settings: Settings) -> None:
    """Refuse, on one line, a home (or its SQLite database) that is not there yet."""
    home = settings.home.resolve()
    if "home" in settings.model_fields_set:
        how = "set ISSUESYNC_HOME to the home of the server"
        where = f"{home} (ISSUESYNC_HOME)"
    else:
        how = "run this in the folder the server runs in (the checkout), or set ISSUESYNC_HOME"
        where = f"{home} (the default, ./.issuesync)"
    database = sqlite_file(settings.resolved_database_url)
    # Another database needs the home only for the key of the secrets at rest.
    needed = database is not None or settings.secret_key is None
    if needed and not home.is_dir():
        raise ConfigurationError(f"there is no issuesync home at {where}; {how}")
    if database is not None and not database.exists():
        raise ConfigurationError(
            f"there is no database at {database} yet; run `{program()} db upgrade`, or {how}"
        )


def program() -> str:
    """How to name this command in a hint: ``issuesync`` when that is the one on the PATH,
    else its path (``.venv/bin/issuesync`` in the checkout), or ``python -m issuesync``."""
    script = Path(sys.argv[0])
    if script.name != "issuesync":
        return "python -m issuesync"
    found = shutil.which("issuesync")
    if found and Path(found).resolve() == script.resolve():
        return "issuesync"
    try:
        return str(script.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(script.resolve())


def announce_admin(name: str, done: Bootstrap) -> None:
    """The generated password, on stderr (stdout is for what a script captures)."""
    err.print(
        f"[bold]Created the administrator '{name}' with the password:[/bold] "
        f"{done.generated_password}",
        highlight=False,
    )
    if done.password_file is not None:
        err.print(
            f"It is also in {done.password_file} (readable by you only; deleting it is "
            "safe). Set ISSUESYNC_ADMIN_PASSWORD before the first start to choose it yourself.",
            highlight=False,
        )
    else:
        err.print(
            "It is shown only this once and stored hashed; set ISSUESYNC_ADMIN_PASSWORD "
            "before the first start to choose it yourself.",
            highlight=False,
        )


def safe_url(services: Services) -> str:
    """The database URL without its password."""
    return services.database.write_engine.url.render_as_string(hide_password=True)


def when(ms: int | None) -> str:
    """An epoch-milliseconds time as people read it, in UTC ("never" for none)."""
    if ms is None:
        return "never"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
