"""The Jira adapter passes the shared adapter contract on Jira Cloud (REST v3), against
the stateful fake :class:`~issuesync.testing.fake_jira_cloud.FakeJiraCloud`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from issuesync.testing.contract import TrackerContract
from issuesync.testing.fake_jira_cloud import FakeJiraCloud, SimulatedClock
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import Tracker
from issuesync.trackers.jira import jira_adapter_for
from issuesync.trackers.jira.adapter import JiraAdapter
from issuesync.trackers.jira.client import CLOUD_LIMITS, JiraClient

SITE = "https://acme.atlassian.net"
ACCOUNT = "712020:0d5e1c6a-6a11-4e1a-9d0b-5c2a1f0e3b7d"


class TestJiraCloudContract(TrackerContract):
    """The ``jira`` adapter on a fresh Cloud project, with an API token."""

    since_precision_ms = 60_000  # JQL compares update times to the minute

    @pytest.fixture
    def tracker(self) -> Iterator[Tracker]:
        fake = FakeJiraCloud(SITE, page_cap=3)  # a small page: every search pages by token
        fake.add_user(ACCOUNT, "Sync Bot", "sync@example.com", "api-token")
        fake.add_project("CLD")
        clock = SimulatedClock()
        client = JiraClient(
            SITE,
            httpx.BasicAuth("sync@example.com", "api-token"),
            transport=httpx.MockTransport(fake),
            # Cloud's budget, on a clock that its waits move on: the suite does not sleep.
            cloud_budget=clock.budget(),
        )
        adapter = JiraAdapter(client, "CLD")
        yield adapter
        adapter.close()
        # Every request went through the budget, which paced the test past a burst.
        assert client.budget is not None
        assert client.budget.spent == len(fake.requests)
        if len(fake.requests) > CLOUD_LIMITS[0].requests:
            assert clock.slept > 0

    def test_the_factory_opens_a_cloud_site_by_its_host(self) -> None:
        """Through the entry point's factory: an API token on *.atlassian.net is Cloud."""
        fake = FakeJiraCloud(SITE)
        fake.add_user(ACCOUNT, "Sync Bot", "sync@example.com", "api-token")
        fake.add_project("CLD")
        access = TrackerAccess("jira", "CLD", SITE, "sync@example.com", ("token", "api-token"))
        adapter = jira_adapter_for(access, transport=httpx.MockTransport(fake))
        try:
            assert adapter.describe().key == "CLD"
            assert fake.requests[0] == ("GET", "/rest/api/3/project/CLD")
        finally:
            adapter.close()
