"""What a connector's routes work with, and the bookkeeping they share."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.domain.diff import TraceState
from issuesync.domain.mapping import ConnectorMapping, Shadow
from issuesync.domain.message import TraceType
from issuesync.domain.replica import UserRef
from issuesync.engine.connectors import ConnectorConfig
from issuesync.engine.pipeline.attachment_links import AttachmentLinks
from issuesync.engine.pipeline.cursor import Cursor
from issuesync.engine.transports.base import Transport
from issuesync.store.sync import SyncInfo, TraceRow
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
    mapping: ConnectorMapping = field(init=False)
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
    def automatic_conflict_resolution(self) -> bool:
        """Whether the newer change wins a conflict by itself."""
        return self.connector.configuration.sync.automatic_conflict_resolution


def load_shadow(info: SyncInfo | None) -> Shadow:
    """The shadow stored with a sync information row."""
    if info is None or not info.shadow:
        return Shadow.empty()
    return Shadow.load(json.loads(info.shadow))


def store_shadow(info: SyncInfo, shadow: Shadow) -> None:
    """Keep the shadow with its sync information row."""
    info.shadow = shadow_text(shadow)


def shadow_text(shadow: Shadow) -> str:
    """The shadow as its sync information row keeps it."""
    return json.dumps(shadow.dump(), separators=(",", ":"), sort_keys=True)


def infos_by_local(session: Session, connector_id: int, keys: Sequence[str]) -> dict[str, SyncInfo]:
    """Sync information of these local issues."""
    if not keys:
        return {}
    rows = session.scalars(
        select(SyncInfo).where(
            SyncInfo.connector_id == connector_id, SyncInfo.local_issue_key.in_(list(keys))
        )
    )
    return {row.local_issue_key: row for row in rows}


def info_by_remote(session: Session, connector_id: int, remote_key: str) -> SyncInfo | None:
    """Sync information of the local twin of a partner's issue."""
    return session.scalars(
        select(SyncInfo)
        .where(SyncInfo.connector_id == connector_id, SyncInfo.remote_issue_key == remote_key)
        .order_by(SyncInfo.id)
        .limit(1)
    ).first()


def info_by_local(session: Session, connector_id: int, local_key: str) -> SyncInfo | None:
    """Sync information of a local issue."""
    return session.scalars(
        select(SyncInfo).where(
            SyncInfo.connector_id == connector_id, SyncInfo.local_issue_key == local_key
        )
    ).first()


def traces_of(
    session: Session, connector_id: int, keys: Sequence[str]
) -> dict[str, dict[tuple[TraceType, str], TraceRow]]:
    """Trace rows of these local issues, by issue and then by (kind, local id)."""
    found: dict[str, dict[tuple[TraceType, str], TraceRow]] = defaultdict(dict)
    if not keys:
        return found
    rows = session.scalars(
        select(TraceRow).where(
            TraceRow.connector_id == connector_id, TraceRow.local_issue_key.in_(list(keys))
        )
    )
    for row in rows:
        if row.local_id is not None:
            found[row.local_issue_key][(TraceType(row.kind), row.local_id)] = row
    return found


def trace_states(
    rows: dict[tuple[TraceType, str], TraceRow],
) -> dict[tuple[TraceType, str], TraceState]:
    """Trace rows as the diff sees them."""
    return {key: TraceState(key[0], key[1], row.remote_id, row.digest) for key, row in rows.items()}
