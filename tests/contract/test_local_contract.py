"""The built-in tracker's adapter passes the shared adapter contract (the reference)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from issuesync.accounts import NewUser, create_user
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.testing.contract import TrackerContract
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.local import catalog
from issuesync.trackers.registry import open_tracker


class TestLocalContract(TrackerContract):
    """The ``local`` adapter on a fresh project, opened through its entry point."""

    @pytest.fixture
    def database_url(self, sqlite_url: str) -> str:
        """SQLite only: the contract is about the adapter; the store has its own tests."""
        return sqlite_url

    @pytest.fixture
    def tracker(self, services: Services) -> Iterator[Tracker]:
        with services.uow_factory(readonly=True) as uow:
            admin = uow.session.scalar(select(User).where(User.name == "admin"))
            assert admin is not None
            principal = Principal.of(admin)
        with services.tracker.write(principal) as op:
            catalog.create_project(op, {"key": "CON", "name": "Contract"})
        create_user(services.uow_factory, NewUser(name="sync", email="sync@example.test"))
        access = TrackerAccess("local", "CON", None, "sync", None)
        adapter = open_tracker(access, services.tracker, "admin")
        yield adapter
        adapter.close()
