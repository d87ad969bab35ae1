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
nothing is imported until a connector of that system is opened. The adapters
shipped with issuesync are plugins like any other: each package has its factory
(``issuesync.trackers.local:open_local``, ``issuesync.trackers.jira:open_jira``, ...),
and this module imports none of them. What a factory gets, and the access it
opens, are in ``trackers/access.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from issuesync.errors import ConfigurationError, IssueSyncError
from issuesync.trackers.access import AdapterContext, AdapterFactory, TrackerAccess
from issuesync.trackers.adapter import Tracker

ENTRY_POINT_GROUP = "issuesync.trackers"


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
    local: object,
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


@dataclass(frozen=True)
class Trackers:
    """Opens connectors' trackers with the installed adapters (or ``adapters``, in tests).

    The services' tracker opener: ``local`` is the built-in tracker's service,
    ``default_user`` the sync user of a remote connector that names none.
    """

    local: object
    default_user: str
    adapters: Mapping[str, EntryPoint] | None = None

    def __call__(self, access: TrackerAccess, /) -> Tracker:
        """:func:`open_tracker` for ``access``."""
        return open_tracker(access, self.local, self.default_user, adapters=self.adapters)
