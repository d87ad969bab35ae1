# mypy: disallow-untyped-calls=False
# (atlassian-python-api ships py.typed but leaves most methods unannotated.)
"""The two Jira clients reach the built-in tracker at all (the fixtures work)."""

from __future__ import annotations

from atlassian import Jira as AtlassianJira
from jira import JIRA
from jira_client_helpers import atlassian_jira, pycontribs_jira  # noqa: F401


def test_both_clients_see_the_server_as_the_administrator(
    pycontribs_jira: JIRA,  # noqa: F811 - the fixture
    atlassian_jira: AtlassianJira,  # noqa: F811 - the fixture
) -> None:
    assert pycontribs_jira.myself()["name"] == "admin"
    assert atlassian_jira.myself()["name"] == "admin"
