"""The ``jira`` adapter against the built-in tracker's Jira REST v2 API, over real HTTP.

Only the retry test uses ``httpx.MockTransport``: a 429 the built-in tracker never sends.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import select
from tracker_helpers import API, create_issue, create_project

from issuesync.domain.replica import FieldValue, UserRef
from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import CommentDraft, IssueDraft, NewIssue, Tracker
from issuesync.trackers.jira import JiraAdapter, JiraClient, jira_adapter_for
from issuesync.trackers.jira.receipts import property_key
from issuesync.trackers.local.models import (
    Issue,
    Project,
    ProjectStatus,
    Status,
    StatusCategory,
    Transition,
)
from issuesync.trackers.local.refdata import bump_reference_revision

PASSWORD = "admin-secret"  # tests/conftest.py's ADMIN_PASSWORD


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: the adapter speaks HTTP, the database behind it is not what is tested."""
    return sqlite_url


@pytest.fixture
def project(admin: httpx.Client) -> str:
    create_project(admin, "JRA")
    create_project(admin, "OTH")
    response = admin.post(
        f"{API}/field", json={"name": "Severity", "type": "option", "options": ["Low", "High"]}
    )
    assert response.status_code == 201, response.text
    return "JRA"


def _access(server: str, *, password: str = PASSWORD, key: str = "JRA") -> TrackerAccess:
    return TrackerAccess("jira", key, server, "admin", ("password", password))


@pytest.fixture
def jira(server: str, project: str) -> Iterator[Tracker]:
    adapter = jira_adapter_for(_access(server, key=project))
    yield adapter
    adapter.close()


def _draft(summary: str, **fields: FieldValue) -> IssueDraft:
    return IssueDraft(issue_type="Task", fields={"summary": summary, **fields})


def test_describe_reads_types_statuses_priorities_and_custom_fields(jira: Tracker) -> None:
    schema = jira.describe()
    assert schema.key == "JRA"
    assert "Task" in schema.issue_types
    assert "Sub-task" in schema.subtask_types
    assert "Sub-task" not in schema.issue_types
    assert schema.statuses[:3] == ("To Do", "In Progress", "Done")
    assert "Medium" in schema.priorities
    severity = schema.field("severity")
    assert severity is not None
    assert severity.custom
    assert severity.type == "option"
    assert severity.id.startswith("customfield_")


def test_create_get_update_and_custom_fields(jira: Tracker) -> None:
    made = jira.create(
        _draft("First", description="Some text", labels=["b", "a"], Severity="High"),
        idempotency_key="k-1",
    )
    assert made.key.startswith("JRA-")
    hub = made.hub_issue
    assert hub.summary == "First"
    assert hub.status is not None
    assert hub.status.name == "To Do"
    assert hub.custom_fields["Severity"].value == "High"
    # The same key again: what the first call made, no second issue.
    again = jira.create(_draft("First"), idempotency_key="k-1")
    assert again.key == made.key

    updated = jira.update(made.key, {"summary": "Renamed", "priority": "High", "status": "Done"})
    assert updated.hub_issue.summary == "Renamed"
    assert updated.hub_issue.priority is not None
    assert updated.hub_issue.priority.name == "High"
    assert updated.hub_issue.status is not None
    assert updated.hub_issue.status.name == "Done"
    got = jira.get(made.key)
    assert got is not None
    assert got.hub_issue.summary == "Renamed"
    assert jira.get("JRA-999") is None


def test_issue_of_another_project_is_not_found(jira: Tracker, admin: httpx.Client) -> None:
    other = create_issue(admin, "OTH")
    assert jira.get(other) is None


def test_create_with_status_and_many(jira: Tracker) -> None:
    made = jira.create(_draft("Started", status="In Progress"), idempotency_key="s-1")
    assert made.hub_issue.status is not None
    assert made.hub_issue.status.name == "In Progress"
    created = jira.create_many(
        [NewIssue(_draft(f"Bulk {n}"), idempotency_key=f"bulk-{n}", status="Done") for n in (1, 2)]
    )
    assert [c.replica.hub_issue.summary for c in created] == ["Bulk 1", "Bulk 2"]
    assert [c.replica.hub_issue.status for c in created] == [
        created[0].replica.hub_issue.status
    ] * 2
    assert created[0].replica.hub_issue.status is not None
    assert created[0].replica.hub_issue.status.name == "Done"


class CountingTransport(httpx.BaseTransport):
    """Real HTTP, with each request's method and path noted (a wrapper, not a fake)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Note the request and send it."""
        path = request.url.path.removeprefix("/rest/api/2/")
        self.requests.append(f"{request.method} {path}")
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the real transport."""
        self._inner.close()


def test_a_create_or_edit_reads_its_issue_once_unless_it_moves(server: str, project: str) -> None:
    """A create in the initial status is the POST and one read of the issue (the engine
    needs its fields and update time); a create that moves reads the issue again after the
    transition; an edit that leaves the status is the PUT and one read."""
    counted = CountingTransport()
    jira = jira_adapter_for(_access(server, key=project), transport=counted)
    try:
        jira.create(_draft("Warm-up", status="To Do"), idempotency_key="w-1")  # the schema
        counted.requests.clear()
        made = jira.create(_draft("Counted", status="To Do"), idempotency_key="c-1")
        assert made.hub_issue.status is not None
        assert made.hub_issue.status.name == "To Do"
        assert counted.requests == ["POST issue", f"GET issue/{made.key}"]
        counted.requests.clear()
        edited = jira.update(made.key, {"summary": "Edited", "status": "To Do"})
        assert edited.hub_issue.summary == "Edited"
        assert counted.requests == [f"PUT issue/{made.key}", f"GET issue/{made.key}"]
        counted.requests.clear()
        moved = jira.create(_draft("Moved", status="Done"), idempotency_key="c-2")
        assert moved.hub_issue.status is not None
        assert moved.hub_issue.status.name == "Done"
        reads = [r for r in counted.requests if r == f"GET issue/{moved.key}"]
        assert counted.requests[0] == "POST issue"
        assert len(reads) == 2  # before the transitions (where it is) and after
        assert f"POST issue/{moved.key}/transitions" in counted.requests
    finally:
        jira.close()


def test_create_many_with_comments_is_a_post_each_and_one_read(server: str, project: str) -> None:
    """An issue with 2 comments, in its initial status: the create, the 2 comments and one
    read of the issue as they left it (no read of the new issue's no comments, no read
    before the comments); the replica has the comments."""
    counted = CountingTransport()
    jira = jira_adapter_for(_access(server, key=project), transport=counted)
    try:
        jira.create(_draft("Warm-up"), idempotency_key="w-1")  # the schema, the receipts
        counted.requests.clear()
        new = NewIssue(
            _draft("With comments"),
            idempotency_key="m-1",
            status="To Do",
            comments=(CommentDraft("One", "m-1/c1"), CommentDraft("Two", "m-1/c2")),
        )
        [created] = jira.create_many([new])
        key = created.replica.key
        assert [c.body for c in created.replica.hub_issue.comments] == ["One", "Two"]
        assert [c.body for c in created.comments] == ["One", "Two"]
        assert counted.requests == [
            "POST issue",
            f"POST issue/{key}/comment",
            f"POST issue/{key}/comment",
            f"GET issue/{key}",
        ]
        counted.requests.clear()
        [again] = jira.create_many([new])  # a retry: found by its key, nothing made twice
        assert again.replica.key == key
        assert [c.id for c in again.comments] == [c.id for c in created.comments]
        assert not [r for r in counted.requests if not r.startswith("GET")]
    finally:
        jira.close()


class IndexBehind(CountingTransport):
    """Real HTTP, where a search's answer leaves out the issues named in ``hidden`` and the
    comments of those in ``uncommented`` (a Data Center node whose index lags the write)."""

    def __init__(self, hidden: set[str], uncommented: set[str]) -> None:
        super().__init__()
        self.hidden = hidden
        self.uncommented = uncommented

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send it; a search's answer as the lagging index would give it."""
        response = super().handle_request(request)
        if not request.url.path.endswith("/search"):
            return response
        answer = json.loads(response.read())
        answer["issues"] = [i for i in answer["issues"] if i["key"] not in self.hidden]
        for issue in answer["issues"]:
            if issue["key"] in self.uncommented:
                issue["fields"]["comment"] = {"comments": [], "total": 0, "maxResults": 0}
        return httpx.Response(response.status_code, headers=response.headers, json=answer)


def _with_comments(summary: str, key: str) -> NewIssue:
    comments = (CommentDraft("One", f"{key}/c1"), CommentDraft("Two", f"{key}/c2"))
    return NewIssue(_draft(summary), idempotency_key=key, status="To Do", comments=comments)


def test_create_many_reads_the_issues_back_in_one_search(server: str, project: str) -> None:
    """Three issues of two comments: their creates and comments, then one search for the
    three (not a GET each); each replica has its comments, as a GET would give them."""
    counted = CountingTransport()
    jira = jira_adapter_for(_access(server, key=project), transport=counted)
    try:
        jira.create(_draft("Warm-up"), idempotency_key="w-1")  # the schema, the receipts
        counted.requests.clear()
        made = jira.create_many([_with_comments(f"Many {n}", f"r-{n}") for n in range(3)])
        keys = [m.replica.key for m in made]
        assert [m.replica.hub_issue.summary for m in made] == ["Many 0", "Many 1", "Many 2"]
        for created in made:
            assert [c.body for c in created.replica.hub_issue.comments] == ["One", "Two"]
            alone = jira.get(created.replica.key)
            assert alone is not None
            assert alone.hub_issue.updated == created.replica.hub_issue.updated
        writes = [f"POST issue/{k}/comment" for k in keys]
        assert [r for r in counted.requests if r.startswith("POST")] == [
            r for k, w in zip(keys, writes, strict=True) for r in ("POST issue", w, w)
        ]
        reads = [r for r in counted.requests if r.startswith("GET")]
        assert reads[: len(reads) - len(keys)] == ["GET search"]
    finally:
        jira.close()


def test_create_many_reads_alone_what_a_lagging_index_misses(server: str, project: str) -> None:
    """An issue the search does not find, and one it finds without the comments just
    written, are each read alone; the third is taken from the search."""
    lagging = IndexBehind(hidden=set(), uncommented=set())
    jira = jira_adapter_for(_access(server, key=project), transport=lagging)
    try:
        number = int(jira.create(_draft("Warm-up"), idempotency_key="w-1").key.split("-")[1])
        keys = [f"JRA-{number + n}" for n in (1, 2, 3)]  # the project's next keys
        lagging.hidden, lagging.uncommented = {keys[0]}, {keys[1]}
        lagging.requests.clear()
        made = jira.create_many([_with_comments(f"Lag {n}", f"l-{n}") for n in range(3)])
        assert [m.replica.key for m in made] == keys
        for created in made:
            assert [c.body for c in created.replica.hub_issue.comments] == ["One", "Two"]
        gets = [r for r in lagging.requests if r.startswith("GET issue/")]
        assert gets == [f"GET issue/{keys[0]}", f"GET issue/{keys[1]}"]
    finally:
        jira.close()


def test_subtask_under_parent(jira: Tracker) -> None:
    parent = jira.create(_draft("Parent"), idempotency_key="p")
    child = jira.create(
        IssueDraft("Sub-task", {"summary": "Child"}, parent_key=parent.key),
        idempotency_key="c",
    )
    assert child.hub_issue.parent_key == parent.key
    assert child.hub_issue.issue_type is not None
    assert child.hub_issue.issue_type.name == "Sub-task"


def _principal(services: Services, name: str) -> Principal:
    with services.uow_factory(readonly=True) as uow:
        user = uow.session.scalar(select(User).where(User.name == name))
        assert user is not None
        return Principal.of(user)


def _add_review_workflow(services: Services) -> None:
    """In Progress -> In Review -> Done, and an Archived status nothing leads to."""
    with services.tracker.write(_principal(services, "admin")) as op:
        project = op.project("JRA")
        progress = op.ref.statuses.by_name["in progress"]
        done = op.ref.statuses.by_name["done"]
        review = Status(name="In Review", category=StatusCategory.IN_PROGRESS.value)
        archived = Status(name="Archived", category=StatusCategory.DONE.value)
        op.session.add_all([review, archived])
        op.session.flush()
        for position, status in enumerate((review, archived), start=3):
            op.session.add(
                ProjectStatus(project_id=project.id, status_id=status.id, position=position)
            )
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


def test_transition_finds_a_path_and_names_a_missing_one(jira: Tracker, services: Services) -> None:
    _add_review_workflow(services)
    key = jira.create(_draft("Moving"), idempotency_key="m").key
    moved = jira.transition(key, "in review")  # To Do -> In Progress -> In Review
    assert moved.hub_issue.status is not None
    assert moved.hub_issue.status.name == "In Review"
    assert jira.transition(key, "In Review").hub_issue.status == moved.hub_issue.status
    with pytest.raises(TrackerRejectedError, match="Archived") as caught:
        jira.transition(key, "Archived")
    assert "status" in caught.value.field_errors
    with pytest.raises(TrackerRejectedError, match="no status 'Nowhere'"):
        jira.transition(key, "Nowhere")


def test_changed_since_pages_grow_and_known_is_left_out(jira: Tracker) -> None:
    before = jira.clock_ms()
    keys = [jira.create(_draft(f"Issue {n}"), idempotency_key=f"cs-{n}").key for n in range(9)]
    pages = list(jira.changed_since(before, [], page_size=4))
    assert [len(p) for p in pages] == [1, 2, 4, 2]
    seen = [r.key for page in pages for r in page]
    assert seen == keys  # oldest update first
    known = {r.key: r.hub_issue.updated or 0 for page in pages for r in page[:1]}
    rest = [
        r.key for page in jira.changed_since(before, [], page_size=4, known=known) for r in page
    ]
    assert sorted(rest) == sorted(set(keys) - set(known))
    # A query narrows, and an issue changed since is read at its new time.
    jira.update(keys[0], {"labels": ["picked"]})
    picked = [r.key for p in jira.changed_since(before, ["labels = picked"]) for r in p]
    assert picked == [keys[0]]
    assert list(jira.changed_since(jira.clock_ms() + 120_000, [])) == []


def test_changed_since_never_skips_an_issue_changed_while_paging(jira: Tracker) -> None:
    before = jira.clock_ms()
    keys = [jira.create(_draft(f"Issue {n}"), idempotency_key=f"mv-{n}").key for n in range(6)]
    read: list[str] = []
    for number, page in enumerate(jira.changed_since(before, [], page_size=2)):
        read.extend(r.key for r in page)
        if number == 0:
            # One already read and one not read yet move to the end of the order.
            jira.update(keys[0], {"summary": "Changed"})
            jira.update(keys[3], {"summary": "Changed"})
    assert set(read) == set(keys)
    assert read.count(keys[0]) == 2  # read again at its new update time
    assert read.count(keys[3]) == 1
    assert read[-1] == keys[0]


def test_changed_since_refuses_a_bad_query(jira: Tracker) -> None:
    jira.create(_draft("Any"), idempotency_key="bad-q")
    with pytest.raises(ConfigurationError, match="JRA"):
        list(jira.changed_since(None, ["nosuchfield = 1"]))


def test_matching(jira: Tracker) -> None:
    a = jira.create(_draft("A", labels=["x"]), idempotency_key="ma").key
    b = jira.create(_draft("B"), idempotency_key="mb").key
    assert jira.matching([a, b, "JRA-404"], ["labels = x"]) == {a}
    assert jira.matching([a, b], []) == {a, b}
    assert jira.deleted_since(None) == []


def test_comments_add_edit_delete(jira: Tracker) -> None:
    key = jira.create(_draft("Talk"), idempotency_key="t").key
    comment = jira.add_comment(key, "Hello", None, idempotency_key="c-1")
    assert comment.body == "Hello"
    assert jira.add_comment(key, "Hello", None, idempotency_key="c-1").id == comment.id
    named = jira.add_comment(key, "Hi", UserRef(display_name="Ann"), idempotency_key="c-2")
    assert "Ann" in named.body
    edited = jira.edit_comment(key, comment.id, "Hello again")
    assert edited.body == "Hello again"
    jira.delete_comment(key, comment.id)
    jira.delete_comment(key, comment.id)  # gone already: no error
    replica = jira.get(key)
    assert replica is not None
    assert [c.body for c in replica.hub_issue.comments] == [named.body]


def test_attachments_upload_download_delete(jira: Tracker) -> None:
    key = jira.create(_draft("Files"), idempotency_key="f").key
    content = b"\x00binary\xffcontent" * 100
    attached = jira.add_attachment(key, "a.bin", "application/octet-stream", content,
                                   idempotency_key="a-1")  # fmt: skip
    assert attached.filename == "a.bin"
    assert attached.filesize == len(content)
    assert jira.read_attachment(attached.id) == content
    again = jira.add_attachment(key, "a.bin", "application/octet-stream", content,
                                idempotency_key="a-1")  # fmt: skip
    assert again.id == attached.id
    jira.delete_attachment(key, attached.id)
    jira.delete_attachment(key, attached.id)  # gone already: no error
    with pytest.raises(NotFoundError):
        jira.read_attachment(attached.id)


def test_find_user(jira: Tracker, make_client: Callable[..., httpx.Client]) -> None:
    make_client("carol", email="Carol@Example.test")
    by_mail = jira.find_user(UserRef(email="carol@example.test"))
    assert by_mail is not None
    assert by_mail.username == "carol"
    by_name = jira.find_user(UserRef(username="carol", email="nobody@example.test"))
    assert by_name is not None
    assert by_name.username == "carol"
    assert jira.find_user(UserRef(username="car")) is None


@pytest.mark.usefixtures("project")
def test_connection_ok_and_with_a_wrong_password(server: str) -> None:
    with JiraAdapterScope(_access(server)) as good:
        report = good.test_connection()
    assert report.ok, report
    assert [c.name for c in report.checks] == [
        "reachable",
        "authenticated",
        "project",
        "permissions",
    ]
    with JiraAdapterScope(_access(server, password="wrong-horse")) as bad:
        failed = bad.test_connection()
        with pytest.raises(AuthenticationError) as caught:
            bad.get("JRA-1")
    assert not failed.ok
    assert failed.checks[0].ok  # it answered
    assert failed.checks[-1].name == "authenticated"
    assert not failed.checks[-1].ok
    assert "wrong-horse" not in repr(failed)
    assert "wrong-horse" not in str(caught.value)
    with JiraAdapterScope(_access(server, key="NOPE")) as missing:
        no_project = missing.test_connection()
    assert [c.ok for c in no_project.checks] == [True, True, False]


class JiraAdapterScope:
    """An adapter closed at the end of a ``with``."""

    def __init__(self, access: TrackerAccess) -> None:
        self.adapter = jira_adapter_for(access)

    def __enter__(self) -> Tracker:
        return self.adapter

    def __exit__(self, *_: object) -> None:
        self.adapter.close()


def test_errors_are_translated(jira: Tracker) -> None:
    with pytest.raises(NotFoundError):
        jira.update("JRA-404", {"summary": "x"})
    key = jira.create(_draft("Valid"), idempotency_key="v").key
    with pytest.raises(TrackerRejectedError) as caught:
        jira.update(key, {"priority": "Urgentest"})
    assert "priority" in caught.value.field_errors
    with pytest.raises(TrackerRejectedError) as caught:
        jira.update(key, {"No Such Field": "x"})
    assert "No Such Field" in caught.value.field_errors
    with pytest.raises(NotFoundError):
        jira.add_comment("JRA-404", "x", None, idempotency_key="nope")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_a_server_that_is_down_is_offline() -> None:
    access = TrackerAccess(
        "jira", "JRA", f"http://127.0.0.1:{_free_port()}", "admin", ("password", "s3cret")
    )
    adapter = jira_adapter_for(access, timeout_s=5)
    try:
        with pytest.raises(TrackerOfflineError) as caught:
            adapter.get("JRA-1")
        assert "s3cret" not in str(caught.value)
        report = adapter.test_connection()
        assert not report.ok
        assert report.checks[0].name == "reachable"
        assert "s3cret" not in repr(report)
    finally:
        adapter.close()


def test_429_then_200_is_retried_honouring_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(503),
            httpx.Response(200, json={"serverTime": "2030-01-01T00:00:00.000+0000"}),
        ]
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    waits: list[float] = []
    client = JiraClient(
        "https://jira.example.test",
        httpx.BasicAuth("sync", "pw"),
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
    )
    adapter = JiraAdapter(client, "JRA")
    server_ms = adapter.clock_ms()
    assert abs(server_ms - 1_893_456_000_000) < 60_000
    assert waits == [2.0, 1.0]  # Retry-After, then the back-off of the second attempt
    assert all(r.headers["Authorization"].startswith("Basic ") for r in seen)


def test_retries_are_bounded_then_offline() -> None:
    calls = 0

    def handler(_: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"errorMessages": ["maintenance"]})

    waits: list[float] = []
    client = JiraClient(
        "https://jira.example.test",
        None,
        transport=httpx.MockTransport(handler),
        sleep=waits.append,
    )
    with pytest.raises(TrackerOfflineError, match="maintenance"):
        client.get("serverInfo")
    assert sum(waits) <= 10
    assert calls == len(waits) + 1
    # A 500 on a write is not retried: Jira may have done it.
    calls = 0
    with pytest.raises(TrackerOfflineError):
        JiraClient(
            "https://jira.example.test",
            None,
            transport=httpx.MockTransport(lambda _: httpx.Response(500)),
            sleep=waits.append,
        ).post("issue", {})


def test_bearer_token_without_a_user(server: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization", ""))
        return httpx.Response(200, json={"serverTime": "2030-01-01T00:00:00.000+0000"})

    access = TrackerAccess("jira", "JRA", server, None, ("token", "pat-123"))
    adapter = jira_adapter_for(access, transport=httpx.MockTransport(handler))
    adapter.clock_ms()
    assert seen == ["Bearer pat-123"]
    assert "pat-123" not in repr(adapter)
    assert "pat-123" not in repr(access)


@pytest.mark.parametrize(
    "entity",
    [
        {"properties": [{"key": "issuesync.idempotency", "value": {"key": "k"}}]},
        {"properties": {"issuesync.idempotency": {"key": "k"}}},
        {"properties": {"properties": {"issuesync.idempotency": {"key": "k"}}}},
    ],
)
def test_idempotency_property_is_read_in_each_of_jiras_shapes(entity: dict[str, object]) -> None:
    assert property_key(entity) == "k"
    assert property_key({"properties": {}}) is None


def test_a_thousand_issues_changed_in_one_minute_are_read_a_hundred_keys_at_a_time(
    jira: Tracker, admin: httpx.Client
) -> None:
    """Unknown to the caller, they are read by ``key in`` searches of at most a hundred keys
    (the built-in tracker refuses JQL texts over 10,000 characters: a thousand keys are
    11,000), and come back oldest first."""
    for start in range(0, 1000, 50):
        issues = [
            {
                "fields": {
                    "project": {"key": "JRA"},
                    "issuetype": {"name": "Task"},
                    "summary": f"n{n}",
                }
            }
            for n in range(start, start + 50)
        ]
        made = admin.post(f"{API}/issue/bulk", json={"issueUpdates": issues})
        assert made.status_code == 201, made.text
    pages = list(jira.changed_since(None, [], page_size=4000))  # a first page of 1,000
    read = [replica for page in pages for replica in page]
    assert len(read) == 1000
    assert len({r.key for r in read}) == 1000
    times = [(r.hub_issue.updated or 0) for r in read]
    assert times == sorted(times)


def test_a_known_time_of_a_whole_second_proves_as_much_once_jira_showed_milliseconds(
    jira: Tracker, services: Services
) -> None:
    before = jira.clock_ms()
    keys = [jira.create(_draft(f"Timed {n}"), idempotency_key=f"ms-{n}").key for n in range(3)]

    def at(times: list[int]) -> dict[str, int]:
        with services.uow_factory() as uow:
            for key, ms in zip(keys, times, strict=True):
                number = int(key.split("-")[1])
                issue = uow.session.scalars(
                    select(Issue).join(Project).where(Project.key == "JRA", Issue.number == number)
                ).one()
                issue.updated_ms = ms
            uow.commit()
        return dict(zip(keys, times, strict=True))

    # Only whole seconds: this server may keep no more, so a known time proves nothing.
    second = (before // 1000 + 1) * 1000
    known = at([second, second + 1000, second + 2000])
    assert sorted(r.key for p in jira.changed_since(before, [], known=known) for r in p) == keys
    # One time with milliseconds: the server keeps them, and every known time counts.
    known = at([second, second + 1001, second + 2000])
    assert list(jira.changed_since(before, [], known=known)) == []
