"""What opening one connector's tracker takes: where and as whom, and the factory's signature.

The registry (``trackers/registry.py``) and every adapter package import this
module; it imports no adapter, so none of them depends on another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from issuesync.domain.redaction import credential_forms
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.credentials import ProxySettings


@dataclass(frozen=True)
class TrackerAccess:
    """Everything needed to open a connector's tracker; the secret never leaves this object.

    ``proxy``: a remote adapter sends every request through it (``RestClient``'s
    ``proxy``), never around it.
    """

    system: str
    project_key: str
    base_url: str | None
    user: str | None
    secret: tuple[str, str] | None  # (kind, value); kind is "password" or "token"
    proxy: ProxySettings | None = None

    def __repr__(self) -> str:
        return (
            f"TrackerAccess(system={self.system!r}, project_key={self.project_key!r}, "
            f"base_url={self.base_url!r}, user={self.user!r}, secret=***, proxy={self.proxy!r})"
        )

    def known_secrets(self) -> frozenset[str]:
        """The secrets of this access in the forms they travel in, for ``redact``."""
        forms = self.proxy.secrets if self.proxy else frozenset()
        if self.secret is not None:
            forms |= credential_forms(self.secret[1], user=self.user)
        return forms


@dataclass(frozen=True)
class AdapterContext:
    """What a factory gets to open one connector's adapter.

    ``access`` says where and as whom; ``local`` (the built-in tracker's service,
    which only its own adapter knows the type of) and ``default_user`` (the sync
    user when ``access.user`` is not given) are for adapters that run in this
    process; a remote adapter ignores them, and so does the built-in one's
    ``default_user``: it works only as a named user.
    """

    access: TrackerAccess
    local: object
    default_user: str

    @property
    def user(self) -> str:
        """The sync user's name: the connector's, else the default one."""
        return self.access.user or self.default_user


class AdapterFactory(Protocol):
    """The value of an ``issuesync.trackers`` entry point.

    Raises ``ConfigurationError`` (or another ``IssueSyncError``) when the
    connector's settings cannot work; anything else it raises is reported to
    the user as a ``ConfigurationError`` with its message.
    """

    def __call__(self, context: AdapterContext, /) -> Tracker:
        """The adapter for ``context.access``."""
        ...


class TrackerOpener(Protocol):
    """Opens a connector's tracker: the adapter of ``access.system``, as its sync user.

    Raises ``ConfigurationError`` when no adapter serves the system or it refuses
    the connector's settings, or another ``IssueSyncError`` its factory raised
    (an offline tracker, say). ``registry.Trackers`` is the one issuesync uses.
    """

    def __call__(self, access: TrackerAccess, /) -> Tracker:
        """The adapter for ``access``; the caller closes it."""
        ...
