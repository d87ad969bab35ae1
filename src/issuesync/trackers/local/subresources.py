"""Comments, attachments, watchers and links of issues in the built-in tracker (work logs:
``worklogs.py``, remote links: ``remotelinks.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeVar

from sqlalchemy import func, select

from issuesync.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from issuesync.store.users import User
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.models import (
    Attachment,
    Comment,
    Issue,
    IssueLink,
    Watcher,
    row_id,
)
from issuesync.trackers.local.refdata import ProjectRef
from issuesync.trackers.local.shapes import user_json
from issuesync.trackers.local.textlimits import check_length
from issuesync.trackers.local.writer import Changes, existing_link

MAX_FILENAME = 255
NUL = "\x00"

R = TypeVar("R", Comment, Attachment, IssueLink)


def _get(model: type[R], op: Operation, raw_id: str) -> R | None:
    number = row_id(raw_id)
    return op.session.get(model, number) if number is not None else None


def comment_body(body: Mapping[str, object], limit: int) -> str:
    """The text of a comment body, checked: not empty, at most ``limit`` characters."""
    text = body.get("body")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(
            "The comment is empty.", field_errors={"comment": "Comment body can not be empty!"}
        )
    return check_length(text, "comment", limit)


VISIBILITY_TYPES: Final = ("role", "group")


def comment_visibility(body: Mapping[str, object]) -> tuple[str | None, str | None]:
    """A comment body's ``visibility`` (``{"type": "role", "value": "Administrators"}``) as
    its type and value; (None, None) when it has none: everyone sees the comment."""
    given = body.get("visibility")
    if given is None:
        return None, None
    if isinstance(given, Mapping):
        kind, value = given.get("type"), given.get("value") or given.get("identifier")
        if kind in VISIBILITY_TYPES and isinstance(value, str) and 0 < len(value.strip()) <= 255:  # noqa: PLR2004 - the column
            return str(kind), value.strip()
    raise InvalidInputError(
        "The comment's visibility is not valid.",
        field_errors={
            "commentLevel": 'Give visibility as {"type": "role" or "group", "value": a name}.'
        },
    )


def own_or_admin(op: Operation, issue: Issue, author_id: int | None, what: str) -> None:
    """Raise 403 unless the caller wrote it (``author_id``) or administers the issue's project:
    Jira's default rights to edit or delete a comment, an attachment or a work log."""
    if author_id == op.actor.id or op.actor.administers(op.project_of(issue).key):
        return
    raise PermissionDeniedError(
        f"You do not have permission to change this {what}: it is someone else's."
    )


# -- comments ---------------------------------------------------------------------------


def list_comments(op: Operation, key: str, start_at: int, max_results: int) -> JsonDict:
    """A page of an issue's comments, oldest first."""
    issue = op.issue(key)
    total = op.session.scalar(select(func.count()).where(Comment.issue_id == issue.id)) or 0
    rows = op.session.scalars(
        select(Comment)
        .where(Comment.issue_id == issue.id)
        .order_by(Comment.id)
        .offset(start_at)
        .limit(max_results)
    )
    renderer = op.renderer()
    return {
        "startAt": start_at,
        "maxResults": max_results,
        "total": total,
        "comments": [renderer.comment(c) for c in rows],
    }


def _comment(op: Operation, issue: Issue, comment_id: str) -> Comment:
    comment = _get(Comment, op, comment_id)
    if comment is None or comment.issue_id != issue.id:
        raise NotFoundError(f"Can not find a comment for the id: {comment_id}.")
    return comment


def get_comment(op: Operation, key: str, comment_id: str) -> JsonDict:
    """One comment."""
    issue = op.issue(key)
    return op.renderer().comment(_comment(op, issue, comment_id))


def add_comment(op: Operation, key: str, body: Mapping[str, object]) -> JsonDict:
    """Add a comment; the issue's ``updated`` moves."""
    issue = op.issue(key)
    kind, value = comment_visibility(body)
    comment = Comment(
        issue_id=issue.id,
        author_id=op.actor.id,
        update_author_id=op.actor.id,
        body=comment_body(body, op.text_limit),
        created_ms=op.now,
        updated_ms=op.now,
        visibility_type=kind,
        visibility_value=value,
    )
    op.session.add(comment)
    op.touch(issue)
    op.session.flush()
    return op.renderer().comment(comment)


def edit_comment(op: Operation, key: str, comment_id: str, body: Mapping[str, object]) -> JsonDict:
    """Edit a comment (its author or a project admin)."""
    issue = op.issue(key)
    comment = _comment(op, issue, comment_id)
    own_or_admin(op, issue, comment.author_id, "comment")
    comment.body = comment_body(body, op.text_limit)
    if "visibility" in body:  # an edit without it keeps the comment's
        comment.visibility_type, comment.visibility_value = comment_visibility(body)
    comment.update_author_id = op.actor.id
    comment.updated_ms = op.now
    op.touch(issue)
    return op.renderer().comment(comment)


def delete_comment(op: Operation, key: str, comment_id: str) -> None:
    """Delete a comment (its author or a project admin)."""
    issue = op.issue(key)
    comment = _comment(op, issue, comment_id)
    own_or_admin(op, issue, comment.author_id, "comment")
    op.session.delete(comment)
    op.touch(issue)


# -- attachments ------------------------------------------------------------------------


def add_attachments(
    op: Operation, key: str, stored: list[tuple[str, str, str, int]]
) -> list[JsonDict]:
    """Record already-stored content ``(filename, mime type, sha256, size)`` as attachments."""
    issue = op.issue(key)
    rows = [
        Attachment(
            issue_id=issue.id,
            filename=filename,
            mime_type=mime,
            sha256=sha,
            size=size,
            author_id=op.actor.id,
            created_ms=op.now,
        )
        for filename, mime, sha, size in stored
    ]
    op.session.add_all(rows)
    op.session.flush()
    changes = Changes()
    for row in rows:
        changes.record("Attachment", (None, None), (str(row.id), row.filename))
    op.touch(issue, changes)
    renderer = op.renderer()
    return [renderer.attachment(r) for r in rows]


def attachment_names(filename: str, mime: str) -> tuple[str, str]:
    """A file's name (refused when it cannot be stored) and its MIME type (a default if so)."""
    if not filename.strip() or len(filename) > MAX_FILENAME or NUL in filename:
        raise InvalidInputError(
            "The file name is not valid.",
            field_errors={"file": f"A file name must have 1 to {MAX_FILENAME} characters."},
        )
    if len(mime) > MAX_FILENAME or NUL in mime:
        mime = "application/octet-stream"
    return filename, mime


def unreferenced(op: Operation, digests: list[str]) -> list[str]:
    """Those of ``digests`` that no attachment refers to."""
    used = set(op.session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(digests))))
    return sorted(set(digests) - used)


def attachment(op: Operation, attachment_id: str) -> Attachment:
    """An attachment by id; 404 otherwise."""
    row = _get(Attachment, op, attachment_id)
    if row is None:
        raise NotFoundError(f"The attachment with id '{attachment_id}' does not exist.")
    return row


def get_attachment(op: Operation, attachment_id: str) -> JsonDict:
    """Attachment metadata."""
    return op.renderer().attachment(attachment(op, attachment_id))


def delete_attachment(op: Operation, attachment_id: str) -> str | None:
    """Delete an attachment; returns its sha256 when no other attachment shares the content."""
    row = attachment(op, attachment_id)
    issue = op.session.get(Issue, row.issue_id)
    assert issue is not None  # a foreign key guarantees it
    own_or_admin(op, issue, row.author_id, "attachment")
    changes = Changes()
    changes.record("Attachment", (str(row.id), row.filename), (None, None))
    op.session.delete(row)
    op.touch(issue, changes)
    op.session.flush()
    shared = op.session.scalar(select(func.count()).where(Attachment.sha256 == row.sha256)) or 0
    return None if shared else row.sha256


# -- watchers ---------------------------------------------------------------------------


def list_watchers(op: Operation, key: str) -> JsonDict:
    """Who watches an issue."""
    issue = op.issue(key)
    users = list(
        op.session.scalars(
            select(User)
            .join(Watcher, Watcher.user_id == User.id)
            .where(Watcher.issue_id == issue.id)
        )
    )
    api = f"{op.base_url}/rest/api/2"
    return {
        "self": f"{api}/issue/{issue.key}/watchers",
        "isWatching": any(u.id == op.actor.id for u in users),
        "watchCount": len(users),
        "watchers": [user_json(u, api, op.emails) for u in users],
    }


def add_watcher(op: Operation, key: str, username: str | None) -> None:
    """Add a watcher (the caller when no name is given)."""
    issue = op.issue(key)
    user_id = op.actor.id
    if username:
        user_id = _user(op, username).id
    if op.session.get(Watcher, (issue.id, user_id)) is None:
        op.session.add(Watcher(issue_id=issue.id, user_id=user_id))


def remove_watcher(op: Operation, key: str, username: str) -> None:
    """Remove a watcher; others may only be removed by a project admin."""
    issue = op.issue(key)
    user = _user(op, username)
    if user.id != op.actor.id:
        op.require_project_admin(op.project_of(issue))
    row = op.session.get(Watcher, (issue.id, user.id))
    if row is not None:
        op.session.delete(row)


def _user(op: Operation, username: str) -> User:
    """An active user by name or e-mail; 404 otherwise, as Jira answers for watchers."""
    user = op.users().find(username)
    if user is None or not user.active:
        raise NotFoundError(f"The user '{username}' does not exist.")
    return user


# -- links ------------------------------------------------------------------------------


def create_link(op: Operation, body: Mapping[str, object]) -> JsonDict:
    """Jira's ``POST issueLink``: ``{type, inwardIssue, outwardIssue}``.

    As in Jira, the link goes from ``inwardIssue`` to ``outwardIssue``: with type
    Blocks, the inward issue blocks the outward one. As in Jira too, a link that
    exists already is answered as created (the existing one), and nothing changes.
    """
    inward, outward = body.get("inwardIssue"), body.get("outwardIssue")
    if inward is None or outward is None:
        raise InvalidInputError(
            "Both issues of the link must be given.",
            field_errors={"inwardIssue" if inward is None else "outwardIssue": "is required"},
        )
    # As Jira, a missing issue or link type is 404, before anything else is checked.
    writer_issue = op.issue(_issue_ref(inward))
    target = op.issue(_issue_ref(outward))
    try:
        link_type = op.ref.link_types.resolve(body.get("type"), "type")
    except InvalidInputError as exc:
        raise NotFoundError(exc.message) from exc
    project = ProjectRef.of(op.project_of(writer_issue))
    writer = op.writer(project)
    link = writer.build_link(
        writer_issue, {"type": {"id": link_type.id}, "outwardIssue": {"id": target.id}}
    )
    existing = existing_link(op.session, link)
    if existing is not None:
        link = existing
    else:
        op.session.add(link)
        # As Jira, both ends show the change: each is updated (and polled by a sync).
        op.touch(writer_issue)
        op.touch(target)
        op.session.flush()
    return {"id": str(link.id), "self": f"{op.base_url}/rest/api/2/issueLink/{link.id}"}


def _issue_ref(value: object) -> str:
    ref = value.get("key") or value.get("id") if isinstance(value, Mapping) else value
    if isinstance(ref, int | str) and str(ref):
        return str(ref)
    raise InvalidInputError(
        "An issue of the link is not named.", field_errors={"issue": "give a key or an id"}
    )


def get_link(op: Operation, link_id: str) -> IssueLink:
    """A link by id; 404 otherwise."""
    link = _get(IssueLink, op, link_id)
    if link is None:
        raise NotFoundError(f"No issue link with id '{link_id}' exists.")
    return link


def link_json(op: Operation, link_id: str) -> JsonDict:
    """Jira's ``GET issueLink/{id}``: the link type and both issues."""
    found = get_link(op, link_id)
    renderer = op.renderer()
    link_type = found.link_type
    return {
        "id": str(found.id),
        "type": {
            "id": str(link_type.id),
            "name": link_type.name,
            "inward": link_type.inward,
            "outward": link_type.outward,
        },
        "inwardIssue": renderer.issue_ref(op.issue(str(found.source_issue_id))),
        "outwardIssue": renderer.issue_ref(op.issue(str(found.target_issue_id))),
    }


def delete_link(op: Operation, link_id: str) -> None:
    """Delete a link; both its issues are updated, as when it was made."""
    link = get_link(op, link_id)
    for issue_id in (link.source_issue_id, link.target_issue_id):
        op.touch(op.issue(str(issue_id)))
    op.session.delete(link)
