"""What the engine's runtime needs of its process, as one narrow Protocol.

The composition root builds :class:`issuesync.services.Services`, which has all
of it; the runtime depends only on this Protocol, so it imports neither the
container nor ``app.py`` (both sit above the engine), and a test may hand in
any object that has these ports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from issuesync.config import Settings
from issuesync.engine.transports.base import TransportFactory
from issuesync.health import Health
from issuesync.security import SecretBox
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.trackers.access import TrackerOpener

Clock = Callable[[], int]  # now, in epoch milliseconds


class RuntimeServices(Protocol):
    """The ports a :class:`~issuesync.engine.runtime.runner.SyncRunner` works with (read only)."""

    @property
    def settings(self) -> Settings:
        """The process's settings: the home, the lease, the base URL, the administrator."""
        ...

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        """Units of work on the store."""
        ...

    @property
    def secrets(self) -> SecretBox:
        """Opens the connectors' sealed credentials."""
        ...

    @property
    def health(self) -> Health:
        """Where the runtime reports what fails in this process."""
        ...

    @property
    def trackers(self) -> TrackerOpener:
        """Opens each connector's tracker, the built-in one included."""
        ...

    @property
    def transports(self) -> TransportFactory:
        """Gives each route its transport."""
        ...

    @property
    def clock(self) -> Clock:
        """Now, in epoch milliseconds."""
        ...
