"""The sync engine's ``local`` adapter: one project of the built-in tracker, in-process.

It calls the same service functions as the tracker's REST routes (``issues``,
``subresources``), inside the tracker's own operations, so the engine and the
HTTP API can never disagree; issues are rendered as Jira JSON by the batch
:class:`~issuesync.trackers.local.render.Renderer` and read into replicas by
:mod:`issuesync.trackers.fieldcodec`.

Errors are translated at this edge: a refused write (``InvalidInputError``,
``ConflictError``, ``PayloadTooLargeError``) becomes ``TrackerRejectedError``
with the field errors in its message; a permission the sync user lacks stays a
``PermissionDeniedError`` (as a remote tracker's 403 does), whose message names
the sync user, the permission and what to do; ``NotFoundError`` passes as it
is; a query that cannot be compiled is a ``ConfigurationError``.

Every write is the sync user's, with exactly the permissions a person calling
the tracker's REST API as that user has, read from the store at each write (a
role granted to the sync user counts at once; a deactivated one writes
nothing). So comments and attachments of other users are edited and deleted
only by a sync user who administers the project (the tracker's "own or project
admin" rule), and a comment is written in its author's name (``comment_author``)
only by such a sync user: naming the author is acting as them. Otherwise the
comment is the sync user's own.

Creates are idempotent through ``tracker_idempotency``: the record of a key is
written in the transaction that makes the object, so a retry after a crash
finds it, and two racing calls cannot both commit (the key is the primary key).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from issuesync.domain.issuelinks import LinkType
from issuesync.domain.jql import abbreviated, parse_queries
from issuesync.domain.outline import SchemaOutline, StatusCategory
from issuesync.domain.replica import (
    FieldValue,
    HubAttachment,
    HubComment,
    HubWorklog,
    Replica,
    UserRef,
)
from issuesync.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    IssueSyncError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    QueryError,
    TrackerRejectedError,
)
from issuesync.store.base import now_ms
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import (
    Capabilities,
    ConnectionCheck,
    ConnectionReport,
    CreatedIssue,
    Deletion,
    IssueDraft,
    Limits,
    NewIssue,
    ProjectSchema,
    Tracker,
    WorklogDraft,
    outline_of,
)
from issuesync.trackers.local import (
    drafts,
    issues,
    replicas,
    subresources,
    workflow,
    worklog_writes,
)
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.jql_sql import JqlContext, compile_jql
from issuesync.trackers.local.models import (
    DeletedIssue,
    IdempotencyRecord,
    Issue,
    IssueLink,
    Project,
    row_id,
)
from issuesync.trackers.local.tracker import LocalTracker

P = ParamSpec("P")
T = TypeVar("T")

MAX_RECORD_KEY = 255
KEYS_PER_QUERY = 500


def _at_edge(method: Callable[P, T]) -> Callable[P, T]:
    """Translate the tracker's refusals into ``TrackerRejectedError``, keeping field errors.

    A ``PermissionDeniedError`` stays one; a method that knows the permission
    says so itself (:meth:`LocalAdapter._needing`).
    """

    @functools.wraps(method)
    def translated(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (InvalidInputError, ConflictError, PayloadTooLargeError) as exc:
            raise TrackerRejectedError(exc.describe(), field_errors=exc.field_errors) from exc

    return translated


# The permissions of the tracker (``meta.PERMISSIONS``) a refused write of the engine lacked.
EDIT_ALL_COMMENTS = "EDIT_ALL_COMMENTS"
DELETE_ALL_COMMENTS = "DELETE_ALL_COMMENTS"
DELETE_ALL_ATTACHMENTS = "DELETE_ALL_ATTACHMENTS"
EDIT_ALL_WORKLOGS = "EDIT_ALL_WORKLOGS"
DELETE_ALL_WORKLOGS = "DELETE_ALL_WORKLOGS"


RESTRICTED_ROLE = "Administrators"  # who sees a partner's restricted comment here

SCAN_SIZE = 2_000  # issue keys read per query of changed_since
FIRST_PAGE_SHARE = 4  # the first page of changed_since: a quarter of a page; then doubling


class LocalAdapter(Tracker):
    """:class:`~issuesync.trackers.adapter.Tracker` for one project of the built-in tracker."""

    name = "local"
    capabilities = Capabilities(comment_author=True, deletions=True, worklogs=True, links=True)

    def __init__(self, tracker: LocalTracker, project_key: str, actor: Principal) -> None:
        self.project_key = project_key.upper()
        self._tracker = tracker.for_engine()  # it matches people by e-mail
        self._actor = actor
        # Its own limits, as configured: ISSUESYNC_TEXT_FIELD_LIMIT, ..._MAX_ATTACHMENT_SIZE.
        self.capabilities = dataclasses.replace(
            self.capabilities,
            limits=Limits(text_chars=tracker.text_limit, attachment_bytes=tracker.blobs.max_size),
        )

    # -- reading ---------------------------------------------------------------------------

    def describe(self) -> ProjectSchema:
        """Issue types, the workflow's statuses, priorities and fields with allowed values."""
        with self._tracker.read(self._actor) as op:
            return replicas.describe_project(op, op.project(self.project_key))

    def outline(self) -> SchemaOutline:
        """The schema for a proposal: each status's category is the built-in tracker's own."""
        with self._tracker.read(self._actor) as op:
            schema = replicas.describe_project(op, op.project(self.project_key))
            categories = {
                s.name: StatusCategory(s.category) for s in op.ref.statuses.by_id.values()
            }
        return outline_of(self, schema, categories)

    def clock_ms(self) -> int:
        """Now, in epoch ms: the built-in tracker shares this process's clock."""
        return now_ms()

    def changed_since(
        self,
        since_ms: int | None,
        queries: Sequence[str],
        page_size: int = 200,
        *,
        known: Mapping[str, int] | None = None,
    ) -> Iterator[list[Replica]]:
        """Keyset pages over ``(updated_ms, id)``: an issue that changes while the pages are
        read moves past the cursor and comes again, never skipped.

        Each page is one short read transaction, so a slow consumer holds no snapshot.
        With queries, an idle call is one indexed probe; without, the first page query.
        Every write moves ``updated_ms`` on (``Operation.touch``), so an issue that
        ``known`` has at its current update time is left out without being rendered.
        """
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        # Keys are scanned in larger steps than pages are rendered: within the look-back
        # window most issues are ``known``, and a poll should not cost a query per page.
        scan = max(page_size, SCAN_SIZE)
        condition: ColumnElement[bool] | None = None
        after: tuple[int, int] | None = None
        # The first pages are smaller (a quarter, a half, then whole pages): their
        # messages leave sooner, so the partner's incoming route starts, and has the
        # next page waiting, while the larger pages are still being read.
        wanted = max(page_size // FIRST_PAGE_SHARE, 1)
        while True:
            with self._tracker.read(self._actor) as op:
                project_id = op.project_ref(self.project_key).id
                if condition is None:
                    probe = self._condition(op, project_id, since_ms, ())
                    if (
                        queries
                        and op.session.scalar(select(Issue.id).where(probe).limit(1)) is None
                    ):
                        return  # idle: one indexed probe, before the queries are compiled
                    condition = self._condition(op, project_id, since_ms, queries)
                # The page's keys first: only the issues ``known`` lacks are loaded whole.
                statement = select(Issue.id, Issue.key, Issue.updated_ms).where(condition)
                if after is not None:
                    updated, last_id = after
                    statement = statement.where(
                        Issue.updated_ms >= updated,
                        or_(Issue.updated_ms > updated, Issue.id > last_id),
                    )
                rows = op.session.execute(
                    statement.order_by(Issue.updated_ms, Issue.id).limit(scan)
                ).all()
                if not rows:
                    return
                # Up to a page of issues ``known`` lacks; the next query starts after the
                # last row looked at, so a page in memory at a time, whatever ``scan``.
                fresh: list[int] = []
                looked = 0
                while looked < len(rows) and len(fresh) < wanted:
                    row = rows[looked]
                    looked += 1
                    if known is None or known.get(row.key) != row.updated_ms:
                        fresh.append(row.id)
                last = rows[looked - 1]
                loaded = op.issue_rows_by_id(fresh)
                issues_in_order = [loaded[i] for i in fresh if i in loaded]
                page = replicas.render_replicas(op, issues_in_order) if issues_in_order else []
                after = (last.updated_ms, last.id)
            if page:
                yield page
                wanted = min(wanted * 2, page_size)
            if looked == len(rows) < scan and not fresh:
                return  # else one more look: what changed while the pages were consumed

    def matching(self, keys: Sequence[str], queries: Sequence[str]) -> set[str]:
        """Those of ``keys`` (as given) whose issue is in the project and matches a query."""
        if not queries:
            return set(keys)
        wanted = sorted({k.upper() for k in keys})
        found: set[str] = set()
        with self._tracker.read(self._actor) as op:
            project_id = op.project_ref(self.project_key).id
            condition = self._condition(op, project_id, None, queries)
            for start in range(0, len(wanted), KEYS_PER_QUERY):
                chunk = wanted[start : start + KEYS_PER_QUERY]
                found.update(
                    op.session.scalars(select(Issue.key).where(condition, Issue.key.in_(chunk)))
                )
        return {k for k in keys if k.upper() in found}

    def deleted_since(self, since_ms: int | None) -> list[Deletion]:
        """Deletions recorded by the tracker's ``delete_issue``, oldest first."""
        with self._tracker.read(self._actor) as op:
            project_id = op.project_ref(self.project_key).id
            statement = select(DeletedIssue.key, DeletedIssue.deleted_ms).where(
                DeletedIssue.project_id == project_id
            )
            if since_ms is not None:
                statement = statement.where(DeletedIssue.deleted_ms >= since_ms)
            rows = op.session.execute(statement.order_by(DeletedIssue.deleted_ms, DeletedIssue.id))
            return [Deletion(key=key, deleted_ms=ms) for key, ms in rows]

    def get(self, key: str) -> Replica | None:
        """The issue; None when it does not exist or is in another project."""
        with self._tracker.read(self._actor) as op:
            issue = self._find(op, key)
            return replicas.render_replicas(op, [issue])[0] if issue is not None else None

    def find_user(self, ref: UserRef) -> UserRef | None:
        """The user with this e-mail (case-insensitive), else this login name."""
        with self._tracker.read(self._actor) as op:
            user = replicas.user_by_email(op.session, ref.email) or replicas.user_by_name(
                op.session, ref.username
            )
            return replicas.user_ref(user) if user is not None else None

    def read_attachment(self, attachment_id: str) -> bytes:
        """An attachment's content, from the tracker's blob store."""
        with self._tracker.read(self._actor) as op:
            row = subresources.attachment(op, attachment_id)
            issue = op.session.get(Issue, row.issue_id)
            if issue is None or issue.project_id != op.project_ref(self.project_key).id:
                raise NotFoundError(f"The attachment with id '{attachment_id}' does not exist.")
            digest = row.sha256
        try:
            with self._tracker.blobs.open(digest) as content:
                return content.read()
        except FileNotFoundError as exc:
            raise NotFoundError(
                f"The content of attachment {attachment_id} is missing from the attachment store."
            ) from exc

    # -- writing issues --------------------------------------------------------------------

    @_at_edge
    def create(self, draft: IssueDraft, *, idempotency_key: str) -> Replica:
        """Create the issue (and move it to ``fields["status"]`` if given), once per key."""
        record_key = self._record_key("issue", idempotency_key)

        def make() -> Replica:
            with self._writing() as op:
                record = op.session.get(IdempotencyRecord, record_key)
                if record is not None:
                    return self._created_issue(op, record.object_id)
                issue = drafts.new_issue(op, self.project_key, draft, None)
                self._record(op, record_key, issue.id)
                return replicas.render_replicas(op, [op.issue(str(issue.id))])[0]

        return self._once(record_key, make, self._created_issue)

    @_at_edge
    def create_many(self, new_issues: Sequence[NewIssue]) -> list[CreatedIssue]:
        """The batch in one transaction (see ``drafts``); a racing call's records are reused."""
        if not new_issues:
            return []

        def make() -> drafts.CreatedBatch:
            # What was written is read back without holding SQLite's write turn.
            return self._tracker.write_then_read(
                self._actor,
                lambda op: drafts.create_issues(
                    self._as_sync_user(op), self.project_key, new_issues, self._record_key
                ),
                drafts.load_created,
            )

        try:
            created = make()
        except IntegrityError:
            created = make()  # another call recorded some keys first: now they are found
        return created.issues()  # built after the transactions: it reads nothing

    @_at_edge
    def update(self, key: str, fields: Mapping[str, FieldValue]) -> Replica:
        """Edit the fields (a ``status`` moves through the workflow) in one transaction."""
        with self._writing() as op:
            issue = self._issue(op, key)
            values = dict(fields)
            status = values.pop("status", None)
            if values:
                body = fieldcodec.to_jira_fields(
                    values,
                    replicas.write_schema(op, self.project_key),
                    replicas.login_of(op.session),
                )
                issues.edit_issue(op, issue.key, body, {})
            if isinstance(status, str) and status:
                workflow.move_to_status(op, issue, status)
            return replicas.render_replicas(op, [issue])[0]

    @_at_edge
    def transition(self, key: str, status: str) -> Replica:
        """Move the issue along the shortest path of transitions; nothing when it is there."""
        with self._writing() as op:
            issue = self._issue(op, key)
            workflow.move_to_status(op, issue, status)
            return replicas.render_replicas(op, [issue])[0]

    # -- comments --------------------------------------------------------------------------

    @_at_edge
    def add_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """Comment in ``author``'s name when that user exists here and the sync user may
        write in other users' names (it administers the project); else as the sync user."""
        return self._add_comment(key, {"body": body}, author, idempotency_key)

    @_at_edge
    def add_restricted_comment(
        self, key: str, body: str, author: UserRef | None, *, idempotency_key: str
    ) -> HubComment:
        """A comment only the project's Administrators role sees (Jira's ``visibility``), as
        :meth:`add_comment` writes one."""
        restricted = {"body": body, "visibility": {"type": "role", "value": RESTRICTED_ROLE}}
        return self._add_comment(key, restricted, author, idempotency_key)

    def _add_comment(
        self, key: str, body: Mapping[str, object], author: UserRef | None, idempotency_key: str
    ) -> HubComment:
        record_key = self._record_key("comment", idempotency_key)

        def make() -> HubComment:
            with self._writing() as op:
                record = op.session.get(IdempotencyRecord, record_key)
                if record is not None:
                    return replicas.comment_of(op, record.object_id)
                issue = self._issue(op, key)
                user = None
                if author is not None and op.actor.administers(self.project_key):
                    user = replicas.user_by_email(
                        op.session, author.email
                    ) or replicas.user_by_name(op.session, author.username)
                writer = op
                if user is not None and user.active and user.id != op.actor.id:
                    writer = dataclasses.replace(op, actor=Principal.of(user))
                created = subresources.add_comment(writer, issue.key, body)
                self._record(op, record_key, str(created["id"]))
                return fieldcodec.comment_from_jira(created)

        return self._once(record_key, make, replicas.comment_of)

    @_at_edge
    def edit_comment(self, key: str, comment_id: str, body: str) -> HubComment:
        """Replace a comment's body (another user's needs a sync user who administers)."""
        with self._writing() as op:
            issue = self._issue(op, key)
            comment = replicas.comment_row(op.session, comment_id, issue.id)
            if comment is None:
                raise NotFoundError(f"Can not find a comment for the id: {comment_id}.")
            with self._needing(EDIT_ALL_COMMENTS, f"edit comment {comment_id} of {issue.key}"):
                edited = subresources.edit_comment(op, issue.key, comment_id, {"body": body})
            return fieldcodec.comment_from_jira(edited)

    @_at_edge
    def delete_comment(self, key: str, comment_id: str) -> None:
        """Delete a comment; one (or an issue) that is gone already is no error."""
        with self._writing() as op:
            issue = self._find(op, key)
            comment = replicas.comment_row(op.session, comment_id, issue.id) if issue else None
            if issue is not None and comment is not None:
                what = f"delete comment {comment_id} of {issue.key}"
                with self._needing(DELETE_ALL_COMMENTS, what):
                    subresources.delete_comment(op, issue.key, comment_id)

    # -- issue links (``trackers/linking.py``) ----------------------------------------------

    @_at_edge
    def link_types(self) -> tuple[LinkType, ...]:
        """The tracker's link types (Blocks, Cloners, Duplicate, Relates, and any added)."""
        with self._tracker.read(self._actor) as op:
            found = op.ref.link_types.by_id.values()
            return tuple(LinkType(t.name, t.outward, t.inward) for t in found)

    @_at_edge
    def add_link(self, key: str, other_key: str, link_type: str, *, outward: bool) -> None:
        """Jira's ``POST issueLink``: the inward issue of its body is the link's outward end."""
        source, target = (key, other_key) if outward else (other_key, key)
        body = {"type": {"name": link_type}, "inwardIssue": {"key": source}}
        with self._writing() as op:
            subresources.create_link(op, {**body, "outwardIssue": {"key": target}})

    @_at_edge
    def delete_link(self, key: str, link_id: str) -> None:
        """Remove a link of the issue; one that is gone already is no error."""
        with self._writing() as op:
            issue = self._find(op, key)
            link = op.session.get(IssueLink, int(link_id)) if link_id.isdigit() else None
            if (
                issue is not None
                and link is not None
                and issue.id
                in (
                    link.source_issue_id,
                    link.target_issue_id,
                )
            ):
                subresources.delete_link(op, link_id)

    # -- attachments -----------------------------------------------------------------------

    @_at_edge
    def add_attachment(
        self, key: str, filename: str, mimetype: str, content: bytes, *, idempotency_key: str
    ) -> HubAttachment:
        """Store the content, then attach it in one transaction with the key's record.

        As ``LocalTracker.attach``: content is written before the transaction that
        refers to it, and removed again when that transaction did not keep it.
        """
        record_key = self._record_key("attachment", idempotency_key)
        filename, mimetype = subresources.attachment_names(filename, mimetype)
        with self._tracker.read(self._actor) as op:
            record = op.session.get(IdempotencyRecord, record_key)
            if record is not None:
                return replicas.attachment_of(op, record.object_id)
            self._issue(op, key)  # 404 before any content is written
        digest, size = self._tracker.blobs.put(io.BytesIO(content))

        def make() -> tuple[HubAttachment, bool]:
            with self._writing() as op:
                record = op.session.get(IdempotencyRecord, record_key)
                if record is not None:
                    return replicas.attachment_of(op, record.object_id), False
                issue = self._issue(op, key)
                (created,) = subresources.add_attachments(
                    op, issue.key, [(filename, mimetype, digest, size)]
                )
                self._record(op, record_key, str(created["id"]))
                return fieldcodec.attachment_from_jira(created), True

        try:
            attachment, made = self._once(
                record_key, make, lambda op, oid: (replicas.attachment_of(op, oid), False)
            )
        except BaseException:
            self._forget_unreferenced(digest)
            raise
        if not made:
            self._forget_unreferenced(digest)
        return attachment

    @_at_edge
    def delete_attachment(self, key: str, attachment_id: str) -> None:
        """Delete an attachment of the issue, and its content when nothing else refers to it."""
        orphan: str | None = None
        with self._writing() as op:
            issue = self._find(op, key)
            row = replicas.attachment_row(op.session, attachment_id, issue.id) if issue else None
            if issue is not None and row is not None:
                what = f"delete attachment {attachment_id} of {issue.key}"
                with self._needing(DELETE_ALL_ATTACHMENTS, what):
                    orphan = subresources.delete_attachment(op, attachment_id)
        if orphan:
            self._tracker.forget_blobs([orphan])

    # -- work logs -------------------------------------------------------------------------

    @_at_edge
    def add_worklog(self, key: str, draft: WorklogDraft, *, idempotency_key: str) -> HubWorklog:
        """Log work as the sync user (the draft's comment names the author); once per key."""
        record_key = self._record_key("worklog", idempotency_key)

        def make() -> HubWorklog:
            with self._writing() as op:
                record = op.session.get(IdempotencyRecord, record_key)
                if record is not None:
                    return worklog_writes.worklog_of(op, record.object_id)
                made = worklog_writes.add(op, self._issue(op, key).key, draft)
                self._record(op, record_key, made.id)
                return made

        return self._once(record_key, make, worklog_writes.worklog_of)

    @_at_edge
    def edit_worklog(self, key: str, worklog_id: str, draft: WorklogDraft) -> HubWorklog:
        """Replace a work log (another user's needs a sync user who administers)."""
        with self._writing() as op:
            issue = self._issue(op, key)
            with self._needing(EDIT_ALL_WORKLOGS, f"edit work log {worklog_id} of {issue.key}"):
                return worklog_writes.edit(op, issue.key, worklog_id, draft)

    @_at_edge
    def delete_worklog(self, key: str, worklog_id: str) -> None:
        """Delete a work log; one (or an issue) that is gone already is no error."""
        with self._writing() as op:
            issue = self._find(op, key)
            if issue is not None:
                what = f"delete work log {worklog_id} of {issue.key}"
                with self._needing(DELETE_ALL_WORKLOGS, what):
                    worklog_writes.delete(op, issue, worklog_id)

    # -- the connection --------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        """The sync user exists and is active, the project exists, a write can begin."""
        user_name, key = self._actor.name, self.project_key
        try:
            with self._tracker.read(self._actor) as op:
                user = op.session.get(User, self._actor.id)
                user_ok = user is not None and user.active
                administers = user is not None and user.administers(key)
                found = op.session.scalar(select(Project.id).where(Project.key == key))
            # A write transaction, rolled back: the store accepts writes now.
            with self._tracker.uow_factory() as uow:
                uow.session.execute(select(1))
        except (IssueSyncError, SQLAlchemyError) as exc:
            # The type only: a driver's message may name the database's address.
            failed = ConnectionCheck("store", ok=False, detail=f"failed: {type(exc).__name__}")
            return ConnectionReport((failed,))
        may_write = user_ok and found is not None
        can = "may create and edit issues, comment, attach"
        if administers:
            can += (
                f"; as an administrator of {key}, also writes comments in their authors' "
                "names and edits and deletes other users' comments and attachments"
            )
        else:
            can += (
                f"; not an administrator of {key}: writes comments in its own name, and "
                "may not edit or delete other users' comments and attachments"
            )
        checks = (
            ConnectionCheck("user", user_ok, f"sync user '{user_name}' exists and is active"),
            ConnectionCheck("project", found is not None, f"project {key} exists"),
            ConnectionCheck("write", may_write, can),
        )
        return ConnectionReport(checks)

    def close(self) -> None:
        """Nothing to release: the tracker's services own the connections."""

    # -- helpers ---------------------------------------------------------------------------

    def _find(self, op: Operation, key: str) -> Issue | None:
        project_id = op.project_ref(self.project_key).id  # a missing project raises
        try:
            issue = op.issue(key)
        except NotFoundError:
            return None
        return issue if issue.project_id == project_id else None

    def _issue(self, op: Operation, key: str) -> Issue:
        issue = self._find(op, key)
        if issue is None:
            raise NotFoundError(f"Issue {key} does not exist in project {self.project_key}.")
        return issue

    def _condition(
        self, op: Operation, project_id: int, since_ms: int | None, queries: Sequence[str]
    ) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = [Issue.project_id == project_id]
        if since_ms is not None:
            parts.append(Issue.updated_ms >= since_ms)
        # A connector's queries are written by whoever configures the integration, a project
        # administrator perhaps: they name users by login or display name, never by an e-mail
        # address (the issues a query finds would tell whose address it is).
        context = JqlContext(session=op.session, now_ms=op.now, current_user_id=self._actor.id)
        compiled: list[ColumnElement[bool]] = []
        try:
            # Together, as they are evaluated: all of them within the limits of one query.
            parsed = parse_queries(queries)
            for text, query in zip(queries, parsed, strict=True):
                try:
                    compiled.append(compile_jql(query, context).where)
                except QueryError as exc:
                    raise QueryError(f"'{abbreviated(text)}': {exc.message}") from None
        except QueryError as exc:
            raise ConfigurationError(
                f"The queries for project {self.project_key} cannot be used: {exc.message}"
            ) from exc
        if compiled:
            parts.append(or_(*compiled))
        return and_(*parts)

    @contextmanager
    def _writing(self) -> Iterator[Operation]:
        """A write operation of the sync user, with the roles the store gives them now."""
        with self._tracker.write(self._actor) as op:
            yield self._as_sync_user(op)

    def _as_sync_user(self, op: Operation) -> Operation:
        """``op`` acting as the sync user as they are in this transaction.

        The adapter lives as long as its route: a role granted to the sync user
        (or taken away) counts from the next write, and a sync user deactivated
        or deleted since the adapter opened writes nothing more.
        """
        user = op.session.get(User, self._actor.id)
        if user is None or not user.active:
            raise AuthenticationError(
                f"The sync user '{self._actor.name}' of project {self.project_key} is "
                "deactivated or deleted in the built-in tracker: activate it, or name "
                "another sync user."
            )
        op.actor = Principal.of(user)
        return op

    @contextmanager
    def _needing(self, permission: str, what: str) -> Iterator[None]:
        """Say which permission the sync user lacks when the tracker refuses ``what``."""
        try:
            yield
        except PermissionDeniedError as exc:
            name, key = self._actor.name, self.project_key
            raise PermissionDeniedError(
                f"The built-in tracker refused to {what}: it is another user's, and the sync "
                f"user '{name}' lacks the permission {permission} in project {key} (only "
                f"the author or an administrator of {key} has it). Make '{name}' an "
                f"administrator of project {key} (`issuesync user grant {name} "
                f"--project-admin {key}`), or name a sync user who is one; then retry the "
                "message."
            ) from exc

    def _record_key(self, kind: str, idempotency_key: str) -> str:
        key = f"{kind}:{self.project_key}:{idempotency_key}"
        if len(key) > MAX_RECORD_KEY:
            key = f"{kind}:{self.project_key}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
        return key

    @staticmethod
    def _record(op: Operation, record_key: str, object_id: int | str) -> None:
        op.session.add(
            IdempotencyRecord(key=record_key, object_id=str(object_id), created_ms=op.now)
        )
        op.session.flush()

    def _once(
        self, record_key: str, make: Callable[[], T], made: Callable[[Operation, str], T]
    ) -> T:
        """``make()``; when a racing call recorded the key first, what that call made."""
        try:
            return make()
        except (ConflictError, IntegrityError) as exc:
            with self._tracker.read(self._actor) as op:
                record = op.session.get(IdempotencyRecord, record_key)
                if record is not None:
                    return made(op, record.object_id)
            if isinstance(exc, IntegrityError):
                raise ConflictError(f"the change clashes with existing data: {exc.orig}") from exc
            raise

    def _created_issue(self, op: Operation, object_id: str) -> Replica:
        number = row_id(object_id)
        issue = op.session.get(Issue, number) if number is not None else None
        if issue is None:
            raise NotFoundError(f"The issue created for this key ({object_id}) was deleted since.")
        return replicas.render_replicas(op, [issue])[0]

    def _forget_unreferenced(self, digest: str) -> None:
        with self._tracker.read(self._actor) as op:
            unused = subresources.unreferenced(op, [digest])
        self._tracker.forget_blobs(unused)


def local_adapter_for(tracker: LocalTracker, project_key: str, user_name: str) -> LocalAdapter:
    """The adapter for ``project_key``, acting as the user called ``user_name``.

    Raises:
        ConfigurationError: no user has that name.
    """
    with tracker.uow_factory(readonly=True) as uow:
        user = uow.session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise ConfigurationError(
                f"The sync user '{user_name}' does not exist in the built-in tracker: "
                "create it (issuesync user create) or name another one."
            )
        actor = Principal.of(user)
    return LocalAdapter(tracker, project_key, actor)
