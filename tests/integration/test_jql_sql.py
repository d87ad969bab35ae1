"""JQL compiled to SQL, run on SQLite and PostgreSQL against a small seeded tracker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from issuesync.api.jira.errors import JIRA
from issuesync.domain.jql import parse_jql
from issuesync.errors import QueryError
from issuesync.store.db import Database
from issuesync.store.users import User
from issuesync.trackers.local.jql_sql import JqlContext, compile_jql
from issuesync.trackers.local.models import (
    Comment,
    Component,
    CustomField,
    CustomFieldOption,
    CustomValue,
    Issue,
    IssueComponent,
    IssueLabel,
    IssueType,
    IssueVersion,
    Priority,
    Project,
    Resolution,
    Status,
    Version,
)


def ms(text: str) -> int:
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


NOW = ms("2024-02-15 12:00")
HOUR = 3_600_000
DAY = 24 * HOUR
ALL = {"PROJ-1", "PROJ-2", "PROJ-3", "PROJ-4", "OTHER-1"}


@dataclass
class Tracker:
    session: Session
    ann: int
    bob: int
    fields: dict[str, int]

    def search(self, jql: str, *, user: int | None = None) -> list[str]:
        compiled = compile_jql(parse_jql(jql), self.context(user))
        query = select(Issue.key).where(compiled.where).order_by(*compiled.order_by)
        return list(self.session.scalars(query))

    def keys(self, jql: str, *, user: int | None = None) -> set[str]:
        found = self.search(jql, user=user)
        assert len(found) == len(set(found)), f"duplicates for {jql}: {found}"
        return set(found)

    def count(self, jql: str) -> int:
        compiled = compile_jql(parse_jql(jql), self.context(None))
        query = select(func.count()).select_from(Issue).where(compiled.where)
        return self.session.scalar(query) or 0

    def context(self, user: int | None) -> JqlContext:
        return JqlContext(session=self.session, now_ms=NOW, current_user_id=user, all_emails=True)


@pytest.fixture
def tracker(database: Database) -> Iterator[Tracker]:
    with Session(database.write_engine) as session:
        seeded = _seed(session)
        session.commit()
        yield seeded


def _seed(session: Session) -> Tracker:
    ann = User(name="ann", display_name="Ann Smith", email="ann@example.com", created_ms=NOW)
    bob = User(name="bob", display_name="Bob Jones", email="bob@example.com", created_ms=NOW)
    todo = Status(name="To Do", category="new")
    doing = Status(name="In Progress", category="indeterminate")
    done = Status(name="Done", category="done")
    bug, task = IssueType(name="Bug"), IssueType(name="Task")
    subtask = IssueType(name="Sub-task", subtask=True)
    high, medium = Priority(name="High", position=1), Priority(name="Medium", position=2)
    low = Priority(name="Low", position=3)
    fixed, wont = Resolution(name="Fixed"), Resolution(name="Won't Do")
    session.add_all([ann, bob, todo, doing, done, bug, task, subtask, high, medium, low])
    session.add_all([fixed, wont])
    session.flush()
    proj = Project(key="PROJ", name="Project One", initial_status_id=todo.id, created_ms=NOW)
    other = Project(key="OTHER", name="Other Project", initial_status_id=todo.id, created_ms=NOW)
    session.add_all([proj, other])
    session.flush()
    backend = Component(project_id=proj.id, name="Backend")
    frontend = Component(project_id=proj.id, name="Frontend")
    v1, v2 = Version(project_id=proj.id, name="1.0"), Version(project_id=proj.id, name="2.0")
    session.add_all([backend, frontend, v1, v2])

    def issue(project: Project, number: int, **values: object) -> Issue:
        row = Issue(
            key=f"{project.key}-{number}",
            project_id=project.id,
            number=number,
            created_ms=values.pop("created_ms", NOW),
            updated_ms=values.pop("updated_ms", NOW),
            **values,
        )
        session.add(row)
        session.flush()
        return row

    p1 = issue(
        proj, 1, issue_type_id=bug.id, status_id=todo.id, priority_id=high.id,
        assignee_id=ann.id, reporter_id=bob.id, summary="Login fails on Safari",
        description="The login button does nothing", due_date=dt.date(2024, 2, 10),
        created_ms=ms("2024-01-31 10:00"), updated_ms=NOW - HOUR,
    )  # fmt: skip
    p2 = issue(
        proj, 2, issue_type_id=task.id, status_id=doing.id, priority_id=medium.id,
        assignee_id=bob.id, reporter_id=ann.id, summary="Refactor the database layer",
        created_ms=ms("2024-02-01 09:00"), updated_ms=NOW - 3 * DAY,
    )  # fmt: skip
    p3 = issue(
        proj, 3, issue_type_id=task.id, status_id=done.id, priority_id=low.id,
        resolution_id=fixed.id, resolution_ms=ms("2024-02-10 00:00"), reporter_id=ann.id,
        summary="Write release notes", description="100% done_ok",
        created_ms=ms("2024-01-15 00:00"), updated_ms=NOW - 10 * DAY,
    )  # fmt: skip
    issue(
        proj, 4, issue_type_id=subtask.id, status_id=todo.id, parent_id=p2.id,
        assignee_id=ann.id, summary="Add an index on updated",
        created_ms=ms("2024-02-14 12:00"), updated_ms=NOW - 5 * 60_000,
    )  # fmt: skip
    o1 = issue(
        other, 1, issue_type_id=bug.id, status_id=done.id, priority_id=high.id,
        resolution_id=wont.id, resolution_ms=ms("2024-02-13 00:00"),
        summary="Other project bug", created_ms=ms("2024-02-02 00:00"), updated_ms=NOW - 2 * DAY,
    )  # fmt: skip
    session.add_all(
        [
            IssueLabel(issue_id=p1.id, label="frontend"),
            IssueLabel(issue_id=p1.id, label="urgent"),
            IssueLabel(issue_id=p2.id, label="backend"),
            IssueLabel(issue_id=o1.id, label="urgent"),
            IssueComponent(issue_id=p1.id, component_id=frontend.id),
            IssueComponent(issue_id=p2.id, component_id=backend.id),
            IssueVersion(issue_id=p1.id, version_id=v1.id, kind="fix"),
            IssueVersion(issue_id=p2.id, version_id=v2.id, kind="fix"),
            IssueVersion(issue_id=p2.id, version_id=v1.id, kind="affected"),
            Comment(
                issue_id=p3.id,
                author_id=ann.id,
                body="Shipped with a secret: pineapple",
                created_ms=NOW,
                updated_ms=NOW,
            ),
        ]
    )
    fields = {
        name: CustomField(name=name, field_type=kind)
        for name, kind in [
            ("Story Points", "number"),
            ("Team", "option"),
            ("Tags", "options"),
            ("Notes", "text"),
            ("Category", "string"),
            ("Reviewer", "user"),
            ("Deadline", "date"),
            ("Kickoff", "datetime"),
        ]
    }
    session.add_all(fields.values())
    session.flush()
    options = {
        (field, value): CustomFieldOption(field_id=fields[field].id, value=value, position=i)
        for field, values in [("Team", ["Red", "Blue"]), ("Tags", ["x", "y"])]
        for i, value in enumerate(values)
    }
    session.add_all(options.values())
    session.flush()

    def value(row: Issue, field: str, **typed: object) -> CustomValue:
        return CustomValue(issue_id=row.id, field_id=fields[field].id, **typed)

    session.add_all(
        [
            value(p1, "Story Points", number_value=3.0),
            value(p2, "Story Points", number_value=8.0),
            value(p1, "Team", option_id=options["Team", "Red"].id),
            value(p2, "Team", option_id=options["Team", "Blue"].id),
            value(p1, "Tags", option_id=options["Tags", "x"].id),
            value(p1, "Tags", option_id=options["Tags", "y"].id),
            value(p2, "Tags", option_id=options["Tags", "y"].id),
            value(p1, "Notes", string_value="needs a browser matrix"),
            value(p2, "Notes", string_value="plain words"),
            value(p1, "Category", string_value="web"),
            value(p2, "Reviewer", user_id=ann.id),
            value(p2, "Deadline", date_value=dt.date(2024, 3, 1)),
            value(p3, "Kickoff", datetime_ms=ms("2024-01-20 08:00")),
        ]
    )
    session.flush()
    return Tracker(session, ann.id, bob.id, {name: f.id for name, f in fields.items()})


def check(tracker: Tracker, cases: list[tuple[str, set[str]]]) -> None:
    failures = []
    for jql, expected in cases:
        found = tracker.keys(jql, user=tracker.ann)
        if found != expected:
            failures.append(f"{jql!r}: expected {sorted(expected)}, got {sorted(found)}")
    assert not failures, "\n".join(failures)


def test_project_key_and_id(tracker: Tracker) -> None:
    p1_id = tracker.session.scalar(select(Issue.id).where(Issue.key == "PROJ-1"))
    check(
        tracker,
        [
            ("project = PROJ", {"PROJ-1", "PROJ-2", "PROJ-3", "PROJ-4"}),
            ('project = "Other Project"', {"OTHER-1"}),
            ("project in (proj, other)", ALL),
            ("project != PROJ", {"OTHER-1"}),
            ("key = PROJ-2", {"PROJ-2"}),
            ("issuekey in (proj-1, PROJ-3)", {"PROJ-1", "PROJ-3"}),
            ("key != PROJ-1", ALL - {"PROJ-1"}),
            ("key > PROJ-2", {"PROJ-3", "PROJ-4"}),
            ("key <= PROJ-2", {"PROJ-1", "PROJ-2"}),
            (f"id = {p1_id}", {"PROJ-1"}),
            (f"id != {p1_id}", ALL - {"PROJ-1"}),
            (f"key = {p1_id}", {"PROJ-1"}),
        ],
    )


def test_text_fields(tracker: Tracker) -> None:
    check(
        tracker,
        [
            ("summary ~ login", {"PROJ-1"}),
            ('summary ~ "SAFARI login"', {"PROJ-1"}),
            ('summary ~ "login database"', set()),
            ("summary ~ refact*", {"PROJ-2"}),
            ("summary !~ login", ALL - {"PROJ-1"}),
            ('description ~ "100%"', {"PROJ-3"}),
            ('description ~ "e_o"', {"PROJ-3"}),
            # % and _ are literal: "e%o" would match almost any text if it were a pattern.
            ('description ~ "e%o"', set()),
            ('description ~ "n_t"', set()),
            ("description is EMPTY", {"PROJ-2", "PROJ-4", "OTHER-1"}),
            ("description IS NOT EMPTY", {"PROJ-1", "PROJ-3"}),
            ("description !~ login", {"PROJ-3"}),
            ("comment ~ PINEAPPLE", {"PROJ-3"}),
            ("comment is empty", ALL - {"PROJ-3"}),
            ("text ~ pineapple", {"PROJ-3"}),
            ('text ~ "browser matrix"', {"PROJ-1"}),
            ("text ~ database", {"PROJ-2"}),
            ("text ~ button", {"PROJ-1"}),
            ("NOT text ~ login", ALL - {"PROJ-1"}),
        ],
    )


def test_workflow_fields(tracker: Tracker) -> None:
    done_id = tracker.session.scalar(select(Status.id).where(Status.name == "Done"))
    check(
        tracker,
        [
            ('status = "In Progress"', {"PROJ-2"}),
            ('status in ("to do", DONE)', {"PROJ-1", "PROJ-3", "PROJ-4", "OTHER-1"}),
            ("status != Done", {"PROJ-1", "PROJ-2", "PROJ-4"}),
            (f"status = {done_id}", {"PROJ-3", "OTHER-1"}),
            ("statusCategory = done", {"PROJ-3", "OTHER-1"}),
            ('statuscategory = "In Progress"', {"PROJ-2"}),
            ('statusCategory in ("To Do")', {"PROJ-1", "PROJ-4"}),
            ("statusCategory != new", {"PROJ-2", "PROJ-3", "OTHER-1"}),
            ("issuetype = Bug", {"PROJ-1", "OTHER-1"}),
            ("type = task", {"PROJ-2", "PROJ-3"}),
            ("issuetype in subTaskIssueTypes()", {"PROJ-4"}),
            ("issuetype in standardIssueTypes()", ALL - {"PROJ-4"}),
            ("issuetype not in (Bug, Task)", {"PROJ-4"}),
            ("resolution = Unresolved", {"PROJ-1", "PROJ-2", "PROJ-4"}),
            ("resolution = Fixed", {"PROJ-3"}),
            ('resolution = "won\'t do"', {"OTHER-1"}),
            ("resolution != Fixed", {"OTHER-1"}),
            ("resolution != Unresolved", {"PROJ-3", "OTHER-1"}),
            ("resolution in (Fixed, Unresolved)", ALL - {"OTHER-1"}),
            ("resolution is not empty", {"PROJ-3", "OTHER-1"}),
        ],
    )


def test_priority(tracker: Tracker) -> None:
    check(
        tracker,
        [
            ("priority = High", {"PROJ-1", "OTHER-1"}),
            ("priority > Medium", {"PROJ-1", "OTHER-1"}),
            ("priority >= Medium", {"PROJ-1", "PROJ-2", "OTHER-1"}),
            ("priority < medium", {"PROJ-3"}),
            ("priority <= Medium", {"PROJ-2", "PROJ-3"}),
            # != never matches an issue without a value, as in Jira.
            ("priority != High", {"PROJ-2", "PROJ-3"}),
            ("priority not in (High, Low)", {"PROJ-2"}),
            ("priority is EMPTY", {"PROJ-4"}),
            ("priority = null", {"PROJ-4"}),
            ("priority != EMPTY", ALL - {"PROJ-4"}),
            ("priority in (High, EMPTY)", {"PROJ-1", "OTHER-1", "PROJ-4"}),
            ("NOT priority = High", {"PROJ-2", "PROJ-3"}),
        ],
    )


def test_people(tracker: Tracker) -> None:
    check(
        tracker,
        [
            ("assignee = ann", {"PROJ-1", "PROJ-4"}),
            ('assignee = "ann smith"', {"PROJ-1", "PROJ-4"}),
            ("assignee = ann@example.com", {"PROJ-1", "PROJ-4"}),
            ("assignee = currentUser()", {"PROJ-1", "PROJ-4"}),
            ("assignee in (currentUser(), bob)", {"PROJ-1", "PROJ-2", "PROJ-4"}),
            ("assignee != ann", {"PROJ-2"}),
            ("assignee is EMPTY", {"PROJ-3", "OTHER-1"}),
            ("assignee in (bob, EMPTY)", {"PROJ-2", "PROJ-3", "OTHER-1"}),
            ("NOT assignee = ann", {"PROJ-2"}),
            ("reporter = bob", {"PROJ-1"}),
            ("reporter != bob", {"PROJ-2", "PROJ-3"}),
        ],
    )
    assert tracker.keys("assignee = currentUser()", user=tracker.bob) == {"PROJ-2"}
    assert tracker.keys("assignee = currentUser()", user=None) == set()


def test_collections(tracker: Tracker) -> None:
    check(
        tracker,
        [
            ("labels = urgent", {"PROJ-1", "OTHER-1"}),
            ("labels = URGENT", {"PROJ-1", "OTHER-1"}),
            ("labels in (backend, frontend)", {"PROJ-1", "PROJ-2"}),
            ("labels != urgent", {"PROJ-2"}),
            ("labels not in (urgent)", {"PROJ-2"}),
            ("labels is EMPTY", {"PROJ-3", "PROJ-4"}),
            ("labels = nothing", set()),
            ("component = Backend", {"PROJ-2"}),
            ("component != backend", {"PROJ-1"}),
            ("component is empty", {"PROJ-3", "PROJ-4", "OTHER-1"}),
            ("fixVersion = 1.0", {"PROJ-1"}),
            ('fixversion = "2.0"', {"PROJ-2"}),
            ("fixVersion != 1.0", {"PROJ-2"}),
            ("affectedVersion = 1.0", {"PROJ-2"}),
            ("fixVersion is EMPTY", {"PROJ-3", "PROJ-4", "OTHER-1"}),
            ("parent = PROJ-2", {"PROJ-4"}),
            ("parent is empty", ALL - {"PROJ-4"}),
            ("parent != proj-2", set()),
        ],
    )


def test_dates(tracker: Tracker) -> None:
    check(
        tracker,
        [
            ("created >= 2024-02-01", {"PROJ-2", "PROJ-4", "OTHER-1"}),
            # A bare date stands for the whole (UTC) day.
            ("created = 2024-01-31", {"PROJ-1"}),
            ("created != 2024/01/31", ALL - {"PROJ-1"}),
            ("created < 2024-01-31", {"PROJ-3"}),
            ("created <= 2024-01-31", {"PROJ-1", "PROJ-3"}),
            ("created > 2024-01-31", {"PROJ-2", "PROJ-4", "OTHER-1"}),
            ('created > "2024/01/31 09:00"', ALL - {"PROJ-3"}),
            ('created = "2024-01-31 10:00"', {"PROJ-1"}),
            ("createdDate in (2024-01-31, 2024-01-15)", {"PROJ-1", "PROJ-3"}),
            ("updated >= -1d", {"PROJ-1", "PROJ-4"}),
            ("updated > -10m", {"PROJ-4"}),
            ('updated >= "-2d 1h"', {"PROJ-1", "PROJ-4", "OTHER-1"}),
            ("updated >= -1w", ALL - {"PROJ-3"}),
            ("updated < -1w", {"PROJ-3"}),
            ("created > now()", set()),
            ("created >= startOfDay(-1)", {"PROJ-4"}),
            ("created >= startOfMonth()", {"PROJ-2", "PROJ-4", "OTHER-1"}),
            ("created < startOfYear()", set()),
            ("created <= endOfDay(-15)", {"PROJ-1", "PROJ-3"}),
            ("resolutiondate >= 2024-02-12", {"OTHER-1"}),
            ("resolutiondate is empty", {"PROJ-1", "PROJ-2", "PROJ-4"}),
            ("resolved < 2024-02-12", {"PROJ-3"}),
            ("duedate < 2024-02-11", {"PROJ-1"}),
            ("duedate = 2024-02-10", {"PROJ-1"}),
            ("due > 2024-02-10", set()),
            ("duedate is empty", ALL - {"PROJ-1"}),
            ("duedate < now()", {"PROJ-1"}),
            ("NOT duedate > 2024-01-01", set()),
        ],
    )


def test_custom_fields(tracker: Tracker) -> None:
    points = tracker.fields["Story Points"]
    check(
        tracker,
        [
            ('"Story Points" > 5', {"PROJ-2"}),
            (f"cf[{points}] = 3", {"PROJ-1"}),
            (f"cf[{points}] in (3, 8.0)", {"PROJ-1", "PROJ-2"}),
            ('"story points" != 3', {"PROJ-2"}),
            ('"Story Points" <= 3', {"PROJ-1"}),
            ('"Story Points" is EMPTY', {"PROJ-3", "PROJ-4", "OTHER-1"}),
            ("Team = Red", {"PROJ-1"}),
            ("team in (red, Blue)", {"PROJ-1", "PROJ-2"}),
            ("Team != Red", {"PROJ-2"}),
            ("Team is not empty", {"PROJ-1", "PROJ-2"}),
            ("Tags = x", {"PROJ-1"}),
            ("Tags != x", {"PROJ-2"}),
            ("Tags in (y)", {"PROJ-1", "PROJ-2"}),
            ("Notes ~ browser", {"PROJ-1"}),
            ("Notes !~ browser", {"PROJ-2"}),
            ("Notes is empty", {"PROJ-3", "PROJ-4", "OTHER-1"}),
            ("Category = WEB", {"PROJ-1"}),
            ("Category != web", set()),
            ("Reviewer = ann", {"PROJ-2"}),
            ("Reviewer = currentUser()", {"PROJ-2"}),
            ("Reviewer is empty", ALL - {"PROJ-2"}),
            ("Deadline < 2024-03-02", {"PROJ-2"}),
            ("Deadline > 2024-03-01", set()),
            ('Kickoff >= "2024-01-20 08:00"', {"PROJ-3"}),
            ("Kickoff < 2024-01-20", set()),
        ],
    )


def test_boolean_logic(tracker: Tracker) -> None:
    check(
        tracker,
        [
            ("", ALL),
            (
                "status = Done OR status = 'To Do' AND priority = High",
                {"PROJ-1", "PROJ-3", "OTHER-1"},
            ),
            ("(status = Done OR status = 'To Do') AND priority = High", {"PROJ-1", "OTHER-1"}),
            ("project = PROJ AND (labels = urgent OR assignee = bob)", {"PROJ-1", "PROJ-2"}),
            # NOT is pushed down: status != Done AND priority != High; PROJ-4 has no priority.
            ("NOT (status = Done OR priority = High)", {"PROJ-2"}),
            ("NOT NOT status = Done", {"PROJ-3", "OTHER-1"}),
            ("NOT (labels = urgent AND project = PROJ)", {"PROJ-2", "OTHER-1"}),
        ],
    )
    assert tracker.count("project = PROJ AND updated >= -1w") == 3
    assert tracker.count("") == 5


def test_order_by(tracker: Tracker) -> None:
    by_key = ["PROJ-1", "PROJ-2", "PROJ-3", "PROJ-4"]
    assert tracker.search("project = PROJ ORDER BY key") == by_key
    assert tracker.search("project = PROJ ORDER BY issuekey DESC") == by_key[::-1]
    assert tracker.search("ORDER BY key") == ["OTHER-1", *by_key]
    assert tracker.search("ORDER BY created ASC") == [
        "PROJ-3", "PROJ-1", "PROJ-2", "OTHER-1", "PROJ-4",
    ]  # fmt: skip
    # Dates sort newest first unless told otherwise, as in Jira.
    assert tracker.search("ORDER BY created") == [
        "PROJ-4", "OTHER-1", "PROJ-2", "PROJ-1", "PROJ-3",
    ]  # fmt: skip
    assert tracker.search("ORDER BY updated ASC") == [
        "PROJ-3", "PROJ-2", "OTHER-1", "PROJ-1", "PROJ-4",
    ]  # fmt: skip
    # DESC is highest priority first; empty values sort as if above every value.
    assert tracker.search("ORDER BY priority DESC, key ASC") == [
        "PROJ-4", "OTHER-1", "PROJ-1", "PROJ-2", "PROJ-3",
    ]  # fmt: skip
    assert tracker.search("ORDER BY priority ASC, key") == [
        "PROJ-3", "PROJ-2", "OTHER-1", "PROJ-1", "PROJ-4",
    ]  # fmt: skip
    assert tracker.search("ORDER BY assignee, key") == [
        "PROJ-1", "PROJ-4", "PROJ-2", "OTHER-1", "PROJ-3",
    ]  # fmt: skip
    assert tracker.search("ORDER BY duedate, key")[0] == "PROJ-1"
    assert tracker.search("ORDER BY status, key") == [
        "OTHER-1", "PROJ-3", "PROJ-2", "PROJ-1", "PROJ-4",
    ]  # fmt: skip
    assert tracker.search("ORDER BY summary") == [
        "PROJ-4", "PROJ-1", "OTHER-1", "PROJ-2", "PROJ-3",
    ]  # fmt: skip
    assert tracker.search("ORDER BY Team, key")[:2] == ["PROJ-1", "PROJ-2"]
    assert tracker.search("ORDER BY Team DESC, key")[-2:] == ["PROJ-2", "PROJ-1"]


def test_custom_sort_puts_empty_values_last_when_ascending(tracker: Tracker) -> None:
    assert tracker.search('project = PROJ ORDER BY "Story Points" ASC, key') == [
        "PROJ-1", "PROJ-2", "PROJ-3", "PROJ-4",
    ]  # fmt: skip
    assert tracker.search('project = PROJ ORDER BY "Story Points" DESC, key') == [
        "PROJ-3", "PROJ-4", "PROJ-2", "PROJ-1",
    ]  # fmt: skip


def test_default_order_is_newest_id_first(tracker: Tracker) -> None:
    ids = list(tracker.session.scalars(select(Issue.key).order_by(Issue.id.desc())))
    assert tracker.search("") == ids
    assert tracker.search("project = PROJ") == [k for k in ids if k.startswith("PROJ")]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("foo = bar", "Field 'foo' does not exist or you do not have permission to view it."),
        ("summary = login", "The operator '=' is not supported by the 'summary' field."),
        ("labels ~ x", "The operator '~' is not supported by the 'labels' field."),
        ("text !~ x", "The operator '!~' is not supported by the 'text' field."),
        ("status > Done", "The operator '>' is not supported by the 'status' field."),
        ("status = Nope", "The value 'Nope' does not exist for the field 'status'."),
        ("priority > Nope", "The value 'Nope' does not exist for the field 'priority'."),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
        ("assignee = nobody", "The value 'nobody' does not exist for the field 'assignee'."),
        ("component = Nope", "The value 'Nope' does not exist for the field 'component'."),
        ("statusCategory = Nope", "The value 'Nope' does not exist for the field"),
        ("key = PROJ-99", "An issue with key 'PROJ-99' does not exist for field 'key'."),
        ("key = nokey", "The issue key 'nokey' for field 'key' is invalid."),
        ("Team = Green", "The value 'Green' does not exist for the field 'Team'."),
        ('"Story Points" = abc', "'abc' is not a valid number for the field 'Story Points'"),
        ("created > yesterday", "Date value 'yesterday' for field 'created' is invalid."),
        ("created > 2024-02-30", "Date value '2024-02-30' for field 'created' is invalid."),
        ("created > foo()", "Unable to find JQL function 'foo()'."),
        ("status = now()", "The function 'now()' is not supported by the 'status' field."),
        ("assignee = now()", "The function 'now()' is not supported by the 'assignee' field."),
        ('summary ~ ""', "The field 'summary' does not support searching for an empty string."),
        ("cf[999999] = 1", "Field 'cf[999999]' does not exist"),
        ("ORDER BY labels", "Field 'labels' does not support sorting."),
        ("ORDER BY nope", "Field 'nope' does not exist"),
    ],
)
def test_invalid_queries_raise_query_error(tracker: Tracker, jql: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        tracker.search(jql)
    assert message in caught.value.message
    assert JIRA.status(caught.value) == 400


def test_bench_query_uses_the_project_updated_index(tracker: Tracker) -> None:
    compiled = compile_jql(
        parse_jql("project = PROJ AND updated >= -1d ORDER BY updated"), tracker.context(None)
    )
    query = select(Issue.id).where(compiled.where).order_by(*compiled.order_by).limit(50)
    bind = tracker.session.get_bind()
    sql = query.compile(bind, compile_kwargs={"literal_binds": True})
    if bind.dialect.name == "sqlite":
        plan = " ".join(
            row[-1] for row in tracker.session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        )
        assert "ix_tracker_issues_project_updated" in plan
        assert "TEMP B-TREE" not in plan
    else:
        tracker.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in tracker.session.execute(text(f"EXPLAIN {sql}")))
        assert "ix_tracker_issues_project_updated" in plan
