"""Sync links (Backbone's *sync information*): which local issue is linked to which remote
issue, with the sequence ids and times of the last messages each way. Dialect-neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

ISSUE_KEY_LENGTH: Final = 64


@dataclass(frozen=True)
class SyncLink:
    """One stored link of a connector (times in epoch milliseconds)."""

    id: int
    connector_key: str
    local_issue_key: str
    remote_issue_key: str | None  # None: the partner's issue is not created yet
    first_sync_ms: int | None
    last_outgoing_change_ms: int | None
    last_change_seen_ms: int | None
    outgoing_sequence_id: int | None
    last_incoming_change_ms: int | None
    incoming_sequence_id: int | None
    incoming_changes_ignored: bool


# The fields an import may give besides the two keys, as the store's columns name them.
LINK_FIELDS: Final = (
    "first_sync_ms",
    "last_outgoing_change_ms",
    "last_change_seen_ms",
    "outgoing_sequence_id",
    "last_incoming_change_ms",
    "incoming_sequence_id",
    "incoming_changes_ignored",
)


class SyncLinkImport(BaseModel):
    """A link to add, or to update by its local issue key.

    Of an existing link only what is set (``model_fields_set``) changes; a new link gets
    what is given, sequence ids 0 where none is.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    local_issue_key: str = Field(min_length=1, max_length=ISSUE_KEY_LENGTH)
    remote_issue_key: str = Field(min_length=1, max_length=ISSUE_KEY_LENGTH)
    first_sync_ms: StrictInt | None = Field(default=None, ge=0)
    last_outgoing_change_ms: StrictInt | None = Field(default=None, ge=0)
    last_change_seen_ms: StrictInt | None = Field(default=None, ge=0)
    outgoing_sequence_id: StrictInt | None = Field(default=None, ge=0)
    last_incoming_change_ms: StrictInt | None = Field(default=None, ge=0)
    incoming_sequence_id: StrictInt | None = Field(default=None, ge=0)
    incoming_changes_ignored: StrictBool = False
