"""Creating issues of the built-in tracker from the sync adapter's drafts, one or a batch.

A batch is one write transaction: the issues through the tracker's own
``create_issue`` (the same validation and history as its REST route), their
comments as one multi-row insert, the idempotency records of both as another,
and the result rendered in one go. That is what makes an initial sync of
thousands of issues a matter of seconds rather than minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from issuesync.domain.replica import UserRef
from issuesync.errors import NotFoundError
from issuesync.store.base import insert_many, insert_rows, table_of
from issuesync.store.users import User
from issuesync.trackers import fieldcodec
from issuesync.trackers.adapter import CreatedIssue, IssueDraft, NewIssue
from issuesync.trackers.local import issues, replicas, workflow
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.hubrender import HubPage
from issuesync.trackers.local.models import Comment, IdempotencyRecord, IssueRow, row_id
from issuesync.trackers.local.subresources import comment_body

KEYS_PER_QUERY = 500

RecordKey = Callable[[str, str], str]  # (kind, caller's key) -> the record's key


def new_issue(op: Operation, project_key: str, draft: IssueDraft, status: str | None) -> IssueRow:
    """Create one issue from a draft through the tracker's own create, then move it to status.

    The result holds the new row's values (id, key, status before the move) but
    is not in the session: load it to render it.
    """
    return new_issues(op, project_key, [(draft, status)])[0]


def new_issues(
    op: Operation, project_key: str, drafts: Sequence[tuple[IssueDraft, str | None]]
) -> list[IssueRow]:
    """:func:`new_issue` for many drafts: checked one by one, written together."""
    schema = replicas.write_schema(op, project_key)
    login = replicas.login_of(op.session)
    bodies: list[tuple[Mapping[str, object], Mapping[str, object]]] = []
    statuses: list[str | None] = []
    for draft, status in drafts:
        values = dict(draft.fields)
        from_fields = values.pop("status", None)
        statuses.append(status or _text(from_fields))
        reporter = replicas.reporter_name(op.session, values.pop("reporter", None), draft.reporter)
        values.pop("issuetype", None)
        body = fieldcodec.to_jira_fields(values, schema, login)
        body |= {"project": {"key": project_key}, "issuetype": {"name": draft.issue_type}}
        if draft.parent_key:
            body["parent"] = {"key": draft.parent_key}
        if reporter is not None:
            body["reporter"] = {"name": reporter}
        bodies.append((body, {}))
    made = issues.insert_issues(op, bodies)
    for issue, status in zip(made, statuses, strict=True):
        if status:
            workflow.move_to_status(op, issue, status)
    return made


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class _Batch:
    """The records already made for a batch's keys, and what this call adds."""

    known: dict[str, str]
    records: list[dict[str, object]] = field(default_factory=list)
    comments: list[dict[str, object]] = field(default_factory=list)
    comment_keys: list[str] = field(default_factory=list)


def create_issues(
    op: Operation, project_key: str, requests: Sequence[NewIssue], record_key: RecordKey
) -> WrittenBatch:
    """Create a batch in ``op``'s transaction; what a key made before is returned, not remade.

    Read the result back with :func:`load_created`, in the same transaction or in
    one that sees exactly its commit. Comments are written in their authors' names
    when ``op.actor`` administers the project, else in ``op.actor``'s own.
    """
    issue_keys = [record_key("issue", r.idempotency_key) for r in requests]
    comment_keys = [
        [record_key("comment", c.idempotency_key) for c in r.comments] for r in requests
    ]
    batch = _Batch(known=_records(op, issue_keys + [k for ks in comment_keys for k in ks]))
    # Writing in another user's name is acting as them: only a project admin may.
    named = op.actor.administers(project_key)
    authors = _Authors(op, [c.author for r in requests for c in r.comments] if named else [])
    fresh = [
        (r, key) for r, key in zip(requests, issue_keys, strict=True) if key not in batch.known
    ]
    created = new_issues(op, project_key, [(r.draft, r.status) for r, _ in fresh])
    new_ids = {key: issue.id for (_, key), issue in zip(fresh, created, strict=True)}
    batch.records.extend(
        {"key": key, "object_id": str(issue_id), "created_ms": op.now}
        for key, issue_id in new_ids.items()
    )
    made = [
        new_ids[key] if key in new_ids else _recorded_issue(batch.known[key]) for key in issue_keys
    ]
    for request, issue_id, keys in zip(requests, made, comment_keys, strict=True):
        for comment, key in zip(request.comments, keys, strict=True):
            if key in batch.known:
                continue
            author = authors.id_of(comment.author) or op.actor.id
            batch.comments.append(
                {
                    "issue_id": issue_id,
                    "author_id": author,
                    "update_author_id": author,
                    "body": comment_body({"body": comment.body}, op.text_limit),
                    "created_ms": op.now,
                    "updated_ms": op.now,
                }
            )
            batch.comment_keys.append(key)
    _write(op, batch)
    return WrittenBatch(made, [[batch.known[k] for k in keys] for keys in comment_keys])


@dataclass(frozen=True)
class WrittenBatch:
    """The ids of a batch's issues and of each issue's requested comments, in order."""

    issue_ids: list[int]
    comment_ids: list[list[str]]


def load_created(op: Operation, written: WrittenBatch) -> CreatedBatch:
    """Read a written batch back; an issue or comment deleted since is refused."""
    rows = op.issue_rows_by_id(written.issue_ids)
    missing = [str(number) for number in written.issue_ids if number not in rows]
    if missing:
        raise NotFoundError(f"The issues created for these keys were deleted since: {missing}.")
    page = replicas.load_replicas(op, [rows[number] for number in written.issue_ids])
    for number, ids in zip(written.issue_ids, written.comment_ids, strict=True):
        present = {str(c.id) for c in page.parts.comments[number]}
        gone = [i for i in ids if i not in present]
        if gone:
            raise NotFoundError(f"The comments created for these keys were deleted: {gone}.")
    return CreatedBatch(page, written.comment_ids)


@dataclass
class CreatedBatch:
    """A batch's issues as read back, and the ids of the requested comments."""

    page: HubPage
    comment_ids: list[list[str]]  # per issue, one per requested comment, in order

    def issues(self) -> list[CreatedIssue]:
        """The created issues as replicas (built, not read: call it after the transaction)."""
        made: list[CreatedIssue] = []
        for replica, ids in zip(self.page.replicas(), self.comment_ids, strict=True):
            by_id = {c.id: c for c in replica.hub_issue.comments}
            made.append(CreatedIssue(replica, tuple(by_id[i] for i in ids)))
        return made


def _records(op: Operation, keys: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        rows = op.session.execute(
            select(IdempotencyRecord.key, IdempotencyRecord.object_id).where(
                IdempotencyRecord.key.in_(chunk)
            )
        )
        found.update((key, object_id) for key, object_id in rows)
    return found


def _recorded_issue(object_id: str) -> int:
    number = row_id(object_id)
    if number is None:
        raise NotFoundError(f"The issue created for this key ({object_id}) is not an issue id.")
    return number


class _Authors:
    """Active users named by comment authors: by login name, else by e-mail (case-insensitive).

    As ``add_comment`` finds them, but for a whole batch in one query per chunk.
    """

    def __init__(self, op: Operation, refs: Sequence[UserRef | None]) -> None:
        names = sorted({r.username.lower() for r in refs if r is not None and r.username})
        emails = sorted({r.email.lower() for r in refs if r is not None and r.email})
        self.by_name: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        for start in range(0, max(len(names), len(emails)), KEYS_PER_QUERY):
            chunk_names = names[start : start + KEYS_PER_QUERY]
            chunk_emails = emails[start : start + KEYS_PER_QUERY]
            rows = op.session.execute(
                select(User.id, User.name, User.email)
                .where(
                    or_(
                        func.lower(User.name).in_(chunk_names),
                        func.lower(User.email).in_(chunk_emails),
                    ),
                    User.active,
                )
                .order_by(User.id.desc())  # the lowest id wins a case-insensitive tie
            )
            for user_id, name, email in rows:
                self.by_name[name.lower()] = user_id
                if email:
                    self.by_email[email.lower()] = user_id

    def id_of(self, ref: UserRef | None) -> int | None:
        """The user's id, or None when nobody here is that user."""
        if ref is None:
            return None
        found = self.by_name.get(ref.username.lower()) if ref.username else None
        if found is None and ref.email:
            found = self.by_email.get(ref.email.lower())
        return found


def _write(op: Operation, batch: _Batch) -> None:
    """The comments and every new record: two multi-row inserts."""
    if batch.comments:
        ids = insert_rows(op.session.connection(), table_of(Comment), batch.comments)
        for key, comment_id in zip(batch.comment_keys, ids, strict=True):
            batch.records.append({"key": key, "object_id": str(comment_id), "created_ms": op.now})
            batch.known[key] = str(comment_id)
    if batch.records:
        insert_many(op.session.connection(), table_of(IdempotencyRecord), batch.records)
