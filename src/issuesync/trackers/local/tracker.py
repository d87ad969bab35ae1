"""The built-in tracker's service facade: every operation runs in one unit of work."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, TypeVar

from sqlalchemy.orm import Session

from issuesync.store.blobs import BlobStore
from issuesync.store.principals import Principal
from issuesync.store.uow import UnitOfWorkFactory
from issuesync.trackers.local import subresources
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.refdata import ProjectRefs, ReferenceCache
from issuesync.trackers.local.textlimits import DEFAULT_TEXT_LIMIT

W = TypeVar("W")
R = TypeVar("R")


class LocalTracker:
    """Opens operations on the built-in tracker for a caller.

    ``read`` operations never write; ``write`` operations commit when their block
    ends without an error and roll back otherwise. Attachment content is kept in
    a :class:`BlobStore`, written before the transaction that refers to it and
    removed only after the transaction that dropped the last reference commits.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        blobs: BlobStore,
        base_url: str,
        *,
        show_email_addresses: bool = False,
        text_limit: int = DEFAULT_TEXT_LIMIT,
    ) -> None:
        self.uow_factory = uow_factory
        self.blobs = blobs
        self.base_url = base_url.rstrip("/")
        self.text_limit = text_limit
        self.reference = ReferenceCache()
        self.project_refs = ProjectRefs()
        # Whether every caller sees every user's e-mail address (else admins and their own).
        self.show_email_addresses = show_email_addresses

    def for_engine(self) -> LocalTracker:
        """This tracker as the sync engine uses it: seeing every user's e-mail address.

        The engine matches people across trackers by their addresses and shows
        them to nobody; the operations of HTTP callers follow the setting.
        """
        engine = copy.copy(self)
        engine.show_email_addresses = True
        return engine

    @contextmanager
    def read(self, actor: Principal) -> Iterator[Operation]:
        """An operation that only reads."""
        with self.uow_factory(readonly=True) as uow:
            yield self._operation(uow.session, actor)

    @contextmanager
    def write(self, actor: Principal) -> Iterator[Operation]:
        """An operation whose changes are committed together at the end of the block."""
        with self.uow_factory() as uow:
            yield self._operation(uow.session, actor)
            uow.commit()

    def write_then_read(
        self,
        actor: Principal,
        write: Callable[[Operation], W],
        read: Callable[[Operation, W], R],
    ) -> R:
        """``write`` in a write operation, then ``read`` of exactly what it committed.

        On SQLite ``read`` runs in a read transaction whose snapshot is taken before
        the write turn passes on, so reading back (and rendering) what was written
        does not hold the turn; elsewhere it runs in the write operation, before
        the commit.
        """
        with self.uow_factory() as uow:
            written = write(self._operation(uow.session, actor))
            if not uow.reads_after_commit:
                result = read(self._operation(uow.session, actor), written)
                uow.commit()
                return result
            reader = uow.commit_and_read()
        try:
            return read(self._operation(reader, actor), written)
        finally:
            reader.close()

    def _operation(self, session: Session, actor: Principal) -> Operation:
        return Operation(
            session,
            actor,
            self.base_url,
            self.reference,
            self.project_refs,
            all_emails=self.show_email_addresses,
            text_limit=self.text_limit,
        )

    def attach(
        self, actor: Principal, key: str, files: list[tuple[str, str, BinaryIO]]
    ) -> list[JsonDict]:
        """Store ``(filename, mime type, content)`` files and attach them to an issue.

        When any file is refused (one over the size limit, say) none is attached,
        and content this call stored that nothing refers to is removed again.
        """
        named = [(*subresources.attachment_names(f, m), c) for f, m, c in files]
        with self.read(actor) as op:
            op.issue(key)  # 404 before any content is written
        stored: list[tuple[str, str, str, int]] = []
        try:
            for filename, mime, content in named:
                sha, size = self.blobs.put(content)
                stored.append((filename, mime, sha, size))
            with self.write(actor) as op:
                return subresources.add_attachments(op, key, stored)
        except BaseException:
            digests = [sha for _, _, sha, _ in stored]
            with self.read(actor) as op:
                unused = subresources.unreferenced(op, digests)
            self.forget_blobs(unused)
            raise

    def detach(self, actor: Principal, attachment_id: str) -> None:
        """Delete an attachment, and its content when nothing else refers to it."""
        with self.write(actor) as op:
            orphan = subresources.delete_attachment(op, attachment_id)
        if orphan:
            self.blobs.remove(orphan)

    def forget_blobs(self, digests: list[str]) -> None:
        """Remove content that a committed deletion left without references."""
        for digest in digests:
            self.blobs.remove(digest)
