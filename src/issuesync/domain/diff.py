"""The three-way diff: what to send (local vs shadow), what to write (incoming vs shadow vs local).

Pure functions over replicas, shadows and traces; the engine's routes do the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from issuesync.domain.mapping import ATTACHMENT, COMMENT, STATUS, WORKLOG, ConnectorMapping
from issuesync.domain.message import (
    LINK_PREFIX,
    AttachmentChange,
    ChangeAction,
    CommentChange,
    Message,
    TraceType,
    WorklogChange,
)
from issuesync.domain.replica import FieldValue, HubIssue, body_digest, canonical_fields
from issuesync.domain.shadow import Shadow
from issuesync.domain.worklogs import worklog_changes


@dataclass
class TraceState:
    """What the engine remembers of one synchronized sub-object."""

    kind: TraceType
    local_id: str
    remote_id: str | None
    digest: str | None


@dataclass
class OutgoingDiff:
    """The changes of one issue since its shadow, and the bookkeeping that goes with them."""

    changes: dict[str, FieldValue] = field(default_factory=dict)
    comments: list[CommentChange] = field(default_factory=list)
    attachments: list[AttachmentChange] = field(default_factory=list)
    worklogs: list[WorklogChange] = field(default_factory=list)
    traces_added: list[TraceState] = field(default_factory=list)
    traces_changed: list[TraceState] = field(default_factory=list)
    traces_removed: list[TraceState] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether nothing needs to be sent."""
        return not (self.changes or self.comments or self.attachments or self.worklogs)


def local_values(mapping: ConnectorMapping, issue: HubIssue) -> dict[str, FieldValue]:
    """The canonical values of the local fields this connector sends, plus the status."""
    values = canonical_fields(issue)
    wanted = {m.local_field for m in mapping.outgoing_fields} | {STATUS}
    return {name: values.get(name) for name in wanted}


def outgoing_diff(
    mapping: ConnectorMapping,
    issue: HubIssue,
    shadow: Shadow,
    traces: dict[tuple[TraceType, str], TraceState],
    sequence_id: int,
) -> OutgoingDiff:
    """What changed on this side since the shadow, in the partner's terms.

    ``shadow`` is updated in place for the fields that are sent (with
    ``sequence_id`` as the message that carries them).
    """
    diff = OutgoingDiff()
    values = canonical_fields(issue)
    for mapping_entry in mapping.outgoing_fields:
        local = mapping_entry.local_field
        value = values.get(local)
        if shadow.changed(local, value):
            diff.changes[mapping_entry.remote_field] = mapping.to_remote(
                mapping_entry, value, issue
            )
            shadow.fields[local] = value
            shadow.sent[local] = sequence_id
            shadow.sent_at[local] = issue.updated or 0
    status = values.get(STATUS)
    if isinstance(status, str) and shadow.changed(STATUS, status):
        issue_type = values.get("issuetype")
        diff.changes[STATUS] = mapping.remote_status(
            status, issue_type if isinstance(issue_type, str) else None
        )
        shadow.fields[STATUS] = status
        shadow.sent[STATUS] = sequence_id
        shadow.sent_at[STATUS] = issue.updated or 0
    if mapping.syncs(COMMENT, outgoing=True):
        _comments(issue, traces, diff)
    if mapping.syncs(ATTACHMENT, outgoing=True):
        _attachments(issue, traces, diff)
    if mapping.syncs(WORKLOG, outgoing=True):
        _worklogs(issue, traces, diff)
    return diff


def _comments(
    issue: HubIssue, traces: dict[tuple[TraceType, str], TraceState], diff: OutgoingDiff
) -> None:
    seen: set[str] = set()
    for comment in issue.comments:
        seen.add(comment.id)
        if (TraceType.ATTACHMENT, f"{LINK_PREFIX}{comment.id}") in traces:
            continue  # it stands for the partner's attachment (a tracker without attachments)
        digest = body_digest(comment.body)
        trace = traces.get((TraceType.COMMENT, comment.id))
        if trace is None:
            diff.comments.append(
                CommentChange(
                    action=ChangeAction.ADD,
                    source_id=comment.id,
                    body=comment.body,
                    author=comment.author,
                    created=comment.created,
                    internal=comment.internal or None,
                )
            )
            diff.traces_added.append(TraceState(TraceType.COMMENT, comment.id, None, digest))
        elif trace.digest != digest:
            diff.comments.append(
                CommentChange(
                    action=ChangeAction.UPDATE,
                    source_id=comment.id,
                    body=comment.body,
                    internal=comment.internal or None,
                )
            )
            trace.digest = digest
            diff.traces_changed.append(trace)
    for (kind, local_id), trace in traces.items():
        if kind is TraceType.COMMENT and local_id not in seen:
            diff.comments.append(CommentChange(action=ChangeAction.DELETE, source_id=local_id))
            diff.traces_removed.append(trace)


def _attachments(
    issue: HubIssue, traces: dict[tuple[TraceType, str], TraceState], diff: OutgoingDiff
) -> None:
    # Link comments stand for attachments on a tracker that takes none.
    seen = {f"{LINK_PREFIX}{comment.id}" for comment in issue.comments}
    for attachment in issue.attachments:
        seen.add(attachment.id)
        if (TraceType.ATTACHMENT, attachment.id) in traces:
            continue  # attachments do not change; a new version is a new attachment
        diff.attachments.append(
            AttachmentChange(
                action=ChangeAction.ADD,
                source_id=attachment.id,
                filename=attachment.filename,
                mimetype=attachment.mimetype,
                filesize=attachment.filesize,
                checksum=attachment.checksum,
                author=attachment.author,
            )
        )
        diff.traces_added.append(
            TraceState(TraceType.ATTACHMENT, attachment.id, None, attachment.checksum)
        )
    for (kind, local_id), trace in traces.items():
        if kind is TraceType.ATTACHMENT and local_id not in seen:
            diff.attachments.append(
                AttachmentChange(action=ChangeAction.DELETE, source_id=local_id)
            )
            diff.traces_removed.append(trace)


def _worklogs(
    issue: HubIssue, traces: dict[tuple[TraceType, str], TraceState], diff: OutgoingDiff
) -> None:
    """Work logs since their traces (``domain/worklogs.py``), with the traces' bookkeeping."""
    mine = {key[1]: t for key, t in traces.items() if key[0] is TraceType.WORKLOG}
    found = worklog_changes(issue.work_logs, {i: t.digest for i, t in mine.items()})
    diff.worklogs += found.changes
    diff.traces_added += [TraceState(TraceType.WORKLOG, i, None, d) for i, d in found.added]
    for local_id, digest in found.changed:
        mine[local_id].digest = digest
        diff.traces_changed.append(mine[local_id])
    diff.traces_removed += [mine[local_id] for local_id in found.removed]


class Winner(StrEnum):
    """Which side's value a conflict keeps."""

    LOCAL = "local"
    REMOTE = "remote"


@dataclass
class FieldConflict:
    """A field both sides changed since they last agreed."""

    field: str
    local_value: FieldValue
    remote_value: FieldValue
    winner: Winner | None  # None: nobody decided yet (no automatic resolution)


@dataclass
class IncomingPlan:
    """What to write into the local issue for one message, and the shadow afterwards."""

    writes: dict[str, FieldValue] = field(default_factory=dict)
    status: str | None = None
    conflicts: list[FieldConflict] = field(default_factory=list)
    agreed: dict[str, FieldValue] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        """Whether an undecided conflict stops the message."""
        return any(c.winner is None for c in self.conflicts)


def incoming_plan(
    mapping: ConnectorMapping,
    message: Message,
    current: HubIssue,
    shadow: Shadow,
    *,
    automatic: bool,
    local_wins_ties: bool,
    force: frozenset[str] = frozenset(),
) -> IncomingPlan:
    """Decide, field by field, whether the partner's change is written here.

    A field changed here since the shadow (or sent in a message the partner
    had not seen, per ``ackSequenceId``) and changed there to something else
    is a conflict. With automatic resolution the newer change wins (ties go
    to the first connector); otherwise the conflict waits for a person.
    ``force`` names fields a person decided.

    Both sides must pick the same winner. When the two changes crossed in
    flight, each side compares the times its own message and the partner's
    carried (``Shadow.sent_at``, ``issueUpdated``): the same two numbers on
    both sides. A change not sent yet is decided here alone (the partner
    learns the outcome from our next message), by the issue's update time.
    """
    plan = IncomingPlan()
    accepted = mapping.incoming_fields | {STATUS}
    values = canonical_fields(current)
    local_wins = mapping.local_always_wins(first=local_wins_ties)

    def remote_newer(name: str, in_flight: bool) -> bool:
        if local_wins is not None:  # one side always wins (a connection's conflict policy)
            return not local_wins
        ours = shadow.sent_at.get(name) if in_flight else None
        local_time = ours if ours is not None else (current.updated or 0)
        return message.issue_updated > local_time or (
            message.issue_updated == local_time and not local_wins_ties
        )

    for name, incoming in message.changes.items():
        if name not in accepted:
            continue
        local = values.get(name)
        if local == incoming:
            plan.agreed[name] = incoming
            continue
        unsent = shadow.knows(name) and shadow.fields[name] != local
        in_flight = shadow.sent.get(name, 0) > message.ack_sequence_id
        if (unsent or in_flight) and name not in force:
            newer = remote_newer(name, in_flight)
            winner = (Winner.REMOTE if newer else Winner.LOCAL) if automatic else None
            plan.conflicts.append(FieldConflict(name, local, incoming, winner))
            if winner is not Winner.REMOTE:
                if winner is Winner.LOCAL and not in_flight:
                    # Ours was never sent: agree on theirs so that the next poll sends ours.
                    plan.agreed[name] = incoming
                continue
        if name == STATUS:
            plan.status = incoming if isinstance(incoming, str) else None
        else:
            plan.writes[name] = incoming
    return plan
