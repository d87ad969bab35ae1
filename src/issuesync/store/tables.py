"""Every table of issuesync, imported once so that one metadata holds them all."""

from __future__ import annotations

from issuesync.store import sync, users
from issuesync.store.base import Base
from issuesync.trackers.local import models

metadata = Base.metadata

__all__ = ["metadata", "models", "sync", "users"]
