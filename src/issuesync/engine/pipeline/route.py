"""The route's context: what a connector's routes work with (its configuration, tracker,
transport and store), and what they remember between runs.

What they know of each issue (links, shadows, traces) is in the sync ledger (``ledger.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from issuesync.domain.mapping import ConnectorMapping
from issuesync.domain.markup import Markup, Mentions, no_mentions
from issuesync.domain.people import PeopleMap
from issuesync.domain.replica import UserRef
from issuesync.engine.connectors import ConnectorConfig
from issuesync.engine.pipeline.attachment_links import AttachmentLinks
from issuesync.engine.pipeline.cursor import Cursor
from issuesync.engine.transports.base import Transport
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.trackers.adapter import Tracker

USER_CACHE_S = 60.0
USER_CACHE_SIZE = 10_000


@dataclass
class Route:
    """One connector as the engine runs it: configuration, tracker, transport, store."""

    connector: ConnectorConfig
    tracker: Tracker
    transport: Transport
    uow_factory: UnitOfWorkFactory
    lookback_ms: int = 5_000
    # Issues per outgoing page and messages per incoming batch: each is one write
    # transaction. Large ones pay the per-transaction costs (and on SQLite the wait
    # for the other worker's write turn) less often; the initial sync benchmark ran
    # ~30% faster with 1,000 than with 200 and 500.
    page_size: int = 1000
    batch_size: int = 1000
    deletion_check_ms: int = 30_000
    sync_user: str | None = None  # who the tracker acts as; unknown users fall back to it
    # How attachments become link comments on a tracker that takes none.
    attachment_links: AttachmentLinks | None = None
    # Who a mention in the partner's text is here (their name -> ours, None: plain text).
    mentions: Mentions = no_mentions
    mapping: ConnectorMapping = field(init=False)
    people: PeopleMap = field(init=False)  # the configuration's user mappings, compiled
    _users: dict[tuple[str | None, str | None], tuple[UserRef | None, float]] = field(
        init=False, default_factory=dict
    )
    # Issues handled at this update time (read by the outgoing route, or made by the
    # incoming one): the look-back window need not read them again. In memory only:
    # after a restart they are read once more and the shadow finds nothing to send.
    seen: dict[str, int] = field(init=False, default_factory=dict)
    # The outgoing route's cursor as its last poll left it, and when it was last
    # stored: a poll that sent nothing stores it only now and then.
    cursor: Cursor | None = field(init=False, default=None)
    cursor_saved_ms: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.mapping = ConnectorMapping(self.connector.configuration)
        self.people = PeopleMap.of(self.connector.configuration.user_mappings)

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The tracker's user for ``ref``, remembered for a minute (users rarely change)."""
        key = ((ref.email or "").lower() or None, ref.username)
        known = self._users.get(key)
        now = time.monotonic()
        if known is not None and known[1] > now:
            return known[0]
        found = self.tracker.find_user(ref)
        if len(self._users) > USER_CACHE_SIZE:
            self._users.clear()
        self._users[key] = (found, now + USER_CACHE_S)
        return found

    @property
    def id(self) -> int:
        """The connector's row id."""
        return self.connector.id

    @property
    def markup(self) -> Markup:
        """The markup dialect of this connector's texts: its setting, else its tracker's."""
        return self.connector.configuration.markup.dialect or self.tracker.capabilities.markup

    @property
    def automatic_conflict_resolution(self) -> bool:
        """Whether the newer change wins a conflict by itself."""
        return self.connector.configuration.sync.automatic_conflict_resolution
