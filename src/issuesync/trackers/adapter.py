"""The one contract every tracker adapter implements, and what the engine may ask of it.

An adapter works on one project of one tracker, as one (sync) user. It speaks
:class:`~issuesync.domain.replica.Replica` and canonical field values (see
``domain/replica.py``); it never leaks its tracker's JSON or its HTTP errors:
those are translated at the adapter's edge into ``issuesync.errors``:

- :class:`~issuesync.errors.TrackerOfflineError`: the tracker cannot be reached
  (messages wait in ``offline``; the route retries);
- :class:`~issuesync.errors.AuthenticationError`: the sync user's credentials
  are wrong (the route's run ends, visible in the status);
- :class:`~issuesync.errors.PermissionDeniedError`: the sync user may not do
  this; :class:`~issuesync.errors.NotFoundError`: the issue is missing (for the
  write of one issue, the engine takes either as the tracker's refusal of that
  issue's change: the message goes to ``error``; elsewhere the route's run ends);
- :class:`~issuesync.errors.TrackerRejectedError`: the tracker refused a write,
  with its reason (the message goes to ``error``).

Writes that create something take an ``idempotency_key``: called twice with
the same key (after a crash between the tracker's write and the engine's
commit), the adapter returns what the first call made instead of making a
second one. That is how "every change applied once" survives a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from issuesync.domain.markup import Markup
from issuesync.domain.outline import (
    MULTI_TYPES,
    OutlineField,
    OutlineIssueType,
    OutlineStatus,
    SchemaOutline,
    StatusCategory,
    guess_category,
)
from issuesync.domain.replica import (
    FieldValue,
    HubAttachment,
    HubComment,
    HubWorklog,
    Replica,
    UserRef,
)
from issuesync.errors import IssueSyncError


@dataclass(frozen=True)
class Limits:
    """What the tracker refuses as too large; None where it documents no limit.

    The engine fits what it writes into them (``engine/pipeline/limits.py``): a
    text over ``text_chars`` is cut with a visible note and its full text attached,
    an attachment over ``attachment_bytes`` is skipped with a note, so that a
    limit never parks an issue.
    """

    text_chars: int | None = None  # a description's or a comment body's characters
    # Characters of ``text_chars`` the adapter adds itself (its hidden idempotency marker).
    reserved_chars: int = 0
    attachment_bytes: int | None = None  # one attachment's content


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do; the engine degrades clearly where it cannot."""

    comments: bool = True
    comment_edit: bool = True
    comment_delete: bool = True
    comment_author: bool = False  # may write a comment in another user's name
    attachments: bool = True
    attachment_delete: bool = True
    subtasks: bool = True
    deletions: bool = False  # reports deleted issues through ``deleted_since``
    worklogs: bool = False  # reads work logs into replicas and writes them (``WorklogWriter``)
    # Keeps only a total of time spent per issue (GitLab): work logs are added to it, its
    # replica's one work log (``domain.worklogs.TOTAL_ID``) is the total, edits and
    # deletions of work logs are not applied there.
    worklog_totals: bool = False
    links: bool = False  # typed issue links (``trackers/linking.py``: ``IssueLinking``)
    limits: Limits = field(default_factory=Limits)
    # The markup of the descriptions and comments it reads and writes; the engine converts
    # the partner's text to it. A connector's ``markup.dialect`` setting overrides it.
    markup: Markup = Markup.JIRA


@dataclass(frozen=True)
class FieldInfo:
    """A field of the project's schema, by Jira's id and by name."""

    id: str
    name: str
    type: str  # string, text, number, date, datetime, option, options, user, users, array, ...
    custom: bool = False
    required: bool = False
    allowed_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProjectSchema:
    """What a project offers: issue types, statuses, priorities and fields, by name."""

    key: str
    name: str
    issue_types: tuple[str, ...]
    subtask_types: tuple[str, ...]
    statuses: tuple[str, ...]
    priorities: tuple[str, ...]
    fields: tuple[FieldInfo, ...] = ()
    initial_status: str | None = None

    def field(self, id_or_name: str) -> FieldInfo | None:
        """The field with this id or (case-insensitive) name."""
        lowered = id_or_name.lower()
        for info in self.fields:
            if info.id == id_or_name or info.name.lower() == lowered:
                return info
        return None


@dataclass(frozen=True)
class Deletion:
    """An issue the tracker deleted, when it can say so."""

    key: str
    deleted_ms: int


@dataclass(frozen=True)
class IssueDraft:
    """An issue to create: canonical field values in this tracker's terms."""

    issue_type: str
    fields: Mapping[str, FieldValue]
    parent_key: str | None = None
    reporter: UserRef | None = None


@dataclass(frozen=True)
class CommentDraft:
    """A comment to add, once per ``idempotency_key``, in ``author``'s name where allowed."""

    body: str
    idempotency_key: str
    author: UserRef | None = None


@dataclass(frozen=True)
class NewIssue:
    """One issue of :meth:`Tracker.create_many`: the draft, its status and its first comments."""

    draft: IssueDraft
    idempotency_key: str
    status: str | None = None
    comments: tuple[CommentDraft, ...] = ()


@dataclass(frozen=True)
class CreatedIssue:
    """What :meth:`Tracker.create_many` made of one :class:`NewIssue`."""

    replica: Replica  # after the status and the comments
    comments: tuple[HubComment, ...]  # one per requested comment, in the same order


@dataclass(frozen=True)
class ConnectionCheck:
    """One line of a connection test."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class ConnectionReport:
    """The result of a connection test; never contains a credential."""

    checks: tuple[ConnectionCheck, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)


MISSING = "missing"  # how a connection check's detail starts when it fails without an error


def run_checks(steps: Iterable[tuple[str, Callable[[], str]]]) -> ConnectionReport:
    """A connection test's report: each step, in order, says what it found.

    A step returns its detail, which fails the check when it starts with
    ``"missing"`` (a permission the sync user lacks, say: later steps still run),
    or raises an ``IssueSyncError``, which fails the check and ends the report
    (the later steps need what that one could not reach). The errors' messages
    name method, path and status, never a credential.
    """
    checks: list[ConnectionCheck] = []
    for name, check in steps:
        try:
            detail = check()
        except IssueSyncError as exc:
            checks.append(ConnectionCheck(name, ok=False, detail=exc.describe()))
            break
        checks.append(ConnectionCheck(name, ok=not detail.startswith(MISSING), detail=detail))
    return ConnectionReport(tuple(checks))


class Tracker(Protocol):
    """One project of one tracker, as the sync user sees it."""

    name: str
    capabilities: Capabilities
    project_key: str

    def describe(self) -> ProjectSchema:
        """The project's schema."""
        ...

    def clock_ms(self) -> int:
        """The tracker's "now" in epoch ms: the signpost of a poll."""
        ...

    def changed_since(
        self,
        since_ms: int | None,
        queries: Sequence[str],
        page_size: int = 200,
        *,
        known: Mapping[str, int] | None = None,
    ) -> Iterator[list[Replica]]:
        """Pages of the project's issues updated at or after ``since_ms`` that match any query.

        No query means every issue of the project. Pages are ordered by update
        time and hold at most ``page_size`` issues (the first few may hold fewer,
        so that the first messages leave sooner); every issue updated at or after
        ``since_ms`` before the call is yielded at least once, even when issues
        change during the paging.

        ``known`` maps issue keys to the update time the caller has already read
        them at: the adapter may leave those out, if its tracker moves an issue's
        update time on every change (one that keeps whole seconds must not).
        """
        ...

    def matching(self, keys: Sequence[str], queries: Sequence[str]) -> set[str]:
        """Which of ``keys`` match any of ``queries`` (all of them when there is no query)."""
        ...

    def deleted_since(self, since_ms: int | None) -> list[Deletion]:
        """Issues of the project deleted at or after ``since_ms`` (capability ``deletions``)."""
        ...

    def get(self, key: str) -> Replica | None:
        """The issue, or None when it does not exist (any more)."""
        ...

    def create(self, draft: IssueDraft, *, idempotency_key: str) -> Replica:
        """Create an issue; once per ``idempotency_key``."""
        ...

    def create_many(self, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
        """Create issues with their status and first comments, each once per key.

        Returns one :class:`CreatedIssue` per request, in the order given. The
        initial sync's path: a tracker with a bulk API uses it, the built-in one
        writes the batch in one transaction; :func:`create_each` is the plain
        way, one call at a time. An error means the engine retries the requests
        one by one (an adapter without transactions may have made some of them:
        their keys make the retries find them).
        """
        ...

    def update(self, key: str, fields: Mapping[str, FieldValue]) -> Replica:
        """Set fields (canonical values; users already resolved) and return the issue after."""
        ...

    def transition(self, key: str, status: str) -> Replica:
        """Move the issue to ``status`` through the workflow (shortest path of transitions)."""
        ...

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The tracker's user with this e-mail, else this login name; None when unknown."""
        ...

    def add_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """Add a comment (in ``author``'s name when the tracker allows); once per key."""
        ...

    def edit_comment(self, key: str, comment_id: str, body: str) -> HubComment:
        """Replace a comment's body."""
        ...

    def delete_comment(self, key: str, comment_id: str) -> None:
        """Delete a comment; deleting one that is gone already is not an error."""
        ...

    def read_attachment(self, attachment_id: str) -> bytes:
        """An attachment's content."""
        ...

    def add_attachment(
        self, key: str, filename: str, mimetype: str, content: bytes, *, idempotency_key: str
    ) -> HubAttachment:
        """Attach a file; once per key."""
        ...

    def delete_attachment(self, key: str, attachment_id: str) -> None:
        """Delete an attachment; deleting one that is gone already is not an error."""
        ...

    def test_connection(self) -> ConnectionReport:
        """Reachable, authenticated, project exists, allowed to write."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def create_each(tracker: Tracker, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
    """:meth:`Tracker.create_many` for an adapter without a bulk API: one call at a time."""
    made: list[CreatedIssue] = []
    for new in new_issues:
        replica = tracker.create(new.draft, idempotency_key=new.idempotency_key)
        comments = tuple(
            tracker.add_comment(replica.key, c.body, c.author, idempotency_key=c.idempotency_key)
            for c in new.comments
        )
        status = replica.hub_issue.status
        if new.status is not None and (status.name if status else None) != new.status:
            replica = tracker.transition(replica.key, new.status)
        elif comments:
            replica = tracker.get(replica.key) or replica
        made.append(CreatedIssue(replica, comments))
    return made


@dataclass(frozen=True)
class WorklogDraft:
    """Time to log on an issue, as the sync user: ``comment`` names the author already."""

    time_spent: int  # seconds, more than 0
    started: int | None  # epoch ms; None: now
    comment: str


@runtime_checkable
class WorklogWriter(Protocol):
    """An adapter with capability ``worklogs``: every replica it reads carries all the
    issue's work logs (a traced one missing is taken for deleted), and it writes them."""

    def add_worklog(self, key: str, draft: WorklogDraft, *, idempotency_key: str) -> HubWorklog:
        """Log time on the issue; once per key. Returns the work log as it is stored."""
        ...

    def edit_worklog(self, key: str, worklog_id: str, draft: WorklogDraft) -> HubWorklog:
        """Replace a work log's time, start and comment; returns it as it is stored."""
        ...

    def delete_worklog(self, key: str, worklog_id: str) -> None:
        """Delete a work log; deleting one that is gone already is not an error."""
        ...


@runtime_checkable
class RestrictedComments(Protocol):
    """An adapter that writes comments only some people see (GitLab's internal notes,
    Redmine's private notes). Optional: a partner's restricted comment reaches a tracker
    without it only when its connector says so, and then everyone sees it there."""

    def add_restricted_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """:meth:`Tracker.add_comment`, seen only by those the tracker lets see restricted
        comments; the comment read back has ``internal`` set."""
        ...


@runtime_checkable
class Outlines(Protocol):
    """An adapter that reads its project's schema for a proposal of mappings.

    Optional: :func:`read_outline` derives one from :meth:`Tracker.describe` for an
    adapter without it, guessing status categories from their names.
    """

    def outline(self) -> SchemaOutline:
        """The project's statuses with categories, types, ranked priorities and fields."""
        ...


def outline_of(
    tracker: Tracker,
    schema: ProjectSchema,
    categories: Mapping[str, StatusCategory] | None = None,
    *,
    priorities: Sequence[str] | None = None,
    default_type: str | None = None,
) -> SchemaOutline:
    """A :class:`SchemaOutline` of ``schema`` as ``tracker`` described it.

    ``categories`` gives each status's category (a status it leaves out is guessed from
    its name); ``priorities`` their rank order, highest first, when the schema's order
    is not that. Statuses keep the schema's order as their positions; comments,
    attachments and work logs come from the tracker's capabilities.
    """
    given = categories or {}
    return SchemaOutline(
        system=tracker.name,
        project_key=schema.key,
        statuses=tuple(
            OutlineStatus(name, given.get(name) or guess_category(name), position)
            for position, name in enumerate(schema.statuses)
        ),
        issue_types=(
            *(OutlineIssueType(name) for name in schema.issue_types),
            *(
                OutlineIssueType(name, subtask=True)
                for name in schema.subtask_types
                if name not in schema.issue_types  # a type that may be both is standard
            ),
        ),
        priorities=tuple(schema.priorities if priorities is None else priorities),
        fields=tuple(
            OutlineField(f.id, f.name, f.type, multi=f.type in MULTI_TYPES, custom=f.custom)
            for f in schema.fields
        ),
        comments=tracker.capabilities.comments,
        attachments=tracker.capabilities.attachments,
        worklogs=tracker.capabilities.worklogs,
        subtasks=tracker.capabilities.subtasks,
        links=tracker.capabilities.links,
        default_type=default_type,
    )


def read_outline(tracker: Tracker) -> SchemaOutline:
    """The tracker's outline: its own (:class:`Outlines`), else derived from its schema."""
    if isinstance(tracker, Outlines):
        return tracker.outline()
    return outline_of(tracker, tracker.describe())
