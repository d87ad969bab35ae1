"""What each connector applied, minute by minute: the dashboard's chart of the last hour.

The metrics (``/metrics``) count the same events, but a Prometheus counter has no
history of its own and lives in one process; this table is the history every process
of one store shares. The incoming route adds one row per connector and minute it
applied changes in (:func:`add_minutes`, one short transaction per run with work), so
its cost is a write per busy minute, not per message. Rows older than
:data:`KEEP_MS` are deleted as new minutes are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import BigInteger, ForeignKey, Integer, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from issuesync.store.base import Base

MINUTE_MS: Final = 60_000
KEEP_MS: Final = 24 * 3600 * 1000  # a day: the chart shows an hour


class AppliedMinute(Base):
    """Changes one connector applied within one minute, and their propagation latency."""

    __tablename__ = "applied_minutes"

    connector_id: Mapped[int] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), primary_key=True
    )
    minute_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # its start
    applied: Mapped[int] = mapped_column(Integer, default=0)
    # Over the applied changes whose source update time is known (most of them).
    latency_count: Mapped[int] = mapped_column(Integer, default=0)
    latency_sum_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_max_ms: Mapped[int] = mapped_column(BigInteger, default=0)


@dataclass
class Minute:
    """One minute's counts, as a run gathers them before writing."""

    minute_ms: int
    applied: int = 0
    latency_count: int = 0
    latency_sum_ms: int = 0
    latency_max_ms: int = 0

    def add(self, latency_ms: int | None) -> None:
        """One more change applied; its latency when known."""
        self.applied += 1
        if latency_ms is not None:
            self.latency_count += 1
            self.latency_sum_ms += latency_ms
            self.latency_max_ms = max(self.latency_max_ms, latency_ms)


def minute_of(ms: int) -> int:
    """The start of the minute ``ms`` falls in."""
    return ms - ms % MINUTE_MS


def add_minutes(session: Session, connector_id: int, minutes: Iterable[Minute]) -> None:
    """Add a run's counts to the connector's rows (one engine holds a connector at a time,
    so nothing else writes them meanwhile), and forget rows older than a day."""
    for minute in minutes:
        row = session.get(AppliedMinute, (connector_id, minute.minute_ms))
        if row is None:
            session.add(
                AppliedMinute(
                    connector_id=connector_id,
                    minute_ms=minute.minute_ms,
                    applied=minute.applied,
                    latency_count=minute.latency_count,
                    latency_sum_ms=minute.latency_sum_ms,
                    latency_max_ms=minute.latency_max_ms,
                )
            )
            session.execute(
                delete(AppliedMinute).where(
                    AppliedMinute.connector_id == connector_id,
                    AppliedMinute.minute_ms < minute.minute_ms - KEEP_MS,
                )
            )
            continue
        row.applied += minute.applied
        row.latency_count += minute.latency_count
        row.latency_sum_ms += minute.latency_sum_ms
        row.latency_max_ms = max(row.latency_max_ms, minute.latency_max_ms)


@dataclass(frozen=True)
class ConnectorMinute:
    """One row of :class:`AppliedMinute`, read (detached from any session)."""

    connector_id: int
    minute_ms: int
    applied: int
    latency_count: int
    latency_sum_ms: int
    latency_max_ms: int


def minutes_since(
    session: Session, connector_ids: Sequence[int], since_ms: int
) -> list[ConnectorMinute]:
    """The rows of these connectors from ``since_ms`` on, oldest first."""
    if not connector_ids:
        return []
    t = AppliedMinute
    rows = session.execute(
        select(
            t.connector_id,
            t.minute_ms,
            t.applied,
            t.latency_count,
            t.latency_sum_ms,
            t.latency_max_ms,
        )
        .where(t.connector_id.in_(connector_ids), t.minute_ms >= minute_of(since_ms))
        .order_by(t.minute_ms)
    )
    return [ConnectorMinute(*row) for row in rows]
