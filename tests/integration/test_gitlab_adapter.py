"""The ``gitlab`` adapter against the stateful fake GitLab (``issuesync.testing.fake_gitlab``).

Errors at the edge, the rate limit (429s waited out through an injected sleep,
the budget holding back before GitLab refuses), the field mapping, notes and
uploads, idempotency across a restart, and the requests each synced change costs.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import httpx
import pytest

from issuesync.domain.replica import FieldValue, UserRef, canonical_fields
from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.testing.fake_gitlab import (
    DEVELOPER,
    GUEST,
    MAINTAINER,
    REPORTER,
    FakeGitLab,
    GitLabProject,
    GitLabUser,
)
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import IssueDraft
from issuesync.trackers.credentials import HeaderAuth
from issuesync.trackers.gitlab import GitLabAdapter, GitLabClient, gitlab_adapter_for
from issuesync.trackers.gitlab.client import gitlab_budget
from issuesync.trackers.gitlab.markers import Marker, mark, unmark

BASE = "https://gitlab.example"


@dataclass
class FakeClock:
    """Epoch seconds that move only when something sleeps: for the fake, the budget, the client."""

    now: float = field(default_factory=lambda: float(int(time.time() // 60 * 60)))
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.001)


@dataclass
class World:
    fake: FakeGitLab
    sync: GitLabUser
    dev: GitLabUser
    project: GitLabProject

    def adapter(self, user: GitLabUser | None = None, project: str = "group/app") -> GitLabAdapter:
        token = (user or self.sync).token
        access = TrackerAccess("gitlab", project, BASE, None, ("token", token))
        adapter = gitlab_adapter_for(access, transport=httpx.MockTransport(self.fake))
        assert isinstance(adapter, GitLabAdapter)
        return adapter

    def member(self, username: str, level: int) -> GitLabUser:
        user = self.fake.add_user(username)
        self.project.members[user.id] = level
        return user


class Limits(TypedDict, total=False):
    """FakeGitLab's limits a test may lower."""

    requests_per_minute: int


def _world(clock: FakeClock | None = None, **limits: Unpack[Limits]) -> World:
    fake = FakeGitLab(clock=clock.time, **limits) if clock else FakeGitLab(**limits)
    sync = fake.add_user("sync", name="Sync Bot", email="sync@example.test")
    dev = fake.add_user("dev", name="Dana Dev", email="dana@example.test")
    project = fake.add_project("group/app", members={sync: MAINTAINER, dev: DEVELOPER})
    fake.add_milestone(project, "v1")
    fake.add_milestone(project, "v2")
    return World(fake, sync, dev, project)


@pytest.fixture
def world() -> World:
    return _world()


@pytest.fixture
def gitlab(world: World) -> GitLabAdapter:
    return world.adapter()


def _draft(summary: str, **fields: FieldValue) -> IssueDraft:
    return IssueDraft(issue_type="Issue", fields={"summary": summary, **fields})


def _calls(fake: FakeGitLab, before: Counter[str]) -> Counter[str]:
    return fake.calls - before


# -- errors at the edge -----------------------------------------------------------------------


def test_a_wrong_token_is_an_authentication_error_that_never_shows_the_token(
    world: World,
) -> None:
    access = TrackerAccess("gitlab", "group/app", BASE, None, ("token", "glpat-wrong-secret"))
    adapter = gitlab_adapter_for(access, transport=httpx.MockTransport(world.fake))
    with pytest.raises(AuthenticationError) as caught:
        adapter.describe()
    report = adapter.test_connection()
    assert [(c.name, c.ok) for c in report.checks] == [
        ("reachable", True),
        ("authenticated", False),
    ]
    for text in (str(caught.value), repr(report), repr(adapter), repr(access)):
        assert "glpat-wrong-secret" not in text


def test_http_errors_become_the_project_error_tree(world: World, gitlab: GitLabAdapter) -> None:
    made = gitlab.create(_draft("Guarded"), idempotency_key="k-1")
    guest = world.adapter(world.member("guest", GUEST))
    with pytest.raises(PermissionDeniedError, match="403"):
        guest.update(made.key, {"summary": "Not allowed"})
    with pytest.raises(NotFoundError):
        gitlab.update("4242", {"summary": "Nobody"})
    with pytest.raises(NotFoundError):
        world.adapter(project="group/missing").update(made.key, {"summary": "Nowhere"})
    with pytest.raises(TrackerRejectedError) as blank:
        gitlab.update(made.key, {"summary": ""})
    assert blank.value.field_errors == {"title": "can't be blank"}
    with pytest.raises(TrackerRejectedError, match="title is missing"):
        gitlab.create(_draft(""), idempotency_key="k-2")
    with pytest.raises(TrackerRejectedError) as priority:
        gitlab.update(made.key, {"priority": "High"})
    assert "priority" in priority.value.field_errors


def test_a_refused_connection_is_offline() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    access = TrackerAccess("gitlab", "group/app", f"http://127.0.0.1:{port}", None, ("token", "t"))
    adapter = gitlab_adapter_for(access, timeout_s=2)
    with pytest.raises(TrackerOfflineError, match="cannot be reached"):
        adapter.get("1")
    assert adapter.test_connection().checks[0].ok is False


def test_settings_that_cannot_work_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="token"):
        gitlab_adapter_for(TrackerAccess("gitlab", "g/p", None, "me", ("password", "pw")))
    with pytest.raises(ConfigurationError, match="credentials"):
        gitlab_adapter_for(TrackerAccess("gitlab", "g/p", "https://u:p@gitlab.example", None, None))
    default = gitlab_adapter_for(TrackerAccess("gitlab", "g/p", None, None, ("token", "t")))
    assert "https://gitlab.com" in repr(default)


# -- the rate limit ---------------------------------------------------------------------------


def _timed_adapter(world: World, clock: FakeClock) -> GitLabAdapter:
    """An adapter whose client and budget sleep on ``clock`` (the fake's clock too)."""
    client = GitLabClient(
        BASE,
        HeaderAuth("PRIVATE-TOKEN", world.sync.token),
        transport=httpx.MockTransport(world.fake),
        sleep=clock.sleep,
        budget=gitlab_budget(sleep=clock.sleep, clock=clock.time, wall_clock=clock.time),
    )
    return GitLabAdapter(client, "group/app")


def test_429_is_waited_out_as_retry_after_says() -> None:
    clock = FakeClock()
    world = _world(clock)
    gitlab = _timed_adapter(world, clock)
    world.fake.refuse_next(2, retry_after_s=3)
    made = gitlab.create(_draft("After the wait"), idempotency_key="k")
    assert made.hub_issue.summary == "After the wait"
    assert sum(clock.slept) >= 6
    assert world.fake.calls["POST /projects/:id/issues"] == 1

    world.fake.refuse_next(1, retry_after_s=60)
    with pytest.raises(TrackerOfflineError, match="rate-limited"):
        gitlab.get(made.key)


def test_the_budget_holds_back_when_gitlab_says_none_is_left() -> None:
    """``RateLimit-Remaining: 0`` makes the next request wait for the reset, not meet a 429."""
    clock = FakeClock()
    world = _world(clock, requests_per_minute=3)
    gitlab = _timed_adapter(world, clock)
    for _ in range(3):
        gitlab.get("1")
    assert clock.slept == []
    gitlab.get("1")  # the fourth waits for the next minute
    assert 50 < sum(clock.slept) <= 61
    assert world.fake.calls["GET /projects/:id/issues/:iid"] == 4


# -- mapping ----------------------------------------------------------------------------------


def test_labels_milestone_assignee_and_due_date_round_trip(gitlab: GitLabAdapter) -> None:
    made = gitlab.create(
        _draft(
            "Mapped",
            description="Some *text*\n",
            labels=["bug", "backend"],
            fixVersions=["v1"],
            assignee={"username": "dev", "email": None},
            duedate="2026-12-24",
        ),
        idempotency_key="m-1",
    )
    values = canonical_fields(made.hub_issue)
    assert values["description"] == "Some *text*\n"  # the marker is gone, the text exact
    assert values["labels"] == ["backend", "bug"]
    assert values["fixVersions"] == ["v1"]
    assert values["assignee"] == {"email": None, "username": "dev"}
    assert values["duedate"] == "2026-12-24"
    assert values["reporter"] == {"email": None, "username": "sync"}
    assert values["status"] == "Open"

    after = gitlab.update(
        made.key, {"labels": [], "fixVersions": ["v2"], "assignee": None, "duedate": None}
    )
    values = canonical_fields(after.hub_issue)
    assert (values["labels"], values["fixVersions"]) == ([], ["v2"])
    assert (values["assignee"], values["duedate"]) == (None, None)
    cleared = gitlab.update(made.key, {"fixVersions": [], "status": "Closed"})
    assert canonical_fields(cleared.hub_issue)["fixVersions"] == []
    assert canonical_fields(cleared.hub_issue)["status"] == "Closed"
    with pytest.raises(TrackerRejectedError) as unknown:
        gitlab.update(made.key, {"fixVersions": ["v9"]})
    assert "fixVersions" in unknown.value.field_errors
    with pytest.raises(TrackerRejectedError):
        gitlab.update(made.key, {"assignee": {"username": "nobody"}})
    with pytest.raises(TrackerRejectedError):
        gitlab.update(made.key, {"status": "In Progress"})


def test_incidents_keys_and_schema(world: World, gitlab: GitLabAdapter) -> None:
    incident = gitlab.create(
        IssueDraft(issue_type="Incident", fields={"summary": "Down"}), idempotency_key="i-1"
    )
    assert incident.hub_issue.issue_type is not None
    assert incident.hub_issue.issue_type.name == "Incident"
    for key in (incident.key, f"#{incident.key}", f"group/app#{incident.key}"):
        read = gitlab.get(key)
        assert read is not None
        assert read.key == incident.key
    by_id = world.adapter(project=str(world.project.id))
    assert by_id.get(incident.key) is not None
    schema = gitlab.describe()
    assert schema.statuses == ("Open", "Closed")
    milestone = schema.field("fixVersions")
    assert milestone is not None
    assert milestone.allowed_values == ("v1", "v2")


def test_system_notes_are_not_comments(world: World, gitlab: GitLabAdapter) -> None:
    made = gitlab.create(_draft("Noted"), idempotency_key="n-1")
    world.fake.add_system_note(world.project, int(made.key), "added ~bug label")
    comment = gitlab.add_comment(made.key, "A word", UserRef(username="ann"), idempotency_key="c")
    assert comment.body == "[ann]\nA word"
    read = gitlab.get(made.key)
    assert read is not None
    assert [c.body for c in read.hub_issue.comments] == ["[ann]\nA word"]
    polled = [r for page in gitlab.changed_since(None, []) for r in page]
    assert [c.id for c in polled[0].hub_issue.comments] == [comment.id]


def test_uploads_round_trip_with_their_checksum(world: World, gitlab: GitLabAdapter) -> None:
    made = gitlab.create(_draft("Files"), idempotency_key="f-1")
    content = bytes(range(256)) * 40
    attached = gitlab.add_attachment(
        made.key, "dump.bin", "application/octet-stream", content, idempotency_key="up-1"
    )
    digest = hashlib.sha256(content).hexdigest()
    assert (attached.checksum, attached.filesize) == (digest, len(content))
    read = gitlab.get(made.key)
    assert read is not None
    assert [(a.id, a.checksum, a.filesize) for a in read.hub_issue.attachments] == [
        (attached.id, digest, len(content))
    ]
    assert read.hub_issue.comments == []  # the upload's note is not a comment
    assert gitlab.read_attachment(attached.id) == content

    restarted = world.adapter()
    again = restarted.add_attachment(
        made.key, "dump.bin", "application/octet-stream", content, idempotency_key="up-1"
    )
    assert again.id == attached.id
    assert world.fake.calls["POST /projects/:id/uploads"] == 1

    # An upload a person linked in the description is an attachment too.
    gitlab.update(made.key, {"description": f"See [log](/uploads/{'a' * 32}/log.txt)"})
    read = gitlab.get(made.key)
    assert read is not None
    assert [a.filename for a in read.hub_issue.attachments] == ["log.txt", "dump.bin"]


def test_a_developer_unlinks_an_attachment_a_maintainer_deletes_it(world: World) -> None:
    for user, kept in ((world.member("devon", DEVELOPER), True), (world.sync, False)):
        gitlab = world.adapter(user)
        made = gitlab.create(_draft("Files"), idempotency_key=f"del-{user.username}")
        attached = gitlab.add_attachment(
            made.key, "a.txt", "text/plain", b"abc", idempotency_key=f"a-{user.username}"
        )
        gitlab.delete_attachment(made.key, attached.id)
        read = gitlab.get(made.key)
        assert read is not None
        assert read.hub_issue.attachments == []
        assert (attached.id in world.project.uploads) is kept


def test_creates_and_comments_are_found_again_after_a_restart(world: World) -> None:
    first = world.adapter()
    made = first.create(_draft("Once", description="Body"), idempotency_key="restart-1")
    comment = first.add_comment(made.key, "Hi", None, idempotency_key="restart-c")
    restarted = world.adapter()
    assert restarted.create(_draft("Once"), idempotency_key="restart-1").key == made.key
    again = restarted.add_comment(made.key, "Hi", None, idempotency_key="restart-c")
    assert again.id == comment.id
    assert world.fake.calls["POST /projects/:id/issues"] == 1
    assert world.fake.calls["POST /projects/:id/issues/:iid/notes"] == 1


def test_a_create_whose_answer_was_lost_is_found_before_a_retry(world: World) -> None:
    lost: list[str] = []

    def answer_lost_once(request: httpx.Request) -> httpx.Response:
        response = world.fake(request)
        if request.method == "POST" and not lost:
            lost.append(request.url.path)
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    access = TrackerAccess("gitlab", "group/app", BASE, None, ("token", world.sync.token))
    gitlab = gitlab_adapter_for(access, transport=httpx.MockTransport(answer_lost_once))
    with pytest.raises(TrackerOfflineError):
        gitlab.create(_draft("Lost answer"), idempotency_key="lost-1")
    made = gitlab.create(_draft("Lost answer"), idempotency_key="lost-1")
    lost.clear()
    with pytest.raises(TrackerOfflineError):
        gitlab.add_comment(made.key, "Lost too", None, idempotency_key="lost-c")
    comment = gitlab.add_comment(made.key, "Lost too", None, idempotency_key="lost-c")
    assert world.fake.calls["POST /projects/:id/issues"] == 1
    assert world.fake.calls["POST /projects/:id/issues/:iid/notes"] == 1
    read = gitlab.get(made.key)
    assert read is not None
    assert [c.id for c in read.hub_issue.comments] == [comment.id]


def test_markers_round_trip_exactly_and_survive_odd_keys() -> None:
    for text in ("", "One line", "Trailing newline\n", "Ends in a comment <!-- x -->"):
        for key in ("k", "a --> b", '{"json": "key"}'):
            body, marker = unmark(mark(text, key, "comment", size=3))
            assert (body, marker) == (text, Marker(key, "comment", {"size": 3}))
    assert unmark("No marker <!-- issuesync not json -->") == (
        "No marker <!-- issuesync not json -->",
        None,
    )


def test_the_clock_follows_gitlab_date_beyond_its_whole_seconds(world: World) -> None:
    ahead = FakeClock(now=time.time() + 3600)
    world.fake._clock = ahead.time
    assert abs(world.adapter().clock_ms() - (time.time() + 3600) * 1000) < 2000
    world.fake._clock = time.time
    assert abs(world.adapter().clock_ms() - time.time() * 1000) < 50


def test_find_user_by_username_and_public_email(gitlab: GitLabAdapter) -> None:
    by_name = gitlab.find_user(UserRef(username="DEV"))
    assert by_name is not None
    assert by_name.username == "dev"
    by_mail = gitlab.find_user(UserRef(email="Dana@Example.test", username="other"))
    assert by_mail is not None
    assert (by_mail.username, by_mail.email) == ("dev", "Dana@Example.test")
    assert gitlab.find_user(UserRef(email="x@example.invalid", username="x")) is None


def test_connection_report_names_what_is_missing(world: World) -> None:
    ok = world.adapter().test_connection()
    assert ok.ok
    assert "Reporter" not in repr(ok)
    reporter = world.adapter(world.member("rita", REPORTER)).test_connection()
    assert reporter.ok
    assert "deleting uploads needs Maintainer" in reporter.checks[-1].detail
    guest = world.adapter(world.member("gus", GUEST)).test_connection()
    assert not guest.ok
    assert guest.checks[-1].name == "permissions"
    world.project.issues_enabled = False
    closed = world.adapter().test_connection()
    assert not closed.ok
    assert ("project", False) in [(c.name, c.ok) for c in closed.checks]  # later checks go on
    missing = world.adapter(project="group/none").test_connection()
    assert [(c.name, c.ok) for c in missing.checks][-1] == ("project", False)


# -- polling and queries ----------------------------------------------------------------------


def test_paging_yields_an_issue_changed_meanwhile_again(gitlab: GitLabAdapter) -> None:
    made = [gitlab.create(_draft(f"Issue {n}"), idempotency_key=f"p-{n}").key for n in range(30)]
    seen: list[str] = []
    for page in gitlab.changed_since(None, [], page_size=8):
        if not seen:
            gitlab.update(made[1], {"summary": "Changed while paging"})
        seen.extend(r.key for r in page)
    assert set(seen) == set(made)
    assert seen.count(made[1]) == 2
    assert seen[-1] == made[1]


def test_paging_steps_through_many_issues_of_one_millisecond() -> None:
    clock = FakeClock()  # stands still: every issue has the same update time
    world = _world(clock)
    gitlab = world.adapter()
    made = [gitlab.create(_draft(f"Same {n}"), idempotency_key=f"s-{n}").key for n in range(11)]
    assert len({i["updated_at"] for i in world.project.issues.values()}) == 1
    pages = list(gitlab.changed_since(None, [], page_size=8))
    assert sorted(r.key for page in pages for r in page) == sorted(made)
    assert all(len(page) <= 8 for page in pages)


def test_queries_are_list_filters(gitlab: GitLabAdapter) -> None:
    bug = gitlab.create(_draft("Bug", labels=["bug"]), idempotency_key="q-1").key
    mine = gitlab.create(
        _draft("Mine", assignee={"username": "dev"}, labels=["bug"]), idempotency_key="q-2"
    ).key
    other = gitlab.create(_draft("Other"), idempotency_key="q-3").key
    keys = [bug, mine, other]
    assert gitlab.matching(keys, ["labels=bug"]) == {bug, mine}
    assert gitlab.matching(keys, ["labels=bug&assignee_username=dev"]) == {mine}
    assert gitlab.matching(keys, ["assignee_username=dev", "search=Other"]) == {mine, other}
    polled = [r.key for p in gitlab.changed_since(None, ["labels=bug"]) for r in p]
    assert polled == [bug, mine]
    with pytest.raises(ConfigurationError, match="unknown: project"):
        gitlab.matching(keys, ["project=1"])


# -- requests per synced change ---------------------------------------------------------------


def test_requests_per_synced_change(world: World, gitlab: GitLabAdapter) -> None:
    fake = world.fake
    gitlab.create(_draft("Warm up"), idempotency_key="warm")  # reads what was made lately, once

    before = fake.calls.copy()
    made = gitlab.create(_draft("Counted", labels=["bug"]), idempotency_key="count-1")
    assert _calls(fake, before) == Counter({"POST /projects/:id/issues": 1})

    before = fake.calls.copy()
    gitlab.update(made.key, {"summary": "Edited", "labels": ["bug", "ui"], "status": "Closed"})
    assert _calls(fake, before) == Counter({"PUT /projects/:id/issues/:iid": 1})

    before = fake.calls.copy()
    gitlab.add_comment(made.key, "Counted words", None, idempotency_key="count-c")
    assert _calls(fake, before) == Counter({"POST /projects/:id/issues/:iid/notes": 1})

    time.sleep(0.002)  # past the millisecond of the comment
    since = gitlab.clock_ms()
    other = gitlab.create(_draft("No notes"), idempotency_key="count-2")
    before = fake.calls.copy()
    polled = [r.key for page in gitlab.changed_since(since, []) for r in page]
    assert polled == [other.key]
    # The page, and the issue's links (GitLab lists them apart from the issue).
    links = "GET /projects/:id/issues/:iid/links"
    assert _calls(fake, before) == Counter({"GET /projects/:id/issues": 1, links: 1})

    gitlab.update(made.key, {"summary": "Again"})
    before = fake.calls.copy()
    polled = [
        r.key
        for page in gitlab.changed_since(since, [], known={other.key: other.updated})
        for r in page
    ]
    assert polled == [made.key]
    # The page, and the notes of the one issue that has some, and its links.
    assert _calls(fake, before) == Counter(
        {"GET /projects/:id/issues": 1, "GET /projects/:id/issues/:iid/notes": 1, links: 1}
    )
