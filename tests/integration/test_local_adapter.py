"""The ``local`` adapter against the built-in tracker on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor
from sync_helpers import make_project_admin

from issuesync.accounts import NewUser, create_user
from issuesync.domain.replica import FieldValue, Replica, UserRef, canonical_fields
from issuesync.errors import ConfigurationError, NotFoundError, TrackerRejectedError
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import (
    CommentDraft,
    IssueDraft,
    NewIssue,
    Tracker,
    WorklogWriter,
    create_each,
)
from issuesync.trackers.local import catalog, issues, replicas
from issuesync.trackers.local.adapter import LocalAdapter, local_adapter_for
from issuesync.trackers.local.models import (
    Comment,
    Issue,
    ProjectStatus,
    Status,
    StatusCategory,
    Transition,
)
from issuesync.trackers.local.refdata import bump_reference_revision

CUSTOM_FIELDS = {
    "Severity": ("option", ["Low", "High"]),
    "Tags": ("options", ["X", "Y", "Z"]),
    "Reviewer": ("user", []),
    "Reviewers": ("users", []),
    "Points": ("number", []),
    "Deadline": ("date", []),
    "Seen": ("datetime", []),
    "Note": ("string", []),
}


@dataclass
class World:
    services: Services
    admin: Principal
    adapter: LocalAdapter

    def draft(self, summary: str = "An issue", **fields: FieldValue) -> IssueDraft:
        return IssueDraft(issue_type="Task", fields={"summary": summary, **fields})

    def create(self, summary: str = "An issue", **fields: FieldValue) -> str:
        key = f"create-{summary}-{time.monotonic_ns()}"
        return self.adapter.create(self.draft(summary, **fields), idempotency_key=key).key


def _principal(services: Services, name: str) -> Principal:
    with services.uow_factory(readonly=True) as uow:
        user = uow.session.scalar(select(User).where(User.name == name))
        assert user is not None
        return Principal.of(user)


@pytest.fixture
def world(services: Services) -> World:
    admin = _principal(services, "admin")
    with services.tracker.write(admin) as op:
        for key in ("SYN", "OTH"):
            catalog.create_project(op, {"key": key, "name": f"Project {key}"})
        catalog.create_component(op, {"project": "SYN", "name": "Backend"})
        for version in ("1.0", "2.0"):
            catalog.create_version(op, {"project": "SYN", "name": version})
        for name, (kind, options) in CUSTOM_FIELDS.items():
            catalog.create_custom_field(op, {"name": name, "type": kind, "options": options})
    create_user(services.uow_factory, NewUser(name="sync", email="sync@example.test"))
    create_user(services.uow_factory, NewUser(name="alice", email="Alice@Example.test"))
    create_user(services.uow_factory, NewUser(name="bob", email="bob@example.test"))
    return World(services, admin, local_adapter_for(services.tracker, "SYN", "sync"))


def test_is_a_tracker_and_describes_its_project(world: World) -> None:
    adapter: Tracker = world.adapter
    assert adapter.name == "local"
    assert adapter.capabilities.comment_author
    assert adapter.capabilities.deletions
    assert adapter.capabilities.worklogs
    assert isinstance(adapter, WorklogWriter)
    schema = adapter.describe()
    assert (schema.key, schema.name) == ("SYN", "Project SYN")
    assert set(schema.issue_types) == {"Bug", "Task", "Story", "Epic"}
    assert schema.subtask_types == ("Sub-task",)
    assert schema.statuses == ("To Do", "In Progress", "Done")
    assert schema.priorities == ("Highest", "High", "Medium", "Low", "Lowest")
    assert schema.initial_status == "To Do"
    severity = schema.field("severity")
    assert severity is not None
    assert severity.custom
    assert severity.type == "option"
    assert severity.id.startswith("customfield_")
    assert severity.allowed_values == ("Low", "High")
    components, fix_versions = schema.field("components"), schema.field("fixVersions")
    assert components is not None
    assert fix_versions is not None
    assert components.allowed_values == ("Backend",)
    assert fix_versions.allowed_values == ("1.0", "2.0")
    summary = schema.field("summary")
    assert summary is not None
    assert summary.required


def test_changed_since_pages_in_update_order(world: World) -> None:
    keys = [world.create(f"Issue {n}") for n in range(5)]
    pages = list(world.adapter.changed_since(None, [], page_size=2))
    # The first page is a quarter of a page (at least one issue): its messages leave sooner.
    assert [len(p) for p in pages] == [1, 2, 2]
    seen = [r.key for page in pages for r in page]
    assert seen == keys
    updated = [r.updated for page in pages for r in page]
    assert updated == sorted(updated)


def test_changed_since_pages_grow_to_the_page_size(world: World) -> None:
    keys = [world.create(f"Issue {n}") for n in range(30)]
    pages = list(world.adapter.changed_since(None, [], page_size=8))
    # A quarter, a half, then whole pages: the partner starts on the first one sooner.
    assert [len(p) for p in pages] == [2, 4, 8, 8, 8]
    assert [r.key for page in pages for r in page] == keys
    replica = pages[0][0]
    assert replica.hub_issue.project is not None
    assert replica.hub_issue.project.key == "SYN"
    assert replica.hub_issue.status is not None
    assert replica.hub_issue.status.name == "To Do"
    assert replica.hub_issue.reporter is not None
    assert replica.hub_issue.reporter.username == "sync"


def test_changed_since_filters_by_time_and_queries(world: World) -> None:
    old = world.create("Old", labels=["red"])
    time.sleep(0.005)
    since = world.adapter.clock_ms()
    red = world.create("Red", labels=["red"])
    high = world.create("High", priority="High")
    world.create("Plain")
    # An issue of another project matches the query but is never this adapter's.
    with world.services.tracker.write(world.admin) as op:
        body = {"project": {"key": "OTH"}, "issuetype": {"name": "Task"}, "summary": "Elsewhere"}
        issues.create_issue(op, body | {"labels": ["red"]}, {})

    def keys(since_ms: int | None, queries: list[str]) -> list[str]:
        pages = world.adapter.changed_since(since_ms, queries, page_size=1)
        return [r.key for page in pages for r in page]

    assert len(keys(since, [])) == 3
    assert old not in keys(since, [])
    assert keys(None, ["labels = red"]) == [old, red]
    assert keys(since, ["labels = red"]) == [red]
    assert keys(since, ["labels = red", "priority = High"]) == [red, high]
    assert world.adapter.matching([old, red, high, "OTH-1"], ["labels = red"]) == {old, red}
    assert world.adapter.matching([old, "SYN-99"], []) == {old, "SYN-99"}
    with pytest.raises(ConfigurationError, match="labels ="):
        keys(None, ["labels = "])


def test_an_issue_updated_during_paging_is_not_skipped(world: World) -> None:
    keys = [world.create(f"Issue {n}") for n in range(5)]
    pages = world.adapter.changed_since(None, [], page_size=2)
    first = next(pages)
    assert [r.key for r in first] == keys[:1]
    # Moving a yielded issue to the end would make an offset skip keys[1]; and an issue
    # not yielded yet that changes must still come.
    world.adapter.update(keys[0], {"summary": "Changed while paging"})
    world.adapter.update(keys[3], {"summary": "Also changed"})
    rest = [r.key for page in pages for r in page]
    assert set(keys[1:]) <= set(rest)
    assert keys[0] in rest
    assert rest[-2:] == [keys[0], keys[3]]


def test_an_idle_poll_is_one_query(world: World) -> None:
    world.create("Something")
    since = world.adapter.clock_ms() + 60_000
    statements: list[str] = []

    def count(_conn: Connection, _cursor: DBAPICursor, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and statement.strip() != "SELECT 1":
            statements.append(statement)

    list(world.adapter.changed_since(since, ["labels = red"]))  # warms the project cache
    engine = world.services.database.read_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert list(world.adapter.changed_since(since, [])) == []
        assert len(statements) == 1, statements
        statements.clear()
        assert list(world.adapter.changed_since(since, ["labels = red"])) == []
        assert len(statements) == 1, statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_create_is_idempotent_and_takes_the_reporter(world: World) -> None:
    alice = UserRef(email="alice@example.test", username="alice-elsewhere")
    draft = IssueDraft(issue_type="Bug", fields={"summary": "Once"}, reporter=alice)
    first = world.adapter.create(draft, idempotency_key="msg-1")
    again = world.adapter.create(draft, idempotency_key="msg-1")
    assert again.key == first.key
    assert [r.key for p in world.adapter.changed_since(None, []) for r in p] == [first.key]
    assert first.hub_issue.reporter is not None
    assert first.hub_issue.reporter.username == "alice"
    assert first.hub_issue.issue_type is not None
    assert first.hub_issue.issue_type.name == "Bug"
    stranger = IssueDraft(
        issue_type="Task", fields={"summary": "By nobody"}, reporter=UserRef(username="ghost")
    )
    other = world.adapter.create(stranger, idempotency_key="msg-2")
    assert other.key != first.key
    assert other.hub_issue.reporter is not None
    assert other.hub_issue.reporter.username == "sync"


def test_racing_creates_with_one_key_make_one_issue(world: World) -> None:
    draft = world.draft("Raced")
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(
            pool.map(lambda _: world.adapter.create(draft, idempotency_key="race").key, range(4))
        )
    assert len(set(made)) == 1
    assert [r.key for p in world.adapter.changed_since(None, []) for r in p] == made[:1]


def test_create_a_subtask_in_a_status(world: World) -> None:
    parent = world.create("Parent")
    draft = IssueDraft(
        issue_type="Sub-task", fields={"summary": "Child", "status": "Done"}, parent_key=parent
    )
    child = world.adapter.create(draft, idempotency_key="child")
    assert child.hub_issue.parent_key == parent
    assert child.hub_issue.parent_id is not None
    assert child.hub_issue.status is not None
    assert child.hub_issue.status.name == "Done"
    assert child.hub_issue.resolution is not None


# A value for every kind of field the adapter writes (users by username, else e-mail).
EVERY_KIND_OF_FIELD: dict[str, FieldValue] = {
    "summary": "After",
    "description": "Steps to reproduce",
    "priority": "High",
    "labels": ["b", "a"],
    "components": ["Backend"],
    "fixVersions": ["1.0"],
    "versions": ["2.0"],
    "duedate": "2030-01-31",
    "assignee": {"email": "ALICE@example.test", "username": "alice-remote"},
    "reporter": {"email": None, "username": "bob"},
    "Severity": "High",
    "Tags": ["Y", "X"],
    "Reviewer": {"email": "bob@example.test", "username": "bob"},
    "Reviewers": [
        {"email": "bob@example.test", "username": "bob"},
        {"email": "alice@example.test", "username": "alice"},
    ],
    "Points": 3.5,
    "Deadline": "2030-02-01",
    "Seen": 1_767_225_600_123,
    "Note": "hello",
}


def test_update_writes_every_kind_of_field(world: World) -> None:
    key = world.create("Before")
    values = dict(EVERY_KIND_OF_FIELD)
    replica = world.adapter.update(key, values)
    canonical = canonical_fields(replica.hub_issue)
    alice = {"email": "alice@example.test", "username": "alice"}
    bob = {"email": "bob@example.test", "username": "bob"}
    expected = values | {
        "labels": ["a", "b"],
        "assignee": alice,
        "reporter": bob,
        "Tags": ["X", "Y"],
        "Reviewer": bob,
        "Reviewers": [alice, bob],
    }
    for name, value in expected.items():
        assert canonical[name] == value, name
    assert replica.hub_issue.due == 1_896_048_000_000  # 2030-01-31T00:00Z
    assert replica.hub_issue.custom_fields["Points"].type == "NUMERIC"
    assert world.adapter.get(key) == replica

    cleared = world.adapter.update(
        key,
        dict.fromkeys(("description", "priority", "duedate", "assignee", *CUSTOM_FIELDS))
        | {"labels": [], "components": [], "environment": None},
    )
    canonical = canonical_fields(cleared.hub_issue)
    for name in ("description", "priority", "duedate", "assignee", *CUSTOM_FIELDS):
        assert canonical[name] is None, name
    assert canonical["labels"] == []
    assert canonical["components"] == []


def _add_review_workflow(world: World) -> None:
    """SYN gains 'In Review' (In Progress -> In Review -> Done) and 'Archived' (unreachable)."""
    with world.services.tracker.write(world.admin) as op:
        project = op.project("SYN")
        progress = op.ref.statuses.by_name["in progress"]
        review = Status(name="In Review", category=StatusCategory.IN_PROGRESS.value)
        archived = Status(name="Archived", category=StatusCategory.DONE.value)
        op.session.add_all([review, archived])
        op.session.flush()
        for position, status in enumerate((review, archived), start=3):
            op.session.add(
                ProjectStatus(project_id=project.id, status_id=status.id, position=position)
            )
        done = op.ref.statuses.by_name["done"]
        for number, name, source, target in (
            (101, "Review", progress, review),
            (111, "Approve", review, done),
        ):
            op.session.add(
                Transition(
                    project_id=project.id,
                    number=number,
                    name=name,
                    from_status_id=source.id,
                    to_status_id=target.id,
                )
            )
        bump_reference_revision(op.session)


def test_transition_takes_the_shortest_path(world: World) -> None:
    _add_review_workflow(world)
    key = world.create("Moving")
    moved = world.adapter.transition(key, "in review")
    assert moved.hub_issue.status is not None
    assert moved.hub_issue.status.name == "In Review"
    again = world.adapter.transition(key, "In Review")
    assert again.updated == moved.updated  # already there: nothing written
    with pytest.raises(TrackerRejectedError, match=r"'Archived'.*'In Review'"):
        world.adapter.transition(key, "Archived")
    with pytest.raises(TrackerRejectedError, match="Nowhere"):
        world.adapter.transition(key, "Nowhere")
    via_update = world.adapter.update(key, {"status": "Done", "summary": "Finished"})
    assert via_update.hub_issue.status is not None
    assert via_update.hub_issue.status.name == "Done"
    assert via_update.hub_issue.summary == "Finished"


def test_comments_add_edit_delete(world: World) -> None:
    # Writing in authors' names, and editing their comments, takes a project admin.
    make_project_admin(world.services, "sync", "SYN")
    key = world.create("Talk")
    alice = UserRef(email="alice@example.test")
    comment = world.adapter.add_comment(key, "Hello", alice, idempotency_key="c-1")
    again = world.adapter.add_comment(key, "Hello", alice, idempotency_key="c-1")
    assert again.id == comment.id
    assert comment.author is not None
    assert comment.author.username == "alice"
    unknown = world.adapter.add_comment(key, "Hi", UserRef(username="ghost"), idempotency_key="c2")
    assert unknown.author is not None
    assert unknown.author.username == "sync"
    replica = world.adapter.get(key)
    assert replica is not None
    assert [c.id for c in replica.hub_issue.comments] == [comment.id, unknown.id]

    # The sync user edits and deletes the author's comment as a project admin.
    edited = world.adapter.edit_comment(key, comment.id, "Hello again")
    assert edited.body == "Hello again"
    assert edited.id == comment.id
    world.adapter.delete_comment(key, comment.id)
    world.adapter.delete_comment(key, comment.id)  # gone already: no error
    world.adapter.delete_comment("SYN-999", "1")
    replica = world.adapter.get(key)
    assert replica is not None
    assert [c.id for c in replica.hub_issue.comments] == [unknown.id]
    with pytest.raises(NotFoundError):
        world.adapter.edit_comment(key, comment.id, "Too late")


def test_attachments_add_read_delete(world: World) -> None:
    key = world.create("Files")
    blobs = world.services.tracker.blobs
    content = b"hello attachment"
    digest = hashlib.sha256(content).hexdigest()
    attachment = world.adapter.add_attachment(
        key, "a.txt", "text/plain", content, idempotency_key="a-1"
    )
    assert attachment.checksum == digest
    assert (attachment.filename, attachment.mimetype, attachment.filesize) == (
        "a.txt",
        "text/plain",
        len(content),
    )
    # A retry (with other content, even) returns the first attachment and keeps no new blob.
    again = world.adapter.add_attachment(
        key, "a.txt", "text/plain", b"other", idempotency_key="a-1"
    )
    assert again.id == attachment.id
    assert not blobs.exists(hashlib.sha256(b"other").hexdigest())
    replica = world.adapter.get(key)
    assert replica is not None
    assert [a.checksum for a in replica.hub_issue.attachments] == [digest]
    assert world.adapter.read_attachment(attachment.id) == content

    world.adapter.delete_attachment(key, attachment.id)
    assert not blobs.exists(digest)
    world.adapter.delete_attachment(key, attachment.id)  # gone already: no error
    with pytest.raises(NotFoundError):
        world.adapter.read_attachment(attachment.id)
    with pytest.raises(TrackerRejectedError, match="file"):
        world.adapter.add_attachment(key, "", "text/plain", b"x", idempotency_key="a-2")


def test_deleted_since_reports_issues_and_their_subtasks(world: World) -> None:
    before = world.adapter.clock_ms()
    parent = world.create("Doomed")
    child = world.adapter.create(
        IssueDraft(issue_type="Sub-task", fields={"summary": "Child"}, parent_key=parent),
        idempotency_key="doomed-child",
    ).key
    kept = world.create("Kept")
    assert world.adapter.deleted_since(None) == []
    with world.services.tracker.write(world.admin) as op:
        issues.delete_issue(op, parent, delete_subtasks=True)
    deleted = world.adapter.deleted_since(before)
    assert {d.key for d in deleted} == {parent, child}
    assert all(d.deleted_ms >= before for d in deleted)
    assert world.adapter.deleted_since(world.adapter.clock_ms() + 1000) == []
    assert world.adapter.get(parent) is None
    assert world.adapter.get(kept) is not None
    with pytest.raises(NotFoundError):
        world.adapter.create(
            IssueDraft(issue_type="Sub-task", fields={"summary": "Child"}, parent_key=parent),
            idempotency_key="doomed-child",
        )


def test_find_user_by_email_then_login(world: World) -> None:
    found = world.adapter.find_user(UserRef(email="ALICE@example.TEST", username="bob"))
    assert found is not None
    assert (found.username, found.email, found.display_name) == (
        "alice",
        "Alice@Example.test",
        "alice",
    )
    by_login = world.adapter.find_user(UserRef(email="nobody@example.test", username="bob"))
    assert by_login is not None
    assert by_login.username == "bob"
    assert world.adapter.find_user(UserRef(email="nobody@example.test")) is None


def test_refused_writes_are_tracker_rejections(world: World) -> None:
    key = world.create("Target")
    with pytest.raises(TrackerRejectedError, match="priority") as refused:
        world.adapter.update(key, {"priority": "Nope"})
    assert "priority" in refused.value.field_errors
    with pytest.raises(TrackerRejectedError, match="Nonsense"):
        world.adapter.update(key, {"Nonsense": "x"})
    with pytest.raises(TrackerRejectedError, match="ghost"):
        world.adapter.update(key, {"assignee": {"email": None, "username": "ghost"}})
    with pytest.raises(TrackerRejectedError, match="summary"):
        world.adapter.create(IssueDraft(issue_type="Task", fields={}), idempotency_key="bad")
    with pytest.raises(NotFoundError):
        world.adapter.update("SYN-999", {"summary": "x"})
    with pytest.raises(NotFoundError):
        world.adapter.add_comment("OTH-1", "x", None, idempotency_key="elsewhere")
    replica = world.adapter.get(key)
    assert replica is not None
    assert replica.hub_issue.summary == "Target"


def test_connection_report(world: World) -> None:
    report = world.adapter.test_connection()
    assert report.ok, report
    assert {c.name for c in report.checks} == {"user", "project", "write"}
    missing = local_adapter_for(world.services.tracker, "NOPE", "sync").test_connection()
    assert not missing.ok
    assert [c.name for c in missing.checks if not c.ok] == ["project", "write"]
    with pytest.raises(ConfigurationError, match="ghost"):
        local_adapter_for(world.services.tracker, "SYN", "ghost")


# -- batches and rendering ------------------------------------------------------------------


def _new(
    summary: str, key: str, *comments: tuple[str, UserRef | None], **fields: FieldValue
) -> NewIssue:
    drafts = tuple(
        CommentDraft(body=body, idempotency_key=f"{key}:c{n}", author=author)
        for n, (body, author) in enumerate(comments)
    )
    return NewIssue(
        IssueDraft(issue_type="Task", fields={"summary": summary, **fields}),
        idempotency_key=key,
        comments=drafts,
    )


def _counts(world: World) -> tuple[int, int]:
    with world.services.uow_factory(readonly=True) as uow:
        issues_n = uow.session.scalar(select(func.count()).select_from(Issue))
        comments_n = uow.session.scalar(select(func.count()).select_from(Comment))
    return int(issues_n or 0), int(comments_n or 0)


def test_create_many_makes_each_issue_and_comment_once(world: World) -> None:
    make_project_admin(world.services, "sync", "SYN")  # to write in the authors' names
    alice = UserRef(username="alice")
    by_mail = UserRef(email="BOB@example.test")
    requests = [
        _new("First", "b-1", ("Hello", alice), ("Hi", by_mail), labels=["x"]),
        _new("Second", "b-2", ("Who?", UserRef(username="ghost"))),
        dataclasses.replace(_new("Third", "b-3"), status="In Progress"),
    ]
    made = world.adapter.create_many(requests)

    assert [m.replica.hub_issue.summary for m in made] == ["First", "Second", "Third"]
    first, second, third = made
    assert [c.body for c in first.comments] == ["Hello", "Hi"]
    assert [c.author.username for c in first.comments if c.author] == ["alice", "bob"]
    assert second.comments[0].author is not None
    assert second.comments[0].author.username == "sync"  # unknown here: the sync user's
    assert first.replica.hub_issue.comments == list(first.comments)
    assert first.replica.hub_issue.labels[0].label == "x"
    assert third.replica.hub_issue.status is not None
    assert third.replica.hub_issue.status.name == "In Progress"
    assert world.adapter.get(first.replica.key) == first.replica

    before = _counts(world)
    again = world.adapter.create_many(requests)  # a retry after a crash
    assert _counts(world) == before
    assert [m.replica.key for m in again] == [m.replica.key for m in made]
    assert [c.id for c in again[0].comments] == [c.id for c in first.comments]

    # A comment added to the batch later (its issue made already) is made once too.
    longer = dataclasses.replace(
        requests[1], comments=(*requests[1].comments, CommentDraft("More", "b-2:more"))
    )
    (grown,) = world.adapter.create_many([longer])
    assert grown.replica.key == second.replica.key
    assert [c.body for c in grown.comments] == ["Who?", "More"]
    assert _counts(world) == (before[0], before[1] + 1)


def test_create_many_refuses_a_batch_with_a_bad_issue_as_a_whole(world: World) -> None:
    before = _counts(world)
    bad = _new("Bad", "bad-1", priority="No such priority")
    with pytest.raises(TrackerRejectedError) as caught:
        world.adapter.create_many([_new("Good", "good-1", ("note", None)), bad])
    assert "priority" in caught.value.describe()
    assert _counts(world) == before  # nothing half-made


def test_create_each_is_the_same_one_call_at_a_time(world: World) -> None:
    requests = [
        _new("One", "e-1", ("a", UserRef(username="alice")), ("b", None)),
        dataclasses.replace(_new("Two", "e-2"), status="Done"),
    ]
    made = create_each(world.adapter, requests)
    assert [m.replica.hub_issue.summary for m in made] == ["One", "Two"]
    assert [c.body for c in made[0].comments] == ["a", "b"]
    assert made[0].replica.hub_issue.comments == list(made[0].comments)
    assert made[1].replica.hub_issue.status is not None
    assert made[1].replica.hub_issue.status.name == "Done"
    assert create_each(world.adapter, requests)[0].replica.key == made[0].replica.key


def test_changed_since_leaves_out_issues_known_at_their_update_time(world: World) -> None:
    keys = [world.create(f"Issue {n}") for n in range(4)]
    everything = [r for page in world.adapter.changed_since(None, [], page_size=2) for r in page]
    known = {r.key: r.updated for r in everything}
    assert list(world.adapter.changed_since(None, [], page_size=2, known=known)) == []

    world.adapter.update(keys[1], {"summary": "Changed"})
    pages = list(world.adapter.changed_since(None, [], page_size=2, known=known))
    assert [r.key for page in pages for r in page] == [keys[1]]


def _jira_fields_only(replica: Replica) -> Replica:
    """The replica without what Jira's issue fields do not show: the project's lead,
    versions and components, the watchers, the estimate and the time spent (see
    test_local_replica_keys.py)."""
    issue = replica.hub_issue
    assert issue.project is not None
    project = issue.project.model_copy(update=dict.fromkeys(("lead", "versions", "components")))
    update = dict.fromkeys(("watchers", "watches", "estimate", "spent"))
    hub_issue = issue.model_copy(update=update | {"project": project})
    return replica.model_copy(update={"hub_issue": hub_issue})


def test_replicas_are_what_the_jira_json_of_the_issue_reads_as(world: World) -> None:
    """The direct renderer and Jira JSON read by ``fieldcodec`` agree on every kind of field."""
    _add_review_workflow(world)
    parent = world.create("Parent")
    full = world.create("Full")
    world.adapter.update(full, EVERY_KIND_OF_FIELD)
    world.adapter.add_comment(full, "Hello", UserRef(username="alice"), idempotency_key="r-1")
    world.adapter.add_attachment(full, "a.txt", "text/plain", b"abc", idempotency_key="r-2")
    world.adapter.transition(full, "Done")
    child = world.adapter.create(
        IssueDraft(issue_type="Sub-task", fields={"summary": "Child"}, parent_key=parent),
        idempotency_key="r-3",
    ).key
    keys = [parent, full, child]
    with world.services.tracker.read(world.admin) as op:
        rows = [op.issue(key) for key in keys]
        direct = replicas.render_replicas(op, rows)
        custom = replicas.custom_fields(op)
        via_jira = [
            fieldcodec.issue_to_replica(body, custom)
            for body in op.renderer().issues(rows, replicas.SELECTION)
        ]
    assert [r.hub_issue.watches for r in direct] == [0, 0, 0]  # a part of its own
    direct = [_jira_fields_only(r) for r in direct]
    assert direct == via_jira
    assert [r.to_json() for r in direct] == [r.to_json() for r in via_jira]
    assert direct[1].hub_issue.resolution is not None  # every part was there to compare
    assert direct[1].hub_issue.attachments
    assert direct[1].hub_issue.custom_fields["Reviewers"].value
    assert direct[2].hub_issue.parent_key == parent
