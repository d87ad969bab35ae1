"""The GitLab adapter passes the shared adapter contract, against the stateful fake GitLab."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from issuesync.testing.contract import TrackerContract
from issuesync.testing.fake_gitlab import DEVELOPER, MAINTAINER, FakeGitLab
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.gitlab import gitlab_adapter_for


class TestGitLabContract(TrackerContract):
    """The ``gitlab`` adapter on a fresh project of a fake GitLab (issue keys are iids)."""

    def summary_query(self, word: str) -> str | None:
        """GitLab's list filter: the word in the title."""
        return f"search={word}&in=title"

    def missing_key(self, tracker: Tracker) -> str:
        """An iid the project has not given out."""
        del tracker
        return "987654"

    @pytest.fixture
    def tracker(self) -> Iterator[Tracker]:
        fake = FakeGitLab()
        sync = fake.add_user("sync", email="sync@example.test")
        fake.add_user("dev")
        fake.add_project("group/contract", members={sync: MAINTAINER})
        fake.add_project("group/other", members={sync: DEVELOPER})
        access = TrackerAccess(
            "gitlab", "group/contract", "https://gitlab.example", None, ("token", sync.token)
        )
        adapter = gitlab_adapter_for(access, transport=httpx.MockTransport(fake))
        yield adapter
        adapter.close()
