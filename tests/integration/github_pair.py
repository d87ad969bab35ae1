"""The built-in project PA and a fake GitHub repository over real HTTP: what the GitHub sync
tests share (the server, the owner's client, the integration's body)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from issuesync.testing.fake_github import FakeGitHub
from issuesync.testing.handler_server import HandlerServer

TOKEN = "ghp_engine-sync-bot"
OWNER = "ghp_engine-owner"
REPO = "octo-org/widgets"
TYPES = ("Bug", "Task", "Story", "Epic")  # the built-in project's types that are not sub-tasks
QUICK = {"outgoingInterval": "1s", "incomingInterval": "1s"}
# PA's statuses and GitHub's (open, closed): the two every test needs.
STATUSES: tuple[tuple[str, str], ...] = (("To Do", "Open"), ("Done", "Closed"))

GitHub = tuple[FakeGitHub, HandlerServer]


@contextmanager
def served_github(users: Mapping[str, str] | None = None) -> Iterator[GitHub]:
    """The repository REPO with its owner and the sync user (and ``users``: login -> role),
    served on 127.0.0.1 until the block ends."""
    fake = FakeGitHub()
    fake.add_user("octo-org", token=OWNER)
    fake.add_user("sync-bot", token=TOKEN)
    for login in users or {}:
        fake.add_user(login)
    fake.add_repo(REPO, roles={"sync-bot": "write", **(users or {})})
    server = HandlerServer(fake)
    server.start()
    try:
        yield fake, server
    finally:
        server.stop()


@contextmanager
def owner_client(github: GitHub) -> Iterator[httpx.Client]:
    """The repository's owner, working on GitHub."""
    with httpx.Client(base_url=github[1].url, headers={"Authorization": f"Bearer {OWNER}"}) as c:
        yield c


def pa_configuration(
    fields: Sequence[str], statuses: Sequence[tuple[str, str]] = STATUSES, **more: Any
) -> dict[str, Any]:
    """PA's side towards GitHub: ``fields`` mapped by name, PA's types to GitHub's one
    ("Issue"), ``statuses`` (PA's, GitHub's); ``more`` is added to the configuration."""
    return {
        "sync": dict(QUICK),
        "fieldMappings": [{"localField": name, "remoteField": name} for name in fields],
        "issueTypeMappings": {
            "outgoing": [{"local": name, "remote": "Issue"} for name in TYPES],
            "incoming": [{"local": "Task", "remote": "Issue"}],
        },
        "workflowMappings": [
            {
                "id": "##GLOBAL##",
                "statusMappings": [{"local": pa, "remote": gh} for pa, gh in statuses],
            }
        ],
        **more,
    }


def pa_and_github(
    url: str,
    first: dict[str, Any],
    second: dict[str, Any] | None = None,
    summary: str = "PA <> GitHub",
) -> dict[str, Any]:
    """The body of an integration between PA (``first``) and the repository at ``url``."""
    return {
        "summary": summary,
        "firstConnector": {
            "projectKey": "PA",
            "connection": {"application": {"user": "admin"}},
            "configuration": first,
        },
        "secondConnector": github_side(url, second),
    }


def github_side(url: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """The repository's connector, as the sync user."""
    return {
        "projectKey": REPO,
        "connection": {"application": {"system": "github", "baseUrl": url, "token": TOKEN}},
        "configuration": configuration if configuration is not None else {"sync": dict(QUICK)},
    }
