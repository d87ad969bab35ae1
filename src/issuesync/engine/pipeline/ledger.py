"""The sync ledger: one route's sync links, shadows, traces and conflicts, a page at a time.

Every stage of the pipeline needs the same state of an issue: its link to its
twin (the sync information, with the sequence ids), the shadow kept with it,
the traces of its comments and attachments, and the conflicts a message met.
:class:`SyncLedger` is their repository. The outgoing route loads one for a
page of issues, the incoming route one for a batch of messages, with one query
per kind of row; the stages ask it instead of the store, and what they change
:meth:`SyncLedger.save` writes in the unit of work that applies the page (on
the one-message path: the message).

Rows are held detached between units of work, as the routes held them before:
nothing else changes a connector's sync information while one of its routes
runs (they run one at a time, in the one worker that holds the connector's
lease). A key the ledger was not loaded with is fetched when asked for. Plain
multi-row inserts and updates make no objects to keep: after them, the ledger
forgets what they touched and fetches it again when asked, as it does for an
issue whose unit of work failed (:meth:`SyncLedger.forget`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Select, delete, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from issuesync.domain.diff import FieldConflict, TraceState
from issuesync.domain.message import TraceType
from issuesync.domain.shadow import Shadow
from issuesync.store.base import insert_many, table_of, update_rows
from issuesync.store.sync import ConflictRow, SyncInfo, TraceRow
from issuesync.store.uow import UnitOfWorkFactory

KEYS_PER_QUERY = 1000  # keys in one IN list: a page or a batch is one query

TraceKey = tuple[TraceType, str]  # a trace by its kind and this side's id
Row = SyncInfo | TraceRow | ConflictRow

_KINDS = [str(kind) for kind in TraceType]
_LINKS = table_of(SyncInfo)
_TRACES = table_of(TraceRow)


class SyncLedger:
    """The sync links, shadows, traces and conflicts of one connector's issues in a page."""

    def __init__(self, connector_id: int, uow_factory: UnitOfWorkFactory) -> None:
        self.connector_id = connector_id
        self._uow_factory = uow_factory
        # Links (sync information) by the keys looked up (None: not linked).
        self._by_local: dict[str, SyncInfo | None] = {}
        self._by_remote: dict[str, SyncInfo | None] = {}
        # Trace rows by row id, by local issue and by partner id; the issues and the
        # partner ids whose every row is here.
        self._trace_ids: dict[int, TraceRow] = {}
        self._issue_rows: dict[str, list[TraceRow]] = defaultdict(list)
        self._partner_rows: dict[str, list[TraceRow]] = defaultdict(list)
        self._traced: set[str] = set()
        self._partners: set[str] = set()
        # Conflicts of received messages: field -> winner (None: open), by message row id.
        self._conflicts: dict[int, dict[str, str | None]] = {}
        # What the next save writes.
        self._handed: dict[int, SyncInfo | TraceRow] = {}  # by id(): may have been changed
        self._added: list[Row] = []
        self._link_inserts: list[dict[str, object]] = []
        self._trace_inserts: list[dict[str, object]] = []
        self._removed: list[int] = []

    # -- loading -------------------------------------------------------------------------------

    def load(
        self,
        session: Session | None = None,
        *,
        local_keys: Collection[str] = (),
        remote_keys: Collection[str] = (),
        partner_ids: Collection[str] = (),
        message_ids: Collection[int] = (),
        traces: bool = True,
    ) -> None:
        """Read what the ledger does not know yet, in ``session`` (or a read-only unit of
        work of its own): the links of these local and partner issues (one query); with
        ``traces``, the traces of these local issues, of the partner issues' twins and
        with these partner ids (one more); the conflicts of these received messages."""
        if session is None:
            with self._uow_factory(readonly=True) as uow:
                self.load(
                    uow.session,
                    local_keys=local_keys,
                    remote_keys=remote_keys,
                    partner_ids=partner_ids,
                    message_ids=message_ids,
                    traces=traces,
                )
            return
        new_locals, new_remotes = (
            _new(local_keys, self._by_local),
            _new(remote_keys, self._by_remote),
        )
        if new_locals or new_remotes:
            self._load_links(session, new_locals, new_remotes)
        if traces:
            twins = [link.local_issue_key for key in remote_keys if (link := self._by_remote[key])]
            issues = _new([*local_keys, *twins], self._traced)
            partners = _new(partner_ids, self._partners)
            if issues or partners:
                self._load_traces(session, issues, partners)
        messages = _new(message_ids, self._conflicts)
        if messages:
            self._load_conflicts(session, messages)

    def _load_links(self, session: Session, locals_: list[str], remotes: list[str]) -> None:
        self._by_local.update(dict.fromkeys(locals_))
        self._by_remote.update(dict.fromkeys(remotes))
        wanted = set(remotes)
        for locals_chunk, remotes_chunk in _chunks(locals_, remotes):
            mine = select(SyncInfo).where(SyncInfo.connector_id == self.connector_id)
            parts = [mine.where(SyncInfo.local_issue_key.in_(locals_chunk))] if locals_chunk else []
            if remotes_chunk:
                parts.append(mine.where(SyncInfo.remote_issue_key.in_(remotes_chunk)))
            rows = list(dict.fromkeys(session.scalars(_union(SyncInfo, parts))))
            # The oldest link of a partner issue wins, as it always has.
            for row in sorted(rows, key=lambda r: r.id):
                session.expunge(row)
                link = self._by_local.get(row.local_issue_key) or row  # one object per row
                self._by_local[link.local_issue_key] = link
                remote = link.remote_issue_key
                if remote in wanted and self._by_remote[remote] is None:
                    self._by_remote[remote] = link

    def _load_traces(self, session: Session, issues: list[str], partners: list[str]) -> None:
        self._traced.update(issues)
        self._partners.update(partners)
        for issues_chunk, partners_chunk in _chunks(issues, partners):
            parts = []
            if issues_chunk:
                parts.append(
                    select(TraceRow).where(
                        TraceRow.connector_id == self.connector_id,
                        TraceRow.local_issue_key.in_(issues_chunk),
                    )
                )
            if partners_chunk:
                parts.append(
                    select(TraceRow).where(
                        TraceRow.connector_id == self.connector_id,
                        TraceRow.kind.in_(_KINDS),  # the kind makes the index usable
                        TraceRow.remote_id.in_(partners_chunk),
                    )
                )
            for row in dict.fromkeys(session.scalars(_union(TraceRow, parts))):
                session.expunge(row)
                if row.id not in self._trace_ids:
                    self._index_trace(row)

    def _load_conflicts(self, session: Session, messages: list[int]) -> None:
        for message_id in messages:
            self._conflicts[message_id] = {}
        for start in range(0, len(messages), KEYS_PER_QUERY):
            rows = session.execute(
                select(ConflictRow.message_id, ConflictRow.field, ConflictRow.winner).where(
                    ConflictRow.message_id.in_(messages[start : start + KEYS_PER_QUERY])
                )
            )
            for of_message, name, winner in rows:
                if of_message is not None:
                    self._conflicts[of_message][name] = winner

    # -- links and shadows ---------------------------------------------------------------------

    def link(self, local_key: str) -> SyncInfo | None:
        """The sync information of a local issue."""
        if local_key not in self._by_local:  # not in the page: fetched now
            self.load(local_keys=[local_key], traces=False)
        return self._hand(self._by_local[local_key])

    def link_by_remote(self, remote_key: str) -> SyncInfo | None:
        """The sync information of the local twin of a partner's issue."""
        if remote_key not in self._by_remote:
            self.load(remote_keys=[remote_key], traces=False)
        return self._hand(self._by_remote[remote_key])

    def links(self, local_keys: Sequence[str]) -> dict[str, SyncInfo]:
        """The sync information of these local issues, those the ledger lacks in one query."""
        self.load(local_keys=local_keys, traces=False)
        return {key: link for key in local_keys if (link := self.link(key)) is not None}

    def new_link(self, local_key: str, now: int) -> SyncInfo:
        """A link for a local issue that nothing was sent or applied for yet."""
        link = SyncInfo(
            connector_id=self.connector_id,
            local_issue_key=local_key,
            first_sync_ms=now,
            outgoing_sequence_id=0,
            incoming_sequence_id=0,
            incoming_changes_ignored=False,
        )
        self._by_local[local_key] = link
        self._added.append(link)
        return link

    def insert_link(self, values: dict[str, object]) -> None:
        """A new link written as a plain row by the next save (pages of new issues)."""
        self._link_inserts.append({"connector_id": self.connector_id, **values})

    def link_twin(self, link: SyncInfo, remote_key: str) -> None:
        """Record the partner's issue a local issue is linked to."""
        old = link.remote_issue_key
        if old == remote_key:
            return
        link.remote_issue_key = remote_key
        if old is not None and self._by_remote.get(old) is link:
            del self._by_remote[old]  # looked up again when asked
        if remote_key in self._by_remote and self._by_remote[remote_key] is None:
            self._by_remote[remote_key] = link  # (an older link of it would stay the one)

    @staticmethod
    def shadow(link: SyncInfo | None) -> Shadow:
        """The shadow kept with a link (an empty one without)."""
        return Shadow.from_text(link.shadow if link is not None else None)

    @staticmethod
    def keep_shadow(link: SyncInfo, shadow: Shadow) -> None:
        """Keep the shadow with its link."""
        link.shadow = shadow.to_text()

    # -- traces --------------------------------------------------------------------------------

    def traces(self, local_key: str) -> dict[TraceKey, TraceRow]:
        """The trace rows of a local issue, by kind and this side's id."""
        if local_key not in self._traced:
            with self._uow_factory(readonly=True) as uow:
                self._load_traces(uow.session, [local_key], [])
        rows = self._issue_rows.get(local_key, [])
        for row in rows:
            self._handed[id(row)] = row
        return {(TraceType(r.kind), r.local_id): r for r in rows if r.local_id is not None}

    def partner_ids(self, local_key: str | None) -> dict[str, str | None]:
        """A local issue's traced sub-objects: this side's id to the partner's (None: the
        partner has not answered yet)."""
        if local_key is None:
            return {}
        return {local_id: row.remote_id for (_, local_id), row in self.traces(local_key).items()}

    def local_ids(self, partner_ids: Collection[str]) -> dict[tuple[str, str], str]:
        """This side's ids of the partner's sub-objects, by (kind, partner's id)."""
        missing = [p for p in partner_ids if p not in self._partners]
        if missing:
            self.load(partner_ids=missing)
        return {
            (row.kind, row.remote_id or ""): row.local_id or ""
            for partner in partner_ids
            for row in self._partner_rows.get(partner, ())
        }

    def add_trace(
        self, local_key: str, kind: TraceType, local_id: str, digest: str | None
    ) -> TraceRow:
        """A new trace row of a local issue, written by the next save."""
        row = TraceRow(
            connector_id=self.connector_id,
            local_issue_key=local_key,
            kind=str(kind),
            local_id=local_id,
            digest=digest,
        )
        self._index_trace(row)
        self._added.append(row)
        return row

    def insert_trace(self, values: dict[str, object]) -> None:
        """A new trace written as a plain row by the next save (pages of new issues)."""
        self._trace_inserts.append({"connector_id": self.connector_id, **values})

    def set_partner_id(self, row: TraceRow, remote_id: str | None) -> None:
        """Record the partner's id of a traced sub-object."""
        if row.remote_id == remote_id:
            return
        if row.remote_id is not None:
            _drop(self._partner_rows, row.remote_id, row)
        row.remote_id = remote_id
        if remote_id is not None:
            self._partner_rows[remote_id].append(row)

    def remove_trace(self, row: TraceRow) -> None:
        """Delete a trace row with the next save."""
        _drop(self._issue_rows, row.local_issue_key, row)
        if row.remote_id is not None:
            _drop(self._partner_rows, row.remote_id, row)
        if row.id is None:
            self._added.remove(row)
            return
        del self._trace_ids[row.id]
        self._handed.pop(id(row), None)
        self._removed.append(row.id)

    def _index_trace(self, row: TraceRow) -> None:
        if row.id is not None:
            self._trace_ids[row.id] = row
        self._issue_rows[row.local_issue_key].append(row)
        if row.remote_id is not None:
            self._partner_rows[row.remote_id].append(row)

    # -- conflicts -----------------------------------------------------------------------------

    def conflicts(self, message_id: int) -> dict[str, str | None]:
        """A received message's conflicts: the side a person picked, by field (None: open)."""
        if message_id not in self._conflicts:
            self.load(message_ids=[message_id], traces=False)
        return dict(self._conflicts[message_id])

    def add_conflict(
        self, message_id: int | None, issue_key: str, conflict: FieldConflict, now: int
    ) -> None:
        """A field both sides changed (settled already when it has a winner)."""
        winner = str(conflict.winner) if conflict.winner else None
        self._added.append(
            ConflictRow(
                connector_id=self.connector_id,
                message_id=message_id,
                local_issue_key=issue_key,
                field=conflict.field,
                local_value=json.dumps(conflict.local_value),
                remote_value=json.dumps(conflict.remote_value),
                winner=winner,
                created_ms=now,
                resolved_ms=now if conflict.winner else None,
            )
        )
        if message_id is not None and message_id in self._conflicts:
            self._conflicts[message_id][conflict.field] = winner

    # -- writing -------------------------------------------------------------------------------

    def save(self, session: Session) -> None:
        """Write what changed into the unit of work of ``session`` (which commits it)."""
        changed = [row for row in self._handed.values() if instance_state(row).modified]
        session.add_all(changed)
        session.add_all(self._added)
        session.flush()
        self._trace_ids.update((r.id, r) for r in self._added if isinstance(r, TraceRow))
        for start in range(0, len(self._removed), KEYS_PER_QUERY):
            ids = self._removed[start : start + KEYS_PER_QUERY]
            session.execute(delete(TraceRow).where(TraceRow.id.in_(ids)))
        if self._link_inserts:
            insert_many(session.connection(), _LINKS, self._link_inserts)
        if self._trace_inserts:
            insert_many(session.connection(), _TRACES, self._trace_inserts)
        self._forget_rows(self._link_inserts, self._trace_inserts)
        self._drop_unsaved()

    def _drop_unsaved(self) -> None:
        pending = (self._handed, self._added, self._removed, self._link_inserts)
        for unsaved in (*pending, self._trace_inserts):
            unsaved.clear()

    def link_answers(
        self,
        session: Session,
        links: Sequence[Mapping[str, object]],
        traced: Sequence[Mapping[str, object]],
    ) -> None:
        """The partner's answers, in two multi-row updates whatever their number: a twin's
        key (``local_issue_key``, ``remote_issue_key``) is set where none is known yet, a
        trace's partner id (also ``kind``, ``local_id``, ``remote_id``) wherever it exists.
        """
        connection = session.connection()
        mine = {"connector_id": self.connector_id}
        update_rows(
            connection,
            _LINKS,
            ("connector_id", "local_issue_key"),
            [{**mine, **row} for row in links],
            only_if_null="remote_issue_key",
        )
        update_rows(
            connection,
            _TRACES,
            ("connector_id", "local_issue_key", "kind", "local_id"),
            [{**mine, **row} for row in traced],
        )
        self._forget_rows(links, traced)

    def _forget_rows(
        self, links: Sequence[Mapping[str, object]], traces: Sequence[Mapping[str, object]]
    ) -> None:
        """Plain rows make no objects: what they touched is fetched again when asked for."""
        self.forget(
            local_keys=[str(row["local_issue_key"]) for row in [*links, *traces]],
            remote_keys=[str(key) for row in links if (key := row.get("remote_issue_key"))],
            partner_ids=[str(key) for row in traces if (key := row.get("remote_id"))],
        )

    def forget(
        self,
        *,
        local_keys: Iterable[str] = (),
        remote_keys: Iterable[str] = (),
        partner_ids: Iterable[str] = (),
    ) -> None:
        """Drop what the ledger holds of these issues: it is fetched again when asked for
        (after a unit of work that failed, or one that wrote plain rows)."""
        issues = set(local_keys)
        for key in remote_keys:
            link = self._by_remote.pop(key, None)
            if link is not None:
                issues.add(link.local_issue_key)
        for key in issues:
            link = self._by_local.pop(key, None)
            if link is not None:
                if link.remote_issue_key is not None:
                    self._by_remote.pop(link.remote_issue_key, None)
                self._handed.pop(id(link), None)
            self._traced.discard(key)
            for row in self._issue_rows.pop(key, []):
                if row.remote_id is not None:
                    _drop(self._partner_rows, row.remote_id, row)
                    self._partners.discard(row.remote_id)
                if row.id is not None:
                    self._trace_ids.pop(row.id, None)
                self._handed.pop(id(row), None)
        self._partners.difference_update(partner_ids)

    @contextmanager
    def forgetting_on_failure(self, remote_key: str) -> Iterator[None]:
        """Forget a partner issue's twin, and drop what is not saved, if the block fails:
        its unit of work may have failed half-way."""
        try:
            yield
        except BaseException:
            self.forget(remote_keys=[remote_key])
            self._drop_unsaved()
            raise

    def _hand(self, link: SyncInfo | None) -> SyncInfo | None:
        """A link for a stage, which may change it: the next save writes it if it did."""
        if link is not None:
            self._handed[id(link)] = link
        return link

    @property
    def changed(self) -> bool:
        """Whether the next save has something to write."""
        return bool(
            self._added
            or self._removed
            or self._link_inserts
            or self._trace_inserts
            or any(instance_state(row).modified for row in self._handed.values())
        )


def trace_states(rows: Mapping[TraceKey, TraceRow]) -> dict[TraceKey, TraceState]:
    """Trace rows (of :meth:`SyncLedger.traces`) as the diff sees them."""
    return {key: TraceState(key[0], key[1], row.remote_id, row.digest) for key, row in rows.items()}


def open_conflicts(session: Session, message_id: int) -> list[ConflictRow]:
    """The conflicts of a received message that wait for a person's decision."""
    return list(
        session.scalars(
            select(ConflictRow).where(
                ConflictRow.message_id == message_id, ConflictRow.winner.is_(None)
            )
        )
    )


def _union(model: type[Row], parts: list[Select[Any]]) -> Select[Any]:
    """One statement for the parts: each uses its own index (an OR would not, unanalyzed)."""
    if len(parts) == 1:
        return parts[0]
    return select(model).from_statement(union_all(*parts))  # type: ignore[return-value]


def _new(keys: Iterable[Any], known: Collection[Any]) -> list[Any]:
    """The keys not known yet, once each, in their order."""
    return [key for key in dict.fromkeys(keys) if key not in known]


def _chunks(first: list[str], second: list[str]) -> Iterable[tuple[list[str], list[str]]]:
    """Both lists in slices of :data:`KEYS_PER_QUERY`, side by side."""
    for start in range(0, max(len(first), len(second)), KEYS_PER_QUERY):
        yield first[start : start + KEYS_PER_QUERY], second[start : start + KEYS_PER_QUERY]


def _drop(index: dict[str, list[TraceRow]], key: str, row: TraceRow) -> None:
    rows = index.get(key)
    if rows is not None:
        index[key] = [r for r in rows if r is not row]
