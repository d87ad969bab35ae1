"""Looking users up by the references Jira clients send, and whose e-mail a caller sees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from issuesync.errors import InvalidInputError
from issuesync.store.users import User

_BY_NAME = select(User).where(User.name == bindparam("name"))


@dataclass(frozen=True)
class EmailVisibility:
    """Whose e-mail address a caller may see, and so find users by.

    As Jira with e-mail visibility off: administrators see everyone's, others
    only their own (``ISSUESYNC_SHOW_EMAIL_ADDRESSES`` shows all to all). A user
    is never found by an address the caller may not see, or the search would
    tell which addresses exist. The sync engine sees all: it matches people
    across trackers by e-mail and never shows them to a person.
    """

    everyone: bool
    viewer_id: int | None = None

    def covers(self, user_id: int) -> bool:
        """Whether the caller may see this user's e-mail address."""
        return self.everyone or user_id == self.viewer_id


class UserDirectory:
    """Resolves ``{"name": ..}``, ``{"key": ..}``, ``{"emailAddress": ..}`` or a bare name.

    An e-mail address finds only users whose address ``emails`` lets the caller see.
    """

    def __init__(self, session: Session, emails: EmailVisibility) -> None:
        self._session = session
        self._emails = emails
        self._cache: dict[str, User] = {}

    def find(self, reference: str) -> User | None:
        """The user named, keyed or e-mailed ``reference`` (case-insensitive), or None."""
        lowered = reference.lower()
        if lowered in self._cache:
            return self._cache[lowered]
        # The exact login name is the common case and an indexed look-up.
        user = self._session.scalar(_BY_NAME, {"name": reference})
        if user is None:
            user = self._by_any(lowered)
            if (
                user is not None
                and user.name.lower() != lowered
                and not self._emails.covers(user.id)
            ):
                user = None  # found by an address the caller may not see
        if user is not None:
            self._cache[lowered] = user
        return user

    def _by_any(self, lowered: str) -> User | None:
        return self._session.scalar(
            select(User)
            .where(or_(func.lower(User.name) == lowered, func.lower(User.email) == lowered))
            .order_by((func.lower(User.name) == lowered).desc(), User.id)
            .limit(1)
        )

    def resolve(self, ref: object, field_id: str) -> User | None:
        """The user a field value names; None for null; InvalidInputError for unknown users."""
        if ref is None:
            return None
        text: object = ref
        if isinstance(ref, Mapping):
            if not ref:
                return None  # {} clears a user field, as null does
            text = ref.get("name") or ref.get("key") or ref.get("emailAddress")
        if isinstance(text, str) and text:
            user = self.find(text)
            if user is not None and user.active:
                return user
            raise InvalidInputError(
                f"User '{text}' does not exist.",
                field_errors={field_id: f"User '{text}' does not exist."},
            )
        raise InvalidInputError(
            f"Invalid user for '{field_id}'",
            field_errors={field_id: 'expected a user as {"name": "..."}'},
        )
