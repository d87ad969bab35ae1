"""jira820, a third-party emulator of Jira Data Center 8.20's REST v2, served for tests.

`jira820 <https://pypi.org/project/jira820/>`_ (a dev dependency) is a stateful
FastAPI app. It is served here in-process over real HTTP on 127.0.0.1, on an
*empty* store (``seed=False``: none of its generated sample data), so that a
test holds the store and can do what its REST API cannot:

- *Projects.* jira820 serves one configured project (``config.project_key``):
  ``/project/{key}`` answers with it whatever the key, and issues are created
  only in it (or in a project that already has issues). :meth:`Jira820.new_project`
  therefore makes the empty project a test needs the configured one; issues of
  earlier projects stay, searchable by their own project key.
- *Users.* ``/user/search`` lists the store's users only; :data:`USERS` are put
  there (``admin`` is who every request acts as: jira820 checks no credentials).

One server per process is shared by every test that asks (:func:`acquire`,
:func:`release`): with pytest-xdist that is one per worker. What jira820 does
unlike Jira (``docs/trackers.md``, "Jira") is the emulator's, not the adapter's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Final

import pytest

# jira820 ships without type hints (no py.typed): its three names are untyped here.
from jira820 import make_app  # type: ignore[import-untyped]
from jira820.config import Config  # type: ignore[import-untyped]
from jira820.store import Store  # type: ignore[import-untyped]

from issuesync.testing.server import LiveServer

__all__ = ["USERS", "Jira820", "acquire", "jira820_server", "release"]

# jira820's user records: e-mails are always ``<name>@example.com``.
USERS: Final[dict[str, dict[str, str]]] = {
    "admin": {"name": "admin", "displayName": "Administrator"},
    "alice": {"name": "alice", "displayName": "Alice Example"},
}
FIRST_PROJECT: Final = "JIRA820"


class Jira820:
    """One jira820 served on a free loopback port, and its store."""

    def __init__(self) -> None:
        self.store: Any = Store(Config(project_key=FIRST_PROJECT), seed=False)
        self.store.users = {name: dict(user) for name, user in USERS.items()}
        self._server = LiveServer()
        self._lock = threading.Lock()
        self._projects = 0

    @property
    def url(self) -> str:
        """The base URL (Jira's REST v2 is under ``/rest/api/2``)."""
        return self._server.url

    def start(self) -> None:
        """Serve; returns once the server accepts connections."""
        self._server.start(make_app(store=self.store))

    def stop(self) -> None:
        """Stop serving and wait for the server's thread."""
        self._server.stop()

    def new_project(self, prefix: str = "JC", name: str | None = None) -> str:
        """Make a fresh, empty project the served one; returns its key (``prefix`` + a number)."""
        with self._lock:
            self._projects += 1
            key = f"{prefix.upper()}{self._projects}"
            self.store.config.project_key = key
            self.store.config.project_name = name or f"Project {key}"
        return key


_shared: Jira820 | None = None
_users = 0
_shared_lock = threading.Lock()


def acquire() -> Jira820:
    """The process's shared jira820, started on first use."""
    global _shared, _users  # noqa: PLW0603 - one server per process, counted
    with _shared_lock:
        if _shared is None:
            server = Jira820()
            server.start()
            _shared = server
        _users += 1
        return _shared


def release() -> None:
    """One user fewer; the last one stops the shared server."""
    global _shared, _users  # noqa: PLW0603 - see acquire
    with _shared_lock:
        _users -= 1
        if _users <= 0 and _shared is not None:
            _shared.stop()
            _shared, _users = None, 0


@pytest.fixture(scope="session")
def jira820_server() -> Iterator[Jira820]:
    """The shared jira820 for a test session (a module imports this fixture to use it)."""
    server = acquire()
    try:
        yield server
    finally:
        release()
