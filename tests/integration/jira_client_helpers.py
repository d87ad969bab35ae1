# mypy: disallow-untyped-calls=False
# (atlassian-python-api ships py.typed but leaves most methods unannotated.)
"""Fixtures for driving the built-in tracker's Jira API through the two most used Python
Jira clients, over real HTTP: ``jira`` (pycontribs) and ``atlassian-python-api``.

A test module imports the fixtures it needs::

    from jira_client_helpers import atlassian_jira, pycontribs_jira  # noqa: F401

and names it as a parameter with ``# noqa: F811 - the fixture``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from atlassian import Jira as AtlassianJira
from jira import JIRA

from conftest import ADMIN_PASSWORD


@pytest.fixture
def pycontribs_jira(server: str) -> Iterator[JIRA]:
    """``jira.JIRA`` logged in as the administrator, as a script written for Jira Server
    8.20 makes it (basic auth, REST v2, no server-info check of its own)."""
    client = JIRA(
        server=server,
        basic_auth=("admin", ADMIN_PASSWORD),
        options={"rest_api_version": "2"},
        max_retries=0,
        timeout=30,
    )
    yield client
    client.close()


@pytest.fixture
def atlassian_jira(server: str) -> Iterator[AtlassianJira]:
    """``atlassian.Jira`` logged in as the administrator (Server/Data Center mode)."""
    client = AtlassianJira(
        url=server, username="admin", password=ADMIN_PASSWORD, cloud=False, timeout=30
    )
    yield client
    client.close()
