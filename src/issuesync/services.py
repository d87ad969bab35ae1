"""The services container: what the runtime and the surfaces need, as narrow typed ports.

The composition root (``app.py``) builds one :class:`Services` per process; the
engine's runtime, the application services and every surface receive it and
import this module, never ``app.py``. Each field is a port: a caller depends on
what it can ask of it (open a tracker, give a route its transport, read the
clock), not on how ``app.py`` made it, so a test can hand in another.

Where it sits: above the store, the trackers and the engine's transports (it
names their types), below the engine's runtime, the application and the
surfaces (which use it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from issuesync.auth import Authenticator
from issuesync.config import Settings
from issuesync.engine.connectors import ConnectorConfig, QueuePlaces
from issuesync.engine.transports.base import BlobArea, Transport
from issuesync.health import Health
from issuesync.security import SecretBox
from issuesync.store.base import now_ms
from issuesync.store.db import Database
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.local.tracker import LocalTracker

Clock = Callable[[], int]  # now, in epoch milliseconds


class TrackerOpener(Protocol):
    """Opens a connector's tracker: the adapter of ``access.system``, as its sync user.

    Raises ``ConfigurationError`` when no adapter serves the system or it refuses
    the connector's settings, or another ``IssueSyncError`` its factory raised
    (an offline tracker, say).
    """

    def __call__(self, access: TrackerAccess, /) -> Tracker:
        """The adapter for ``access``; the caller closes it."""
        ...


class TransportFactory(Protocol):
    """Gives a route its transport, carrying attachment content through ``blobs``."""

    def __call__(self, config: ConnectorConfig, blobs: BlobArea, /) -> Transport:
        """The transport of ``config``'s routes."""
        ...


@dataclass
class Services:
    """Everything the runtime and the surfaces of issuesync need, built once per process.

    ``tracker`` is the built-in tracker's service, which its own surface (the
    Jira REST API) works through; the engine reaches every tracker, the built-in
    one included, through ``trackers``.
    """

    settings: Settings
    database: Database
    uow_factory: UnitOfWorkFactory
    authenticator: Authenticator
    tracker: LocalTracker
    secrets: SecretBox
    health: Health
    trackers: TrackerOpener
    transports: TransportFactory
    clock: Clock = now_ms

    @property
    def queue_places(self) -> QueuePlaces:
        """Where file queues may be: ``ISSUESYNC_QUEUE_ROOTS``, by default the data folder."""
        return QueuePlaces.of(self.settings.home, self.settings.queue_root_paths)

    def close(self) -> None:
        """Release the database connections."""
        self.uow_factory.close()
        self.database.dispose()
