"""Sync information as seed 000 shows and imports it: the core's sync links, in Backbone's
names, and its requests (list, import, delete) carried out in Backbone's terms."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError
from sqlalchemy.orm import Session

from issuesync.api.backbone.documents.fields import (
    SYNC_INFO_FIELDS,
    backbone_fields,
    backbone_path,
    validation_field_errors,
)
from issuesync.application.syncinfo import (
    delete_sync_links,
    duplicate_errors,
    import_sync_links,
    invalid_entry,
    list_sync_links,
)
from issuesync.domain.synclink import ISSUE_KEY_LENGTH, SyncLink, SyncLinkImport
from issuesync.engine.connectors import connector_row_by_key
from issuesync.errors import InvalidInputError

JsonDict = dict[str, Any]

# Seed 000's names of a link's fields besides the keys.
_NAMES = {
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

    localIssueKey: str = Field(min_length=1, max_length=ISSUE_KEY_LENGTH)  # noqa: N815 - seed 000's name
    remoteIssueKey: str = Field(min_length=1, max_length=ISSUE_KEY_LENGTH)  # noqa: N815
    firstSyncDate: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    lastOutgoingChange: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    lastChangeSeen: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    outgoingMessageSequenceId: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    lastIncomingChange: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    incomingMessageSequenceId: StrictInt | None = Field(default=None, ge=0)  # noqa: N815
    incomingChangesIgnored: StrictBool = False  # noqa: N815
    id: Any = Field(default=None, exclude=True)
    connectorKey: Any = Field(default=None, exclude=True)  # noqa: N815

    def link(self) -> SyncLinkImport:
        """The core's link to import; what the entry did not set stays unset."""
        given = self.model_fields_set
        values: dict[str, object] = {
            "local_issue_key": self.localIssueKey,
            "remote_issue_key": self.remoteIssueKey,
        }
        values |= {column: getattr(self, name) for name, column in _NAMES.items() if name in given}
        return SyncLinkImport.model_validate(values)


def sync_info_json(link: SyncLink) -> JsonDict:
    """One entry in seed 000's shape.

    Seed 000 types the dates ``long`` and the sequence ids ``integer``, so each is a number
    in every answer (a Java client reading a ``long`` fails on ``null``): a date that never
    happened (``lastIncomingChange`` of an issue that has only been sent, an entry imported
    without dates) is ``0``, the epoch, and a sequence id of no message is ``0``. ``0`` is
    what the engine reads an unset value as, so an answer imported again changes nothing.
    """
    return {
        "id": link.id,
        "connectorKey": link.connector_key,
        "localIssueKey": link.local_issue_key,
        "remoteIssueKey": link.remote_issue_key,
        **{name: _number(getattr(link, column)) for name, column in _NAMES.items()},
    }


def _number(value: object) -> object:
    """A date or sequence id that is unset is ``0``; the flag stays as it is."""
    return 0 if value is None else value


def list_sync_info(
    session: Session,
    connector_key: str,
    local_issue_key: str | None = None,
    remote_issue_key: str | None = None,
) -> list[JsonDict]:
    """The connector's sync information, optionally only that of one local or remote issue."""
    links = list_sync_links(session, connector_key, local_issue_key, remote_issue_key)
    return [sync_info_json(link) for link in links]


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
    twice = duplicate_errors([entry.link() for entry in parsed])
    errors |= {backbone_path(name, SYNC_INFO_FIELDS): text for name, text in twice.items()}
    if errors:
        raise invalid_entry(errors)
    return parsed


def import_sync_info(session: Session, connector_key: str, entries: object) -> int:
    """``POST /connectors/{key}/syncInformation``: add or update (by ``localIssueKey``) the
    given entries; returns how many. A remote issue linked to a second local issue is
    refused, naming the entry."""
    connector_row_by_key(session, connector_key)  # 404 before the body's 400
    links = [entry.link() for entry in parse_entries(entries)]
    with backbone_fields(SYNC_INFO_FIELDS):
        return import_sync_links(session, connector_key, links)


def delete_sync_info(session: Session, connector_key: str, sync_info_id: int | None) -> int:
    """``DELETE /connectors/{key}/syncInformation``: one entry (by id) or all of them."""
    return delete_sync_links(session, connector_key, sync_info_id)
