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
from issuesync.application.conflicts import _Checker
from issuesync.domain.configuration import Configuration
from issuesync.domain.conflict import Conflict
from issuesync.domain.connection import Queue
from issuesync.domain.mapping import ConnectorMapping
from issuesync.domain.outline import SchemaOutline, StatusCategory
from issuesync.domain.proposal import Kind, Proposal, Side, propose
from issuesync.engine.connectors import ConnectorConfig
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.testing.fake_github import FakeGitHub
from issuesync.testing.fake_gitlab import MAINTAINER, FakeGitLab
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import (
    Outlines,
    ProjectSchema,
    Tracker,
    outline_of,
    read_outline,
)
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


# -- proposals between real schemas -------------------------------------------------------------


def assert_complete(proposal: Proposal, first: SchemaOutline, second: SchemaOutline) -> None:
    """Every status, type and priority of each side maps to one the partner has, and each
    connector's configuration, stored and read back, says so to the engine."""
    for side, mine, theirs in ((Side.FIRST, first, second), (Side.SECOND, second, first)):
        statuses = proposal.mapping(Kind.STATUS, side)
        assert set(statuses) == {s.name for s in mine.statuses}
        assert set(statuses.values()) <= {s.name for s in theirs.statuses}
        types = proposal.mapping(Kind.ISSUE_TYPE, side)
        assert set(types) == {t.name for t in mine.issue_types}
        assert set(types.values()) <= {t.name for t in theirs.issue_types}
        priorities = proposal.mapping(Kind.PRIORITY, side)
        if theirs.priorities:
            assert set(priorities) == set(mine.priorities)
            assert set(priorities.values()) <= set(theirs.priorities)
        else:
            warned = {
                w.name for w in proposal.warnings if w.kind is Kind.PRIORITY and w.side is side
            }
            assert warned == set(mine.priorities)
        configuration = proposal.first if side is Side.FIRST else proposal.second
        stored = Configuration.model_validate_json(configuration.model_dump_json())
        mapping = ConnectorMapping(stored)
        for status in mine.statuses:
            assert mapping.remote_status(status.name, None) == statuses[status.name]
        for issue_type in mine.issue_types:
            assert mapping.remote_issue_type(issue_type.name) == types[issue_type.name]


def configuration_conflicts(
    proposal: Proposal, first: ProjectSchema, second: ProjectSchema
) -> list[Conflict]:
    """What ``GET /integrations/{key}/conflicts`` finds in the proposal, checked against the
    two real schemas as an integration's connectors would be (no integration stored: the
    wiring into creation is a later step)."""

    def connector(
        position: int, schema: ProjectSchema, configuration: Configuration
    ) -> ConnectorConfig:
        return ConnectorConfig(
            id=position,
            key=f"{schema.key}-{position}",
            position=position,
            integration_id=1,
            integration_key="PROPOSED",
            project_key=schema.key,
            project_connector_key=f"{schema.key}-{position}",
            system="any",
            base_url=None,
            user=None,
            send_queue=Queue(name=f"send-{position}"),
            receive_queue=Queue(name=f"receive-{position}"),
            configuration=configuration,
            partner_id=3 - position,
            partner_key="partner",
            initial_delay_ms=1000,
            polling_interval_ms=1000,
        )

    ones = connector(1, first, proposal.first)
    twos = connector(2, second, proposal.second)
    found: dict[str, Conflict] = {}
    _Checker(ones, first, twos, second, found).run()
    _Checker(twos, second, ones, first, found).run()
    return list(found.values())


def test_builtin_and_redmine(local: Tracker, redmine: RedmineServer) -> None:
    project = redmine.new_project()
    adapter = redmine_adapter_for(
        TrackerAccess("redmine", project, redmine.url, None, ("token", redmine.sync_key))
    )
    try:
        first, second = read_outline(local), read_outline(adapter)
        schema = adapter.describe()
    finally:
        adapter.close()
    proposal = propose(first, second)
    assert_complete(proposal, first, second)
    assert configuration_conflicts(proposal, local.describe(), schema) == []
    to_redmine = proposal.mapping(Kind.STATUS, Side.FIRST)
    closed = {s.name for s in second.statuses if s.category is DONE}
    assert to_redmine["Done"] in closed
    assert proposal.mapping(Kind.ISSUE_TYPE, Side.FIRST)["Bug"] == "Bug"
    fields = proposal.mapping(Kind.FIELD, Side.FIRST)
    assert "labels" not in fields  # Redmine has no labels: a warning, not a mapping
    assert {"summary", "description", "priority", "duedate", "comment", "attachment"} <= set(fields)
    assert ("labels", Side.FIRST) in {(w.name, w.side) for w in proposal.warnings}
    by_rank = proposal.mapping(Kind.PRIORITY, Side.FIRST)
    assert by_rank["Highest"] == second.priorities[0]
    assert by_rank["Lowest"] == second.priorities[-1]


def test_builtin_and_github(local: Tracker, github: Tracker) -> None:
    first, second = read_outline(local), read_outline(github)
    proposal = propose(first, second)
    assert_complete(proposal, first, second)
    # A sub-task type towards a tracker without sub-tasks: its issues cross without their
    # parent, which the check and the proposal both say as a warning (nothing blocks them).
    conflicts = configuration_conflicts(proposal, local.describe(), github.describe())
    assert [(c.type, c.connector_key, c.severity) for c in conflicts] == [
        ("unmappedIssueType", "PA-1", "warning")
    ]
    assert "'Sub-task'" in conflicts[0].message
    assert (Kind.ISSUE_TYPE, "Sub-task") in {(w.kind, w.name) for w in proposal.warnings}
    assert proposal.mapping(Kind.STATUS, Side.FIRST) == {
        "To Do": "Open",
        "In Progress": "Open",  # GitHub has nothing under way: open, with a warning
        "Done": "Closed",
    }
    assert proposal.mapping(Kind.STATUS, Side.SECOND) == {
        "Open": "To Do",
        "Closed": "Done",
        "Closed (not planned)": "Done",
    }
    assert set(proposal.mapping(Kind.ISSUE_TYPE, Side.FIRST).values()) == {"Issue"}
    assert proposal.mapping(Kind.ISSUE_TYPE, Side.SECOND) == {"Issue": "Task"}
    fields = proposal.mapping(Kind.FIELD, Side.FIRST)
    assert fields["labels"] == "labels"
    assert "priority" not in fields
    assert "attachment" not in fields
    warned = {(w.kind, w.name) for w in proposal.warnings}
    assert {(Kind.STATUS, "In Progress"), (Kind.FIELD, "attachment")} <= warned


def test_builtin_and_jira820(local: Tracker, jira820: tuple[Tracker, Jira820, str]) -> None:
    adapter, _, _ = jira820
    first, second = read_outline(local), read_outline(adapter)
    proposal = propose(first, second)
    assert_complete(proposal, first, second)
    assert configuration_conflicts(proposal, local.describe(), adapter.describe()) == []
    # Two Jira-shaped projects: names and categories line up.
    for status in first.statuses:
        target = proposal.mapping(Kind.STATUS, Side.FIRST)[status.name]
        assert categories(second)[target] is status.category
    fields = proposal.mapping(Kind.FIELD, Side.FIRST)
    assert {"summary", "description", "labels", "priority", "comment", "attachment"} <= set(fields)
