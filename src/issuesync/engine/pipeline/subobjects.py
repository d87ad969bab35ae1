"""Comments and attachments of an incoming message: applied one by one, followed by traces
(work logs alike, in ``worklogs``).

A comment or attachment the partner added is created here once (an idempotency
key per message and sub-object), edited or deleted through its trace, or
paired with an equal one this side already has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from issuesync.domain.diff import FieldConflict
from issuesync.domain.mapping import ATTACHMENT, COMMENT
from issuesync.domain.message import (
    LINK_PREFIX,
    AttachmentChange,
    ChangeAction,
    Message,
    Trace,
    TraceType,
    link_comment_id,
)
from issuesync.domain.replica import FieldValue, Replica, body_digest
from issuesync.engine.pipeline import limits, people, restricted
from issuesync.engine.pipeline.ledger import SyncLedger
from issuesync.engine.pipeline.route import Route
from issuesync.engine.pipeline.worklogs import add_worklogs, change_worklogs


@dataclass
class Outcome:
    """What applying a message changed, for the bookkeeping transaction."""

    local_key: str
    after: Replica
    created: bool
    parent_info_id: int | None = None
    written: set[str] = field(default_factory=set)
    agreed: dict[str, FieldValue] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)
    # A partner id of None: made here for this side alone (a cut text's full text).
    traces_added: list[tuple[TraceType, str, str | None, str | None]] = field(default_factory=list)
    traces_linked: list[tuple[TraceType, str, str, str | None]] = field(default_factory=list)
    traces_changed: list[tuple[TraceType, str, str | None]] = field(default_factory=list)
    traces_removed: list[tuple[TraceType, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def adopt_twins(
    message: Message,
    outcome: Outcome,
    traces: dict[tuple[str, str], str],
    issue_traces: dict[str, str | None],
) -> None:
    """Pair added comments and attachments with equal ones this side has, instead of copying.

    Issues linked by importing sync information, or both sides adding the same
    text at once, would otherwise end up with each comment twice. A local one
    is a candidate when it has no trace, or one still waiting for its partner id.
    """
    if outcome.created:
        return

    def free(local_id: str) -> bool:
        return issue_traces.get(local_id) is None

    issue = outcome.after.hub_issue
    comments = [c for c in issue.comments if free(c.id)]
    for change in message.comments:
        key = (str(TraceType.COMMENT), change.source_id)
        if change.action is not ChangeAction.ADD or key in traces:
            continue
        found = next((c for c in comments if c.body == (change.body or "")), None)
        if found is not None:
            comments.remove(found)
            traces[key] = found.id
            digest = body_digest(found.body)
            outcome.traces_linked.append((TraceType.COMMENT, found.id, change.source_id, digest))
    files = [a for a in issue.attachments if free(a.id)]
    for added in message.attachments:
        key = (str(TraceType.ATTACHMENT), added.source_id)
        if added.action is not ChangeAction.ADD or key in traces:
            continue
        same = (a for a in files if (a.checksum, a.filename) == (added.checksum, added.filename))
        match = next(same, None)
        if match is not None:
            files.remove(match)
            traces[key] = match.id
            outcome.traces_linked.append(
                (TraceType.ATTACHMENT, match.id, added.source_id, match.checksum)
            )


def change_existing(
    route: Route, message: Message, outcome: Outcome, traces: dict[tuple[str, str], str]
) -> None:
    """Edit and delete the comments and attachments this side has traces of.

    The incoming route runs these before anything else of the message is written:
    they are what a tracker refuses a sync user without the right (another user's
    comment, say), and a refusal then leaves the message in ``error`` with the
    issue as it was, to be applied whole once the right is granted.
    """
    if message.comments and route.mapping.syncs(COMMENT, outgoing=False):
        kind = str(TraceType.COMMENT)
        for change in message.comments:
            local_id = traces.get((kind, change.source_id))
            if not local_id:
                continue
            if change.action is ChangeAction.DELETE:
                route.tracker.delete_comment(outcome.local_key, local_id)
                outcome.traces_removed.append((TraceType.COMMENT, local_id))
            elif change.action is ChangeAction.UPDATE:
                key = f"{route.connector.key}:{message.id}:comment:{change.source_id}"
                here = outcome.after.hub_issue.comments
                text = people.edited_body(route, message.source_issue_key, change, here, local_id)
                body, full = limits.cut_comment(
                    route, text, message.source_issue_key, change.source_id
                )
                edited = route.tracker.edit_comment(outcome.local_key, local_id, body)
                # The body as the tracker holds it: a cut one is not sent back over the whole.
                outcome.traces_changed.append(
                    (TraceType.COMMENT, local_id, body_digest(edited.body))
                )
                outcome.traces_added += limits.attach_full_texts(
                    route, outcome.local_key, full, key, outcome.notes
                )
    if message.attachments and route.mapping.syncs(ATTACHMENT, outgoing=False):
        kind = str(TraceType.ATTACHMENT)
        for gone in message.attachments:
            local_id = traces.get((kind, gone.source_id))
            if not local_id or gone.action is not ChangeAction.DELETE:
                continue
            comment_id = link_comment_id(local_id)
            if comment_id is not None:
                route.tracker.delete_comment(outcome.local_key, comment_id)
            else:
                route.tracker.delete_attachment(outcome.local_key, local_id)
            outcome.traces_removed.append((TraceType.ATTACHMENT, local_id))
    change_worklogs(route, message, outcome, traces)


def add_new(
    route: Route, message: Message, outcome: Outcome, traces: dict[tuple[str, str], str]
) -> None:
    """Add the comments and attachments this side has no trace of (once per key)."""
    if message.comments and route.mapping.syncs(COMMENT, outgoing=False):
        kind = str(TraceType.COMMENT)
        for change in message.comments:
            if change.action is ChangeAction.DELETE or traces.get((kind, change.source_id)):
                continue
            wanted = people.posting(route, message.source_issue_key, change)
            key = f"{route.connector.key}:{message.id}:comment:{change.source_id}"
            body, full = limits.cut_comment(
                route, wanted.body, message.source_issue_key, change.source_id
            )
            comment = restricted.add_comment(
                route,
                outcome.local_key,
                change,
                body,
                wanted.author,
                idempotency_key=key,
                notes=outcome.notes,
            )
            comment = people.posted(route, outcome.local_key, wanted, comment)
            outcome.traces_added.append(
                (TraceType.COMMENT, comment.id, change.source_id, body_digest(comment.body))
            )
            outcome.traces_added += limits.attach_full_texts(
                route, outcome.local_key, full, key, outcome.notes
            )
    if message.attachments and route.mapping.syncs(ATTACHMENT, outgoing=False):
        kind = str(TraceType.ATTACHMENT)
        for added in message.attachments:
            if (
                added.action is ChangeAction.DELETE
                or traces.get((kind, added.source_id))
                or added.checksum is None
            ):
                continue
            if (refusal := limits.attachment_refusal(route, added)) is not None:
                outcome.notes.append(refusal)
                continue
            _add_attachment(route, message, outcome, added)
    add_worklogs(route, message, outcome, traces)


def _add_attachment(
    route: Route, message: Message, outcome: Outcome, change: AttachmentChange
) -> None:
    key = f"{route.connector.key}:{message.id}:attachment:{change.source_id}"
    if not route.tracker.capabilities.attachments:
        _link_instead(route, change, outcome, key)
        return
    content = route.transport.blobs.read(change.checksum or "")
    attachment = route.tracker.add_attachment(
        outcome.local_key,
        change.filename or "attachment",
        change.mimetype or "application/octet-stream",
        content,
        idempotency_key=key,
    )
    outcome.traces_added.append(
        (TraceType.ATTACHMENT, attachment.id, change.source_id, change.checksum)
    )


def _link_instead(route: Route, change: AttachmentChange, outcome: Outcome, key: str) -> None:
    """A tracker without attachments gets a comment with a link to the content."""
    links = route.attachment_links
    checksum = change.checksum or ""
    if links is None or not route.mapping.syncs(COMMENT, outgoing=False):
        outcome.notes.append(
            f"Attachment {change.filename} not synced: {route.tracker.name} takes no attachments"
            + (" and comments are not synced." if links else ".")
        )
        return
    route.transport.blobs.read(checksum)  # it must have arrived before a link can point to it
    body = links.comment(change.filename or "attachment", change.filesize, checksum)
    comment = route.tracker.add_comment(outcome.local_key, body, None, idempotency_key=key)
    outcome.traces_added.append(
        (TraceType.ATTACHMENT, f"{LINK_PREFIX}{comment.id}", change.source_id, checksum)
    )


def record_traces(ledger: SyncLedger, outcome: Outcome) -> list[Trace]:
    """Record the traces an applied message made; returns those the partner must learn of."""
    rows = ledger.traces.of(outcome.local_key)
    answer: list[Trace] = []
    # A new sub-object gets a trace; one paired with an equal local one may have one waiting.
    for kind, local_id, remote_id, digest in outcome.traces_added + outcome.traces_linked:
        row = rows.get((kind, local_id))
        if row is None:
            row = rows[(kind, local_id)] = ledger.traces.add(
                outcome.local_key, kind, local_id, digest
            )
        ledger.traces.set_partner_id(row, remote_id)
        if remote_id is None:
            continue  # this side's own (a cut text's full text): the partner has no twin
        # In an answer, localId is the receiver's (the original sender's) id.
        answer.append(
            Trace(type=kind, local_id=remote_id, remote_id=local_id, action=ChangeAction.ADD)
        )
    for kind, local_id, digest in outcome.traces_changed:
        if (changed := rows.get((kind, local_id))) is not None:
            changed.digest = digest
    for kind, local_id in outcome.traces_removed:
        if (removed := rows.pop((kind, local_id), None)) is not None:
            ledger.traces.remove(removed)
    return answer
