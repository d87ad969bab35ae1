"""The outgoing route: find what changed in the local project and send it, once.

Each poll reads the tracker's clock (the signpost), asks for issues updated
since the cursor minus a look-back window, diffs each against its shadow and
sends one message per changed issue. Messages, shadows, traces and sync
information of a page are committed together; the cursor moves to the signpost
only after every page is committed (and is stored at once when the poll sent
something, else now and then). A crash anywhere means the next poll reads
some issues again, finds nothing new in them, and sends nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import structlog

from issuesync.domain.configuration import NewIssues
from issuesync.domain.diff import OutgoingDiff, TraceState, outgoing_diff
from issuesync.domain.mapping import STATUS
from issuesync.domain.message import (
    BlobMetadata,
    ChangeAction,
    Message,
    MessageKind,
    ReplicaEnvelope,
    Trace,
    TraceType,
)
from issuesync.domain.replica import Replica
from issuesync.domain.shadow import Shadow
from issuesync.engine.pipeline import people, restricted
from issuesync.engine.pipeline.cursor import Cursor
from issuesync.engine.pipeline.ledger import SyncLedger
from issuesync.engine.pipeline.links import OutgoingLinks
from issuesync.engine.pipeline.route import Route
from issuesync.engine.pipeline.tracebook import trace_states
from issuesync.engine.transports import queues
from issuesync.store.base import now_ms
from issuesync.store.sync import ConnectorState, SyncInfo

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
Signal = Callable[[], None]

# How often a poll that sent nothing stores its cursor. The route keeps it in
# memory meanwhile: an idle poll writes nothing, and on SQLite does not wait for
# another worker's write turn. A restart in between reads the last few seconds'
# issues once more (with an older cursor), and the shadows find nothing to send.
CURSOR_SAVE_MS = 30_000

# How much longer than the look-back window the route remembers what it saw: a tracker
# may widen a poll's window to what its queries can say (JQL compares to the minute), and
# an issue the route forgot is read whole again, only for the shadow to find nothing new.
SEEN_MARGIN_MS = 60_000


@dataclass
class PollResult:
    """What one poll did."""

    issues_seen: int = 0
    messages_sent: int = 0


def poll(route: Route, *, on_work: Signal | None = None) -> PollResult:
    """Run the outgoing route once.

    ``on_work`` is called when the poll found changed issues (or deletions), before
    it builds their messages: the engine shows the route as processing from then on.
    An idle poll never calls it.
    """
    result = PollResult()
    cursor = route.cursor
    if cursor is None:  # the first poll of this route: the stored cursor
        with route.uow_factory(readonly=True) as uow:
            state = uow.session.get(ConnectorState, route.id)
            cursor = Cursor.loads(state.cursor if state else None)
        route.seen.update(cursor.seen)
    signpost = route.tracker.clock_ms()
    queries = route.connector.configuration.sync.outgoing_jqls
    for page in route.tracker.changed_since(
        cursor.since(route.lookback_ms), queries, route.page_size, known=route.seen
    ):
        if page and on_work is not None:
            on_work()
        result.issues_seen += len(page)
        result.messages_sent += send_page(route, page)
        route.seen.update((replica.key, replica.updated) for replica in page)
    deletions_at = cursor.deletions_ms
    if route.tracker.capabilities.deletions and _deletions_due(route, cursor, signpost):
        # Deletions are asked for less often: an idle poll is then one search call.
        deletions_at = route.tracker.clock_ms()
        result.messages_sent += _send_deletions(route, cursor, on_work)
    route.cursor = Cursor(updated_ms=signpost, deletions_ms=deletions_at)
    if (
        result.messages_sent
        or deletions_at != cursor.deletions_ms
        or now_ms() - route.cursor_saved_ms >= CURSOR_SAVE_MS
    ):
        save_cursor(route)
    _forget_seen(route, signpost - route.lookback_ms - SEEN_MARGIN_MS)
    return result


def save_cursor(route: Route, *, seen: bool = False) -> None:
    """Store the cursor the route's last poll left (with the engine's stop, say); ``seen``:
    with the issues it read in the look-back window (a route that stops: ``Cursor.seen``)."""
    if route.cursor is None:
        return
    now = now_ms()
    cursor = replace(route.cursor, seen=dict(route.seen)) if seen else route.cursor
    with route.uow_factory() as uow:
        state = uow.session.get(ConnectorState, route.id)
        if state is not None:
            state.cursor = cursor.dumps()
            state.last_poll_ms = now
        uow.commit()
    route.cursor_saved_ms = now


def _forget_seen(route: Route, since_ms: int) -> None:
    """Drop what the next poll's window cannot return any more."""
    stale = [key for key, updated in route.seen.items() if updated < since_ms]
    for key in stale:
        del route.seen[key]


def send_page(
    route: Route,
    page: Sequence[Replica],
    *,
    resync: ResyncOptions | None = None,
) -> int:
    """Diff a page of issues and send what changed, in one transaction; returns messages sent.

    The sync information is read first and the diffs and messages made outside
    any write transaction, so that on SQLite the database's write turn is held
    only for the writes (another worker's routes write meanwhile). Nothing else
    changes this connector's sync information in between: its routes run one at
    a time, in the one worker that holds its lease.
    """
    ledger = SyncLedger(route.id, route.uow_factory)
    ledger.load(local_keys=[replica.key for replica in page])
    links = OutgoingLinks(route, ledger, page)
    sent = 0
    now = now_ms()
    messages: list[queues.Sealed] = []  # sealed before the write
    new_issues = route.connector.configuration.sync.new_issues
    for replica in page:
        info = ledger.link(replica.key)
        if info is not None and info.incoming_changes_ignored:
            continue
        if info is None and not _admitted(new_issues, replica):
            continue  # not linked and out of the scope of new issues: not sent
        if (
            resync is None
            and info is not None
            and replica.updated < (info.last_change_seen_ms or 0)
        ):
            continue  # an older read than what this route has already handled
        # Every line logged meanwhile (a tracker's request for an attachment, say) names it.
        with structlog.contextvars.bound_contextvars(issue=replica.key):
            message = _message(route, ledger, replica, info, now, resync, links)
        if message is not None:
            messages.append(queues.Sealed.of(message))
            sent += 1
    if not messages and not ledger.changed:
        return sent
    with route.uow_factory() as uow:
        ledger.save(uow.session)
        if messages:
            partner = route.connector.partner_id
            route.transport.deliver_many(uow.session, route.id, partner, messages, now)
        uow.commit()
    return sent


def _admitted(new_issues: NewIssues, replica: Replica) -> bool:
    """Whether an issue not linked yet is in the scope of new issues (``NewIssues``)."""
    issue = replica.hub_issue
    return new_issues.admits(
        issue.status.name if issue.status else None,
        issue.priority.name if issue.priority else None,
    )


@dataclass(frozen=True)
class ResyncOptions:
    """What a resync sends: the chosen field mappings' current values, and maybe the status."""

    mapping_ids: frozenset[str] | None = None
    send_status: bool = False


def _message(
    route: Route,
    ledger: SyncLedger,
    replica: Replica,
    info: SyncInfo | None,
    now: int,
    resync: ResyncOptions | None,
    links: OutgoingLinks,
) -> Message | None:
    """The issue's message, its link, shadow and traces recorded in the ledger; None when
    nothing changed."""
    replica = restricted.shareable(route, replica)
    sequence_id = (info.outgoing_sequence_id if info else 0) + 1
    shadow = ledger.shadow(info)
    rows = ledger.traces.of(replica.key)
    states = trace_states(rows)
    if resync is not None:
        diff = _resync_diff(route, replica, shadow, states, sequence_id, resync)
    else:
        diff = outgoing_diff(route.mapping, replica.hub_issue, shadow, states, sequence_id)
    links.diff(replica, shadow, diff, sequence_id)
    if diff.empty:
        if info is not None and (info.last_change_seen_ms or 0) < replica.updated:
            info.last_change_seen_ms = replica.updated
        return None
    blobs = _store_blobs(route, replica, diff)
    people.strip_headers(route, info.remote_issue_key if info else None, diff.comments)
    if resync is not None:
        kind = MessageKind.RESYNC
    elif info is None or (info.remote_issue_key is None and info.outgoing_sequence_id == 0):
        kind = MessageKind.CREATE
    else:
        kind = MessageKind.UPDATE
    issue = replica.hub_issue
    connector = route.connector
    message = Message(
        integration_key=connector.integration_key,
        from_connector=connector.key,
        to_connector=connector.partner_key,
        source_issue_key=replica.key,
        remote_issue_key=info.remote_issue_key if info else None,
        sequence_id=sequence_id,
        ack_sequence_id=info.incoming_sequence_id if info else 0,
        kind=kind,
        created=now,
        issue_updated=replica.updated,
        issue_type=route.mapping.remote_issue_type(
            issue.issue_type.name if issue.issue_type else None
        ),
        parent_key=issue.parent_key,
        changes=diff.changes,
        comments=diff.comments,
        attachments=diff.attachments,
        worklogs=diff.worklogs,
        replica=ReplicaEnvelope.of(replica, diff.changes, diff.comments),
        traces=_traces(diff),
        blob_metadata_list=blobs,
        markup=route.markup.value,
    )
    if info is None:
        ledger.insert_link(
            {
                "local_issue_key": replica.key,
                "first_sync_ms": now,
                "outgoing_sequence_id": sequence_id,
                "incoming_sequence_id": 0,
                "incoming_changes_ignored": False,
                "last_outgoing_change_ms": now,
                "last_change_seen_ms": replica.updated,
                "shadow": shadow.to_text(),
            }
        )
    else:
        info.outgoing_sequence_id = sequence_id
        info.last_outgoing_change_ms = now
        info.last_change_seen_ms = max(info.last_change_seen_ms or 0, replica.updated)
        ledger.keep_shadow(info, shadow)
    for trace in diff.traces_added:
        ledger.traces.insert(
            {
                "local_issue_key": replica.key,
                "kind": str(trace.kind),
                "local_id": trace.local_id,
                "remote_id": None,
                "digest": trace.digest,
            }
        )
    for trace in diff.traces_changed:
        rows[(trace.kind, trace.local_id)].digest = trace.digest
    for trace in diff.traces_removed:
        ledger.traces.remove(rows[(trace.kind, trace.local_id)])
    return message


def _resync_diff(
    route: Route,
    replica: Replica,
    shadow: Shadow,
    states: dict[tuple[TraceType, str], TraceState],
    sequence_id: int,
    options: ResyncOptions,
) -> OutgoingDiff:
    """The chosen mappings' current values, whatever the shadow says (and new comments).

    Fields that are not chosen are not sent, and their shadow is left alone, so
    a later poll still sends them if they changed.
    """
    chosen = [
        m
        for m in route.mapping.outgoing_fields
        if options.mapping_ids is None or m.id in options.mapping_ids
    ]
    probe = Shadow(dict(shadow.fields), dict(shadow.sent), dict(shadow.sent_at))
    for mapping in chosen:
        probe.fields.pop(mapping.local_field, None)
    if options.send_status:
        probe.fields.pop(STATUS, None)
    diff = outgoing_diff(route.mapping, replica.hub_issue, probe, states, sequence_id)
    sent_fields = [(m.remote_field, m.local_field) for m in chosen]
    if options.send_status:
        sent_fields.append((STATUS, STATUS))
    allowed = {remote for remote, _ in sent_fields}
    diff.changes = {name: value for name, value in diff.changes.items() if name in allowed}
    for remote, local in sent_fields:
        if remote in diff.changes:
            shadow.fields[local] = probe.fields[local]
            shadow.sent[local] = sequence_id
            shadow.sent_at[local] = probe.sent_at[local]
    return diff


def _store_blobs(route: Route, replica: Replica, diff: OutgoingDiff) -> list[BlobMetadata]:
    """Put the content of attachments being added where the partner can fetch it."""
    found: list[BlobMetadata] = []
    by_id = {a.id: a for a in replica.hub_issue.attachments}
    for change in diff.attachments:
        if change.action is not ChangeAction.ADD:
            continue
        attachment = by_id[change.source_id]
        if attachment.checksum is None or not route.transport.blobs.has(attachment.checksum):
            content = route.tracker.read_attachment(attachment.id)
            checksum = hashlib.sha256(content).hexdigest()
            route.transport.blobs.put(content)
            change.checksum = checksum
            change.filesize = len(content)
            for trace in diff.traces_added:
                if trace.kind is TraceType.ATTACHMENT and trace.local_id == attachment.id:
                    trace.digest = checksum
        assert change.checksum is not None
        found.append(
            BlobMetadata(
                blob_id=change.checksum, checksum=change.checksum, size=change.filesize or 0
            )
        )
    return found


def _traces(diff: OutgoingDiff) -> list[Trace]:
    traces = [
        Trace(type=t.kind, local_id=t.local_id, remote_id=t.remote_id, action=ChangeAction.ADD)
        for t in diff.traces_added
    ]
    traces += [
        Trace(type=t.kind, local_id=t.local_id, remote_id=t.remote_id, action=ChangeAction.UPDATE)
        for t in diff.traces_changed
    ]
    traces += [
        Trace(type=t.kind, local_id=t.local_id, remote_id=t.remote_id, action=ChangeAction.DELETE)
        for t in diff.traces_removed
    ]
    return traces


def _deletions_due(route: Route, cursor: Cursor, now: int) -> bool:
    if cursor.deletions_ms is None:
        return True
    return now - cursor.deletions_ms >= route.deletion_check_ms


def _send_deletions(route: Route, cursor: Cursor, on_work: Signal | None) -> int:
    deletions = route.tracker.deleted_since(cursor.deletions_since(route.lookback_ms))
    if not deletions:
        return 0
    if on_work is not None:
        on_work()
    sent = 0
    ledger = SyncLedger(route.id, route.uow_factory)
    with route.uow_factory() as uow:
        ledger.load(uow.session, local_keys=[d.key for d in deletions], traces=False)
        now = now_ms()
        for deletion in deletions:
            info = ledger.link(deletion.key)
            if info is None or info.incoming_changes_ignored:
                continue
            info.outgoing_sequence_id += 1
            info.incoming_changes_ignored = True
            info.last_outgoing_change_ms = now
            message = Message(
                integration_key=route.connector.integration_key,
                from_connector=route.connector.key,
                to_connector=route.connector.partner_key,
                source_issue_key=deletion.key,
                remote_issue_key=info.remote_issue_key,
                sequence_id=info.outgoing_sequence_id,
                ack_sequence_id=info.incoming_sequence_id,
                kind=MessageKind.DELETE,
                created=now,
                issue_updated=deletion.deleted_ms,
            )
            with structlog.contextvars.bound_contextvars(issue=deletion.key):
                partner = route.connector.partner_id
                route.transport.deliver(uow.session, route.id, partner, message, now)
            sent += 1
        ledger.save(uow.session)
        uow.commit()
    return sent
