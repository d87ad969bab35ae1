"""The Redmine adapter passes the shared adapter contract, against a real Redmine.

Each test gets a fresh Redmine project (made through the REST API as the
administrator) with the sync user as its Manager; the adapter works as that user
with its API key. See :mod:`support.redmine_server` for the server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from issuesync.testing.contract import TrackerContract
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import IssueDraft, ProjectSchema, Tracker
from issuesync.trackers.redmine import redmine_adapter_for
from support.redmine_server import RedmineServer, redmine_session


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    """One Redmine per test worker (skipped where none can run, unless required)."""
    yield from redmine_session()


class TestRedmineContract(TrackerContract):
    """The ``redmine`` adapter on a fresh project, as the sync user (Manager)."""

    update_resolution_ms = 1000  # Redmine keeps whole seconds
    since_precision_ms = 1000  # the ``updated_on`` filter takes whole seconds

    @pytest.fixture
    def tracker(self, redmine: RedmineServer) -> Iterator[Tracker]:
        project = redmine.new_project()
        access = TrackerAccess("redmine", project, redmine.url, None, ("token", redmine.sync_key))
        adapter = redmine_adapter_for(access)
        yield adapter
        adapter.close()

    def issue_draft(self, schema: ProjectSchema, summary: str) -> IssueDraft:
        """Any tracker may be a sub-task in Redmine: the first tracker."""
        return IssueDraft(issue_type=schema.issue_types[0], fields={"summary": summary})

    def summary_query(self, word: str) -> str | None:
        """Redmine's issue-list filter: subject contains."""
        return f"subject=~{word}"

    def missing_key(self, tracker: Tracker) -> str:
        """Redmine's keys are issue numbers."""
        del tracker
        return "987654"
