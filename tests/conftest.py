"""Shared fixtures: real databases (SQLite files and, when reachable, PostgreSQL)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, make_url, text

from issuesync.accounts import NewUser, create_user
from issuesync.app import bootstrap, build_services, create_app, install_engine
from issuesync.config import Settings
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.store.db import Database, connect
from issuesync.store.migrate import upgrade
from issuesync.testing.server import LiveServer

POSTGRES_URL = os.environ.get(
    "ISSUESYNC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
POSTGRES_REQUIRED = os.environ.get("ISSUESYNC_TEST_POSTGRES") == "1"


def _postgres_reason() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({type(exc).__name__}: {exc})"
    return None


_PG_REASON: str | bool | None = False


def postgres_unavailable() -> str | None:
    """Skip reason for PostgreSQL tests; fails the run instead when they are required."""
    global _PG_REASON  # noqa: PLW0603 - probe once per test session
    if _PG_REASON is False:
        _PG_REASON = _postgres_reason()
    reason = _PG_REASON
    assert not isinstance(reason, bool)
    if reason and POSTGRES_REQUIRED:
        pytest.fail(f"ISSUESYNC_TEST_POSTGRES=1 but {reason}")
    return reason


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'issuesync.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per test process, copied for each test that wants one.

    Migrating from nothing costs ~0.6 s, a copy under 1 ms; PostgreSQL tests (and the
    tests that ask for ``database_url`` itself) still migrate from nothing.
    """
    path = tmp_path_factory.mktemp("template") / "issuesync.db"
    db = connect(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """SQL that makes a schema as the migrations leave it: one schema migrated per test
    process and dumped with ``pg_dump`` (0.2 s to restore, against 0.6 s to migrate).

    The SQL names the schema ``@SCHEMA@``; None when ``pg_dump`` is not installed.
    """
    dump = shutil.which("pg_dump")
    url = make_url(POSTGRES_URL)
    if dump is None or postgres_unavailable():
        yield None
        return
    schema = f"tmpl_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        db = connect(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
        upgrade(db)
        db.dispose()
        command = [
            *(dump, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)),
            *("-U", url.username or "postgres", "-d", url.database or "test"),
            *("--schema", schema, "--inserts", "--no-owner", "--no-privileges"),
        ]
        dumped = subprocess.run(  # noqa: S603 - the machine's pg_dump, on the test database
            command,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    lines = (
        line.replace(f"CREATE SCHEMA {schema};", f"CREATE SCHEMA IF NOT EXISTS {schema};")
        for line in dumped.splitlines()
        if not line.startswith("\\")  # psql's own commands (\restrict), not SQL
    )
    yield "\n".join(lines).replace(schema, "@SCHEMA@")


def from_template(database_url: str, request: pytest.FixtureRequest) -> str:
    """``database_url``, which starts as the migrations leave a database when it is new:
    a SQLite file copied from a migrated one, a PostgreSQL schema restored from a dump.
    ``bootstrap``'s migration then finds nothing left to do."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix):
        target = Path(database_url.removeprefix(prefix))
        if not target.exists():
            shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
    elif (schema := _schema_of(database_url)) is not None:
        sql = request.getfixturevalue("postgres_template")
        if sql is not None:
            with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as conn:
                conn.execute(sql.replace("@SCHEMA@", schema))
    return database_url


def _schema_of(database_url: str) -> str | None:
    """The fresh schema a ``postgres_url`` points at."""
    found = re.search(r"options=-csearch_path%3D(t_[0-9a-f]+)$", database_url)
    return found.group(1) if found else None


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as libpq takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def database(database_url: str, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A migrated database on each backend."""
    db = connect(from_template(database_url, request))
    upgrade(db)
    yield db
    db.dispose()


ADMIN_PASSWORD = "admin-secret"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    """A bound loopback port; the ``services`` fixture serves the app on it."""
    server = LiveServer()
    yield server
    server.stop()


@pytest.fixture
def services(
    home: Path, database_url: str, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Services]:
    """The wired services on a fresh, migrated database, with the admin created."""
    settings = Settings(
        home=home,
        database_url=from_template(database_url, request),
        admin_user="admin",
        admin_password=SecretStr(ADMIN_PASSWORD),
        base_url=live_server.url,
        max_attachment_size=1024 * 1024,
    )
    built = build_services(settings)
    bootstrap(built)
    yield built
    built.close()


@pytest.fixture
def server(services: Services, live_server: LiveServer) -> str:
    """The app served over real HTTP on 127.0.0.1; returns its base URL."""
    live_server.start(create_app(services))
    return live_server.url


@pytest.fixture
def admin(server: str) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as the administrator."""
    with httpx.Client(base_url=server, auth=("admin", ADMIN_PASSWORD), timeout=30) as client:
        yield client


@pytest.fixture
def anonymous(server: str) -> Iterator[httpx.Client]:
    """An HTTP client without credentials."""
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture
def make_client(server: str, services: Services) -> Iterator[Callable[..., httpx.Client]]:
    """Create a user (with the given roles) and return a client authenticated as them."""
    clients: list[httpx.Client] = []

    def make(
        name: str,
        *,
        admin: bool = False,
        project_admin: tuple[str, ...] = (),
        email: str | None = None,
    ) -> httpx.Client:
        password = f"{name}-password"
        create_user(
            services.uow_factory,
            NewUser(
                name=name,
                email=email or f"{name}@example.test",
                password=password,
                admin=admin,
                project_admin_keys=project_admin,
            ),
        )
        client = httpx.Client(base_url=server, auth=(name, password), timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def engine(services: Services) -> Iterator[SyncRunner]:
    """An engine driven step by step (``settle``), stopped after the test."""
    made = SyncRunner(services, backoff_ms=0, deletion_check_ms=0)
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def engine_client(services: Services, live_server: LiveServer) -> Iterator[httpx.Client]:
    """The app with its engine, as `issuesync serve` runs it, and an administrator's client.

    ``live_server`` stops the server (and with it the engine) after the test.
    """
    app = create_app(services)
    install_engine(app, services)
    live_server.start(app)
    with httpx.Client(base_url=live_server.url, auth=("admin", ADMIN_PASSWORD), timeout=30) as c:
        yield c
