"""Issue links on the routes: sent with an issue's changes, made and removed on the twins.

The outgoing side (:class:`OutgoingLinks`) sends an issue's links whose other end is
synchronized too (it has sync information, or is sent in the same page), in the
partner's type names (the value mappings of the ``issuelinks`` field mapping), with
this side's keys. The incoming side (:func:`apply_links`) finds each other end's twin
here; a link whose other end has none yet is left out, and arrives with that end's
own message, which lists the link too (see ``domain/issuelinks.py``). What it wrote
is agreed in both ends' shadows, so neither end sends the link back.

Messages that carry links take the one-message path (:func:`carries_links`): a link
between two issues created in one batch needs both twins linked first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from issuesync.domain.configuration import FieldMapping
from issuesync.domain.diff import OutgoingDiff
from issuesync.domain.issuelinks import (
    INWARD,
    LINKS,
    LinkEntry,
    LinkType,
    agreed_of,
    canonical,
    entries_of,
    local_type,
    normalized,
    plan_links,
)
from issuesync.domain.message import Message
from issuesync.domain.replica import Replica
from issuesync.domain.shadow import Shadow
from issuesync.engine.pipeline.ledger import SyncLedger
from issuesync.engine.pipeline.route import Route
from issuesync.engine.pipeline.subobjects import Outcome
from issuesync.trackers.linking import IssueLinking

log = logging.getLogger(__name__)


def _linking(route: Route, *, outgoing: bool) -> IssueLinking | None:
    """The route's tracker as one with links, when links are mapped this way and it has them."""
    tracker = route.tracker
    if not route.mapping.syncs(LINKS, outgoing=outgoing) or not tracker.capabilities.links:
        return None
    return tracker if isinstance(tracker, IssueLinking) else None


def _links_mapping(route: Route) -> FieldMapping | None:
    """The ``issuelinks`` field mapping, whose value mappings pair link types."""
    for mapping in route.mapping.configuration.field_mappings:
        if mapping.local_field == LINKS:
            return mapping
    return None


def carries_links(message: Message) -> bool:
    """Whether a message lists links (it then takes the one-message path)."""
    return bool(message.changes.get(LINKS))


class OutgoingLinks:
    """The links of a page of issues, as the outgoing route sends them."""

    def __init__(self, route: Route, ledger: SyncLedger, page: Sequence[Replica]) -> None:
        self.route = route
        self.ledger = ledger
        linking = _linking(route, outgoing=True)
        self.types: tuple[LinkType, ...] | None = linking.link_types() if linking else None
        self.page_keys = {replica.key for replica in page}
        if self.types is not None:
            others = {
                link.other_issue_key
                for replica in page
                for link in replica.hub_issue.issue_links
                if link.other_issue_key not in self.page_keys
            }
            if others:
                ledger.load(local_keys=sorted(others), traces=False)  # one query for the page
        self.mapping = _links_mapping(route)

    def _synced(self, key: str) -> bool:
        return key in self.page_keys or self.ledger.link(key) is not None

    def diff(self, replica: Replica, shadow: Shadow, diff: OutgoingDiff, sequence_id: int) -> None:
        """Add the issue's links to ``diff`` when they changed since the shadow."""
        if self.types is None:
            return
        entries = [
            normalized(entry, self.types)
            for entry in entries_of(replica.hub_issue)
            if self._synced(entry.key)
        ]
        value = canonical(entries)
        if not shadow.changed(LINKS, value) or not (value or shadow.knows(LINKS)):
            return
        sent: list[LinkEntry] = []
        for entry in sorted(set(entries)):
            kind = entry.type
            if self.mapping is not None:
                mapped = self.route.mapping.to_remote(self.mapping, kind)
                kind = mapped if isinstance(mapped, str) else kind
            sent.append(LinkEntry(entry.key, kind, entry.direction))
        diff.changes[LINKS] = [entry.to_json() for entry in sent]
        shadow.fields[LINKS] = list(value)
        shadow.sent[LINKS] = sequence_id
        shadow.sent_at[LINKS] = replica.updated


def apply_links(route: Route, ledger: SyncLedger, message: Message, outcome: Outcome) -> None:
    """Make and remove the twin's links as the partner's issue lists them, and agree on them.

    Runs before the message's bookkeeping transaction, which saves the shadows it
    changed. Adding checks what the issue has first, so a retry after a crash adds
    nothing twice; a link the tracker says exists already is not an error either.
    """
    if LINKS not in message.changes:
        return
    linking = _linking(route, outgoing=False)
    if linking is None:
        return
    info = ledger.link_by_remote(message.source_issue_key)
    if info is None:
        return
    types = linking.link_types()
    desired = _desired(route, ledger, message, outcome, types)
    shadow = ledger.shadow(info)
    crossed = shadow.sent.get(LINKS, 0) > message.ack_sequence_id
    agreed = agreed_of(shadow.fields.get(LINKS))
    current = outcome.after.hub_issue.issue_links
    plan = plan_links(desired, agreed, current, types, crossed=crossed)
    for entry, link in plan.removes:
        if link.id is not None:
            linking.delete_link(outcome.local_key, link.id)
        _mirror(ledger, outcome.local_key, entry, add=False)
    for entry in plan.adds:
        linking.add_link(
            outcome.local_key, entry.key, entry.type, outward=entry.direction != INWARD
        )
        _mirror(ledger, outcome.local_key, entry, add=True)
    shadow.fields[LINKS] = plan.agreed
    ledger.keep_shadow(info, shadow)
    if plan.adds or plan.removes:
        outcome.after = route.tracker.get(outcome.local_key) or outcome.after


def _desired(
    route: Route,
    ledger: SyncLedger,
    message: Message,
    outcome: Outcome,
    types: Sequence[LinkType],
) -> list[LinkEntry]:
    """The partner's links of the issue in this side's terms: the other ends' twins and
    this tracker's types (a type it lacks becomes its generic one, with a note)."""
    mapping = _links_mapping(route)
    desired: list[LinkEntry] = []
    raw = message.changes.get(LINKS)
    for item in raw if isinstance(raw, list) else []:
        entry = LinkEntry.from_json(item)
        if entry is None:
            continue
        twin = ledger.link_by_remote(entry.key)
        if twin is None or twin.local_issue_key == outcome.local_key:
            continue  # its other end is not here yet: it comes with that end's message
        name = entry.type
        if mapping is not None:
            mapped = route.mapping.to_local(mapping, name)
            name = mapped if isinstance(mapped, str) else name
        choice = local_type(name, types)
        if choice.note is not None and choice.note not in outcome.notes:
            outcome.notes.append(choice.note)
        if choice.type is not None:
            local = LinkEntry(twin.local_issue_key, choice.type.name, entry.direction)
            desired.append(normalized(local, types))
    return desired


def _mirror(ledger: SyncLedger, key: str, entry: LinkEntry, *, add: bool) -> None:
    """Agree on the link in the other end's shadow too, so that its next read sends nothing."""
    other = ledger.link(entry.key)
    if other is None:
        return
    shadow = ledger.shadow(other)
    texts = set(agreed_of(shadow.fields.get(LINKS)))
    text = entry.seen_from(key).text()
    if add:
        texts.add(text)
    else:
        texts.discard(text)
    shadow.fields[LINKS] = sorted(texts)
    ledger.keep_shadow(other, shadow)
