"""Sync links (Backbone's sync information): which local issue is linked to which remote
issue. Links are read, imported (to link issues that already exist on both sides) and
deleted per connector. The caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuesync.domain.synclink import LINK_FIELDS, SyncLink, SyncLinkImport
from issuesync.engine.connectors import connector_row_by_key
from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.store.sync import SyncInfo, TraceRow


def sync_link(row: SyncInfo, connector_key: str) -> SyncLink:
    """A stored link."""
    return SyncLink(
        id=row.id,
        connector_key=connector_key,
        local_issue_key=row.local_issue_key,
        remote_issue_key=row.remote_issue_key,
        first_sync_ms=row.first_sync_ms,
        last_outgoing_change_ms=row.last_outgoing_change_ms,
        last_change_seen_ms=row.last_change_seen_ms,
        outgoing_sequence_id=row.outgoing_sequence_id,
        last_incoming_change_ms=row.last_incoming_change_ms,
        incoming_sequence_id=row.incoming_sequence_id,
        incoming_changes_ignored=row.incoming_changes_ignored,
    )


def list_sync_links(
    session: Session,
    connector_key: str,
    local_issue_key: str | None = None,
    remote_issue_key: str | None = None,
) -> list[SyncLink]:
    """The connector's links, optionally only that of one local or remote issue."""
    connector = connector_row_by_key(session, connector_key)
    query = select(SyncInfo).where(SyncInfo.connector_id == connector.id).order_by(SyncInfo.id)
    if local_issue_key:
        query = query.where(SyncInfo.local_issue_key == local_issue_key.upper())
    if remote_issue_key:
        query = query.where(SyncInfo.remote_issue_key == remote_issue_key.upper())
    return [sync_link(row, connector.key) for row in session.scalars(query)]


def invalid_entry(errors: dict[str, str]) -> InvalidInputError:
    """The error for an import whose entries ``errors`` names (``[index].field``)."""
    first = next(iter(errors))
    return InvalidInputError(
        f"Sync information entry {first.split(']')[0].lstrip('[')} is not valid.",
        field_errors=errors,
    )


def duplicate_errors(links: Sequence[SyncLinkImport]) -> dict[str, str]:
    """An import that names a local issue twice, by entry."""
    errors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for index, link in enumerate(links):
        local = link.local_issue_key
        if local in seen:
            errors[f"[{index}].local_issue_key"] = (
                f"{local} is already given in entry {seen[local]}"
            )
        seen.setdefault(local, index)
    return errors


def import_sync_links(session: Session, connector_key: str, links: Sequence[SyncLinkImport]) -> int:
    """Add or update (by the local issue key) the given links; returns how many.

    A local issue given twice is refused, and so is a remote issue linked to a second
    local one, naming the entry (``[index].field``).
    """
    connector = connector_row_by_key(session, connector_key)
    errors = duplicate_errors(links)
    if errors:
        raise invalid_entry(errors)
    existing = {
        row.local_issue_key: row
        for row in session.scalars(select(SyncInfo).where(SyncInfo.connector_id == connector.id))
    }
    linked = {row.remote_issue_key: local for local, row in existing.items()}
    for index, link in enumerate(links):
        local, remote = link.local_issue_key, link.remote_issue_key
        previous = existing.get(local)
        if previous is not None:
            linked.pop(previous.remote_issue_key, None)
        holder = linked.get(remote)
        if holder is not None and holder != local:
            errors[f"[{index}].remote_issue_key"] = f"{remote} is already linked to {holder}"
        linked[remote] = local
    if errors:
        raise invalid_entry(errors)
    for link in links:
        local = link.local_issue_key
        row = existing.get(local)
        if row is None:
            row = SyncInfo(connector_id=connector.id, local_issue_key=local)
            session.add(row)
            existing[local] = row
        row.remote_issue_key = link.remote_issue_key
        given = link.model_fields_set
        for name in LINK_FIELDS:
            if name in given or getattr(row, name) is None:
                setattr(row, name, _stored(name, getattr(link, name)))
    session.flush()
    return len(links)


def _stored(column: str, value: object) -> object:
    """Sequence ids and the flag are never null in the store; dates may be."""
    if value is None and column in {"outgoing_sequence_id", "incoming_sequence_id"}:
        return 0
    return value


def delete_sync_links(session: Session, connector_key: str, link_id: int | None) -> int:
    """Delete one link (by id) or, with ``None``, all of the connector's; returns how many.

    The traces of the unlinked issues (comments, attachments) go with them.
    """
    connector = connector_row_by_key(session, connector_key)
    query = select(SyncInfo.id, SyncInfo.local_issue_key).where(
        SyncInfo.connector_id == connector.id
    )
    if link_id is not None:
        query = query.where(SyncInfo.id == link_id)
    found = session.execute(query).all()
    if link_id is not None and not found:
        raise NotFoundError(f"No sync information with id {link_id} for connector {connector.key}.")
    ids = [row_id for row_id, _ in found]
    issues = [issue for _, issue in found]
    for start in range(0, len(ids), 500):
        session.execute(delete(SyncInfo).where(SyncInfo.id.in_(ids[start : start + 500])))
        session.execute(
            delete(TraceRow).where(
                TraceRow.connector_id == connector.id,
                TraceRow.local_issue_key.in_(issues[start : start + 500]),
            )
        )
    return len(ids)
