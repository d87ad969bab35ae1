"""The traces a sync ledger holds: one connector's trace rows, by local issue and by partner id.

A trace links a comment or attachment here to its twin on the other side. The
outgoing route looks an issue's traces up by the local issue; the incoming
route looks a message's sub-objects up by the partner's ids, whichever issue
holds them. :class:`TraceBook` keeps one object per row for both, knows which
issues and which partner ids it holds every row of, fetches the others when
asked, and writes what changed with its :class:`~issuesync.engine.pipeline.ledger.SyncLedger`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, delete, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from issuesync.domain.diff import TraceState
from issuesync.domain.message import Message, TraceType
from issuesync.store.base import insert_many, table_of
from issuesync.store.sync import TraceRow
from issuesync.store.uow import UnitOfWorkFactory

KEYS_PER_QUERY = 1000  # keys in one IN list: a page or a batch is one query

TraceKey = tuple[TraceType, str]  # a trace by its kind and this side's id

_KINDS = [str(kind) for kind in TraceType]
_TRACES = table_of(TraceRow)


class TraceBook:
    """The trace rows of a sync ledger's issues."""

    def __init__(self, connector_id: int, uow_factory: UnitOfWorkFactory) -> None:
        self.connector_id = connector_id
        self._uow_factory = uow_factory
        self._ids: dict[int, TraceRow] = {}  # one object per row
        self._by_issue: dict[str, list[TraceRow]] = defaultdict(list)
        self._by_partner: dict[str, list[TraceRow]] = defaultdict(list)
        self._issues: set[str] = set()  # local issues whose every row is here
        self._partners: set[str] = set()  # partner ids whose every row is here
        # What the next save writes.
        self._handed: dict[int, TraceRow] = {}  # by id(): may have been changed
        self._added: list[TraceRow] = []
        self._inserts: list[dict[str, object]] = []
        self._removed: list[int] = []

    def load(self, session: Session, issues: Iterable[str], partner_ids: Iterable[str]) -> None:
        """Read the rows of these local issues and with these partner ids that are not here
        yet: one query (per thousand keys)."""
        wanted = [key for key in dict.fromkeys(issues) if key not in self._issues]
        partners = [key for key in dict.fromkeys(partner_ids) if key not in self._partners]
        self._issues.update(wanted)
        self._partners.update(partners)
        for start in range(0, max(len(wanted), len(partners)), KEYS_PER_QUERY):
            mine = select(TraceRow).where(TraceRow.connector_id == self.connector_id)
            parts: list[Select[Any]] = []
            if chunk := wanted[start : start + KEYS_PER_QUERY]:
                parts.append(mine.where(TraceRow.local_issue_key.in_(chunk)))
            if chunk := partners[start : start + KEYS_PER_QUERY]:
                # The kind makes the index usable.
                parts.append(mine.where(TraceRow.kind.in_(_KINDS), TraceRow.remote_id.in_(chunk)))
            for row in dict.fromkeys(session.scalars(union(TraceRow, parts))):
                session.expunge(row)
                if row.id not in self._ids:
                    self._index(row)

    def _fetch(self, issues: Collection[str] = (), partner_ids: Collection[str] = ()) -> None:
        if any(k not in self._issues for k in issues) or any(
            p not in self._partners for p in partner_ids
        ):
            with self._uow_factory(readonly=True) as uow:
                self.load(uow.session, issues, partner_ids)

    # -- reading ----------------------------------------------------------------------------

    def of(self, local_key: str) -> dict[TraceKey, TraceRow]:
        """The trace rows of a local issue, by kind and this side's id."""
        if local_key not in self._issues:
            self._fetch(issues=[local_key])
        rows = self._by_issue.get(local_key, ())
        for row in rows:
            self._handed[id(row)] = row
        return {(TraceType(r.kind), r.local_id): r for r in rows if r.local_id is not None}

    def partner_ids(self, local_key: str | None) -> dict[str, str | None]:
        """A local issue's traced sub-objects: this side's id to the partner's (None: the
        partner has not answered yet)."""
        if local_key is None:
            return {}
        return {local_id: row.remote_id for (_, local_id), row in self.of(local_key).items()}

    def local_ids(self, partner_ids: Collection[str]) -> dict[tuple[str, str], str]:
        """This side's ids of the partner's sub-objects, by (kind, partner's id)."""
        self._fetch(partner_ids=partner_ids)
        return {
            (row.kind, row.remote_id or ""): row.local_id or ""
            for partner in partner_ids
            for row in self._by_partner.get(partner, ())
        }

    # -- changing ---------------------------------------------------------------------------

    def add(self, local_key: str, kind: TraceType, local_id: str, digest: str | None) -> TraceRow:
        """A new trace row of a local issue, written by the next save."""
        row = TraceRow(
            connector_id=self.connector_id,
            local_issue_key=local_key,
            kind=str(kind),
            local_id=local_id,
            digest=digest,
        )
        self._index(row)
        self._added.append(row)
        return row

    def insert(self, values: dict[str, object]) -> None:
        """A new trace written as a plain row (``values``, which the book keeps) by the next
        save: pages of new issues."""
        values["connector_id"] = self.connector_id
        self._inserts.append(values)

    def set_partner_id(self, row: TraceRow, remote_id: str | None) -> None:
        """Record the partner's id of a traced sub-object."""
        if row.remote_id == remote_id:
            return
        if row.remote_id is not None:
            _drop(self._by_partner, row.remote_id, row)
        row.remote_id = remote_id
        if remote_id is not None:
            self._by_partner[remote_id].append(row)

    def remove(self, row: TraceRow) -> None:
        """Delete a trace row with the next save."""
        _drop(self._by_issue, row.local_issue_key, row)
        if row.remote_id is not None:
            _drop(self._by_partner, row.remote_id, row)
        if row.id is None:
            self._added.remove(row)
            return
        del self._ids[row.id]
        self._handed.pop(id(row), None)
        self._removed.append(row.id)

    def _index(self, row: TraceRow) -> None:
        if row.id is not None:
            self._ids[row.id] = row
        self._by_issue[row.local_issue_key].append(row)
        if row.remote_id is not None:
            self._by_partner[row.remote_id].append(row)

    # -- writing ----------------------------------------------------------------------------

    @property
    def changed(self) -> bool:
        """Whether the next save has something to write."""
        return bool(
            self._added
            or self._removed
            or self._inserts
            or any(instance_state(row).modified for row in self._handed.values())
        )

    def save(self, session: Session) -> list[dict[str, object]]:
        """Write what changed into ``session``'s unit of work (flushing it); returns the plain
        rows written, which the caller has the ledger forget."""
        session.add_all([row for row in self._handed.values() if instance_state(row).modified])
        session.add_all(self._added)
        session.flush()
        self._ids.update((row.id, row) for row in self._added)
        for start in range(0, len(self._removed), KEYS_PER_QUERY):
            ids = self._removed[start : start + KEYS_PER_QUERY]
            session.execute(delete(TraceRow).where(TraceRow.id.in_(ids)))
        inserted = self._inserts
        if inserted:
            insert_many(session.connection(), _TRACES, inserted)
        self._inserts = []
        self.drop_unsaved()
        return inserted

    def drop_unsaved(self) -> None:
        """Forget what the next save would write (its unit of work failed)."""
        self._handed.clear()
        self._added.clear()
        self._inserts.clear()
        self._removed.clear()

    def forget(self, issues: Iterable[str], partner_ids: Iterable[str] = ()) -> None:
        """Drop the rows of these local issues (and the knowledge that every row of these
        partner ids is here): they are fetched again when asked for."""
        for key in issues:
            self._issues.discard(key)
            for row in self._by_issue.pop(key, []):
                if row.remote_id is not None:
                    _drop(self._by_partner, row.remote_id, row)
                    self._partners.discard(row.remote_id)
                if row.id is not None:
                    self._ids.pop(row.id, None)
                self._handed.pop(id(row), None)
        self._partners.difference_update(partner_ids)


def partner_ids_of(message: Message) -> list[str]:
    """The partner's ids of the comments, attachments and work logs a message carries."""
    return (
        [c.source_id for c in message.comments]
        + [a.source_id for a in message.attachments]
        + [w.source_id for w in message.worklogs]
    )


def trace_states(rows: Mapping[TraceKey, TraceRow]) -> dict[TraceKey, TraceState]:
    """Trace rows (of :meth:`TraceBook.of`) as the diff sees them."""
    return {key: TraceState(key[0], key[1], row.remote_id, row.digest) for key, row in rows.items()}


def union(model: type[Any], parts: Sequence[Select[Any]]) -> Select[Any]:
    """One statement of the parts, each using its own index (an OR would not, unanalyzed)."""
    if len(parts) == 1:
        return parts[0]
    return select(model).from_statement(union_all(*parts))  # type: ignore[return-value]


def _drop(index: dict[str, list[TraceRow]], key: str, row: TraceRow) -> None:
    rows = index.get(key)
    if rows is not None:
        index[key] = [r for r in rows if r is not row]
