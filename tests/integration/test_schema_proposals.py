"""Each adapter reads its project's schema into a ``SchemaOutline``, and ``propose`` drafts a
complete configuration from two real ones: the built-in tracker, the ``jira`` adapter on
the built-in tracker's Jira API and on jira820, the GitHub and GitLab fakes, and a live
Redmine (skipped, saying why, where none can run)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from issuesync.accounts import NewUser, create_user
from issuesync.domain.outline import SchemaOutline, StatusCategory
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.testing.fake_github import FakeGitHub
from issuesync.testing.fake_gitlab import MAINTAINER, FakeGitLab
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import Outlines, Tracker, outline_of, read_outline
from issuesync.trackers.github import github_adapter_for
from issuesync.trackers.gitlab import gitlab_adapter_for
from issuesync.trackers.jira import jira_adapter_for
from issuesync.trackers.local import catalog
from issuesync.trackers.redmine import redmine_adapter_for
from issuesync.trackers.registry import open_tracker
from support.jira820_server import Jira820, jira820_server  # noqa: F401 - a fixture
from support.redmine_server import RedmineServer, redmine_session

NEW, UNDER_WAY, DONE = StatusCategory.NEW, StatusCategory.INDETERMINATE, StatusCategory.DONE
PASSWORD = "admin-secret"  # tests/conftest.py's ADMIN_PASSWORD
TOKEN = "ghp_proposal-token"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: the schemas are read through the adapters, not the store."""
    return sqlite_url


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    """One Redmine per test worker (skipped where none can run, unless required)."""
    yield from redmine_session()


@pytest.fixture
def local(services: Services) -> Iterator[Tracker]:
    """The built-in tracker's project PA, through its adapter as the sync user."""
    with services.uow_factory(readonly=True) as uow:
        admin = uow.session.scalar(select(User).where(User.name == "admin"))
        assert admin is not None
        principal = Principal.of(admin)
    with services.tracker.write(principal) as op:
        catalog.create_project(op, {"key": "PA", "name": "Alpha"})
    create_user(services.uow_factory, NewUser(name="sync", email="sync@example.test"))
    adapter = open_tracker(
        TrackerAccess("local", "PA", None, "sync", None), services.tracker, "admin"
    )
    yield adapter
    adapter.close()


@pytest.fixture
def github() -> Iterator[Tracker]:
    """A repository of the fake GitHub, as a collaborator with write access."""
    fake = FakeGitHub()
    fake.add_user("octo-org")
    fake.add_user("sync-bot", token=TOKEN)
    fake.add_repo("octo-org/web", roles={"sync-bot": "write"})
    access = TrackerAccess("github", "octo-org/web", None, None, ("token", TOKEN))
    adapter = github_adapter_for(access, transport=httpx.MockTransport(fake))
    yield adapter
    adapter.close()


@pytest.fixture
def gitlab() -> Iterator[Tracker]:
    """A project of the fake GitLab, as a maintainer."""
    fake = FakeGitLab()
    sync = fake.add_user("sync", email="sync@example.test")
    fake.add_project("group/web", members={sync: MAINTAINER})
    access = TrackerAccess(
        "gitlab", "group/web", "https://gitlab.example", None, ("token", sync.token)
    )
    adapter = gitlab_adapter_for(access, transport=httpx.MockTransport(fake))
    yield adapter
    adapter.close()


@pytest.fixture
def jira820(jira820_server: Jira820) -> Iterator[tuple[Tracker, Jira820, str]]:  # noqa: F811
    """The ``jira`` adapter on a fresh jira820 project, with the project's key."""
    key = jira820_server.new_project(prefix="PR")
    access = TrackerAccess("jira", key, jira820_server.url, "admin", ("password", "unused"))
    adapter = jira_adapter_for(access)
    yield adapter, jira820_server, key
    adapter.close()


def categories(outline: SchemaOutline) -> dict[str, StatusCategory]:
    """Each status's category, by name."""
    return {s.name: s.category for s in outline.statuses}


# -- each adapter's outline ---------------------------------------------------------------------


def test_the_builtin_tracker_gives_its_own_categories_and_ranks(local: Tracker) -> None:
    outline = read_outline(local)
    schema = local.describe()
    assert outline.system == "local"
    assert [s.name for s in outline.statuses] == list(schema.statuses)
    assert categories(outline) == {"To Do": NEW, "In Progress": UNDER_WAY, "Done": DONE}
    assert outline.priorities == ("Highest", "High", "Medium", "Low", "Lowest")
    assert {t.name for t in outline.issue_types if t.subtask} == set(schema.subtask_types)
    assert {t.name for t in outline.issue_types if not t.subtask} == set(schema.issue_types)
    labels = outline.field("labels")
    assert labels is not None
    assert labels.multi
    assert outline.comments
    assert outline.attachments


def test_jira_over_the_builtin_jira_api_reads_the_same_outline(
    services: Services, local: Tracker, server: str
) -> None:
    jira = open_tracker(
        TrackerAccess("jira", "PA", server, "admin", ("password", PASSWORD)),
        services.tracker,
        "admin",
    )
    try:
        through_api = read_outline(jira)
    finally:
        jira.close()
    builtin = read_outline(local)
    assert through_api.system == "jira"
    assert through_api.statuses == builtin.statuses  # statusCategory is the tracker's own
    assert through_api.priorities == builtin.priorities
    assert set(through_api.issue_types) == set(builtin.issue_types)


def test_jira820_categories_are_its_status_categories(
    jira820: tuple[Tracker, Jira820, str],
) -> None:
    adapter, server, key = jira820
    outline = read_outline(adapter)
    with httpx.Client(base_url=server.url, auth=("admin", "unused")) as client:
        per_type = client.get(f"/rest/api/2/project/{key}/statuses").json()
        priorities = client.get("/rest/api/2/priority").json()
    said = {s["name"]: s["statusCategory"]["key"] for t in per_type for s in t["statuses"]}
    assert {name: str(c) for name, c in categories(outline).items()} == said
    assert set(said.values()) == {"new", "indeterminate", "done"}
    assert outline.priorities == tuple(p["name"] for p in priorities)
    subtasks = {t["name"] for t in per_type if t["subtask"]}
    assert {t.name for t in outline.issue_types if t.subtask} == subtasks


def test_github_statuses_by_state_and_reason(github: Tracker) -> None:
    outline = read_outline(github)
    assert categories(outline) == {"Open": NEW, "Closed": DONE, "Closed (not planned)": DONE}
    assert [(t.name, t.subtask) for t in outline.issue_types] == [("Issue", False)]
    assert outline.default_issue_type == "Issue"
    assert outline.priorities == ()
    assert outline.field("labels") is not None
    assert not outline.attachments
    # Derived from the plain schema (an adapter without ``outline``), names guess the same.
    assert categories(outline_of(github, github.describe())) == categories(outline)


def test_gitlab_statuses_and_types(gitlab: Tracker) -> None:
    assert isinstance(gitlab, Outlines)
    outline = gitlab.outline()
    assert categories(outline) == {"Open": NEW, "Closed": DONE}
    assert [t.name for t in outline.issue_types] == ["Issue", "Incident"]
    assert outline.default_issue_type == "Issue"
    assert outline.priorities == ()
    assert outline.field("labels") is not None
    assert outline.field("duedate") is not None


def test_redmine_statuses_by_is_closed_and_position(redmine: RedmineServer) -> None:
    project = redmine.new_project()
    adapter = redmine_adapter_for(
        TrackerAccess("redmine", project, redmine.url, None, ("token", redmine.sync_key))
    )
    try:
        outline = read_outline(adapter)
    finally:
        adapter.close()
    headers = {"X-Redmine-API-Key": redmine.sync_key}
    with httpx.Client(base_url=redmine.url, headers=headers) as client:
        statuses = client.get("/issue_statuses.json").json()["issue_statuses"]
        ranked = client.get("/enumerations/issue_priorities.json").json()["issue_priorities"]
        trackers = client.get(f"/projects/{project}.json", params={"include": "trackers"}).json()
    assert [s.name for s in outline.statuses] == [s["name"] for s in statuses]
    assert {s.name for s in outline.statuses if s.category is DONE} == {
        s["name"] for s in statuses if s["is_closed"]
    }
    assert outline.statuses[0].category is NEW  # Redmine's default "New"
    assert outline.priorities == tuple(p["name"] for p in reversed(ranked) if p.get("active", True))
    assert [t.name for t in outline.issue_types] == [
        t["name"] for t in trackers["project"]["trackers"]
    ]
    assert outline.field("labels") is None
