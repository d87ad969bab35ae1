"""What the incoming route's two paths share: planning a twin, its first shadow, the answer.

The one-message path (``incoming``) and the batch path (``batch``) create a
partner's new issue from the same plan, give the twin the same shadow and
answer the partner with the same response message, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from issuesync.domain.mapping import STATUS
from issuesync.domain.message import Message, MessageKind, ReplicaEnvelope, Trace
from issuesync.domain.replica import FieldValue, Replica, UserRef, canonical_fields
from issuesync.domain.shadow import Shadow
from issuesync.engine.pipeline.ledger import SyncLedger
from issuesync.engine.pipeline.people import resolve_users
from issuesync.engine.pipeline.route import Route
from issuesync.errors import TrackerRejectedError
from issuesync.store.sync import SyncInfo
from issuesync.trackers.adapter import IssueDraft


@dataclass
class CreatePlan:
    """The twin of a partner's issue, as this tracker will be asked to create it."""

    draft: IssueDraft
    status: str | None
    written: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def create_key(route: Route, message: Message) -> str:
    """The idempotency key of the twin a create message makes."""
    return f"{route.connector.key}:{message.id}:create"


def comment_key(route: Route, message: Message, source_id: str) -> str:
    """The idempotency key of a comment a message adds."""
    return f"{route.connector.key}:{message.id}:comment:{source_id}"


def plan_create(route: Route, message: Message, parent_key: str | None) -> CreatePlan:
    """The draft, status and notes of the twin of the message's issue.

    The replica is decoded only when the message's changes leave something to
    take from it: the usual first create carries every mapped field and the
    status, and decoding its replica would cost as much as parsing the message.

    Raises:
        TrackerRejectedError: neither the message nor a mapping names an issue type.
    """
    mapping = route.mapping
    accepted = mapping.incoming_fields
    values: dict[str, FieldValue] = {
        name: value for name, value in message.changes.items() if name in accepted
    }
    status = message.changes.get(STATUS)
    missing = [m for m in mapping.incoming_mappings if m.local_field not in values]
    needs_replica = bool(missing) or status is None or mapping.maps_incoming_types
    replica = message.full_replica() if needs_replica else None
    raw_type = (
        replica.hub_issue.issue_type.name if replica and replica.hub_issue.issue_type else None
    )
    issue_type = mapping.local_issue_type(raw_type, message.issue_type)
    if issue_type is None:
        raise TrackerRejectedError("The message names no issue type and no mapping gives one.")
    if replica is not None:
        # A create that is not the partner's first message (its create was given up,
        # or the link was deleted) carries only what changed: the replica has the rest.
        theirs = canonical_fields(replica.hub_issue)
        for entry in missing:
            if entry.local_field not in values and theirs.get(entry.remote_field) is not None:
                values[entry.local_field] = mapping.to_local(entry, theirs[entry.remote_field])
        if status is None:
            status = mapping.local_status(
                replica.hub_issue.status.name if replica.hub_issue.status else None, issue_type
            )
    for name, value in mapping.defaults_for(issue_type).items():
        if values.get(name) in (None, "", []):
            values[name] = value
    notes: list[str] = []
    resolve_users(route, values, notes)
    reporter = values.pop("reporter", None)
    # A twin whose partner issue has no linked parent goes under the configured one.
    parent_key = parent_key or route.connector.configuration.sync.parent_issue
    draft = IssueDraft(
        issue_type=issue_type,
        fields=values,
        parent_key=parent_key,
        reporter=UserRef(**reporter) if isinstance(reporter, dict) else None,
    )
    wanted = status if isinstance(status, str) else None
    written = set(values) | ({STATUS} if wanted is not None else set())
    return CreatePlan(draft, wanted, written, notes)


def agree_on_created(
    route: Route,
    ledger: SyncLedger,
    info: SyncInfo,
    created: Replica,
    written: set[str] | None = None,
) -> None:
    """The twin's shadow: every mapped field as the twin holds it is agreed, nothing to send back.

    ``written`` adds the fields the create wrote that are mapped one way only.
    """
    ledger.keep_shadow(info, created_shadow(route, created, written, ledger.shadow(info)))


def created_shadow(
    route: Route, created: Replica, written: set[str] | None, shadow: Shadow | None = None
) -> Shadow:
    """:func:`agree_on_created`'s shadow, on ``shadow`` (an empty one when None)."""
    shadow = shadow or Shadow.empty()
    values = canonical_fields(created.hub_issue)
    for name in written or ():
        shadow.fields[name] = values.get(name)
    for mapping in route.mapping.outgoing_fields:
        shadow.fields[mapping.local_field] = values.get(mapping.local_field)
    shadow.fields[STATUS] = values.get(STATUS)
    return shadow


def response(
    route: Route,
    message: Message,
    local_key: str,
    updated: int,
    traces: list[Trace],
    now: int,
    *,
    twin: Replica | None = None,
) -> Message:
    """The answer telling the partner our twin's key and the ids of the sub-objects made;
    the answer to a create carries the new ``twin`` too (seed 003's sync response shows
    it: ``docs/issuehub.md``)."""
    return Message(
        integration_key=message.integration_key,
        from_connector=route.connector.key,
        to_connector=route.connector.partner_key,
        source_issue_key=local_key,
        remote_issue_key=message.source_issue_key,
        sequence_id=0,
        kind=MessageKind.RESPONSE,
        created=now,
        issue_updated=updated,
        traces=traces,
        replica=ReplicaEnvelope.of(twin) if twin is not None else None,
    )
