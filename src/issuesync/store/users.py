"""Users, their API tokens and their roles: shared by every surface of issuesync."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from issuesync.store.base import Base


class User(Base):
    """A person or a sync user; the built-in tracker's users are these."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_ms: Mapped[int] = mapped_column(BigInteger)

    # Loaded when asked for: most look-ups of users (authors, assignees) never need it.
    project_admin_keys: Mapped[list[ProjectAdmin]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def administers(self, project_key: str) -> bool:
        """Whether this user may administer the project with this key."""
        return self.is_admin or any(p.project_key == project_key for p in self.project_admin_keys)


class ProjectAdmin(Base):
    """A user's project-admin role for one project key (the project may not exist yet)."""

    __tablename__ = "user_project_admins"
    __table_args__ = (UniqueConstraint("user_id", "project_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_key: Mapped[str] = mapped_column(String(32))

    user: Mapped[User] = relationship(back_populates="project_admin_keys")


class ApiToken(Base):
    """An API token; only its sha256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_used_ms: Mapped[int | None] = mapped_column(BigInteger)

    user: Mapped[User] = relationship()


class DashboardSession(Base):
    """A session of the dashboard (``web/session.py``): only the sha256 of its random id is
    stored; logging out deletes the row, so the cookie stops working on the server too."""

    __tablename__ = "dashboard_sessions"

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger, index=True)
