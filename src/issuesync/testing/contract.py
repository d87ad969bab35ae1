"""The contract every tracker adapter passes: a pytest base class, shipped in the package.

The tests exercise :class:`~issuesync.trackers.adapter.Tracker` as the sync
engine relies on it, through the Protocol alone, so one suite serves the
built-in tracker and every third-party adapter. An adapter's test module is a
subclass and a fixture::

    import pytest
    from issuesync.testing.contract import TrackerContract

    class TestRedmineContract(TrackerContract):
        update_resolution_ms = 1000  # Redmine keeps whole seconds

        @pytest.fixture
        def tracker(self, redmine_server):
            adapter = open_redmine_adapter(redmine_server, project=new_empty_project())
            yield adapter
            adapter.close()

The ``tracker`` fixture gives a fresh adapter on an *empty* project, acting as
a sync user allowed to create, edit, comment and attach there. Where a
tracker differs from Jira's defaults, the subclass overrides the hooks below
(:meth:`TrackerContract.issue_draft`, :meth:`TrackerContract.summary_query`,
:meth:`TrackerContract.target_status`, :meth:`TrackerContract.missing_key`) or
the class attributes. What the adapter's ``capabilities`` say it cannot do is
skipped, with the reason; everything else must pass.

Tests use only the Protocol, so they never clean up: each runs on its own fresh
project, as the fixture promises.
"""

from __future__ import annotations

import time
import uuid

import pytest

from issuesync.domain.replica import Replica, UserRef
from issuesync.errors import NotFoundError
from issuesync.trackers.adapter import (
    CommentDraft,
    IssueDraft,
    NewIssue,
    ProjectSchema,
    Tracker,
)

__all__ = ["TrackerContract"]


def _keys(pages: list[list[Replica]]) -> list[str]:
    return [replica.key for page in pages for replica in page]


def _status(replica: Replica) -> str | None:
    status = replica.hub_issue.status
    return status.name if status is not None else None


class TrackerContract:
    """Tests any :class:`~issuesync.trackers.adapter.Tracker`; subclass it and add ``tracker``.

    Not collected by itself (its name does not start with ``Test``); a
    ``TestSomethingContract`` subclass is.
    """

    #: How far the tracker's clock may be from this machine's (``clock_ms``), in ms.
    clock_skew_ms: int = 5 * 60_000
    #: The step of the tracker's update times, in ms: a tracker keeping whole
    #: seconds says 1000, and tests wait that long where an order must show.
    update_resolution_ms: int = 1
    #: How much earlier than ``since`` ``changed_since`` may start: 1 when it filters to
    #: the ms; 60_000 for Jira, whose JQL compares to the minute (the bound is rounded
    #: down, so a poll re-reads up to a minute, which the Protocol allows).
    since_precision_ms: int = 1

    # -- hooks a subclass may override ------------------------------------------------------

    @pytest.fixture
    def schema(self, tracker: Tracker) -> ProjectSchema:
        """The project's schema, read once per test."""
        return tracker.describe()

    def issue_draft(self, schema: ProjectSchema, summary: str) -> IssueDraft:
        """A draft the project accepts: its first issue type that is not a sub-task's."""
        types = [t for t in schema.issue_types if t not in schema.subtask_types]
        assert types, f"project {schema.key} offers no issue type to create"
        return IssueDraft(issue_type=types[0], fields={"summary": summary})

    def summary_query(self, word: str) -> str | None:
        """A query matching the issues whose summary contains ``word``; None: no query tests."""
        return f'summary ~ "{word}"'

    def target_status(self, schema: ProjectSchema, current: str | None) -> str:
        """A status a new issue can be moved to: the first one that is not ``current``."""
        others = [s for s in schema.statuses if s != current]
        assert others, f"project {schema.key} has no status to move to"
        return others[0]

    def missing_key(self, tracker: Tracker) -> str:
        """The key of an issue the project does not have."""
        return f"{tracker.project_key}-987654"

    # -- helpers ----------------------------------------------------------------------------

    def create(self, tracker: Tracker, schema: ProjectSchema, summary: str) -> Replica:
        """Create an issue with a fresh idempotency key."""
        draft = self.issue_draft(schema, summary)
        return tracker.create(draft, idempotency_key=f"contract-{uuid.uuid4()}")

    def wait_a_tick(self) -> None:
        """Sleep past one step of the tracker's update times."""
        time.sleep((self.update_resolution_ms + 1) / 1000)

    @staticmethod
    def everything(tracker: Tracker, page_size: int = 200) -> list[Replica]:
        """Every issue of the project, through ``changed_since(None, [])``."""
        pages = tracker.changed_since(None, [], page_size)
        return [replica for page in pages for replica in page]

    @staticmethod
    def require(condition: bool, reason: str) -> None:
        """Skip the test, with ``reason``, unless ``condition``."""
        if not condition:
            pytest.skip(reason)

    # -- the project and the clock ----------------------------------------------------------

    def test_describe_names_the_project_and_its_schema(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """``describe`` gives issue types, statuses, priorities and fields, each once."""
        assert schema.key == tracker.project_key
        assert schema.issue_types
        assert schema.statuses
        for names in (schema.issue_types, schema.statuses, schema.priorities):
            assert len(set(names)) == len(names), names
        assert schema.initial_status is None or schema.initial_status in schema.statuses
        if tracker.capabilities.subtasks:
            assert schema.subtask_types, "capability subtasks, but no sub-task issue type"
        ids = [info.id for info in schema.fields]
        assert len(set(ids)) == len(ids), ids
        summary = schema.field("summary")
        assert summary is not None, "the engine writes every issue's summary"

    def test_clock_is_close_to_now_and_does_not_go_back(self, tracker: Tracker) -> None:
        """``clock_ms`` is the tracker's now, in epoch ms: the signpost of a poll."""
        first = tracker.clock_ms()
        here = int(time.time() * 1000)
        second = tracker.clock_ms()
        assert abs(first - here) <= self.clock_skew_ms, (first, here)
        assert second >= first

    def test_connection_report_is_ok(self, tracker: Tracker) -> None:
        """A working adapter's connection test passes every check, and has some."""
        report = tracker.test_connection()
        assert report.checks
        assert report.ok, report

    # -- issues -----------------------------------------------------------------------------

    def test_create_returns_the_issue_with_its_key_and_fields(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """``create`` returns the replica of the issue made, as ``get`` reads it."""
        draft = self.issue_draft(schema, "Created by the contract")
        replica = tracker.create(draft, idempotency_key="contract-create")
        issue = replica.hub_issue
        assert replica.key
        assert issue.project is not None
        assert issue.project.key == tracker.project_key
        assert issue.summary == "Created by the contract"
        assert issue.issue_type is not None
        assert issue.issue_type.name == draft.issue_type
        if schema.initial_status is not None:
            assert _status(replica) == schema.initial_status
        assert replica.updated > 0
        read = tracker.get(replica.key)
        assert read is not None
        assert (read.key, read.hub_issue.summary) == (replica.key, issue.summary)
        assert read.updated == replica.updated

    def test_create_twice_with_one_idempotency_key_makes_one_issue(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """A retry after a crash returns what the first call made (the Protocol promises it)."""
        draft = self.issue_draft(schema, "Only once")
        first = tracker.create(draft, idempotency_key="contract-once")
        again = tracker.create(draft, idempotency_key="contract-once")
        other = tracker.create(draft, idempotency_key="contract-twice")
        assert again.key == first.key
        assert other.key != first.key
        assert sorted(r.key for r in self.everything(tracker)) == sorted([first.key, other.key])

    def test_create_many_makes_each_issue_once_in_order(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """``create_many`` answers in request order, with status and comments, once per key."""
        status = self.target_status(schema, schema.initial_status)
        with_comments = tracker.capabilities.comments
        comments: tuple[CommentDraft, ...] = ()
        if with_comments:
            comments = (CommentDraft(body="First words", idempotency_key="contract-many-c"),)
        requests = [
            NewIssue(self.issue_draft(schema, "Batch one"), "contract-many-1", comments=comments),
            NewIssue(self.issue_draft(schema, "Batch two"), "contract-many-2", status=status),
        ]
        made = tracker.create_many(requests)
        assert [m.replica.hub_issue.summary for m in made] == ["Batch one", "Batch two"]
        assert _status(made[1].replica) == status
        if with_comments:
            assert [c.body for c in made[0].comments] == ["First words"]
            assert [c.id for c in made[0].replica.hub_issue.comments] == [made[0].comments[0].id]
        again = tracker.create_many(requests)
        assert [m.replica.key for m in again] == [m.replica.key for m in made]
        assert len(self.everything(tracker)) == len(requests)

    def test_get_a_missing_issue_is_none(self, tracker: Tracker) -> None:
        """``get`` says None, not an error, for an issue that does not exist."""
        assert tracker.get(self.missing_key(tracker)) is None

    def test_update_changes_fields_and_the_update_time(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """``update`` returns the issue after the change, with a later update time."""
        before = self.create(tracker, schema, "Before")
        self.wait_a_tick()
        after = tracker.update(before.key, {"summary": "After"})
        assert after.key == before.key
        assert after.hub_issue.summary == "After"
        assert after.updated > before.updated
        read = tracker.get(before.key)
        assert read is not None
        assert read.hub_issue.summary == "After"

    def test_update_of_a_missing_issue_is_not_found(self, tracker: Tracker) -> None:
        """A write to an issue that is not there is ``NotFoundError`` (the engine parks it)."""
        with pytest.raises(NotFoundError):
            tracker.update(self.missing_key(tracker), {"summary": "Nobody"})

    def test_transition_reaches_a_status(self, tracker: Tracker, schema: ProjectSchema) -> None:
        """``transition`` moves the issue to the status; moving it there again changes nothing."""
        replica = self.create(tracker, schema, "Moving")
        target = self.target_status(schema, _status(replica))
        moved = tracker.transition(replica.key, target)
        assert _status(moved) == target
        read = tracker.get(replica.key)
        assert read is not None
        assert _status(read) == target
        again = tracker.transition(replica.key, target)
        assert _status(again) == target

    # -- polling ----------------------------------------------------------------------------

    def test_changed_since_none_pages_cover_every_issue_once(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """Without ``since``, pages of at most ``page_size``, by update time, hold every issue."""
        page_size = 2
        made = [self.create(tracker, schema, f"Paged {n}").key for n in range(7)]
        pages = list(tracker.changed_since(None, [], page_size=page_size))
        assert all(0 < len(page) <= page_size for page in pages), [len(p) for p in pages]
        seen = _keys(pages)
        assert sorted(seen) == sorted(made)
        updated = [replica.updated for page in pages for replica in page]
        assert updated == sorted(updated)

    def test_changed_since_returns_issues_updated_at_or_after_since(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """Issues updated at or after ``since`` come; older ones do not (to the adapter's
        precision), until they change."""
        old = self.create(tracker, schema, "Old")
        self.wait_a_tick()
        since = tracker.clock_ms()
        self.wait_a_tick()
        new = self.create(tracker, schema, "New")

        def keys(since_ms: int) -> list[str]:
            return _keys(list(tracker.changed_since(since_ms, [], page_size=10)))

        if self.since_precision_ms <= 1:
            assert keys(since) == [new.key]
        else:  # rounded down: the old issue may come again, the new one must
            assert new.key in keys(since)
            assert set(keys(since)) <= {old.key, new.key}
        assert new.key in keys(new.updated)  # "at": the look-back window rests on it
        assert keys(new.updated + self.since_precision_ms + self.update_resolution_ms) == []
        self.wait_a_tick()
        tracker.update(old.key, {"summary": "Old, changed"})
        assert sorted(keys(since)) == sorted([old.key, new.key])

    def test_changed_since_yields_what_changed_despite_known(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """``known`` may leave out issues read at their update time, never one changed since."""
        made = [self.create(tracker, schema, f"Known {n}").key for n in range(3)]
        known = {replica.key: replica.updated for replica in self.everything(tracker)}
        assert sorted(known) == sorted(made)
        self.wait_a_tick()
        tracker.update(made[1], {"summary": "Changed after reading"})
        pages = list(tracker.changed_since(None, [], page_size=10, known=known))
        seen = [replica for page in pages for replica in page]
        assert made[1] in [r.key for r in seen]
        assert {r.key for r in seen} <= set(made)
        changed = next(r for r in seen if r.key == made[1])
        assert changed.hub_issue.summary == "Changed after reading"

    def test_queries_select_issues_in_changed_since_and_matching(
        self, tracker: Tracker, schema: ProjectSchema
    ) -> None:
        """A query narrows ``changed_since`` and ``matching``; no query means every issue."""
        word = f"needle{uuid.uuid4().hex[:8]}"
        query = self.summary_query(word)
        hit = self.create(tracker, schema, f"A {word} here").key
        miss = self.create(tracker, schema, "Nothing to see").key
        missing = self.missing_key(tracker)
        assert tracker.matching([hit, miss, missing], []) == {hit, miss, missing}
        self.require(query is not None, "no query for this tracker (summary_query)")
        assert query is not None
        assert tracker.matching([hit, miss], [query]) == {hit}
        assert tracker.matching([], [query]) == set()
        assert _keys(list(tracker.changed_since(None, [query]))) == [hit]

    def test_deleted_since_is_empty_on_a_fresh_project(self, tracker: Tracker) -> None:
        """An adapter that reports deletions reports none where nothing was deleted."""
        self.require(tracker.capabilities.deletions, "the adapter does not report deletions")
        assert tracker.deleted_since(None) == []
        assert tracker.deleted_since(tracker.clock_ms()) == []

    # -- users, comments, attachments, sub-tasks --------------------------------------------

    def test_find_user_by_login_and_email(self, tracker: Tracker, schema: ProjectSchema) -> None:
        """The sync user (an issue's reporter) is found; a stranger is None."""
        reporter = self.create(tracker, schema, "Who am I").hub_issue.reporter
        self.require(reporter is not None, "the tracker reports no reporter to look up")
        assert reporter is not None
        assert reporter.username
        found = tracker.find_user(UserRef(username=reporter.username))
        assert found is not None
        assert found.username == reporter.username
        if reporter.email:
            by_mail = tracker.find_user(UserRef(email=reporter.email, username="someone-else"))
            assert by_mail is not None
            assert by_mail.username == reporter.username
        stranger = f"nobody-{uuid.uuid4().hex[:8]}"
        unknown = UserRef(email=f"{stranger}@example.invalid", username=stranger)
        assert tracker.find_user(unknown) is None

    def test_comments_add_edit_delete(self, tracker: Tracker, schema: ProjectSchema) -> None:
        """A comment is added once per key, edited and deleted; deleting twice is no error."""
        caps = tracker.capabilities
        self.require(caps.comments, "the adapter does not write comments")
        key = self.create(tracker, schema, "Talk").key
        comment = tracker.add_comment(key, "Hello", None, idempotency_key="contract-c")
        again = tracker.add_comment(key, "Hello", None, idempotency_key="contract-c")
        assert comment.id
        assert comment.body == "Hello"
        assert again.id == comment.id
        assert self._comments(tracker, key) == [(comment.id, "Hello")]
        if caps.comment_edit:
            edited = tracker.edit_comment(key, comment.id, "Hello, edited")
            assert (edited.id, edited.body) == (comment.id, "Hello, edited")
            assert self._comments(tracker, key) == [(comment.id, "Hello, edited")]
        if caps.comment_delete:
            tracker.delete_comment(key, comment.id)
            assert self._comments(tracker, key) == []
            tracker.delete_comment(key, comment.id)

    def test_attachments_add_read_delete(self, tracker: Tracker, schema: ProjectSchema) -> None:
        """An attachment is added once per key, read back byte for byte, and deleted."""
        caps = tracker.capabilities
        self.require(caps.attachments, "the adapter does not write attachments")
        key = self.create(tracker, schema, "Files").key
        content = b"contract \x00\xff bytes\n" * 10

        def attach() -> str:
            made = tracker.add_attachment(
                key, "contract.bin", "application/octet-stream", content, idempotency_key="a-1"
            )
            assert made.filename == "contract.bin"
            assert made.filesize == len(content)
            return made.id

        attachment_id = attach()
        assert attach() == attachment_id
        assert tracker.read_attachment(attachment_id) == content
        assert self._attachments(tracker, key) == [(attachment_id, "contract.bin")]
        if caps.attachment_delete:
            tracker.delete_attachment(key, attachment_id)
            assert self._attachments(tracker, key) == []
            tracker.delete_attachment(key, attachment_id)

    def test_subtasks_name_their_parent(self, tracker: Tracker, schema: ProjectSchema) -> None:
        """A sub-task is created under its parent and reads back with the parent's key."""
        self.require(tracker.capabilities.subtasks, "the adapter does not make sub-tasks")
        self.require(bool(schema.subtask_types), f"project {schema.key} has no sub-task type")
        parent = self.create(tracker, schema, "Parent").key
        draft = IssueDraft(
            issue_type=schema.subtask_types[0], fields={"summary": "Child"}, parent_key=parent
        )
        child = tracker.create(draft, idempotency_key="contract-child")
        assert child.hub_issue.parent_key == parent
        read = tracker.get(child.key)
        assert read is not None
        assert read.hub_issue.parent_key == parent
        assert read.hub_issue.issue_type is not None
        assert read.hub_issue.issue_type.name == schema.subtask_types[0]

    # -- reading back -----------------------------------------------------------------------

    @staticmethod
    def _read(tracker: Tracker, key: str) -> Replica:
        replica = tracker.get(key)
        assert replica is not None, f"issue {key} is gone"
        return replica

    def _comments(self, tracker: Tracker, key: str) -> list[tuple[str, str]]:
        """The issue's comments as ``(id, body)``, as ``get`` reads them."""
        return [(c.id, c.body) for c in self._read(tracker, key).hub_issue.comments]

    def _attachments(self, tracker: Tracker, key: str) -> list[tuple[str, str]]:
        """The issue's attachments as ``(id, filename)``, as ``get`` reads them."""
        return [(a.id, a.filename) for a in self._read(tracker, key).hub_issue.attachments]
