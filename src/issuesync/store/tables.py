"""The store's own tables (sync state, users), imported once so that one metadata holds them.

The tables of a tracker that keeps its data in this store (the built-in one's
``trackers/local/models.py``) join the same metadata when their module is
loaded; the migrations environment (``store/migrations/env.py``) loads them all.
"""

from __future__ import annotations

from issuesync.store import connections, relations, sync, throughput, users
from issuesync.store.base import Base

metadata = Base.metadata

__all__ = ["connections", "metadata", "relations", "sync", "throughput", "users"]
