"""Who acts: an authenticated caller as a value, with the permission rules every layer applies.

The built-in tracker checks its permissions against a :class:`Principal`; the
surfaces get one from :class:`~issuesync.auth.Authenticator` (login, tokens,
throttle), which sits above the store and builds it with :meth:`Principal.of`.
"""

from __future__ import annotations

from dataclasses import dataclass

from issuesync.errors import PermissionDeniedError
from issuesync.store.users import User


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, detached from any session."""

    id: int
    name: str
    display_name: str
    email: str | None
    is_admin: bool
    project_admin_keys: frozenset[str]

    def administers(self, project_key: str) -> bool:
        """Whether the caller may administer the project with this key."""
        return self.is_admin or project_key.upper() in self.project_admin_keys

    def require_admin(self) -> None:
        """Raise unless the caller is an administrator."""
        if not self.is_admin:
            raise PermissionDeniedError("You must be an administrator to do this.")

    def require_project_admin(self, project_key: str) -> None:
        """Raise unless the caller administers this project."""
        if not self.administers(project_key):
            raise PermissionDeniedError(
                f"You must be an administrator of project {project_key} to do this."
            )

    @classmethod
    def of(cls, user: User) -> Principal:
        """The principal of a loaded user."""
        return cls(
            id=user.id,
            name=user.name,
            display_name=user.display_name,
            email=user.email,
            is_admin=user.is_admin,
            project_admin_keys=frozenset(p.project_key.upper() for p in user.project_admin_keys),
        )
