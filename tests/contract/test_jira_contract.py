"""The Jira adapter passes the shared adapter contract, against the built-in tracker's
Jira-compatible REST API served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from issuesync.services import Services
from issuesync.testing.contract import TrackerContract
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.registry import open_tracker

PASSWORD = "admin-secret"  # tests/conftest.py's ADMIN_PASSWORD


class TestJiraContract(TrackerContract):
    """The ``jira`` adapter on a fresh project, opened through its entry point."""

    since_precision_ms = 60_000  # JQL compares update times to the minute

    @pytest.fixture
    def database_url(self, sqlite_url: str) -> str:
        """SQLite only: the adapter speaks HTTP; the database behind it is not what is tested."""
        return sqlite_url

    @pytest.fixture
    def tracker(self, services: Services, server: str, admin: httpx.Client) -> Iterator[Tracker]:
        response = admin.post("/rest/api/2/project", json={"key": "CON", "name": "Contract"})
        assert response.status_code == 201, response.text
        access = TrackerAccess("jira", "CON", server, "admin", ("password", PASSWORD))
        adapter = open_tracker(access, services.tracker, "admin")
        yield adapter
        adapter.close()
