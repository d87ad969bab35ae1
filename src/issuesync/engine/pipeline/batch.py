"""The incoming route's batch path: many of the partner's new issues at once, many answers at once.

An initial sync is thousands of create messages, each answered by a response.
One by one, each costs a dozen transactions; here a batch costs three: one
read, one tracker call (:meth:`~issuesync.trackers.adapter.Tracker.create_many`,
one transaction in the built-in tracker) and one commit that links every twin,
records its shadow and traces, answers the partner and archives the messages.

The guarantees are those of the one-message path: creates carry idempotency
keys, so a crash between the tracker's write and the commit makes the next
run find the same twins instead of making new ones; the incoming route runs
before the outgoing one, so an unlinked twin is never taken for a new local
issue. Whatever the batch path cannot take (an update, a gap in the sequence,
a sub-task whose parent is not linked yet, attachments, work logs, a message that does
not parse), or a batch the tracker refuses, is left to the one-message path,
which gives each message its own outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Final

import structlog

from issuesync.domain.mapping import COMMENT
from issuesync.domain.message import (
    ChangeAction,
    CommentChange,
    Message,
    MessageKind,
    ReceiveState,
    Trace,
    TraceType,
)
from issuesync.domain.replica import body_digest
from issuesync.engine.pipeline import limits, people
from issuesync.engine.pipeline.creating import (
    CreatePlan,
    agree_on_created,
    comment_key,
    create_key,
    created_shadow,
    plan_create,
    response,
)
from issuesync.engine.pipeline.ledger import SyncLedger
from issuesync.engine.pipeline.links import carries_links
from issuesync.engine.pipeline.route import Route
from issuesync.engine.transports import queues
from issuesync.errors import IssueSyncError, TrackerOfflineError
from issuesync.store.base import now_ms
from issuesync.trackers.adapter import CommentDraft, CreatedIssue, NewIssue

log = logging.getLogger(__name__)

# How many issues and messages a line about a whole batch names (a batch may hold a thousand).
NAMED_IN_A_LINE: Final = 20


@dataclass
class _Create:
    item: queues.Pending
    message: Message
    plan: CreatePlan
    request: NewIssue
    source_ids: tuple[str, ...]  # the partner's ids of the requested comments, in order
    postings: tuple[people.Posting, ...]  # how each is written: body, author, header


def apply(
    route: Route, ledger: SyncLedger, leading: Sequence[tuple[queues.Pending, Message]]
) -> set[int]:
    """Apply what the batch path can of these messages (each its issue's first pending one,
    read; one that does not parse is left to the one-message path, which moves it to
    ``invalid`` with the reason).

    Returns the row ids of the messages it archived; the caller handles the rest.
    """
    responses = [(i, m) for i, m in leading if m.kind is MessageKind.RESPONSE]
    creates = [(i, m) for i, m in leading if m.kind is MessageKind.CREATE]
    done = _link_responses(route, ledger, responses) if responses else set()
    if creates:
        done |= _create_twins(route, ledger, creates)
    return done


# -- the partner's answers -----------------------------------------------------------------


def _link_responses(
    route: Route, ledger: SyncLedger, responses: list[tuple[queues.Pending, Message]]
) -> set[int]:
    """Remember the partner's twin keys and sub-object ids, and archive the answers."""
    links = [
        {
            "local_issue_key": m.remote_issue_key,
            "remote_issue_key": m.source_issue_key,
        }
        for _, m in responses
        if m.remote_issue_key is not None
    ]
    traced = [
        {
            "local_issue_key": m.remote_issue_key,
            "kind": str(t.type),
            "local_id": t.local_id,
            "remote_id": t.remote_id,
        }
        for _, m in responses
        if m.remote_issue_key is not None
        for t in m.traces
    ]
    with route.uow_factory() as uow:
        ledger.take_answers(uow.session, links, traced)
        moves = [(item.row_id, ReceiveState.ARCHIVE, None) for item, _ in responses]
        queues.set_states(uow.session, moves, now_ms())
        uow.commit()
    return {item.row_id for item, _ in responses}


# -- the partner's new issues --------------------------------------------------------------


def _create_twins(
    route: Route, ledger: SyncLedger, creates: list[tuple[queues.Pending, Message]]
) -> set[int]:
    batch = _plan(route, ledger, creates)
    if not batch:
        return set()
    # A line about the whole batch names its issues and messages (the first few of them).
    concerned = {
        "issues": _named(c.message.source_issue_key for c in batch),
        "message_ids": _named(str(c.item.row_id) for c in batch),
    }
    try:
        made = route.tracker.create_many([c.request for c in batch])
    except TrackerOfflineError:
        return set()  # the one-message path moves the first to ``offline`` and stops
    except IssueSyncError as exc:
        # One refused issue fails the batch: each then gets its own outcome, one by one.
        log.info(
            "a batch of %d creates goes one by one: %s",
            len(batch),
            exc.describe(),
            extra=concerned,
        )
        return set()
    try:
        made = _posted(route, batch, made)
    except IssueSyncError as exc:  # the one-message path finds the twins and tries again
        log.info(
            "the comments of %d new twins go one by one: %s",
            len(batch),
            exc.describe(),
            extra=concerned,
        )
        return set()
    _commit(route, ledger, batch, made)
    return {c.item.row_id for c in batch}


def _plan(
    route: Route, ledger: SyncLedger, creates: list[tuple[queues.Pending, Message]]
) -> list[_Create]:
    """The creates the batch path can take: first of their issue, not linked, nothing to wait on."""
    sources = [m.source_issue_key for _, m in creates]
    parents = [m.parent_key for _, m in creates if m.parent_key is not None]
    linked = {
        key: link.local_issue_key
        for key in sources + parents
        if (link := ledger.link_by_remote(key)) is not None  # loaded with the batch
    }
    syncs_comments = route.mapping.syncs(COMMENT, outgoing=False)
    batch: list[_Create] = []
    for item, message in creates:
        if message.sequence_id != 1 or message.source_issue_key in linked:
            continue
        with _concerning(item):
            planned = _planned(route, item, message, linked, syncs_comments=syncs_comments)
        if planned is not None:
            batch.append(planned)
    return batch


def _planned(
    route: Route,
    item: queues.Pending,
    message: Message,
    linked: dict[str, str],
    *,
    syncs_comments: bool,
) -> _Create | None:
    """The create of one message, or None when the batch path cannot take it."""
    if (
        any(a.action is not ChangeAction.DELETE for a in message.attachments)
        or message.worklogs  # logged one by one, with their traces
        or carries_links(message)  # its links need the twins of both ends
        or (message.parent_key is not None and message.parent_key not in linked)
    ):
        return None  # one message at a time
    parent_key = linked[message.parent_key] if message.parent_key is not None else None
    try:
        plan = plan_create(route, message, parent_key)
    except IssueSyncError:
        return None
    comments = (
        [c for c in message.comments if c.action is not ChangeAction.DELETE]
        if syncs_comments
        else []
    )
    if not _plain(route, plan, comments):
        return None
    postings = tuple(people.posting(route, message.source_issue_key, c) for c in comments)
    drafts = tuple(
        CommentDraft(
            body=wanted.body,
            idempotency_key=comment_key(route, message, c.source_id),
            author=wanted.author,
        )
        for c, wanted in zip(comments, postings, strict=True)
    )
    request = NewIssue(plan.draft, create_key(route, message), plan.status, drafts)
    source_ids = tuple(c.source_id for c in comments)
    return _Create(item, message, plan, request, source_ids, postings)


def _concerning(item: queues.Pending) -> AbstractContextManager[None]:
    """Every line logged meanwhile names the message and its issue (as the one-message
    path's do)."""
    return structlog.contextvars.bound_contextvars(message_id=item.row_id, issue=item.issue_key)


def _named(values: Iterable[str]) -> str:
    """The first :data:`NAMED_IN_A_LINE` of ``values``, and how many there are in all."""
    every = list(values)
    named = ", ".join(every[:NAMED_IN_A_LINE])
    return named if len(every) <= NAMED_IN_A_LINE else f"{named}, … ({len(every)} in all)"


def _plain(route: Route, plan: CreatePlan, comments: list[CommentChange]) -> bool:
    """Whether the batch path can write this issue as it is: its texts within the tracker's
    limits and no restricted comment (the one-message path fits those, ``limits.py``)."""
    texts = [v for n, v in plan.draft.fields.items() if isinstance(v, str) and n != "summary"]
    return not any(c.internal for c in comments) and limits.fits(
        route, texts + [c.body or "" for c in comments]
    )


def _posted(route: Route, batch: list[_Create], made: list[CreatedIssue]) -> list[CreatedIssue]:
    """The twins with their comments as they stay (:func:`people.posted`: a header where the
    tracker did not write a comment in its author's name)."""
    posted: list[CreatedIssue] = []
    for create, created in zip(batch, made, strict=True):
        with _concerning(create.item):
            comments = tuple(
                people.posted(route, created.replica.key, wanted, comment)
                for wanted, comment in zip(create.postings, created.comments, strict=True)
            )
        posted.append(CreatedIssue(created.replica, comments))
    return posted


def _commit(
    route: Route, ledger: SyncLedger, batch: list[_Create], made: list[CreatedIssue]
) -> None:
    """Link every twin, agree on its fields, trace its comments, answer, archive: one commit.

    Plain multi-row inserts: the rows are new, and thousands of ORM objects
    would cost more than the tracker's writes did. The rows and the answers are
    made before the write transaction, as ``send_page`` makes its messages, so
    that on SQLite the write turn is held only for the writes: nothing else
    changes this connector's sync information meanwhile (its routes run one at
    a time, in the one worker that holds its lease).
    """
    now = now_ms()
    existing = ledger.links([m.replica.key for m in made])
    replies: list[queues.Sealed] = []
    moves: list[tuple[int, str, str | None]] = []
    for create, created in zip(batch, made, strict=True):
        replica, message = created.replica, create.message
        info = existing.get(replica.key)
        if info is None:  # the usual case: a new twin
            shadow = created_shadow(route, replica, create.plan.written)
            ledger.insert_link(
                {
                    "local_issue_key": replica.key,
                    "remote_issue_key": message.source_issue_key,
                    "first_sync_ms": now,
                    "outgoing_sequence_id": 0,
                    "incoming_sequence_id": message.sequence_id,
                    "incoming_changes_ignored": False,
                    "last_incoming_change_ms": now,
                    "last_change_seen_ms": replica.updated,
                    "shadow": shadow.to_text(),
                }
            )
        else:  # linked from this side before (sync information imported, say)
            ledger.link_twin(info, message.source_issue_key)
            info.incoming_sequence_id = message.sequence_id
            info.last_incoming_change_ms = now
            info.last_change_seen_ms = max(info.last_change_seen_ms or 0, replica.updated)
            agree_on_created(route, ledger, info, replica, create.plan.written)
        answer: list[Trace] = []
        for comment, source_id in zip(created.comments, create.source_ids, strict=True):
            ledger.traces.insert(
                {
                    "local_issue_key": replica.key,
                    "kind": str(TraceType.COMMENT),
                    "local_id": comment.id,
                    "remote_id": source_id,
                    "digest": body_digest(comment.body),
                }
            )
            # In an answer, localId is the receiver's (the original sender's) id.
            answer.append(
                Trace(
                    type=TraceType.COMMENT,
                    local_id=source_id,
                    remote_id=comment.id,
                    action=ChangeAction.ADD,
                )
            )
        reply = response(route, message, replica.key, replica.updated, answer, now, twin=replica)
        replies.append(queues.Sealed.of(reply))
        notes = "; ".join(create.plan.notes) or None
        moves.append((create.item.row_id, ReceiveState.ARCHIVE, notes))
    with route.uow_factory() as uow:
        session = uow.session
        ledger.save(session)
        route.transport.deliver_many(session, route.id, route.connector.partner_id, replies, now)
        queues.set_states(session, moves, now)
        uow.commit()
    # The outgoing route need not read the twins back: their shadows say they agree.
    route.seen.update((created.replica.key, created.replica.updated) for created in made)
