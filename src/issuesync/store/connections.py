"""Tables of tracker connections run on a schedule (SD Elements' dialect, seed 004).

A **tracker connector** is a stored tracker server and its credentials (the secret
encrypted with the ``SecretBox``, never shown); a **connection** links a built-in
project with a project of that tracker through an integration of its own, run by
**jobs** (on its schedule or on demand) instead of continuously. ``docs/connections.md``
says what each column means to a user. Timestamps are epoch milliseconds.

A connection is run by one process at a time: the one whose claim
(``job_owner`` until ``job_until_ms``) is live, taken by a conditional update that
PostgreSQL and SQLite both make atomic (``engine/runtime/jobs.py``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from issuesync.store.base import Base


class TrackerConnectorRow(Base):
    """A tracker server and how to log in to it, shared by connections."""

    __tablename__ = "tracker_connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    system: Mapped[str] = mapped_column(String(32))
    server: Mapped[str] = mapped_column(String(1024))  # host[:port][/path], no scheme
    method: Mapped[str] = mapped_column(String(8))  # http | https
    validate_cert: Mapped[bool] = mapped_column(Boolean, default=True)
    auth_mode: Mapped[str] = mapped_column(String(16))  # basic | token
    user: Mapped[str | None] = mapped_column(String(255), nullable=True)
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)  # encrypted
    created_user: Mapped[str] = mapped_column(String(255))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    modified_ms: Mapped[int] = mapped_column(BigInteger)


class ConnectionRow(Base):
    """A built-in project linked to a tracker project, synchronized by jobs."""

    __tablename__ = "connections"
    __table_args__ = (Index("ix_connections_due", "frequency", "next_run_ms"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alias: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[int] = mapped_column(Integer)  # the built-in project's id
    tracker_connector_id: Mapped[int] = mapped_column(ForeignKey("tracker_connectors.id"))
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), unique=True
    )
    frequency: Mapped[str] = mapped_column(String(16))
    debug_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    params: Mapped[str] = mapped_column(Text)  # JSON: the params as given, without secrets
    inaccessible: Mapped[bool] = mapped_column(Boolean, default=False)
    last_successful_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    next_run_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    job_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    job_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_user: Mapped[str] = mapped_column(String(255))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    modified_ms: Mapped[int] = mapped_column(BigInteger)


class JobRow(Base):
    """One run of a connection: asked for (``queued``), ``running``, then ``done``."""

    __tablename__ = "connection_jobs"
    __table_args__ = (Index("ix_connection_jobs_connection", "connection_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))  # queued | running | done
    automatic: Mapped[bool] = mapped_column(Boolean)  # started by the schedule
    triggered_by: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a user's id
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # who it ran as
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    queued_ms: Mapped[int] = mapped_column(BigInteger)
    started_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finished_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    succeeded: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    result_message: Mapped[str] = mapped_column(Text, default="")
