"""The ``redmine`` adapter against a real Redmine: errors at its edge, workflow, files, keys.

The server is Debian's Redmine, started per test worker from the install script's
template (see :mod:`support.redmine_server`); each test has its own project.
"""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator

import pytest

from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    TrackerOfflineError,
    TrackerRejectedError,
)
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import CommentDraft, IssueDraft, NewIssue, Tracker
from issuesync.trackers.http import RequestBudget
from issuesync.trackers.redmine import markers, redmine_adapter_for
from issuesync.trackers.redmine.adapter import RedmineAdapter
from support.redmine_server import RedmineServer, redmine_session


@pytest.fixture(scope="session")
def redmine() -> Iterator[RedmineServer]:
    """One Redmine per test worker (skipped where none can run, unless required)."""
    yield from redmine_session()


def _adapter(redmine: RedmineServer, project: str, key: str | None = None) -> Tracker:
    secret = ("token", key if key is not None else redmine.sync_key)
    return redmine_adapter_for(TrackerAccess("redmine", project, redmine.url, None, secret))


@pytest.fixture
def project(redmine: RedmineServer) -> str:
    return redmine.new_project()


@pytest.fixture
def tracker(redmine: RedmineServer, project: str) -> Iterator[Tracker]:
    adapter = _adapter(redmine, project)
    yield adapter
    adapter.close()


def _budget_of(tracker: Tracker) -> RequestBudget:
    """The request budget of the adapter's client: it counts the requests made."""
    assert isinstance(tracker, RedmineAdapter)
    budget = tracker._client.budget
    assert budget is not None
    return budget


def _draft(summary: str) -> IssueDraft:
    return IssueDraft(issue_type="Bug", fields={"summary": summary, "description": "Text"})


def test_a_wrong_api_key_is_an_authentication_error_never_anonymous(
    redmine: RedmineServer, project: str
) -> None:
    """login_required is on: a wrong key is refused (401), not served as anonymous."""
    adapter = _adapter(redmine, project, key="0" * 40)
    with pytest.raises(AuthenticationError) as raised:
        adapter.describe()
    assert "0" * 40 not in str(raised.value)
    report = adapter.test_connection()
    assert not report.ok
    assert [c.name for c in report.checks] == ["reachable", "authenticated"]
    assert report.checks[0].ok
    assert "0" * 40 not in repr(report)
    adapter.close()


def test_basic_auth_with_the_users_password_works(redmine: RedmineServer, project: str) -> None:
    access = TrackerAccess("redmine", project, redmine.url, "sync", ("password", "sync-password-1"))
    adapter = redmine_adapter_for(access)
    report = adapter.test_connection()
    assert report.ok
    # Redmine has a default priority: an issue needs none (docs/trackers.md, Redmine).
    fields = next(c.detail for c in report.checks if c.detail.startswith("required fields"))
    assert fields.startswith("required fields: subject, tracker;"), fields
    with pytest.raises(ConfigurationError, match="no user"):
        redmine_adapter_for(TrackerAccess("redmine", project, redmine.url, None, ("password", "x")))
    adapter.close()


def test_a_missing_project_is_not_found_and_fails_the_connection_test(
    redmine: RedmineServer,
) -> None:
    adapter = _adapter(redmine, "no-such-project")
    with pytest.raises(NotFoundError):
        adapter.describe()
    report = adapter.test_connection()
    assert [(c.name, c.ok) for c in report.checks][-1] == ("project", False)
    adapter.close()


def test_the_connection_test_names_missing_permissions(redmine: RedmineServer) -> None:
    """A Reporter may not edit issues or notes: the report says which permissions lack."""
    adapter = _adapter(redmine, redmine.new_project(role="Reporter"))
    report = adapter.test_connection()
    permissions = next(c for c in report.checks if c.name == "permissions")
    assert not permissions.ok
    assert "edit_issues" in permissions.detail
    adapter.close()


def test_a_status_the_workflow_refuses_is_a_rejection_with_the_reason(
    redmine: RedmineServer,
) -> None:
    """A Developer may close an issue but not reopen it: Redmine ignores such a status
    silently; the adapter reads it back and says so."""
    adapter = _adapter(redmine, redmine.new_project(role="Developer"))
    issue = adapter.create(_draft("Workflow"), idempotency_key="wf-1")
    closed = adapter.transition(issue.key, "Closed").hub_issue.status
    assert closed is not None
    assert closed.name == "Closed"
    with pytest.raises(TrackerRejectedError, match="workflow") as raised:
        adapter.transition(issue.key, "New")
    assert "status" in raised.value.field_errors
    with pytest.raises(TrackerRejectedError, match="no status 'Nowhere'"):
        adapter.transition(issue.key, "Nowhere")
    read = adapter.get(issue.key)
    assert read is not None
    assert read.hub_issue.status is not None
    assert read.hub_issue.status.name == "Closed"
    adapter.close()


def test_a_rejected_write_carries_redmines_message(tracker: Tracker) -> None:
    with pytest.raises(TrackerRejectedError, match="Subject cannot be blank"):
        tracker.create(_draft(""), idempotency_key="blank")
    with pytest.raises(TrackerRejectedError, match="no tracker 'Epic'"):
        tracker.create(IssueDraft("Epic", {"summary": "x"}), idempotency_key="epic")
    with pytest.raises(TrackerRejectedError, match="labels"):
        tracker.create(IssueDraft("Bug", {"summary": "x", "labels": ["a"]}), idempotency_key="l")


def test_attachment_checksum_round_trip(tracker: Tracker) -> None:
    """Bytes in, the same bytes out (Redmine 5.0's API shows no digest: none is claimed)."""
    content = bytes(range(256)) * 40
    key = tracker.create(_draft("Files"), idempotency_key="files").key
    made = tracker.add_attachment(
        key, "data.bin", "application/x-data", content, idempotency_key="f"
    )
    assert (made.filename, made.mimetype, made.filesize) == (
        "data.bin",
        "application/x-data",
        10240,
    )
    assert made.checksum is None
    back = tracker.read_attachment(made.id)
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(content).hexdigest()
    read = tracker.get(key)
    assert read is not None
    assert [(a.id, a.filesize) for a in read.hub_issue.attachments] == [(made.id, len(content))]


def test_keys_are_found_again_after_a_restart(redmine: RedmineServer, project: str) -> None:
    """A fresh adapter (no memory) finds the issue, note and file a key made, by markers."""
    first = _adapter(redmine, project)
    issue = first.create(
        IssueDraft("Bug", {"summary": "Once", "description": "Two\nlines"}),
        idempotency_key="restart-issue",
    )
    note = first.add_comment(issue.key, "Once said", None, idempotency_key="restart-note")
    file = first.add_attachment(issue.key, "a.txt", "text/plain", b"a", idempotency_key="restart-f")
    first.close()
    second = _adapter(redmine, project)
    assert second.create(_draft("Once"), idempotency_key="restart-issue").key == issue.key
    again = second.add_comment(issue.key, "Once said", None, idempotency_key="restart-note")
    assert again.id == note.id
    assert (
        second.add_attachment(
            issue.key, "a.txt", "text/plain", b"a", idempotency_key="restart-f"
        ).id
        == file.id
    )
    read = second.get(issue.key)
    assert read is not None
    assert [c.body for c in read.hub_issue.comments] == ["Once said"]
    assert read.hub_issue.description == "Two\nlines"  # the marker stripped, \r\n as sent
    with redmine.admin() as admin:
        raw = admin.get(f"/issues/{issue.key}.json").json()["issue"]["description"]
    assert markers.markers_in(raw) == [markers.marker("restart-issue")]
    second.close()


def test_create_many_uses_one_write_per_comment_and_one_read(tracker: Tracker) -> None:
    """The initial sync's path: create, a note per comment (the last carries the status)."""
    budget = _budget_of(tracker)  # counting
    tracker.create_many([NewIssue(_draft("Warm-up"), "b-0")])  # reads the schema and the user
    before = budget.spent
    comments = (CommentDraft("One", "c-1"), CommentDraft("Two", "c-2"))
    (made,) = tracker.create_many([NewIssue(_draft("Batch"), "b-1", "Resolved", comments)])
    assert budget.spent - before == 4  # POST, PUT, PUT (+ status), GET
    assert made.replica.hub_issue.status is not None
    assert made.replica.hub_issue.status.name == "Resolved"
    assert [c.body for c in made.comments] == ["One", "Two"]
    assert [c.id for c in made.replica.hub_issue.comments] == [c.id for c in made.comments]


def test_queries_are_issue_list_filters(tracker: Tracker) -> None:
    bug = tracker.create(_draft("A bug"), idempotency_key="q-1").key
    feature = tracker.create(IssueDraft("Feature", {"summary": "A feature"}), idempotency_key="q-2")
    assert tracker.matching([bug, feature.key], ["tracker_id=2"]) == {feature.key}
    closed = tracker.transition(bug, "Closed").key
    assert tracker.matching([bug, feature.key], ["status_id=closed"]) == {closed}
    assert tracker.matching([bug, feature.key], ["status_id=closed", "tracker_id=2"]) == {
        bug,
        feature.key,
    }
    with pytest.raises(ConfigurationError, match="project_id"):
        tracker.matching([bug], ["project_id=other"])
    with pytest.raises(ConfigurationError, match="Redmine refused"):
        tracker.matching([bug], ["tracker_id=notanumber&created_on=><bad"])


def test_a_stopped_redmine_is_offline(redmine: RedmineServer, project: str) -> None:
    """Nothing listens: connection refused is TrackerOfflineError (the engine retries)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    access = TrackerAccess("redmine", project, f"http://127.0.0.1:{port}", None, ("token", "k"))
    adapter = redmine_adapter_for(access)
    with pytest.raises(TrackerOfflineError):
        adapter.get("1")
    report = adapter.test_connection()
    assert (report.checks[0].name, report.checks[0].ok) == ("reachable", False)
    adapter.close()
    del redmine


def test_an_issue_known_and_read_settled_is_not_read_again(tracker: Tracker) -> None:
    """Whole seconds: a known issue is left out only once read a second after its update."""
    made = tracker.create(_draft("Settled"), idempotency_key="settled")
    known = {made.key: made.updated}
    budget = _budget_of(tracker)  # counting
    time.sleep(1.1)
    assert tracker.get(made.key) is not None  # now read in a later second than the update
    before = budget.spent
    assert list(tracker.changed_since(made.updated, [], known=known)) == []
    assert budget.spent - before == 1  # the page, no read of the issue
    changed = tracker.update(made.key, {"summary": "Changed"})
    pages = list(tracker.changed_since(made.updated, [], known=known))
    assert [[r.hub_issue.summary for r in page] for page in pages] == [["Changed"]]
    assert changed.updated > made.updated


def test_custom_fields_by_name_with_formats_for_an_administrator(
    redmine: RedmineServer, project: str
) -> None:
    """The template's list field "Severity" (for all projects): known once an issue shows
    it; its format (a list, with values) only to an administrator, else text."""
    for key, kind in ((redmine.sync_key, "string"), (redmine.admin_key, "option")):
        adapter = _adapter(redmine, project, key=key)
        made = adapter.create(_draft("Custom"), idempotency_key=f"cf-{kind}")
        severity = adapter.describe().field("Severity")
        assert severity is not None
        assert (severity.id, severity.type, severity.custom) == ("customfield_1", kind, True)
        changed = adapter.update(made.key, {"Severity": "High"})
        assert changed.hub_issue.custom_fields["Severity"].value == "High"
        assert adapter.matching([made.key], ["cf_1=High"]) == {made.key}
        cleared = adapter.update(made.key, {"Severity": None})
        assert cleared.hub_issue.custom_fields["Severity"].value is None
        adapter.close()
