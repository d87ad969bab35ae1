"""Who is calling: credentials checked against the store, as a detached principal.

The principal itself and its permission rules are the store's
(:mod:`issuesync.store.principals`): the built-in tracker checks them too.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import hashlib
import secrets
import threading
import time

from sqlalchemy import select, update

from issuesync.errors import AuthenticationError, StoreError
from issuesync.security import TOKEN_PREFIX, hash_password, token_digest, verify_password
from issuesync.store.base import now_ms
from issuesync.store.principals import Principal
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import ApiToken, User
from issuesync.throttle import LoginThrottle

MAX_REMEMBERED = 4096
TOKEN_TOUCH_INTERVAL_MS = 60_000
# Far above any real credentials (a Basic header of a 255-character name and a 1,000-character
# password is ~1,700); anything longer is refused before it is decoded or hashed.
MAX_AUTHORIZATION_CHARS = 8192
WRONG = "The user name or password is wrong."


class Authenticator:
    """Checks HTTP Basic (password or API token), Bearer and Token credentials.

    A password check costs a deliberate ~50 ms of scrypt, and so does every
    wrong one: a name that does not exist, an inactive user or one without a
    password is checked against a dummy hash of the same parameters, so the time
    of an answer does not tell which names exist. A successful check is
    remembered per user as the sha256 of the password together with the stored
    hash it matched, so a changed password invalidates it at once.

    Scripts send the same header with every request, so a successful check is
    also remembered by the sha256 of the whole header for ``ttl_s`` seconds: a
    deactivated user, a changed role or a deleted token takes effect within that
    time, and a script's requests cost no database round trip for credentials.

    Failed checks are counted by a :class:`~issuesync.throttle.LoginThrottle`:
    passwords per user name and per client address, API tokens (256 random bits,
    not guessable) per address only. A locked name or address is answered with
    :class:`~issuesync.errors.ThrottledError` before its credentials are checked;
    a header remembered as valid keeps working.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        ttl_s: float = 10.0,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._verified: dict[int, tuple[str, str]] = {}
        self._recent: dict[str, tuple[float, Principal]] = {}
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self.throttle = throttle if throttle is not None else LoginThrottle()

    def authenticate(self, authorization: str | None, address: str | None = None) -> Principal:
        """The principal for an ``Authorization`` header value, or AuthenticationError.

        ``address`` is the client's network address, for counting failed logins;
        ThrottledError when it, or the user name, has failed too often lately.
        Any text gives one of these three outcomes, never another error.
        """
        if not authorization:
            raise AuthenticationError("You are not authenticated. Authentication required.")
        remembered = self.remembered(authorization)
        if remembered is not None:
            return remembered
        name, secret = _credentials(authorization)
        if name is None or secret.startswith(TOKEN_PREFIX):
            principal = self._token_login(secret, name, address)
        else:
            principal = self._password_login(name, secret, address)
        now = time.monotonic()
        with self._lock:
            if len(self._recent) >= MAX_REMEMBERED:
                self._recent.clear()
            self._recent[_header_key(authorization)] = (now + self._ttl_s, principal)
        return principal

    def remembered(self, authorization: str | None) -> Principal | None:
        """The principal of a recent successful check of this exact header, or None."""
        if not authorization or len(authorization) > MAX_AUTHORIZATION_CHARS:
            return None
        with self._lock:
            hit = self._recent.get(_header_key(authorization))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def forget(self) -> None:
        """Drop every remembered check (after users or tokens changed in this process)."""
        with self._lock:
            self._recent.clear()

    def _token_login(self, token: str, name: str | None, address: str | None) -> Principal:
        self.throttle.check(address)
        try:
            return self._by_token(token, name=name)
        except AuthenticationError:
            self.throttle.failed(address)
            raise

    def _password_login(self, name: str, password: str, address: str | None) -> Principal:
        # One check at a time per name: concurrent guesses are counted one after another.
        with self.throttle.user_turn(name):
            self.throttle.check(address, name)
            try:
                principal = self._by_password(name, password)
            except AuthenticationError:
                self.throttle.failed(address, name)
                raise
            self.throttle.succeeded(name)
            return principal

    def _by_token(self, token: str, *, name: str | None = None) -> Principal:
        # Read-only: checking a token never waits for the write turn (a hung writer
        # elsewhere must not lock scripts out of reading).
        with self._uow_factory(readonly=True) as uow:
            row = uow.session.scalar(
                select(ApiToken).where(ApiToken.token_hash == token_digest(token))
            )
            user = row.user if row is not None else None
            if row is None or user is None or not user.active or (name and user.name != name):
                raise AuthenticationError("The API token is not valid.")
            principal = Principal.of(user)
            token_id, last_used = row.id, row.last_used_ms
        # Recording the last use costs a write; only when it is a minute stale, and only
        # when the write turn is free: it is worth no wait.
        now = now_ms()
        if last_used is None or now - last_used > TOKEN_TOUCH_INTERVAL_MS:
            self._touch(token_id, now)
        return principal

    def _touch(self, token_id: int, now: int) -> None:
        uow = self._uow_factory.if_free()
        if uow is None:
            return
        with contextlib.suppress(StoreError), uow:
            uow.session.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_ms=now)
            )
            uow.commit()

    def _by_password(self, name: str, password: str) -> Principal:
        with self._uow_factory(readonly=True) as uow:
            found = uow.session.execute(
                select(User.id, User.active, User.password_hash).where(User.name == name)
            ).one_or_none()
        user_id, stored = (found[0], found[2]) if found is not None and found[1] else (None, None)
        fingerprint = hashlib.sha256(password.encode()).hexdigest()
        if user_id is not None and stored:
            with self._lock:
                remembered = self._verified.get(user_id)
            if remembered == (stored, fingerprint):
                return self._principal(user_id)
        # Every wrong password costs one scrypt, whether or not the user exists.
        matched = verify_password(password, stored or _dummy_hash())
        if user_id is None or not stored or not matched:
            raise AuthenticationError(WRONG)
        with self._lock:
            self._verified[user_id] = (stored, fingerprint)
        return self._principal(user_id)

    def _principal(self, user_id: int) -> Principal:
        with self._uow_factory(readonly=True) as uow:
            user = uow.session.get(User, user_id)
            if user is None or not user.active:  # changed since its password was read
                raise AuthenticationError(WRONG)
            return Principal.of(user)


def _credentials(authorization: str) -> tuple[str | None, str]:
    """``(user name, secret)`` of a Basic header, ``(None, token)`` of a Bearer or Token one
    (``Token <token>`` or, as SD Elements' documents write it, ``Token "<token>"``).

    Whatever the header holds, a malformed one is an AuthenticationError: too
    long, not ASCII (HTTP headers arrive as Latin-1 text; base64 and tokens are
    ASCII), not base64, not UTF-8 once decoded, no ``user:password``, a NUL in
    the name (no name has one; PostgreSQL could not even compare it).
    """
    if len(authorization) > MAX_AUTHORIZATION_CHARS:
        raise AuthenticationError("The Authorization header is too long.")
    if not authorization.isascii():
        raise AuthenticationError("The Authorization header must be ASCII (base64 or a token).")
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return None, credentials
    if scheme.lower() == "token":
        # SD Elements' scheme (seed 004), whose documents quote the token: Token "<token>".
        if len(credentials) >= 2 and credentials[0] == credentials[-1] == '"':  # noqa: PLR2004 - a pair of quotes
            credentials = credentials[1:-1].strip()
        if credentials:
            return None, credentials
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.encode("ascii"), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise AuthenticationError(
                "The Basic credentials must be base64 of UTF-8 'user:password'."
            ) from exc
        name, sep, secret = decoded.partition(":")
        if not sep:
            raise AuthenticationError("The Basic credentials must be 'user:password'.")
        if "\x00" in name:
            raise AuthenticationError(WRONG)
        return name, secret
    raise AuthenticationError("Use HTTP Basic, Bearer or Token authentication.")


def _header_key(authorization: str) -> str:
    return hashlib.sha256(authorization.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, made once per process with the parameters of real ones."""
    return hash_password(secrets.token_urlsafe(32))
