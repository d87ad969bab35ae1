"""Which adapter serves which tracker system, and how one is opened for a connector.

Adapters are plugins: each is an entry point of the ``issuesync.trackers``
group, named after its system (``local``, ``jira``, ...), whose value is an
:class:`AdapterFactory`. The built-in tracker registers itself the same way, in
issuesync's own ``pyproject.toml``; a third-party package adds one with::

    [project.entry-points."issuesync.trackers"]
    redmine = "issuesync_redmine:open_redmine"

where ``open_redmine(context: AdapterContext) -> Tracker``. One factory
signature serves both kinds of adapter: a remote one reads only
``context.access``; an in-process one (the built-in tracker) also takes the
tracker's service from the context.

The installed names are read once per process (:func:`installed_adapters`);
nothing is imported until a connector of that system is opened. The factories of
the adapters shipped with issuesync (:func:`open_local`, :func:`open_jira`) end
this module.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Protocol

from issuesync.domain.redaction import credential_forms
from issuesync.errors import ConfigurationError, IssueSyncError
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.credentials import ProxySettings
from issuesync.trackers.local.tracker import LocalTracker

ENTRY_POINT_GROUP = "issuesync.trackers"


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

    ``access`` says where and as whom; ``local`` (the built-in tracker's service)
    and ``default_user`` (the sync user when ``access.user`` is not given) are
    for adapters that run in this process; a remote adapter ignores them, and so
    does the built-in one's ``default_user``: it works only as a named user.
    """

    access: TrackerAccess
    local: LocalTracker
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


@functools.cache
def installed_adapters() -> Mapping[str, EntryPoint]:
    """The installed adapters' entry points by system name (read once; not loaded).

    Should two distributions claim one name, the first on ``sys.path`` serves it,
    as Python's import would. ``installed_adapters.cache_clear()`` reads them again.
    """
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry)
    return found


def known_systems() -> tuple[str, ...]:
    """The names of the installed tracker adapters, sorted."""
    return tuple(sorted(installed_adapters()))


def open_tracker(
    access: TrackerAccess,
    local: LocalTracker,
    default_user: str,
    *,
    adapters: Mapping[str, EntryPoint] | None = None,
) -> Tracker:
    """The adapter for a connector's tracker, working as its sync user.

    ``adapters`` replaces the installed ones (:func:`installed_adapters`).

    Raises:
        ConfigurationError: no adapter serves ``access.system``, its factory
            cannot be loaded, or it refused the connector's settings.
        IssueSyncError: what the factory raised on purpose (an offline tracker, say).
    """
    available = installed_adapters() if adapters is None else adapters
    entry = available.get(access.system)
    if entry is None:
        names = ", ".join(sorted(available)) or "none"
        raise ConfigurationError(
            f"Unknown tracker system '{access.system}': the installed tracker adapters are "
            f"{names}. Install the package that provides it, or use one of those."
        )
    try:
        factory: AdapterFactory = entry.load()
    except Exception as exc:  # any failure to import is the plugin's: reported
        raise ConfigurationError(
            f"The '{access.system}' tracker adapter ({entry.value}) cannot be loaded: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    context = AdapterContext(access=access, local=local, default_user=default_user)
    try:
        return factory(context)
    except IssueSyncError:
        raise
    except Exception as exc:  # a plugin's own failure: a clear error
        raise ConfigurationError(
            f"The '{access.system}' tracker adapter could not be opened for project "
            f"{access.project_key}: {type(exc).__name__}: {exc}"
        ) from exc


def open_local(context: AdapterContext) -> Tracker:
    """The built-in tracker's factory (entry point ``local``): one of its projects, in-process.

    The adapter works as the connector's own sync user, with exactly that user's
    permissions; it never falls back to ``default_user`` (the administrator), which
    would let whoever left the user out act as the administrator.

    Raises:
        ConfigurationError: the connector names no sync user, or one that does
            not exist in the built-in tracker.
    """
    # Imported here: loading the registry must not pull in the adapter's SQL machinery.
    from issuesync.trackers.local.adapter import local_adapter_for  # noqa: PLC0415

    if not context.access.user:
        raise ConfigurationError(
            f"The connector of the built-in project {context.access.project_key} names no "
            "sync user: name one (connection.application.user)."
        )
    return local_adapter_for(context.local, context.access.project_key, context.access.user)


def open_jira(context: AdapterContext) -> Tracker:
    """The Jira adapter's factory (entry point ``jira``): a remote project, by ``context.access``.

    Raises:
        ConfigurationError: the connector's base URL or credentials cannot work.
    """
    from issuesync.trackers.jira import jira_adapter_for  # noqa: PLC0415 - see open_local

    return jira_adapter_for(context.access)
