"""The services container: what the runtime and the surfaces need, as narrow typed ports.

The composition root (``app.py``) builds one :class:`Services` per process; the
application services and every surface receive it and import this module, never
``app.py``. Each field is a port: a caller depends on what it can ask of it (open
a tracker, give a route its transport, read the clock), not on how ``app.py``
made it, so a test can hand in another.

Where it sits: above the engine, the trackers and the store (it names their
types), below the application and the surfaces. The engine's runtime gets the
same object but knows it only as the Protocol of the ports it uses
(``engine/runtime/ports.py``), so nothing in the engine imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from issuesync.auth import Authenticator
from issuesync.config import Settings
from issuesync.engine.connectors import QueuePlaces
from issuesync.engine.runtime.ports import Clock
from issuesync.engine.transports.base import TransportFactory
from issuesync.health import Health
from issuesync.security import SecretBox
from issuesync.store.base import now_ms
from issuesync.store.db import Database
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.trackers.access import TrackerOpener
from issuesync.trackers.local.tracker import LocalTracker


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
