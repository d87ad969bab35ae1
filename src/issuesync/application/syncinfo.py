"""Sync information (seed 000): which local issue is linked to which remote issue.

Entries are read, imported (to link issues that already exist on both sides)
and deleted per connector. The caller's unit of work commits.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuesync.application.integrations import connector_row_by_key, validation_field_errors
from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.store.sync import SyncInfo, TraceRow

JsonDict = dict[str, Any]

# The JSON names of seed 000 and the columns that hold them.
_COLUMNS = {
    "firstSyncDate": "first_sync_ms",
    "lastOutgoingChange": "last_outgoing_change_ms",
    "lastChangeSeen": "last_change_seen_ms",
    "outgoingMessageSequenceId": "outgoing_sequence_id",
    "lastIncomingChange": "last_incoming_change_ms",
    "incomingMessageSequenceId": "incoming_sequence_id",
    "incomingChangesIgnored": "incoming_changes_ignored",
}


class SyncInfoEntry(BaseModel):
    """One entry of ``POST /connectors/{key}/syncInformation``; unknown keys are refused.

    ``id`` and ``connectorKey``, which ``GET`` returns, are accepted and ignored,
    so that a list read from one connector can be imported as it is.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    localIssueKey: str = Field(min_length=1, max_length=64)  # noqa: N815 - seed 000's name
    remoteIssueKey: str = Field(min_length=1, max_length=64)  # noqa: N815
    firstSyncDate: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    lastOutgoingChange: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    lastChangeSeen: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    outgoingMessageSequenceId: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    lastIncomingChange: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    incomingMessageSequenceId: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    incomingChangesIgnored: StrictBool = False  # noqa: N815
    id: Any = Field(default=None, exclude=True)
    connectorKey: Any = Field(default=None, exclude=True)  # noqa: N815


def sync_info_json(row: SyncInfo, connector_key: str) -> JsonDict:
    """One entry in seed 000's shape."""
    return {
        "id": row.id,
        "connectorKey": connector_key,
        "localIssueKey": row.local_issue_key,
        "remoteIssueKey": row.remote_issue_key,
        **{name: getattr(row, column) for name, column in _COLUMNS.items()},
    }


def list_sync_info(
    session: Session,
    connector_key: str,
    local_issue_key: str | None = None,
    remote_issue_key: str | None = None,
) -> list[JsonDict]:
    """The connector's sync information, optionally only that of one local or remote issue."""
    connector = connector_row_by_key(session, connector_key)
    query = select(SyncInfo).where(SyncInfo.connector_id == connector.id).order_by(SyncInfo.id)
    if local_issue_key:
        query = query.where(SyncInfo.local_issue_key == local_issue_key.upper())
    if remote_issue_key:
        query = query.where(SyncInfo.remote_issue_key == remote_issue_key.upper())
    return [sync_info_json(row, connector.key) for row in session.scalars(query)]


def parse_entries(entries: object) -> list[SyncInfoEntry]:
    """Validate an import body; an error names the entry's index and the field."""
    if not isinstance(entries, list):
        raise InvalidInputError("The body must be a JSON array of sync information entries.")
    parsed: list[SyncInfoEntry] = []
    errors: dict[str, str] = {}
    for index, entry in enumerate(entries):
        try:
            parsed.append(SyncInfoEntry.model_validate(entry))
        except ValidationError as exc:
            for field, message in validation_field_errors(exc).items():
                errors[f"[{index}]" + ("" if field == "body" else f".{field}")] = message
    seen: dict[str, int] = {}
    for index, entry in enumerate(parsed):
        local = entry.localIssueKey
        if local in seen:
            errors[f"[{index}].localIssueKey"] = f"{local} is already given in entry {seen[local]}"
        seen.setdefault(local, index)
    if errors:
        first = next(iter(errors))
        raise InvalidInputError(
            f"Sync information entry {first.split(']')[0].lstrip('[')} is not valid.",
            field_errors=errors,
        )
    return parsed


def import_sync_info(session: Session, connector_key: str, entries: object) -> int:
    """Add or update (by ``localIssueKey``) the given entries; returns how many.

    A remote issue can be linked to one local issue only: an import that would
    link it to a second one is refused, naming the entry.
    """
    connector = connector_row_by_key(session, connector_key)
    parsed = parse_entries(entries)
    existing = {
        row.local_issue_key: row
        for row in session.scalars(select(SyncInfo).where(SyncInfo.connector_id == connector.id))
    }
    linked = {row.remote_issue_key: local for local, row in existing.items()}
    errors: dict[str, str] = {}
    for index, entry in enumerate(parsed):
        local, remote = entry.localIssueKey, entry.remoteIssueKey
        previous = existing.get(local)
        if previous is not None:
            linked.pop(previous.remote_issue_key, None)
        holder = linked.get(remote)
        if holder is not None and holder != local:
            errors[f"[{index}].remoteIssueKey"] = f"{remote} is already linked to {holder}"
        linked[remote] = local
    if errors:
        first = next(iter(errors))
        raise InvalidInputError(
            f"Sync information entry {first.split(']')[0].lstrip('[')} is not valid.",
            field_errors=errors,
        )
    for entry in parsed:
        local = entry.localIssueKey
        row = existing.get(local)
        if row is None:
            row = SyncInfo(connector_id=connector.id, local_issue_key=local)
            session.add(row)
            existing[local] = row
        row.remote_issue_key = entry.remoteIssueKey
        given = entry.model_fields_set
        for name, column in _COLUMNS.items():
            value = getattr(entry, name)
            if name in given or getattr(row, column) is None:
                setattr(row, column, _stored(column, value))
    session.flush()
    return len(parsed)


def _stored(column: str, value: object) -> object:
    """Sequence ids and the flag are never null in the store; dates may be."""
    if value is None and column in {"outgoing_sequence_id", "incoming_sequence_id"}:
        return 0
    return value


def delete_sync_info(session: Session, connector_key: str, sync_info_id: int | None) -> int:
    """Delete one entry (by id) or, with ``None``, all of the connector's; returns how many.

    The traces of the unlinked issues (comments, attachments) go with them.
    """
    connector = connector_row_by_key(session, connector_key)
    query = select(SyncInfo.id, SyncInfo.local_issue_key).where(
        SyncInfo.connector_id == connector.id
    )
    if sync_info_id is not None:
        query = query.where(SyncInfo.id == sync_info_id)
    found = session.execute(query).all()
    if sync_info_id is not None and not found:
        raise NotFoundError(
            f"No sync information with id {sync_info_id} for connector {connector.key}."
        )
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
