"""The status board: every integration with its status, read again every half second.

Monitoring (Zabbix, Nagios, scripts) polls ``GET /integrations`` and
``GET /integrations/{key}/status`` for every integration every few seconds,
often from many checks at once. Answering each from the database would cost a
few queries and a rendering per request; instead one snapshot of all
integrations, rendered as JSON text (``documents/listing.py``), answers
both routes for :data:`TTL_S`; for as long again it is still shown while a
background thread reads the next, so no request waits for that read. A status
is therefore at most twice the TTL (a second) old: the engines, possibly in
other processes, write their readings as they change, and a change made
through this process's API is seen at once (its routes
:meth:`StatusBoard.invalidate` the board). An integration missing from the
snapshot is looked up again before the answer is a 404, so one created a moment
ago elsewhere is found.

What fails in issuesync's processes (:mod:`issuesync.health`: this process's
problems, and those the live engines of the same home publish) is shown in
every route's details (``documents/status.trouble_text``): a change of
this process's health takes a new snapshot at once, one of another engine's is
seen with the next snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from issuesync.api.backbone.documents.listing import IntegrationText, integration_texts
from issuesync.api.backbone.documents.status import trouble_text
from issuesync.application.integrations import list_integrations
from issuesync.engine.runtime.presence import problems_seen
from issuesync.health import Health
from issuesync.store.principals import Principal
from issuesync.store.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

TTL_S = 0.5
LOCAL = "local"


@dataclass(frozen=True)
class Snapshot:
    """All integrations at one moment, in key order."""

    taken: float  # time.monotonic()
    generation: int
    health: int  # the version of this process's health it shows
    texts: tuple[IntegrationText, ...]
    by_key: dict[str, IntegrationText]

    def visible(self, principal: Principal, text: IntegrationText) -> bool:
        """Whether the caller may see this integration (see ``access.py``)."""
        return principal.is_admin or any(
            system == LOCAL and principal.administers(project) for system, project in text.projects
        )

    def listed(self, principal: Principal, project_key: str | None) -> bytes:
        """``GET /integrations``: what the caller may see, of one project if given."""
        wanted = project_key.upper() if project_key else None
        return (
            b"["
            + b",".join(
                text.document
                for text in self.texts
                if (wanted is None or any(p == wanted for _, p in text.projects))
                and self.visible(principal, text)
            )
            + b"]"
        )


class StatusBoard:
    """The current :class:`Snapshot`, taken again when older than :data:`TTL_S`."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, *, home: Path | None = None, ttl_s: float = TTL_S
    ) -> None:
        self._uow_factory = uow_factory
        self._health: Health = uow_factory.health
        self._home = home  # whose engines' published problems to show too
        self._ttl_s = ttl_s
        self._snapshot: Snapshot | None = None
        self._generation = 0
        self._lock = threading.Lock()  # one read of the store at a time
        self._state_lock = threading.Lock()
        self._taking = False  # a thread is taking the next snapshot

    def current(self) -> Snapshot | None:
        """The snapshot if it may still be shown, else None (then call :meth:`take`).

        Older than the TTL but not twice as old, it is still shown while another
        thread takes the next one, so that no request waits for that read.
        """
        snapshot = self._snapshot
        if (
            snapshot is None
            or snapshot.generation != self._generation
            or snapshot.health != self._health.version
        ):
            return None
        age = time.monotonic() - snapshot.taken
        if age <= self._ttl_s:
            return snapshot
        if age <= 2 * self._ttl_s:
            self._take_soon(snapshot)
            return snapshot
        return None

    def _take_soon(self, stale: Snapshot) -> None:
        with self._state_lock:
            if self._taking:
                return
            self._taking = True

        def take() -> None:
            try:
                self.take(after=stale)
            except Exception:  # the next request takes it in its own time, or reports
                log.exception("the status board could not be read")
            finally:
                with self._state_lock:
                    self._taking = False

        threading.Thread(target=take, name="issuesync-status-board", daemon=True).start()

    def take(self, *, after: Snapshot | None = None) -> Snapshot:
        """A fresh snapshot (blocking: it reads the database).

        Concurrent callers share one read: whoever comes second gets the
        snapshot the first one took. With ``after``, the snapshot is newer than it.
        """
        with self._lock:
            snapshot = self.current()
            if snapshot is not None and (after is None or snapshot.taken > after.taken):
                return snapshot
            generation = self._generation
            health = self._health.version
            taken = time.monotonic()
            trouble = self._trouble()
            with self._uow_factory(readonly=True) as uow:
                rows = list_integrations(uow.session)
                texts = tuple(integration_texts(uow.session, rows, trouble=trouble))
            snapshot = Snapshot(
                taken, generation, health, texts, {text.key: text for text in texts}
            )
            self._snapshot = snapshot
            return snapshot

    def _trouble(self) -> str:
        if self._home is None:
            return trouble_text([("", problem) for problem in self._health.problems()])
        return trouble_text(problems_seen(self._health, self._home))

    def invalidate(self) -> None:
        """Something changed through this process: the next read takes a new snapshot."""
        self._generation += 1
