"""Redmine's users as :class:`UserRef`: issues name a user by id and display name only.

The login comes from ``users/<id>.json`` (any user the sync user can see), read
once per user for the adapter's life; the e-mail only when Redmine shows it
(to administrators, or when the user does not hide it). Looking a user up by
login or e-mail lists users as an administrator may, else the project's members.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from issuesync.domain.replica import UserRef
from issuesync.errors import NotFoundError, PermissionDeniedError
from issuesync.trackers.redmine.client import RedmineClient


def _ref(user: Mapping[str, Any]) -> UserRef:
    name = " ".join(str(user.get(k) or "") for k in ("firstname", "lastname")).strip()
    return UserRef(
        key=str(user["id"]),
        username=str(user.get("login") or "") or None,
        email=str(user.get("mail") or "") or None,
        display_name=name or str(user.get("name") or "") or None,
        active=user.get("status", 1) == 1,
    )


class UserDirectory:
    """The users of one Redmine, by id, read lazily and remembered."""

    def __init__(self, client: RedmineClient, project: str) -> None:
        self._client = client
        self._project = project
        self._by_id: dict[int, UserRef] = {}
        self._me: UserRef | None = None

    def me(self) -> UserRef:
        """The sync user (``users/current.json``)."""
        if self._me is None:
            self._me = _ref(self._client.get("users/current.json")["user"])
            self._by_id[int(self._me.key or 0)] = self._me
        return self._me

    def ref(self, data: object) -> UserRef | None:
        """An issue's ``{"id", "name"}`` as a user, with login (None for no user)."""
        if not isinstance(data, Mapping) or "id" not in data:
            return None
        user_id = int(data["id"])
        known = self._by_id.get(user_id)
        if known is None:
            try:
                known = _ref(self._client.get(f"users/{user_id}.json")["user"])
            except (NotFoundError, PermissionDeniedError):  # a group, or an invisible user
                known = UserRef(key=str(user_id), display_name=str(data.get("name") or ""))
            self._by_id[user_id] = known
        return known

    def find(self, ref: UserRef) -> UserRef | None:
        """The user with ``ref``'s e-mail (case-insensitive), else its login; None when unknown."""
        candidates = list(self._candidates(ref))
        for text, attribute in ((ref.email, "email"), (ref.username, "username")):
            if not text:
                continue
            for user in candidates:
                value = getattr(user, attribute)
                if isinstance(value, str) and value.casefold() == text.casefold():
                    return user
        return None

    def id_for(self, value: object) -> int | None:
        """A canonical user value (``{"email", "username"}``) as a Redmine user id."""
        if not isinstance(value, Mapping):
            return None
        found = self.find(
            UserRef(username=value.get("username") or None, email=value.get("email") or None)
        )
        return int(found.key) if found is not None and found.key else None

    def _candidates(self, ref: UserRef) -> Iterator[UserRef]:
        yield self.me()
        for text in (ref.username, ref.email):
            if not text:
                continue
            try:
                answer = self._client.get("users.json", {"name": text, "limit": 100})
            except PermissionDeniedError:  # not an administrator: the project's members
                break
            for user in answer.get("users") or []:
                found = _ref(user)
                self._by_id[int(user["id"])] = found
                yield found
        else:
            return
        members = (
            self._client.get(f"projects/{self._project}/memberships.json", {"limit": 100}).get(
                "memberships"
            )
            or []
        )
        for member in members:
            user = self.ref(member.get("user"))
            if user is not None:
                yield user
