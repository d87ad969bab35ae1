"""The dashboard's login: a signed session cookie, and the CSRF token of its forms.

A session is a cookie the server signed (:meth:`~issuesync.security.SecretBox.signature`
under the instance's key): the user's id, when it ends, a random session id, and a
fingerprint of the user's stored password hash. The store keeps the sha256 of the
session id (``dashboard_sessions``) until the session ends or the user logs out, so
every process of one instance accepts it and logging out ends it everywhere, a copied
cookie included. Each request reads the user again, so a deactivated user, a changed
role or a changed password (the fingerprint no longer matches) takes effect at the
next page. The cookie is ``HttpOnly``, ``SameSite=Strict``,
limited to ``/ui``, and ``Secure`` when the dashboard is served over HTTPS.

Every form that changes something carries the session's CSRF token (an HMAC of its
session id); a POST without the right one is refused before anything runs. The login
form, which has no session yet, carries one bound to a random cookie of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete

from issuesync.security import SecretBox
from issuesync.store.principals import Principal
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.store.users import DashboardSession, User

SESSION_COOKIE: Final = "issuesync_session"
LOGIN_COOKIE: Final = "issuesync_login"
SESSION_MS: Final = 8 * 3600 * 1000  # a working day; then log in again
_PURPOSE: Final = "ui-session"
_CSRF_PURPOSE: Final = "ui-csrf"
MAX_COOKIE_CHARS: Final = 1024  # a real one is ~150


@dataclass(frozen=True)
class Session:
    """A logged-in user's session, as the cookie says and the store confirmed."""

    principal: Principal
    sid: str
    csrf: str


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def _encode(payload: dict[str, object]) -> str:
    text = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")  # no quotes in the cookie


class Sessions:
    """Makes and checks session cookies and CSRF tokens."""

    def __init__(self, box: SecretBox, uow_factory: UnitOfWorkFactory) -> None:
        self._box = box
        self._uow_factory = uow_factory

    def cookie_for(self, principal: Principal, now_ms: int) -> str:
        """A new session's cookie value for a user who just logged in (its row stored, and
        the ended sessions of every user forgotten)."""
        sid = new_sid()
        ends = now_ms + SESSION_MS
        with self._uow_factory() as uow:
            user = uow.session.get_one(User, principal.id)
            fingerprint = _fingerprint(user.password_hash)
            uow.session.execute(
                delete(DashboardSession).where(DashboardSession.expires_ms < now_ms)
            )
            uow.session.add(
                DashboardSession(
                    sid_hash=_sid_hash(sid), user_id=user.id, created_ms=now_ms, expires_ms=ends
                )
            )
            uow.commit()
        payload = _encode({"u": principal.id, "f": fingerprint, "e": ends, "s": sid})
        return f"{payload}.{self._box.signature(_PURPOSE, payload)}"

    def end(self, session: Session) -> None:
        """Log out: the session's row goes, and its cookie, wherever it was copied, with it."""
        with self._uow_factory() as uow:
            uow.session.execute(
                delete(DashboardSession).where(DashboardSession.sid_hash == _sid_hash(session.sid))
            )
            uow.commit()

    def session_of(self, cookie: str | None, now_ms: int) -> Session | None:
        """The session a cookie proves, or None (none, forged, expired, logged out, user
        changed)."""
        claims = self._claims(cookie, now_ms)
        if claims is None:
            return None
        user_id, fingerprint, sid = claims
        with self._uow_factory(readonly=True) as uow:
            user = uow.session.get(User, user_id)
            stored = uow.session.get(DashboardSession, _sid_hash(sid))
            if (
                user is None
                or not user.active
                or _fingerprint(user.password_hash) != fingerprint
                or stored is None  # logged out (or never logged in here)
                or stored.user_id != user_id
                or stored.expires_ms < now_ms
            ):
                return None
            principal = Principal.of(user)
        return Session(principal, sid, self.csrf_token(sid))

    def _claims(self, cookie: str | None, now_ms: int) -> tuple[int, str, str] | None:
        """(user id, fingerprint, session id) of a cookie this server signed, not expired."""
        if not cookie or len(cookie) > MAX_COOKIE_CHARS or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not self._box.signed(_PURPOSE, payload, signature):
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            user_id, fingerprint, ends, sid = claims["u"], claims["f"], claims["e"], claims["s"]
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        if not isinstance(user_id, int) or not isinstance(ends, int) or ends < now_ms:
            return None
        return user_id, str(fingerprint), str(sid)

    def csrf_token(self, sid: str) -> str:
        """The CSRF token of the forms of a session (or of a login form's cookie)."""
        return self._box.signature(_CSRF_PURPOSE, sid)

    def csrf_ok(self, sid: str | None, token: str | None) -> bool:
        """Whether a form's token is the one of this session id."""
        if not sid or not token or len(sid) > MAX_COOKIE_CHARS:
            return False
        return hmac.compare_digest(self.csrf_token(sid), token)


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def new_sid() -> str:
    """A random id: a session's, or a login form's."""
    return secrets.token_urlsafe(18)
