"""The sync ledger: one route's sync links, shadows, traces and conflicts, a page at a time.

Every stage of the pipeline needs the same state of an issue: its link to its
twin (the sync information, with the sequence ids), the shadow kept with it,
the traces of its comments and attachments (:mod:`.tracebook`), and the
conflicts a message met. :class:`SyncLedger` is their repository. The outgoing
route loads one for a page of issues, the incoming route one for a batch of
messages, with one query per kind of row; the stages ask it instead of the
store, and what they change :meth:`SyncLedger.save` writes in the unit of work
that applies the page (on the one-message path: the message).

Rows are held detached between units of work, as the routes held them before:
nothing else changes a connector's sync information while one of its routes
runs (they run one at a time, in the one worker that holds the connector's
lease). A key the ledger was not loaded with is fetched when asked for. Plain
multi-row inserts and updates make no objects to keep: after them, the ledger
forgets what they touched and fetches it again when asked, as it does for an
issue whose unit of work failed (:meth:`SyncLedger.forgetting_on_failure`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from issuesync.domain.diff import FieldConflict
from issuesync.domain.message import Message, MessageKind, Trace
from issuesync.domain.shadow import Shadow
from issuesync.engine.pipeline.tracebook import KEYS_PER_QUERY, TraceBook, partner_ids_of, union
from issuesync.errors import InvalidMessageError
from issuesync.store.base import insert_many, table_of, update_rows
from issuesync.store.sync import ConflictRow, SyncInfo, TraceRow
from issuesync.store.uow import UnitOfWorkFactory

_LINKS = table_of(SyncInfo)
_TRACES = table_of(TraceRow)

Rows = Sequence[Mapping[str, object]]  # plain rows, by column


class SyncLedger:
    """The sync links, shadows, traces and conflicts of one connector's issues in a page."""

    def __init__(self, connector_id: int, uow_factory: UnitOfWorkFactory) -> None:
        self.connector_id = connector_id
        self._uow_factory = uow_factory
        # Links (sync information) by the keys looked up (None: not linked).
        self._by_local: dict[str, SyncInfo | None] = {}
        self._by_remote: dict[str, SyncInfo | None] = {}
        self.traces = TraceBook(connector_id, uow_factory)
        # Conflicts of received messages: field -> winner (None: open), by message row id.
        self._conflicts: dict[int, dict[str, str | None]] = {}
        # What the next save writes.
        self._handed: dict[int, SyncInfo] = {}  # by id(): may have been changed
        self._added: list[SyncInfo | ConflictRow] = []
        self._inserts: list[dict[str, object]] = []

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
            self.traces.load(session, [*local_keys, *twins], partner_ids)
        messages = _new(message_ids, self._conflicts)
        if messages:
            self._load_conflicts(session, messages)

    def load_messages(
        self,
        messages: Iterable[Message | InvalidMessageError],
        *,
        message_ids: Collection[int] = (),
    ) -> None:
        """:meth:`load` for a batch of received messages (those that did not parse are
        skipped, and answers: the batch path writes them without reading): the links of
        their issues and parents, and with ``message_ids``, the twins' traces, those of
        the messages' comments and attachments, and these messages' conflicts."""
        read = [
            m for m in messages if isinstance(m, Message) and m.kind is not MessageKind.RESPONSE
        ]
        parents = [m.parent_key for m in read if m.parent_key is not None]
        traces = bool(message_ids)
        self.load(
            remote_keys=[m.source_issue_key for m in read] + parents,
            partner_ids=[i for m in read for i in partner_ids_of(m)] if traces else (),
            message_ids=message_ids,
            traces=traces,
        )

    def _load_links(self, session: Session, locals_: list[str], remotes: list[str]) -> None:
        self._by_local.update(dict.fromkeys(locals_))
        self._by_remote.update(dict.fromkeys(remotes))
        wanted = set(remotes)
        for start in range(0, max(len(locals_), len(remotes)), KEYS_PER_QUERY):
            mine = select(SyncInfo).where(SyncInfo.connector_id == self.connector_id)
            parts: list[Select[Any]] = []
            if chunk := locals_[start : start + KEYS_PER_QUERY]:
                parts.append(mine.where(SyncInfo.local_issue_key.in_(chunk)))
            if chunk := remotes[start : start + KEYS_PER_QUERY]:
                parts.append(mine.where(SyncInfo.remote_issue_key.in_(chunk)))
            rows = list(dict.fromkeys(session.scalars(union(SyncInfo, parts))))
            # The oldest link of a partner issue wins, as it always has.
            for row in sorted(rows, key=lambda r: r.id):
                session.expunge(row)
                link = self._by_local.get(row.local_issue_key) or row  # one object per row
                self._by_local[link.local_issue_key] = link
                remote = link.remote_issue_key
                if remote in wanted and self._by_remote[remote] is None:
                    self._by_remote[remote] = link

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
        """A new link written as a plain row (``values``, which the ledger keeps) by the next
        save: pages of new issues."""
        values["connector_id"] = self.connector_id
        self._inserts.append(values)

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

    def take_answer(self, local_key: str, partner_key: str, traces: Sequence[Trace]) -> None:
        """The partner made or linked our issue's twin: its key (unless one is known) and
        its ids of our issue's sub-objects."""
        link = self.link(local_key)
        if link is not None and link.remote_issue_key is None:
            self.link_twin(link, partner_key)
        rows = self.traces.of(local_key) if traces else {}
        for trace in traces:
            if (row := rows.get((trace.type, trace.local_id))) is not None:
                self.traces.set_partner_id(row, trace.remote_id)

    def take_answers(self, session: Session, links: Rows, traced: Rows) -> None:
        """:meth:`take_answer` for many answers, in two multi-row updates whatever their
        number: ``links`` name ``local_issue_key`` and ``remote_issue_key``, ``traced``
        ``local_issue_key``, ``kind``, ``local_id`` and ``remote_id``."""
        connection = session.connection()
        mine = {"connector_id": self.connector_id}
        keys = ("connector_id", "local_issue_key")
        rows = [{**mine, **row} for row in links]
        update_rows(connection, _LINKS, keys, rows, only_if_null="remote_issue_key")
        rows = [{**mine, **row} for row in traced]
        update_rows(connection, _TRACES, (*keys, "kind", "local_id"), rows)
        self._forget_rows(links, traced)

    @staticmethod
    def shadow(link: SyncInfo | None) -> Shadow:
        """The shadow kept with a link (an empty one without)."""
        return Shadow.from_text(link.shadow if link is not None else None)

    @staticmethod
    def keep_shadow(link: SyncInfo, shadow: Shadow) -> None:
        """Keep the shadow with its link."""
        link.shadow = shadow.to_text()

    # -- conflicts -----------------------------------------------------------------------------

    def conflicts(self, message_id: int) -> dict[str, str | None]:
        """A received message's conflicts: the side a person picked, by field (None: open)."""
        if message_id not in self._conflicts:
            self.load(message_ids=[message_id], traces=False)
        return dict(self._conflicts[message_id])

    def add_conflicts(
        self, message_id: int, issue_key: str, conflicts: Sequence[FieldConflict], now: int
    ) -> None:
        """Record the conflicts a received message waits on, those not recorded yet."""
        known = self.conflicts(message_id)
        for conflict in conflicts:
            if conflict.field not in known:
                self.add_conflict(message_id, issue_key, conflict, now)

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

    @property
    def changed(self) -> bool:
        """Whether the next save has something to write."""
        return bool(
            self._added
            or self._inserts
            or self.traces.changed
            or any(instance_state(link).modified for link in self._handed.values())
        )

    def save(self, session: Session) -> None:
        """Write what changed into the unit of work of ``session`` (which commits it)."""
        session.add_all([link for link in self._handed.values() if instance_state(link).modified])
        session.add_all(self._added)
        traces = self.traces.save(session)  # flushes the links' changes too
        if self._inserts:
            insert_many(session.connection(), _LINKS, self._inserts)
        self._forget_rows(self._inserts, traces)
        self._drop_unsaved()

    def _drop_unsaved(self) -> None:
        self._handed.clear()
        self._added.clear()
        self._inserts = []
        self.traces.drop_unsaved()

    def _forget_rows(self, links: Rows, traces: Rows) -> None:
        """Plain rows make no objects: what they touched is fetched again when asked for."""
        self.forget(
            local_keys=[str(row["local_issue_key"]) for row in [*links, *traces]],
            remote_keys=[str(key) for row in links if (key := row.get("remote_issue_key"))],
        )
        self.traces.forget((), [str(key) for row in traces if (key := row.get("remote_id"))])

    def forget(self, *, local_keys: Iterable[str] = (), remote_keys: Iterable[str] = ()) -> None:
        """Drop what the ledger holds of these issues: it is fetched again when asked for."""
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
        self.traces.forget(issues)

    @contextmanager
    def forgetting_on_failure(self, remote_key: str) -> Iterator[None]:
        """Forget a partner issue's twin, and drop what is not saved, if the block fails:
        its unit of work may have failed half-way."""
        try:
            yield
        except BaseException:
            unsaved = [row.local_issue_key for row in self._added if isinstance(row, SyncInfo)]
            self.forget(local_keys=unsaved, remote_keys=[remote_key])
            self._drop_unsaved()
            raise

    def _hand(self, link: SyncInfo | None) -> SyncInfo | None:
        """A link for a stage, which may change it: the next save writes it if it did."""
        if link is not None:
            self._handed[id(link)] = link
        return link


def open_conflicts(session: Session, message_id: int) -> list[ConflictRow]:
    """The conflicts of a received message that wait for a person's decision."""
    return list(
        session.scalars(
            select(ConflictRow).where(
                ConflictRow.message_id == message_id, ConflictRow.winner.is_(None)
            )
        )
    )


def _new(keys: Iterable[Any], known: Collection[Any]) -> list[Any]:
    """The keys not known yet, once each, in their order."""
    return [key for key in dict.fromkeys(keys) if key not in known]
