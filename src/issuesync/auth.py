"""Who is calling: credentials checked against the store, as a detached principal."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select

from issuesync.errors import AuthenticationError, PermissionDeniedError
from issuesync.security import TOKEN_PREFIX, token_digest, verify_password
from issuesync.store.base import now_ms
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import ApiToken, User

MAX_REMEMBERED = 4096
TOKEN_TOUCH_INTERVAL_MS = 60_000


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


class Authenticator:
    """Checks HTTP Basic (password or API token) and Bearer credentials.

    A password check costs a deliberate ~50 ms of scrypt; a successful check is
    remembered per user as the sha256 of the password together with the stored
    hash it matched, so a changed password invalidates it at once.

    Scripts send the same header with every request, so a successful check is
    also remembered by the sha256 of the whole header for ``ttl_s`` seconds: a
    deactivated user, a changed role or a deleted token takes effect within that
    time, and a script's requests cost no database round trip for credentials.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, *, ttl_s: float = 10.0) -> None:
        self._uow_factory = uow_factory
        self._verified: dict[int, tuple[str, str]] = {}
        self._recent: dict[str, tuple[float, Principal]] = {}
        self._ttl_s = ttl_s
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal for an ``Authorization`` header value, or AuthenticationError."""
        if not authorization:
            raise AuthenticationError("You are not authenticated. Authentication required.")
        remembered = self.remembered(authorization)
        if remembered is not None:
            return remembered
        principal = self._check(authorization)
        key = hashlib.sha256(authorization.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            if len(self._recent) >= MAX_REMEMBERED:
                self._recent.clear()
            self._recent[key] = (now + self._ttl_s, principal)
        return principal

    def remembered(self, authorization: str | None) -> Principal | None:
        """The principal of a recent successful check of this exact header, or None."""
        if not authorization:
            return None
        key = hashlib.sha256(authorization.encode()).hexdigest()
        with self._lock:
            hit = self._recent.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def forget(self) -> None:
        """Drop every remembered check (after users or tokens changed in this process)."""
        with self._lock:
            self._recent.clear()

    def _check(self, authorization: str) -> Principal:
        scheme, _, credentials = authorization.partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer" and credentials:
            return self._by_token(credentials)
        if scheme.lower() == "basic" and credentials:
            try:
                decoded = base64.b64decode(credentials, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise AuthenticationError("The Basic credentials are not valid base64.") from exc
            name, sep, secret = decoded.partition(":")
            if not sep:
                raise AuthenticationError("The Basic credentials must be 'user:password'.")
            return self._by_password_or_token(name, secret)
        raise AuthenticationError("Use HTTP Basic or Bearer authentication.")

    def _by_token(self, token: str, *, name: str | None = None) -> Principal:
        with self._uow_factory() as uow:
            row = uow.session.scalar(
                select(ApiToken).where(ApiToken.token_hash == token_digest(token))
            )
            user = row.user if row is not None else None
            if row is None or user is None or not user.active or (name and user.name != name):
                raise AuthenticationError("The API token is not valid.")
            principal = Principal.of(user)
            # Recording last use costs a write; only do it when it is a minute stale.
            now = now_ms()
            if row.last_used_ms is None or now - row.last_used_ms > TOKEN_TOUCH_INTERVAL_MS:
                row.last_used_ms = now
                uow.commit()
            return principal

    def _by_password_or_token(self, name: str, secret: str) -> Principal:
        if secret.startswith(TOKEN_PREFIX):
            return self._by_token(secret, name=name)
        with self._uow_factory(readonly=True) as uow:
            user = uow.session.scalar(select(User).where(User.name == name))
            if user is None or not user.active or not user.password_hash:
                raise AuthenticationError("The user name or password is wrong.")
            principal = Principal.of(user)
            stored = user.password_hash
        fingerprint = hashlib.sha256(secret.encode()).hexdigest()
        with self._lock:
            remembered = self._verified.get(principal.id)
        if remembered == (stored, fingerprint):
            return principal
        if not verify_password(secret, stored):
            raise AuthenticationError("The user name or password is wrong.")
        with self._lock:
            self._verified[principal.id] = (stored, fingerprint)
        return principal
