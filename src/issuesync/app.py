"""The composition root: settings in; store, services and the HTTP app out.

Only the entry points import this module: the CLI (``cli/``) and the ASGI app
factory (:func:`app_from_environment`). Everything below them receives the
:class:`~issuesync.services.Services` this module builds. Nothing runs at import.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import make_url, select

from issuesync import __version__
from issuesync.accounts import AdminPassword, find_admin_password
from issuesync.auth import Authenticator
from issuesync.config import Settings
from issuesync.engine.runtime.jobs import ConnectionJobs, ConnectionScheduler
from issuesync.engine.runtime.runner import SyncRunner, tune_garbage_collector
from issuesync.engine.transports.factory import QueueTransports
from issuesync.errors import ConfigurationError
from issuesync.health import Health
from issuesync.logs import configure_logging
from issuesync.metrics import process_exited, switch
from issuesync.security import (
    INITIAL_ADMIN_PASSWORD,
    PROCESS_UMASK,
    SecretBox,
    generate_password,
    hash_password,
    load_or_create_secret_key,
    private_home,
    write_private_file,
)
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.blobs import BlobStore
from issuesync.store.db import connect
from issuesync.store.migrate import Migration, is_current, upgrade
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import User
from issuesync.throttle import LoginThrottle
from issuesync.trackers.local.defaults import ensure_defaults
from issuesync.trackers.local.tracker import LocalTracker
from issuesync.trackers.registry import Trackers

if TYPE_CHECKING:  # the web framework loads only when a server is built (the CLI starts faster)
    from fastapi import FastAPI
    from starlette.routing import BaseRoute

log = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    """Wire the store and the services for these settings (opens no connection yet).

    The home is made private to this user first (``private_home``), with a warning
    naming what was open to others.
    """
    tightened = private_home(settings.home, sqlite_file(settings.resolved_database_url))
    if tightened:
        shown = ", ".join(str(path) for path in tightened[:5])
        more = f" and {len(tightened) - 5} more" if len(tightened) > 5 else ""  # noqa: PLR2004
        log.warning(
            "%d files and folders of issuesync were open to other users; they are now "
            "private to this one (folders 0700, files 0600): %s%s",
            len(tightened),
            shown,
            more,
        )
    switch(on=settings.metrics_enabled)  # before any route takes its metrics' children
    database = connect(settings.resolved_database_url, wait_ms=settings.write_wait_ms)
    health = Health()  # what fails in this process: the store and the engine report here
    uow_factory = UnitOfWorkFactory(database, health)
    key = load_or_create_secret_key(
        settings.home, settings.secret_key.get_secret_value() if settings.secret_key else None
    )
    blobs = BlobStore(settings.attachments_dir, settings.max_attachment_size)
    tracker = LocalTracker(
        uow_factory,
        blobs,
        settings.resolved_base_url,
        show_email_addresses=settings.show_email_addresses,
        text_limit=settings.text_field_limit,
    )
    secrets = SecretBox(key)
    return Services(
        settings=settings,
        database=database,
        uow_factory=uow_factory,
        authenticator=Authenticator(uow_factory, throttle=login_throttle(settings)),
        tracker=tracker,
        secrets=secrets,
        health=health,
        # Every tracker opens through the installed adapters, the built-in one included.
        trackers=Trackers(tracker, settings.admin_user),
        transports=QueueTransports(settings.home, uow_factory, secrets, settings.queue_root_paths),
    )


def login_throttle(settings: Settings) -> LoginThrottle:
    """The counter of failed logins these settings ask for (one per process)."""
    return LoginThrottle(
        per_user=settings.login_failures_per_user,
        per_address=settings.login_failures_per_address,
        window_s=settings.login_failure_window_s,
        max_lock_s=settings.login_lockout_max_s,
    )


def sqlite_file(database_url: str) -> Path | None:
    """The file of an SQLite database URL; None for another database or one in memory."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if str(url.database).startswith("file:"):
        return None  # an SQLite URI: its options are SQLite's business
    return Path(str(url.database))


@dataclass(frozen=True)
class Bootstrap:
    """What :func:`bootstrap` did, for the entry point to tell.

    ``generated_password``: the administrator's, when it had to be made (stored only
    hashed: shown now or never); ``password_file``: where it was also written
    (None: not written, or the disk refused it).
    """

    migration: Migration | None
    generated_password: str | None = None
    password_file: Path | None = None


def initial_password_file(settings: Settings) -> Path:
    """Where a generated administrator password is kept: ``HOME/initial-admin-password``."""
    return settings.home.resolve() / INITIAL_ADMIN_PASSWORD


def bootstrap(services: Services, *, migrate: bool = True) -> Bootstrap:
    """Bring the store up to date and create what a first start needs.

    A generated administrator password is also written to
    :func:`initial_password_file` (0600, in the private home), replacing what an
    earlier administrator's left there; it is never written again, and deleting it
    is safe (nothing reads it back but the server's start line).
    """
    migration: Migration | None = None
    if migrate:
        migration = upgrade(services.database)
    elif not is_current(services.database):
        raise ConfigurationError(
            "The database is not up to date: run `issuesync db upgrade` first."
        )
    settings = services.settings
    generated: str | None = None
    with services.uow_factory() as uow:
        ensure_defaults(uow.session)
        admin = uow.session.scalar(select(User).where(User.name == settings.admin_user))
        if admin is None:
            password = (
                settings.admin_password.get_secret_value() if settings.admin_password else None
            )
            if not password:
                password = generated = generate_password()
            uow.session.add(
                User(
                    name=settings.admin_user,
                    display_name="Administrator",
                    email=None,
                    is_admin=True,
                    active=True,
                    password_hash=hash_password(password),
                    created_ms=now_ms(),
                )
            )
        uow.commit()
    if generated is None:
        return Bootstrap(migration)
    path = initial_password_file(settings)
    try:
        write_private_file(path, generated + "\n")
    except OSError as exc:  # the password is still shown once; the file is a convenience
        log.warning("could not write %s: %s", path, exc.strerror or exc)
        return Bootstrap(migration, generated)
    return Bootstrap(migration, generated, path)


def admin_password(services: Services) -> AdminPassword:
    """Where the administrator's password is: ISSUESYNC_ADMIN_PASSWORD, the file of a
    generated one, or neither (then ``issuesync user password`` sets one)."""
    settings = services.settings
    configured = settings.admin_password.get_secret_value() if settings.admin_password else ""
    return find_admin_password(
        services.uow_factory,
        settings.admin_user,
        configured or None,
        initial_password_file(settings),
    )


def create_app(services: Services) -> FastAPI:
    """The HTTP application with every surface mounted."""
    # Imported here so that building services for the CLI does not load the web stack.
    from fastapi import FastAPI  # noqa: PLC0415

    from issuesync.api.backbone import routers as backbone  # noqa: PLC0415
    from issuesync.api.connections.errors import PREFIX as SDE_PREFIX  # noqa: PLC0415
    from issuesync.api.connections.errors import SDE  # noqa: PLC0415
    from issuesync.api.errors import (  # noqa: PLC0415
        ErrorShapes,
        UnexpectedErrors,
        install_error_handlers,
    )
    from issuesync.api.guard import RequestGuard  # noqa: PLC0415
    from issuesync.api.health import DatabaseProbe  # noqa: PLC0415
    from issuesync.api.issuehub.compression import NodeCompression  # noqa: PLC0415
    from issuesync.api.issuehub.errors import ISSUEHUB  # noqa: PLC0415
    from issuesync.api.jira.errors import JIRA  # noqa: PLC0415
    from issuesync.api.jira.paths import JiraPaths  # noqa: PLC0415
    from issuesync.api.jira.routers import JIRA_PREFIX  # noqa: PLC0415
    from issuesync.api.request_id import RequestIds  # noqa: PLC0415
    from issuesync.web import pages as web  # noqa: PLC0415

    app = FastAPI(
        title="issuesync",
        version=__version__,
        description="Keeps issues in two issue-tracker projects in step.",
    )
    app.state.services = services
    shapes = ErrorShapes()
    shapes.register(JIRA_PREFIX, JIRA)
    shapes.register("/secure/attachment", JIRA)
    shapes.register("/rest/issuehub", ISSUEHUB)
    shapes.register(SDE_PREFIX, SDE)
    backbone.install(app, shapes)
    install_error_handlers(app, shapes)
    app.add_middleware(NodeCompression)
    settings = services.settings
    # Added last, run first: unexpected errors are answered around everything else.
    app.add_middleware(
        RequestGuard,
        shapes=shapes,
        max_body=settings.max_request_size,
        max_upload=settings.max_attachment_size,
    )
    app.add_middleware(UnexpectedErrors, shapes=shapes)
    # /rest/api/latest becomes /rest/api/2 before anything else sees the path.
    app.add_middleware(JiraPaths)
    # Outermost: every line a request logs carries its id, the last resort's too.
    app.add_middleware(RequestIds)
    app.router.routes.extend(_routes())
    web.mount(app)  # the dashboard, /ui
    probe = DatabaseProbe(services)  # /healthz knows whether the database answers
    app.router.on_startup.append(probe.start)
    app.router.on_shutdown.insert(0, probe.stop)
    return app


@functools.cache
def _routes() -> tuple[BaseRoute, ...]:
    """Every route of the app, built once per process.

    Routes hold no state (a request finds the services on its own app), and
    building them (FastAPI's analysis of each endpoint's parameters) is most of
    what making an app costs: a process that makes several (tests) makes them once.
    """
    # Imported here, as in create_app: the CLI does not load the web stack.
    from fastapi import FastAPI  # noqa: PLC0415

    from issuesync.api.attachments import router as attachments_router  # noqa: PLC0415
    from issuesync.api.backbone import routers as backbone  # noqa: PLC0415
    from issuesync.api.connections import routers as connections  # noqa: PLC0415
    from issuesync.api.health import router as health_router  # noqa: PLC0415
    from issuesync.api.issuehub import routers as issuehub  # noqa: PLC0415
    from issuesync.api.jira.admin import build_admin_router  # noqa: PLC0415
    from issuesync.api.jira.issue_extras import build_issue_extras_router  # noqa: PLC0415
    from issuesync.api.jira.routers import (  # noqa: PLC0415
        build_content_router,
        build_router,
    )
    from issuesync.api.metrics import router as metrics_router  # noqa: PLC0415

    scratch = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    own = len(scratch.router.routes)
    scratch.include_router(health_router)
    scratch.include_router(metrics_router)
    scratch.include_router(attachments_router)
    scratch.include_router(build_router())
    scratch.include_router(build_admin_router())
    scratch.include_router(build_issue_extras_router())
    scratch.include_router(build_content_router())
    backbone.include_routes(scratch)
    for build in (
        issuehub.build_node_router,
        issuehub.build_control_router,
        issuehub.build_admin_router,
        issuehub.build_monitoring_router,
        connections.build_router,
    ):
        scratch.include_router(build())
    return tuple(scratch.router.routes[own:])


def install_engine(app: FastAPI, services: Services) -> None:
    """Run the sync engine alongside the app: started with it, stopped before it closes."""
    engine = SyncRunner(services)
    app.state.engine = engine
    # Connections' jobs (``/api/v2/connections``) run beside the engine, claimed per job.
    scheduler = ConnectionScheduler(ConnectionJobs(services, engine.owner))
    app.router.on_startup.append(tune_garbage_collector)
    app.router.on_startup.append(engine.start)
    app.router.on_startup.append(scheduler.start)
    app.router.on_shutdown.insert(0, engine.stop)
    app.router.on_shutdown.insert(0, scheduler.stop)


def app_from_environment() -> FastAPI:
    """An app built from the environment's settings: the factory each server worker calls.

    The parent process has already migrated the database; a worker only checks
    that it is current, and closes its connections when the server stops. Its files
    are private to its user, as the parent's are (:data:`PROCESS_UMASK`), and its log
    lines in the parent's format.
    """
    os.umask(PROCESS_UMASK)
    settings = Settings()
    # A worker process starts afresh: its lines take the parent's format (the environment).
    configure_logging(settings.log_level, settings.log_format)
    services = build_services(settings)
    bootstrap(services, migrate=False)
    app = create_app(services)
    if services.settings.engine_enabled:
        # Each worker runs an engine; connector leases let only one run a connector.
        install_engine(app, services)
    app.router.on_shutdown.append(services.close)
    # Its live gauges leave the sum of the workers' metrics (its counters stay in it).
    app.router.on_shutdown.append(functools.partial(process_exited, os.getpid()))
    return app
