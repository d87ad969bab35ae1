"""Messages: one change of one issue, sent from one connector to the other.

A message is what Backbone writes as a ``.bac`` file and what Exalate calls a
sync event. It carries the per-issue ``sequenceId``, the changed fields
(already mapped into the receiver's field ids and values), comment and
attachment changes, the replica (Exalate's ``hubIssue`` v1.4, base64), the
traces and the metadata of the blobs it needs.

``ackSequenceId`` is the newest ``sequenceId`` the sender had applied *from*
the receiver for this issue when it built the message. The receiver uses it to
tell a stale edit from a concurrent one: a field the receiver changed in a
message the sender had not yet seen is a conflict.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from issuesync.domain.replica import FieldValue, Replica, UserRef

MESSAGE_FORMAT = "issuesync-message/1"


class MessageKind(StrEnum):
    """What a message does to the receiver's twin of the issue."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESYNC = "resync"
    RESPONSE = "response"  # the receiver's answer to a create: its key and trace ids


class ReceiveState(StrEnum):
    """States of a message in a receive queue: Backbone's RECEIVE folders (seed 002)."""

    NEW = "new"
    ARCHIVE = "archive"
    ERROR = "error"
    ISSUE_MISSING = "issue-missing"
    SEQUENCE_ERROR = "sequence-error"
    OFFLINE = "offline"
    INVALID = "invalid"
    DISCARD = "discard"


class SendState(StrEnum):
    """States of a message in a send queue: Backbone's SEND folder and ``SEND/error``."""

    NEW = "new"
    SENT = "sent"
    ERROR = "error"


# Receive states whose messages still wait to be applied.
PENDING_STATES = (
    ReceiveState.NEW,
    ReceiveState.SEQUENCE_ERROR,
    ReceiveState.ISSUE_MISSING,
    ReceiveState.OFFLINE,
)


class TraceType(StrEnum):
    """Sub-objects of an issue that are synchronized one by one."""

    COMMENT = "COMMENT"
    ATTACHMENT = "ATTACHMENT"
    WORKLOG = "WORKLOG"


# An attachment trace whose local id starts so is a comment that links to the content:
# how a tracker without attachments keeps one (see ``engine/attachment_links.py``).
LINK_PREFIX = "comment:"


def link_comment_id(local_id: str) -> str | None:
    """The comment's id when an attachment trace's local id is a link comment, else None."""
    return local_id.removeprefix(LINK_PREFIX) if local_id.startswith(LINK_PREFIX) else None


class ChangeAction(StrEnum):
    """What happened to a sub-object."""

    NONE = "NONE"
    ADD = "ADD"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class WireModel(BaseModel):
    """camelCase on the wire; unknown keys refused so that a damaged file is ``invalid``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Trace(WireModel):
    """The link between a sub-object on the sender's side and its twin on the receiver's."""

    type: TraceType
    local_id: str = Field(alias="localId")
    remote_id: str | None = Field(default=None, alias="remoteId")
    action: ChangeAction = ChangeAction.NONE
    to_synchronize: bool = Field(default=True, alias="toSynchronize")


class CommentChange(WireModel):
    """A comment added, edited or deleted on the sender's side (``sourceId`` is its id there)."""

    action: ChangeAction
    source_id: str = Field(alias="sourceId")
    body: str | None = None
    author: UserRef | None = None
    created: int | None = None


class BlobMetadata(WireModel):
    """Attachment content the receiver must fetch; ``checksum`` is its sha256."""

    blob_id: str = Field(alias="blobId")
    checksum: str
    size: int = Field(ge=0)


class AttachmentChange(WireModel):
    """An attachment added or deleted on the sender's side."""

    action: ChangeAction
    source_id: str = Field(alias="sourceId")
    filename: str | None = None
    mimetype: str | None = None
    filesize: int | None = None
    checksum: str | None = None
    author: UserRef | None = None


class IssueKeyRef(WireModel):
    """Exalate's ``{"id": 11703, "urn": "AC-102"}``."""

    id: str | None = None
    urn: str


class ReplicaEnvelope(WireModel):
    """The replica as Exalate's node API carries it: key, summary and the encoded payload."""

    issue_key: IssueKeyRef = Field(alias="issueKey")
    summary: str = ""
    encoded_payload: str = Field(alias="encodedPayload")

    @classmethod
    def of(cls, replica: Replica) -> ReplicaEnvelope:
        """Wrap a replica."""
        issue = replica.hub_issue
        return cls(
            issue_key=IssueKeyRef(id=issue.id, urn=issue.key),
            summary=issue.summary,
            encoded_payload=replica.encode(),
        )

    def decode(self) -> Replica:
        """The replica inside."""
        return Replica.decode(self.encoded_payload)


class Message(WireModel):
    """One change of one issue, from one connector to the other."""

    format: str = MESSAGE_FORMAT
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    integration_key: str = Field(alias="integrationKey")
    from_connector: str = Field(alias="fromConnector")
    to_connector: str = Field(alias="toConnector")
    source_issue_key: str = Field(alias="sourceIssueKey")
    remote_issue_key: str | None = Field(default=None, alias="remoteIssueKey")
    sequence_id: int = Field(alias="sequenceId", ge=0)
    ack_sequence_id: int = Field(default=0, alias="ackSequenceId", ge=0)
    kind: MessageKind
    created: int = 0  # when the sender built it, epoch ms
    issue_updated: int = Field(default=0, alias="issueUpdated")  # the source issue's update time
    issue_type: str | None = Field(default=None, alias="issueType")
    parent_key: str | None = Field(default=None, alias="parentKey")
    changes: dict[str, FieldValue] = Field(default_factory=dict)
    comments: list[CommentChange] = Field(default_factory=list)
    attachments: list[AttachmentChange] = Field(default_factory=list)
    replica: ReplicaEnvelope | None = None
    traces: list[Trace] = Field(default_factory=list)
    blob_metadata_list: list[BlobMetadata] = Field(default_factory=list, alias="blobMetadataList")
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def dumps(self) -> str:
        """The wire form as compact JSON text (written by pydantic's core: the hot path)."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def loads(cls, text: str | bytes) -> Message:
        """Parse the wire form; raises :class:`InvalidMessageError` naming what is wrong."""
        try:
            message = cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "message"
            raise InvalidMessageError(f"{where}: {first['msg']}") from exc
        if message.format != MESSAGE_FORMAT:
            raise InvalidMessageError(f"format: unknown message format '{message.format}'")
        return message


class InvalidMessageError(ValueError):
    """Text that is not a message of this format."""
