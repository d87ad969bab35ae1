"""The GitHub adapter passes the shared adapter contract, against the stateful fake GitHub
(``issuesync.testing.fake_github``) through ``httpx.MockTransport``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from issuesync.testing.contract import TrackerContract
from issuesync.testing.fake_github import FakeGitHub
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import IssueDraft, ProjectSchema, Tracker
from issuesync.trackers.github import github_adapter_for

TOKEN = "ghp_contract-token"


class TestGitHubContract(TrackerContract):
    """The ``github`` adapter on a fresh repository, as a collaborator with write access."""

    update_resolution_ms = 1000  # GitHub keeps whole seconds
    since_precision_ms = 1000  # ``since`` is asked to the second, rounded down

    @pytest.fixture
    def tracker(self) -> Iterator[Tracker]:
        github = FakeGitHub()
        github.add_user("octo-org")
        github.add_user("sync-bot", token=TOKEN)
        github.add_repo("octo-org/contract", roles={"sync-bot": "write"})
        access = TrackerAccess("github", "octo-org/contract", None, None, ("token", TOKEN))
        adapter = github_adapter_for(access, transport=httpx.MockTransport(github))
        yield adapter
        adapter.close()

    def issue_draft(self, schema: ProjectSchema, summary: str) -> IssueDraft:
        """GitHub's one issue type."""
        assert schema.issue_types == ("Issue",)
        return IssueDraft(issue_type="Issue", fields={"summary": summary})

    def summary_query(self, word: str) -> str | None:
        """The adapter's own title filter (GitHub's list cannot filter by words)."""
        return f"title={word}"

    def missing_key(self, tracker: Tracker) -> str:
        """An issue number the repository has not reached."""
        del tracker
        return "987654"
