"""Messages: one change of one issue, sent from one connector to the other.

A message is what Backbone writes as a ``.bac`` file and what Exalate calls a
sync event. It carries the per-issue ``sequenceId``, the changed fields
(already mapped into the receiver's field ids and values), comment,
attachment and work log changes, the replica (Exalate's ``hubIssue`` v1.4, base64), the
traces and the metadata of the blobs it needs.

``ackSequenceId`` is the newest ``sequenceId`` the sender had applied *from*
the receiver for this issue when it built the message. The receiver uses it to
tell a stale edit from a concurrent one: a field the receiver changed in a
message the sender had not yet seen is a conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from issuesync.domain.replica import FieldValue, Replica, UserRef
from issuesync.errors import InvalidMessageError

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
# how a tracker without attachments keeps one (see ``engine/pipeline/attachment_links.py``).
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
    # Only some people see it on the sender's side (sent only when its connector says so);
    # left out of the wire form when not, so that a partner of an older version reads it.
    internal: bool | None = None


class WorklogChange(WireModel):
    """A work log added, edited or deleted on the sender's side (``sourceId`` is its id there).

    ``comment`` is without the header naming a mirrored log's author (see
    ``domain/worklogs.py``); ``author`` is who logged the time.
    """

    action: ChangeAction
    source_id: str = Field(alias="sourceId")
    time_spent: int | None = Field(default=None, alias="timeSpent", ge=0)  # seconds
    started: int | None = None  # epoch ms
    comment: str | None = None
    author: UserRef | None = None


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


# A text shorter than this is carried twice: a reference would save next to nothing.
SHARED_MIN_CHARS = 256


class ReplicaEnvelope(WireModel):
    """The replica as Exalate's node API carries it: key, summary and the encoded payload.

    ``sharedValues`` names the long texts left out of the payload because the message
    carries them already (a changed description, a new comment's body): the place in
    the hubIssue (``description``, ``environment``, ``customField:<name>``,
    ``comment:<id>``) and where the message has the text (``changes:<field>``,
    ``comments:<sourceId>``). Read the replica with :meth:`Message.full_replica`.
    """

    issue_key: IssueKeyRef = Field(alias="issueKey")
    summary: str = ""
    encoded_payload: str = Field(alias="encodedPayload")
    shared_values: dict[str, str] | None = Field(default=None, alias="sharedValues")

    @classmethod
    def of(
        cls,
        replica: Replica,
        changes: Mapping[str, FieldValue] | None = None,
        comments: Sequence[CommentChange] = (),
    ) -> ReplicaEnvelope:
        """Wrap a replica for a message with these ``changes`` and ``comments``.

        A long text the message carries already is stored once: in the message.
        """
        issue = replica.hub_issue
        carried = _carried_texts(changes or {}, comments)
        shared: dict[str, str] = {}
        payload = replica
        if carried:
            payload, shared = _without_carried(replica, carried)
        return cls(
            issue_key=IssueKeyRef(id=issue.id, urn=issue.key),
            summary=issue.summary,
            encoded_payload=payload.encode(),
            shared_values=shared or None,
        )

    def decode(self) -> Replica:
        """The payload as it is: without the values it shares (see :meth:`Message.full_replica`)."""
        return Replica.decode(self.encoded_payload)


def _carried_texts(
    changes: Mapping[str, FieldValue], comments: Sequence[CommentChange]
) -> dict[str, str]:
    """Long texts of a message, each with the first place the message has it."""
    carried: dict[str, str] = {}
    for name, value in changes.items():
        if isinstance(value, str) and len(value) >= SHARED_MIN_CHARS:
            carried.setdefault(value, f"changes:{name}")
    for comment in comments:
        if comment.body is not None and len(comment.body) >= SHARED_MIN_CHARS:
            carried.setdefault(comment.body, f"comments:{comment.source_id}")
    return carried


def _without_carried(
    replica: Replica, carried: Mapping[str, str]
) -> tuple[Replica, dict[str, str]]:
    """The replica without the texts the message carries, and where each went."""
    issue = replica.hub_issue
    shared: dict[str, str] = {}
    update: dict[str, Any] = {}
    for name in ("description", "environment"):
        text = getattr(issue, name)
        if text in carried:
            shared[name] = carried[text]
            update[name] = None
    custom = dict(issue.custom_fields)
    for name, field in issue.custom_fields.items():
        if isinstance(field.value, str) and field.value in carried:
            shared[f"customField:{name}"] = carried[field.value]
            custom[name] = field.model_copy(update={"value": None})
    comments = list(issue.comments)
    for index, comment in enumerate(issue.comments):
        if comment.body in carried:
            shared[f"comment:{comment.id}"] = carried[comment.body]
            comments[index] = comment.model_copy(update={"body": ""})
    if not shared:
        return replica, {}
    update |= {"custom_fields": custom, "comments": comments}
    return replica.model_copy(update={"hub_issue": issue.model_copy(update=update)}), shared


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
    worklogs: list[WorklogChange] = Field(default_factory=list)
    replica: ReplicaEnvelope | None = None
    traces: list[Trace] = Field(default_factory=list)
    blob_metadata_list: list[BlobMetadata] = Field(default_factory=list, alias="blobMetadataList")
    note: str | None = None
    # The markup dialect of the texts it carries (``domain.markup.Markup``'s values); a
    # message written before messages said so has none, and its texts are not converted.
    markup: str | None = None

    @model_validator(mode="after")
    def _shared_values_are_carried(self) -> Message:
        shared = self.replica.shared_values if self.replica is not None else None
        for place, source in (shared or {}).items():
            kind = place.partition(":")[0]
            if kind not in _SHARED_PLACES or self.carried_text(source) is None:
                raise ValueError(f"sharedValues: '{place}' names '{source}', not in the message")
        return self

    def carried_text(self, source: str) -> str | None:
        """The text at ``changes:<field>`` or ``comments:<sourceId>`` of this message."""
        kind, _, name = source.partition(":")
        value: object = None
        if kind == "changes":
            value = self.changes.get(name)
        elif kind == "comments":
            value = next((c.body for c in self.comments if c.source_id == name), None)
        return value if isinstance(value, str) else None

    def full_replica(self) -> Replica | None:
        """The replica, with the values it shares with the message put back."""
        if self.replica is None:
            return None
        replica = self.replica.decode()
        issue = replica.hub_issue
        for place, source in (self.replica.shared_values or {}).items():
            text = self.carried_text(source)
            kind, _, name = place.partition(":")
            if kind in ("description", "environment"):
                setattr(issue, kind, text)
            elif kind == "customField" and name in issue.custom_fields:
                issue.custom_fields[name].value = text
            elif kind == "comment":
                for comment in issue.comments:
                    if comment.id == name and text is not None:
                        comment.body = text
        return replica

    def to_json(self) -> dict[str, Any]:
        """The wire form."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def dumps(self) -> str:
        """The wire form as compact JSON text (written by pydantic's core: the hot path)."""
        return self.model_dump_json(by_alias=True, exclude_none=True)

    @classmethod
    def loads(cls, text: str | bytes) -> Message:
        """Parse the wire form; raises :class:`~issuesync.errors.InvalidMessageError`
        naming what is wrong."""
        try:
            message = cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "message"
            raise InvalidMessageError(f"{where}: {first['msg']}") from exc
        if message.format != MESSAGE_FORMAT:
            raise InvalidMessageError(f"format: unknown message format '{message.format}'")
        return message


_SHARED_PLACES = frozenset({"description", "environment", "customField", "comment"})
