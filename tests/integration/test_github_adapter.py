"""The ``github`` adapter against the stateful fake GitHub (``issuesync.testing.fake_github``).

GitHub is an ``httpx.MockTransport`` handler; time is a fake that moves only when
slept on (on top of the real clock, which the fake GitHub's headers are read
against), so rate-limit waits are asserted, not slept.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypedDict, Unpack

import httpx
import pytest

from issuesync.domain.replica import FieldValue, Replica, UserRef
from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.testing.fake_github import FakeGitHub
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import (
    CommentDraft,
    ConnectionCheck,
    IssueDraft,
    NewIssue,
    Tracker,
)
from issuesync.trackers.github import github_adapter_for, github_budget

TOKEN = "ghp_sync-bot-secret"
ADMIN = "ghp_owner-secret"
REPO = "octo-org/widgets"
ISSUES = "/repos/:owner/:repo/issues"
ISSUE = "/repos/:owner/:repo/issues/:number"
COMMENTS = "/repos/:owner/:repo/issues/comments"


class FakeTime:
    """Real time plus what was slept: the fake GitHub and the client agree on it."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def time(self) -> float:
        return time.time() + sum(self.slept)

    def monotonic(self) -> float:
        return time.monotonic() + sum(self.slept)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


Handler = Callable[[httpx.Request], httpx.Response]


class GitHubOptions(TypedDict, total=False):
    """FakeGitHub's settings a test may change (its clock is the test's)."""

    prefix: str
    limit: int
    window_s: float
    primary_status: int
    secondary_writes_per_minute: int | None
    secondary_retry_after_s: int | None


def make_github(clock: FakeTime, **options: Unpack[GitHubOptions]) -> FakeGitHub:
    github = FakeGitHub(clock=clock.time, **options)
    github.add_user("octo-org", token=ADMIN)
    github.add_user("sync-bot", token=TOKEN)
    github.add_user("alice")
    github.add_user("bob")
    github.add_repo(REPO, roles={"sync-bot": "write", "alice": "triage", "bob": "write"})
    return github


def make_adapter(
    handler: Handler,
    clock: FakeTime,
    *,
    token: str = TOKEN,
    base_url: str | None = None,
    project: str = REPO,
) -> Tracker:
    access = TrackerAccess("github", project, base_url, None, ("token", token))
    budget = github_budget(sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.time)
    return github_adapter_for(
        access, transport=httpx.MockTransport(handler), sleep=clock.sleep, budget=budget
    )


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def github(clock: FakeTime) -> FakeGitHub:
    return make_github(clock)


@pytest.fixture
def adapter(github: FakeGitHub, clock: FakeTime) -> Tracker:
    return make_adapter(github, clock)


def as_owner(github: FakeGitHub) -> httpx.Client:
    """The repository's owner, at GitHub directly (another token, another rate limit)."""
    return httpx.Client(
        transport=httpx.MockTransport(github),
        base_url="https://api.github.com",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )


def draft(summary: str, **fields: FieldValue) -> IssueDraft:
    return IssueDraft(issue_type="Issue", fields={"summary": summary, **fields})


def made(github: FakeGitHub, before: Counter[str]) -> Counter[str]:
    """The requests made since ``before`` (a copy of ``github.calls``)."""
    return github.calls - before


def everything(tracker: Tracker) -> list[Replica]:
    return [replica for page in tracker.changed_since(None, []) for replica in page]


def checks_of(adapter: Tracker) -> dict[str, ConnectionCheck]:
    return {check.name: check for check in adapter.test_connection().checks}


def custom(replica: Replica, name: str) -> object:
    return replica.hub_issue.custom_fields[name].value


# -- errors, translated at the edge ---------------------------------------------------------


def test_a_wrong_token_is_an_authentication_error_that_never_shows_the_token(
    github: FakeGitHub, clock: FakeTime
) -> None:
    wrong = "ghp_wrong-token-value"
    adapter = make_adapter(github, clock, token=wrong)
    with pytest.raises(AuthenticationError) as caught:
        adapter.describe()
    assert "Bad credentials" in caught.value.message
    report = adapter.test_connection()
    assert not report.ok
    assert [(c.name, c.ok) for c in report.checks] == [
        ("reachable", True),
        ("authenticated", False),
    ]
    shown = f"{caught.value} {report} {adapter!r}"
    assert wrong not in shown
    assert TOKEN not in shown


def test_requests_carry_the_token_the_api_version_and_github_media_type(
    github: FakeGitHub, clock: FakeTime
) -> None:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return github(request)

    assert make_adapter(recording, clock).test_connection().ok
    assert seen
    for request in seen:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
        assert request.headers["Accept"] == "application/vnd.github+json"
        assert request.url.host == "api.github.com"


def test_a_repository_out_of_sight_is_not_found_and_fails_the_connection_test(
    github: FakeGitHub, clock: FakeTime
) -> None:
    github.add_repo("octo-org/secret", private=True)
    adapter = make_adapter(github, clock, project="octo-org/secret")
    with pytest.raises(NotFoundError):
        adapter.describe()
    checks = checks_of(adapter)
    assert checks["authenticated"].ok
    assert not checks["project"].ok
    assert "404" in checks["project"].detail


def test_connection_test_names_missing_access_and_issues_turned_off(
    github: FakeGitHub, clock: FakeTime
) -> None:
    github.add_repo("octo-org/docs", roles={"sync-bot": "read"})
    github.add_repo("octo-org/wiki", has_issues=False, roles={"sync-bot": "write"})
    readonly = {
        c.name: c
        for c in make_adapter(github, clock, project="octo-org/docs").test_connection().checks
    }
    assert readonly["issues"].ok
    assert not readonly["permissions"].ok
    assert "triage or write access" in readonly["permissions"].detail
    off = {
        c.name: c
        for c in make_adapter(github, clock, project="octo-org/wiki").test_connection().checks
    }
    assert not off["issues"].ok
    good = make_adapter(github, clock).test_connection()
    assert good.ok
    assert [c.name for c in good.checks] == [
        "reachable",
        "authenticated",
        "project",
        "issues",
        "permissions",
    ]


def test_editing_an_issue_without_triage_access_is_permission_denied(
    github: FakeGitHub, clock: FakeTime
) -> None:
    github.add_repo("octo-org/public", roles={"sync-bot": "read"})
    created = as_owner(github).post("/repos/octo-org/public/issues", json={"title": "Theirs"})
    assert created.status_code == 201
    adapter = make_adapter(github, clock, project="octo-org/public")
    with pytest.raises(PermissionDeniedError) as caught:
        adapter.update("1", {"summary": "Mine now"})
    assert "PATCH" in caught.value.message
    assert "403" in caught.value.message


def test_github_validation_errors_are_rejections_naming_the_field(adapter: Tracker) -> None:
    with pytest.raises(TrackerRejectedError) as caught:
        adapter.create(
            draft("Assign a stranger", Assignees=[{"username": "stranger"}]), idempotency_key="k1"
        )
    assert "Validation Failed" in caught.value.message
    assert "assignees" in caught.value.field_errors
    with pytest.raises(TrackerRejectedError) as unknown:
        adapter.create(draft("No such milestone", Milestone="v9"), idempotency_key="k2")
    assert "Milestone" in unknown.value.field_errors
    with pytest.raises(TrackerRejectedError) as no_field:
        adapter.create(draft("Priorities?", priority="High"), idempotency_key="k3")
    assert "priority" in no_field.value.field_errors
    with pytest.raises(TrackerRejectedError):
        adapter.create(IssueDraft("Bug", {"summary": "A bug"}), idempotency_key="k4")
    with pytest.raises(TrackerRejectedError) as status:
        adapter.create(draft("Done already", status="Done"), idempotency_key="k6")
    assert "status" in status.value.field_errors
    with pytest.raises(TrackerRejectedError):
        adapter.transition(adapter.create(draft("Moves"), idempotency_key="k5").key, "Done")
    assert [r.key for r in everything(adapter)] == ["1"]


def test_a_bad_gateway_on_a_read_is_retried_and_a_refused_connection_is_offline(
    github: FakeGitHub, clock: FakeTime
) -> None:
    as_owner(github).post(f"/repos/{REPO}/issues", json={"title": "Flaky"})
    failures = [502]

    def flaky(request: httpx.Request) -> httpx.Response:
        if failures and request.method == "GET" and "/issues/1" in request.url.path:
            return httpx.Response(failures.pop(), json={"message": "Server Error"})
        return github(request)

    replica = make_adapter(flaky, clock).get("1")
    assert replica is not None
    assert replica.hub_issue.summary == "Flaky"
    assert clock.slept == [0.5]

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with pytest.raises(TrackerOfflineError) as caught:
        make_adapter(refused, clock).get("1")
    assert "cannot be reached" in caught.value.message


def test_gone_and_transferred_issues_and_pull_requests_read_as_no_issue(
    github: FakeGitHub, clock: FakeTime
) -> None:
    owner = as_owner(github)
    owner.post(f"/repos/{REPO}/issues", json={"title": "Kept"})
    github.add_pull_request(REPO, "A pull request", "octo-org")

    def gone(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/issues/7"):
            return httpx.Response(410, json={"message": "This issue was deleted"})
        if request.url.path.endswith("/issues/8"):
            moved = "https://api.github.com/repositories/99/issues/3"
            return httpx.Response(301, headers={"Location": moved}, json={"message": "Moved"})
        if request.url.path.endswith("/issues/9"):  # the same path elsewhere: a wrong base URL
            https = str(request.url.copy_with(scheme="https", host="elsewhere.test"))
            return httpx.Response(301, headers={"Location": https})
        return github(request)

    adapter = make_adapter(gone, clock)
    assert adapter.get("7") is None
    assert adapter.get("8") is None
    with pytest.raises(ConfigurationError):
        adapter.get("9")
    assert adapter.get("2") is None  # the pull request
    assert adapter.get("not-a-number") is None
    assert adapter.get("other/repo#1") is None
    kept = adapter.get(f"{REPO}#1")
    assert kept is not None
    assert kept.key == "1"
    with pytest.raises(NotFoundError):
        adapter.update("7", {"summary": "Too late"})


# -- rate limits ----------------------------------------------------------------------------


def test_the_budget_waits_for_the_reset_before_github_has_to_refuse(clock: FakeTime) -> None:
    github = make_github(clock, window_s=4)
    owner = as_owner(github)
    for n in range(3):
        owner.post(f"/repos/{REPO}/issues", json={"title": f"Counted {n}"})
    github.limits.limit = 2
    adapter = make_adapter(github, clock)
    for key in ("1", "2", "1", "3"):  # the second read of 1 is a 304: free
        assert adapter.get(key) is not None
    assert all(status != 403 for _, _, status in github.log)
    assert len(clock.slept) == 1
    assert 3 <= clock.slept[0] <= 5


def test_a_spent_primary_limit_is_waited_out_when_it_resets_soon(clock: FakeTime) -> None:
    github = make_github(clock, limit=2, window_s=4)
    owner = as_owner(github)
    owner.post(f"/repos/{REPO}/issues", json={"title": "Counted"})
    spender = httpx.Client(
        transport=httpx.MockTransport(github),
        base_url="https://api.github.com",
        headers={"Authorization": f"Bearer {TOKEN}"},  # another app with the same token
    )
    for _ in range(2):
        spender.get(f"/repos/{REPO}/issues/1")
    replica = make_adapter(github, clock).get("1")
    assert replica is not None
    statuses = [status for _, path, status in github.log if path.endswith("/issues/1")]
    assert statuses[-2:] == [403, 200]
    assert clock.slept
    assert sum(clock.slept) <= 10


def test_a_spent_primary_limit_for_an_hour_is_offline_until_the_reset(clock: FakeTime) -> None:
    github = make_github(clock, limit=1, primary_status=429)
    owner = as_owner(github)
    owner.post(f"/repos/{REPO}/issues", json={"title": "Counted"})
    httpx.Client(
        transport=httpx.MockTransport(github),
        base_url="https://api.github.com",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).get("/user")
    with pytest.raises(TrackerOfflineError) as caught:
        make_adapter(github, clock).get("1")
    assert "rate-limited GET" in caught.value.message
    assert "resume after" in caught.value.message
    assert clock.slept == []


def test_a_secondary_limit_with_retry_after_is_waited_out_and_the_issue_made_once(
    clock: FakeTime,
) -> None:
    github = make_github(clock, secondary_writes_per_minute=2, secondary_retry_after_s=3)
    adapter = make_adapter(github, clock)
    keys = [adapter.create(draft(f"Issue {n}"), idempotency_key=f"s{n}").key for n in range(3)]
    assert keys == ["1", "2", "3"]
    assert clock.slept == [3.0]
    posts = [status for method, path, status in github.log if method == "POST"]
    assert posts == [201, 201, 403, 201]


def test_a_secondary_limit_without_retry_after_waits_a_minute_offline(clock: FakeTime) -> None:
    github = make_github(clock, secondary_writes_per_minute=1)
    adapter = make_adapter(github, clock)
    adapter.create(draft("First"), idempotency_key="m1")
    with pytest.raises(TrackerOfflineError) as caught:
        adapter.create(draft("Second"), idempotency_key="m2")
    assert "rate-limited POST" in caught.value.message
    assert clock.slept == []
    assert github.calls[f"POST {ISSUES}"] == 2  # tried once, not hammered


def test_the_budget_holds_content_creation_to_80_a_minute() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = github_budget(sleep=sleep, clock=lambda: now[0], wall_clock=lambda: now[0])
    for _ in range(80):
        budget.acquire("POST")
        budget.release("POST")
    budget.acquire("GET")
    assert slept == []
    budget.acquire("PATCH")
    assert slept == [60.0]


# -- polls: ETags, pages, pull requests -----------------------------------------------------


def test_an_idle_poll_is_one_304_that_costs_no_rate_limit(
    github: FakeGitHub, adapter: Tracker
) -> None:
    first = adapter.create(draft("Watched"), idempotency_key="w1")
    since = first.updated
    assert [r.key for p in adapter.changed_since(since, []) for r in p] == ["1"]
    used = github.used(TOKEN)
    before = github.calls.copy()
    again = [r.key for p in adapter.changed_since(since, []) for r in p]
    assert again == ["1"]  # the same answer, from the cache
    assert made(github, before) == Counter({f"GET {ISSUES}": 1, f"GET {COMMENTS}": 1})
    assert [status for _, _, status in github.log[-2:]] == [304, 304]
    assert github.used(TOKEN) == used


def test_a_poll_with_one_changed_issue_reads_the_page_only(
    github: FakeGitHub, adapter: Tracker
) -> None:
    issues = [adapter.create(draft(f"Issue {n}"), idempotency_key=f"p{n}") for n in range(3)]
    since = issues[-1].updated
    adapter.clock_ms()  # the engine's signpost, read at every poll (GitHub's clock: hourly)
    list(adapter.changed_since(since, []))
    time.sleep(1.01)  # GitHub keeps whole seconds
    changed = adapter.update("2", {"summary": "Changed"})
    before = github.calls.copy()
    used = github.used(TOKEN)
    keys = [r.key for p in adapter.changed_since(changed.updated, []) for r in p]
    assert keys == ["2"]
    assert made(github, before) == Counter({f"GET {ISSUES}": 1, f"GET {COMMENTS}": 1})
    assert github.used(TOKEN) == used + 1  # the page; the comments' page is a free 304
    adapter.add_comment("2", "A word", None, idempotency_key="pc")
    before = github.calls.copy()
    [[with_comment]] = adapter.changed_since(changed.updated, [])
    assert [c.body for c in with_comment.hub_issue.comments] == ["A word"]
    # its only comment is on the newest comments' page already: no read of its own
    assert made(github, before) == Counter({f"GET {ISSUES}": 1, f"GET {COMMENTS}": 1})


def test_a_first_sync_reads_comments_by_the_repository_wide_list(
    github: FakeGitHub, adapter: Tracker
) -> None:
    """150 issues with 2 comments each: the pages of issues and 3 of comments (100 a page),
    not one comments request per issue; each issue gets its own comments, oldest first."""
    with as_owner(github) as owner:
        for n in range(150):
            number = owner.post(f"/repos/{REPO}/issues", json={"title": f"Issue {n}"}).json()
            for c in range(2):
                path = f"/repos/{REPO}/issues/{number['number']}/comments"
                owner.post(path, json={"body": f"comment {c} on {n}"})
    before = github.calls.copy()
    replicas = everything(adapter)
    assert len(replicas) == 150
    for replica in replicas:
        n = int(replica.key) - 1
        assert [c.body for c in replica.hub_issue.comments] == [
            f"comment 0 on {n}",
            f"comment 1 on {n}",
        ]
    calls = made(github, before)
    # 2 pages of issues, and one more when the scan's step by update time (a second
    # early, see ``listing``) starts within the second the first page ended in
    assert calls[f"GET {ISSUES}"] in {2, 3}
    assert calls[f"GET {COMMENTS}"] == 3
    assert calls[f"GET {ISSUE}/comments"] == 0
    assert sum(calls.values()) - calls["GET /rate_limit"] - calls[f"GET {ISSUES}"] == 3


def test_an_issue_commented_after_the_list_was_read_reads_its_own_comments(
    github: FakeGitHub, clock: FakeTime
) -> None:
    """A comment made between the issue page and the comments list: the list holds more
    comments than the issue counts, so that issue's comments are read on their own."""
    with as_owner(github) as owner:
        for n in range(2):
            owner.post(f"/repos/{REPO}/issues", json={"title": f"Issue {n}"})
            owner.post(f"/repos/{REPO}/issues/{n + 1}/comments", json={"body": "first"})

        raced: list[str] = []

        def racing(request: httpx.Request) -> httpx.Response:
            if request.url.path == f"/repos/{REPO}/issues/comments" and not raced:
                raced.append("late")
                owner.post(f"/repos/{REPO}/issues/1/comments", json={"body": "late"})
            return github(request)

        adapter = make_adapter(racing, clock)
        before = github.calls.copy()
        replicas = everything(adapter)
    assert [[c.body for c in r.hub_issue.comments] for r in replicas] == [
        ["first", "late"],
        ["first"],
    ]
    assert made(github, before)[f"GET {ISSUE}/comments"] == 1  # issue 1's, not issue 2's


def test_a_comment_edited_on_github_comes_with_the_next_poll(
    github: FakeGitHub, adapter: Tracker
) -> None:
    first = adapter.create(draft("Talked about"), idempotency_key="e1")
    comment = adapter.add_comment(first.key, "Before", None, idempotency_key="e2")
    adapter.create(draft("Other, with labels", labels=["ui"]), idempotency_key="e3")
    since = first.updated
    # Comments read within a second of a change are read again (GitHub keeps whole seconds).
    time.sleep(2.01)
    [[read]] = adapter.changed_since(since, ["title=talked"])
    assert [c.body for c in read.hub_issue.comments] == ["Before"]
    touched = github.repos[REPO].issues[1].updated
    before = github.calls.copy()
    [[again]] = adapter.changed_since(since, ["title=talked"])
    assert again.hub_issue.comments == read.hub_issue.comments
    assert made(github, before)[f"GET {ISSUE}/comments"] == 0  # nothing changed: not read
    edited = as_owner(github).patch(
        f"/repos/{REPO}/issues/comments/{comment.id}", json={"body": "After"}
    )
    assert edited.status_code == 200
    assert github.repos[REPO].issues[1].updated == touched  # the issue is not touched
    [[polled]] = adapter.changed_since(since, ["title=talked"])
    assert polled.key == first.key
    assert [c.body for c in polled.hub_issue.comments] == ["After"]
    later = adapter.clock_ms()
    [[only]] = adapter.changed_since(later - 1000, [])
    assert only.key == first.key
    assert list(adapter.changed_since(later - 1000, ["labels=ui"])) == []  # not a match


def test_comment_changes_go_through_the_queries_and_skip_pull_requests(
    github: FakeGitHub, adapter: Tracker
) -> None:
    mentioning = adapter.create(draft("Ask", description="@alice, a look?"), idempotency_key="n1")
    other = adapter.create(draft("Other"), idempotency_key="n2")
    pull = github.add_pull_request(REPO, "A pull request", "octo-org")
    owner = as_owner(github)
    ids = {}
    for number in (mentioning.key, other.key, str(pull.number)):
        answer = owner.post(f"/repos/{REPO}/issues/{number}/comments", json={"body": "First"})
        ids[number] = answer.json()["id"]
    time.sleep(1.01)  # GitHub keeps whole seconds
    since = adapter.clock_ms()
    for comment_id in ids.values():  # edits that leave their issues as they were
        owner.patch(f"/repos/{REPO}/issues/comments/{comment_id}", json={"body": "Edited"})
    keys = [r.key for p in adapter.changed_since(since, ["mentioned=alice"]) for r in p]
    assert keys == [mentioning.key]
    before = github.calls.copy()
    keys = [r.key for p in adapter.changed_since(since, []) for r in p]
    assert sorted(keys) == sorted([mentioning.key, other.key])
    assert made(github, before)[f"GET {ISSUE}"] == 2  # the pull request is known as one


def test_more_changes_than_a_page_are_scanned_oldest_first_each_once(
    github: FakeGitHub, adapter: Tracker
) -> None:
    first = adapter.create(draft("Issue 0"), idempotency_key="f0")
    for n in range(1, 7):
        adapter.create(draft(f"Issue {n}"), idempotency_key=f"f{n}")
    github.add_pull_request(REPO, "Not an issue", "sync-bot")
    pages = list(adapter.changed_since(first.updated, [], page_size=2))
    keys = [r.key for p in pages for r in p]
    assert sorted(keys, key=int) == [str(n) for n in range(1, 8)]
    assert all(0 < len(p) <= 2 for p in pages)
    updated = [r.updated for p in pages for r in p]
    assert updated == sorted(updated)


def test_pull_requests_are_left_out_of_polls_queries_and_writes(
    github: FakeGitHub, adapter: Tracker, clock: FakeTime
) -> None:
    issue = adapter.create(draft("An issue"), idempotency_key="i1")
    github.add_pull_request(REPO, "A pull request", "sync-bot")
    assert [r.key for r in everything(adapter)] == [issue.key]
    assert [r.key for p in adapter.changed_since(issue.updated, []) for r in p] == [issue.key]
    assert adapter.matching([issue.key, "2"], ["state=open"]) == {issue.key}
    restarted = make_adapter(github, clock)  # has never read number 2
    with pytest.raises(NotFoundError):
        restarted.update("2", {"summary": "Not for pull requests"})
    with pytest.raises(NotFoundError):
        restarted.add_comment("2", "Nor this", None, idempotency_key="i2")
    assert github.repos[REPO].issues[2].title == "A pull request"
    assert github.repos[REPO].issues[2].comments == []


def test_queries_are_github_list_filters_and_a_title_word(adapter: Tracker) -> None:
    bug = adapter.create(draft("Crash on save", labels=["bug"]), idempotency_key="q1")
    ui = adapter.create(
        draft("Button colour", labels=["ui"], Assignees=[{"username": "alice"}]),
        idempotency_key="q2",
    )
    adapter.transition(ui.key, "Closed")
    keys = [bug.key, ui.key]
    assert adapter.matching(keys, ["labels=bug"]) == {bug.key}
    assert adapter.matching(keys, ["assignee=alice"]) == {ui.key}
    assert adapter.matching(keys, ["state=open"]) == {bug.key}
    assert adapter.matching(keys, ["labels=ui&title=colour"]) == {ui.key}
    assert adapter.matching(keys, ["labels=bug", "state=closed"]) == {bug.key, ui.key}
    polled = [r.key for p in adapter.changed_since(None, ["labels=ui", "title=crash"]) for r in p]
    assert sorted(polled) == sorted(keys)
    for wrong in ("sort=created", "labels=", "state=sleeping", "nothing"):
        with pytest.raises(ConfigurationError):
            list(adapter.changed_since(None, [wrong]))


# -- fields ---------------------------------------------------------------------------------


def test_labels_milestones_and_assignees_round_trip(github: FakeGitHub, adapter: Tracker) -> None:
    github.add_milestone(REPO, "v1")
    github.add_milestone(REPO, "v2")
    schema = adapter.describe()
    milestone = schema.field("Milestone")
    assert milestone is not None
    assert milestone.allowed_values == ("v1", "v2")
    assert schema.priorities == ()
    assert schema.statuses == ("Open", "Closed", "Closed (not planned)")
    assignees: list[dict[str, Any]] = [{"username": "bob"}, {"email": None, "username": "alice"}]
    replica = adapter.create(
        draft(
            "Fields",
            description="What it is about",
            labels=["ui", "bug"],
            Milestone="v1",
            Assignees=assignees,
        ),
        idempotency_key="r1",
    )
    issue = replica.hub_issue
    assert issue.description == "What it is about"
    assert sorted(label.label for label in issue.labels) == ["bug", "ui"]
    assert custom(replica, "Milestone") == "v1"
    assert custom(replica, "Assignees") == [
        {"email": None, "username": "alice"},
        {"email": None, "username": "bob"},
    ]
    assert issue.assignee is not None
    assert issue.assignee.username == "bob"
    assert issue.reporter is not None
    assert issue.reporter.username == "sync-bot"
    github.add_milestone(REPO, "v3")  # made after the adapter read them
    changed = adapter.update(
        replica.key, {"labels": [], "Milestone": "v3", "assignee": {"username": "alice"}}
    )
    assert changed.hub_issue.labels == []
    assert custom(changed, "Milestone") == "v3"
    assert custom(changed, "Assignees") == [{"email": None, "username": "alice"}]
    cleared = adapter.update(
        replica.key, {"Milestone": None, "Assignees": None, "description": None}
    )
    assert custom(cleared, "Milestone") is None
    assert cleared.hub_issue.assignee is None
    assert cleared.hub_issue.description is None
    read = adapter.get(replica.key)
    assert read is not None
    assert read.hub_issue == cleared.hub_issue


def test_statuses_are_state_and_state_reason(github: FakeGitHub, adapter: Tracker) -> None:
    replica = adapter.create(draft("Moves"), idempotency_key="t1")
    issue = github.repos[REPO].issues[int(replica.key)]
    for status, state, reason in (
        ("Closed (not planned)", "closed", "not_planned"),
        ("closed", "closed", "completed"),
        ("Open", "open", "reopened"),
    ):
        moved = adapter.transition(replica.key, status)
        assert moved.hub_issue.status is not None
        assert moved.hub_issue.status.name.lower() == status.lower()
        assert (issue.state, issue.state_reason) == (state, reason)
    closed = adapter.create(draft("Born closed", status="Closed"), idempotency_key="t2")
    assert closed.hub_issue.status is not None
    assert closed.hub_issue.status.name == "Closed"


def test_the_marker_stays_hidden_and_users_are_found_by_login(
    github: FakeGitHub, adapter: Tracker
) -> None:
    replica = adapter.create(draft("Marked", description="Body text"), idempotency_key="h1")
    raw = github.repos[REPO].issues[1].body
    assert raw is not None
    assert raw.startswith("Body text\n\n<!-- issuesync:")
    assert "h1" not in raw  # a fingerprint of the key, not the key
    assert replica.hub_issue.description == "Body text"
    comment = adapter.add_comment("1", "Said", UserRef(username="carol"), idempotency_key="h2")
    assert comment.body == "[carol]\nSaid"
    found = adapter.find_user(UserRef(username="ALICE"))
    assert found is not None
    assert found.username == "alice"
    assert adapter.find_user(UserRef(email="alice@example.test")) is None
    assert adapter.find_user(UserRef(username="nobody-here")) is None


# -- idempotent creates and calls per change ------------------------------------------------


def test_creates_are_found_again_after_a_restart(github: FakeGitHub, clock: FakeTime) -> None:
    first = make_adapter(github, clock)
    issue = first.create(draft("Once"), idempotency_key="crash-1")
    comment = first.add_comment(issue.key, "Once too", None, idempotency_key="crash-2")
    first.close()
    restarted = make_adapter(github, clock)
    before = github.calls.copy()
    assert restarted.create(draft("Once"), idempotency_key="crash-1").key == issue.key
    again = restarted.add_comment(issue.key, "Once too", None, idempotency_key="crash-2")
    assert again.id == comment.id
    writes = {k: n for k, n in made(github, before).items() if not k.startswith("GET")}
    assert writes == {}
    assert len(github.repos[REPO].issues) == 1


def test_a_create_whose_answer_was_lost_is_not_made_twice(
    github: FakeGitHub, clock: FakeTime
) -> None:
    lost = [True]

    def timeout_after_post(request: httpx.Request) -> httpx.Response:
        response = github(request)
        if request.method == "POST" and lost:
            lost.pop()
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    adapter = make_adapter(timeout_after_post, clock)
    with pytest.raises(TrackerOfflineError):
        adapter.create(draft("Maybe made"), idempotency_key="lost-1")
    retried = adapter.create(draft("Maybe made"), idempotency_key="lost-1")
    assert retried.key == "1"
    assert len(github.repos[REPO].issues) == 1


def test_calls_per_change_one_write_each(github: FakeGitHub, adapter: Tracker) -> None:
    adapter.create(draft("Warm-up"), idempotency_key="c0")  # reads the sync user and markers once
    before = github.calls.copy()
    replica = adapter.create(draft("Counted"), idempotency_key="c1")
    assert made(github, before) == Counter({f"POST {ISSUES}": 1})
    before = github.calls.copy()
    adapter.update(replica.key, {"summary": "Edited", "labels": ["bug"], "status": "Closed"})
    assert made(github, before) == Counter({f"PATCH {ISSUE}": 1})
    before = github.calls.copy()
    adapter.add_comment(replica.key, "A comment", None, idempotency_key="c2")
    assert made(github, before) == Counter({f"POST {ISSUE}/comments": 1})


def with_comments(summary: str, key: str) -> NewIssue:
    comments = (CommentDraft("One", f"{key}/1"), CommentDraft("Two", f"{key}/2"))
    return NewIssue(draft(summary), idempotency_key=key, status="Open", comments=comments)


def test_create_many_posts_each_and_reads_nothing_back(
    github: FakeGitHub, adapter: Tracker
) -> None:
    """An issue with 2 comments: its POST and 2 comment POSTs; GitHub's answers say the
    rest (the replica's update time is the last comment's, as GitHub sets it)."""
    adapter.create(draft("Warm-up"), idempotency_key="c0")  # the sync user, the markers
    before = github.calls.copy()
    [created] = adapter.create_many([with_comments("Counted", "m1")])
    assert [c.body for c in created.replica.hub_issue.comments] == ["One", "Two"]
    assert [c.body for c in created.comments] == ["One", "Two"]
    assert made(github, before) == Counter({f"POST {ISSUES}": 1, f"POST {ISSUE}/comments": 2})
    read = adapter.get(created.replica.key)
    assert read is not None
    assert read.updated == created.replica.updated
    assert [c.id for c in read.hub_issue.comments] == [c.id for c in created.comments]


def test_a_comment_someone_else_adds_meanwhile_comes_with_the_next_poll(
    github: FakeGitHub, clock: FakeTime
) -> None:
    """A comment by someone else between the posts: not in the replica made (nothing is
    read back), but the issue is updated after it, so the next poll lists it with all
    three comments (the engine sends the one it has no trace of)."""
    raced: list[str] = []
    with as_owner(github) as owner:

        def racing(request: httpx.Request) -> httpx.Response:
            answer = github(request)
            if request.method == "POST" and request.url.path.endswith("/comments") and not raced:
                raced.append("other")
                clock.sleep(1.0)  # GitHub's times are whole seconds
                owner.post(f"/repos/{REPO}/issues/1/comments", json={"body": "Other"})
            return answer

        adapter = make_adapter(racing, clock)
        [created] = adapter.create_many([with_comments("Raced", "m2")])
    assert [c.body for c in created.replica.hub_issue.comments] == ["One", "Two"]
    assert [c.body for c in created.comments] == ["One", "Two"]
    clock.sleep(1.0)
    polled = [r for page in adapter.changed_since(created.replica.updated, []) for r in page]
    assert [r.key for r in polled] == [created.replica.key]
    assert [c.body for c in polled[0].hub_issue.comments] == ["One", "Other", "Two"]


def test_github_enterprise_answers_under_api_v3(clock: FakeTime) -> None:
    github = make_github(clock, prefix="/api/v3")
    adapter = make_adapter(github, clock, base_url="https://ghe.example.test/api/v3")
    assert adapter.test_connection().ok
    assert adapter.create(draft("On GHE"), idempotency_key="e1").key == "1"


@pytest.mark.parametrize(
    ("access", "error"),
    [
        (TrackerAccess("github", "no-slash", None, None, ("token", TOKEN)), "owner/repo"),
        (TrackerAccess("github", REPO, "ftp://x", None, ("token", TOKEN)), "not valid"),
        (TrackerAccess("github", REPO, "https://u:p@x", None, ("token", TOKEN)), "credentials"),
        (TrackerAccess("github", REPO, None, None, ("password", TOKEN)), "no user"),
    ],
)
def test_settings_that_cannot_work_are_configuration_errors(
    access: TrackerAccess, error: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        github_adapter_for(access)
    assert error in caught.value.message
    assert TOKEN not in caught.value.message
