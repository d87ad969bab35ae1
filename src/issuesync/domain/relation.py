"""Relations: an integration split between two issuesync nodes, in Exalate's words (seed 003).

Each node runs one connector of the integration and serves its side of the
*relation* under ``/rest/issuehub/2.4/relations/{relationKey}/``. This module is
the pure part: the relation's states, the invitation code that pairs two nodes,
and the *sync event*, the wire form of a :class:`~issuesync.domain.message.Message`
in the shape of seed 003 (``docs/issuehub.md`` is the protocol).

A sync event carries the seed's fields (``syncEventId``, ``syncEventNumber``,
``relationKey``, ``replica``, ``traces``, ``blobMetadataList``; a sync response
``sourceIssueKey`` instead of the number) and, under ``message``, the rest of the
issuesync message: what the seed's replica cannot say (the changes already mapped
for the receiver, the comment and attachment changes, the sequence ids). A field
``message`` holds wins over the event's (``"replica": null`` in a message that has
none, whose event shows a replica of the issue key only).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from issuesync.domain.message import Message, MessageKind, ReceiveState
from issuesync.domain.replica import HUB_VERSION
from issuesync.domain.urls import checked_url
from issuesync.errors import InvalidInputError, InvalidMessageError

API_PREFIX: Final = "/rest/issuehub/2.4"
RELATION_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
INVITATION_PREFIX: Final = "issuesync-invitation-1."
MAX_INVITATION_CHARS: Final = 4096
# The seed's answer, word for word, for a relation this node does not have (any more).
NOT_FOUND_TEXT: Final = (
    "Connection `{name}` not found. Seems like it was removed on the Destination side."
)


class RelationState(StrEnum):
    """Where a relation is in its life."""

    INVITED = "invited"  # an invitation is out; no partner yet
    ACTIVE = "active"  # paired: both nodes exchange sync events
    REVOKED = "revoked"  # this node ended it; the partner's requests get the seed's 400
    BROKEN = "broken"  # the partner ended it (or lost it): nothing is exchanged


class RelationRole(StrEnum):
    """Which side of the pairing this node took."""

    INVITER = "inviter"
    ACCEPTOR = "acceptor"


def check_relation_name(name: str) -> str:
    """``name`` when it can be a relation key (it travels in URLs and tokens)."""
    if not RELATION_NAME.fullmatch(name):
        raise InvalidInputError(
            "The relation's name is not valid.",
            field_errors={
                "name": "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit"
            },
        )
    return name


def not_found_text(name: str) -> str:
    """The seed's text for a relation that is not (or no longer) here."""
    return NOT_FOUND_TEXT.format(name=name)


@dataclass(frozen=True)
class Invitation:
    """What node B needs to pair with node A: A's URL, the relation, a one-time token.

    It never holds the relation's secret: the two nodes derive that together when B
    accepts (``application/relations.py``), and the token only proves that B was
    invited. The code is ``issuesync-invitation-1.`` + base64url of the JSON.
    """

    url: str
    relation: str
    token: str
    expires_ms: int

    def encode(self) -> str:
        """The code to hand to the partner's administrator."""
        document = {
            "url": self.url,
            "relation": self.relation,
            "token": self.token,
            "expires": self.expires_ms,
        }
        raw = json.dumps(document, separators=(",", ":")).encode()
        return INVITATION_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, code: str) -> Invitation:
        """Read a code; a damaged or foreign one is refused with what to do."""
        code = code.strip()
        refused = InvalidInputError(
            "This is not an issuesync invitation code.",
            field_errors={"code": f"paste the whole code that starts with '{INVITATION_PREFIX}'"},
        )
        if len(code) > MAX_INVITATION_CHARS or not code.startswith(INVITATION_PREFIX):
            raise refused
        body = code.removeprefix(INVITATION_PREFIX)
        try:
            document = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            invitation = cls(
                url=str(document["url"]),
                relation=check_relation_name(str(document["relation"])),
                token=str(document["token"]),
                expires_ms=int(document["expires"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error, InvalidInputError) as exc:
            raise refused from exc
        try:
            checked_url(invitation.url, credentials="nothing")
        except ValueError as exc:
            raise refused from exc
        if not invitation.token:
            raise refused
        return invitation


# -- sync events ---------------------------------------------------------------------------

# The seed's fields of a sync request that the message's own fields fill in.
_EVENT_FIELDS = ("replica", "traces", "blobMetadataList")


def _key_only_replica(key: str) -> dict[str, Any]:
    """A replica naming the issue only: what an event without a replica of its own shows."""
    payload = {"version": HUB_VERSION, "hubIssue": {"key": key}}
    encoded = base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    return {"issueKey": {"urn": key}, "summary": "", "encodedPayload": encoded}


def sync_event(event_id: int, relation: str, message: Message) -> dict[str, Any]:
    """A message of this node's send queue as the seed's sync request (or sync response)."""
    document = message.to_json()
    rest = {k: v for k, v in document.items() if k not in _EVENT_FIELDS}
    if message.replica is None:
        rest["replica"] = None
    replica = document.get("replica") or _key_only_replica(message.source_issue_key)
    if message.kind is MessageKind.RESPONSE:
        return {
            "syncEventId": event_id,
            "relationKey": relation,
            "sourceIssueKey": {"urn": message.remote_issue_key or ""},
            "replica": replica,
            "traces": document.get("traces", []),
            "message": rest,
        }
    return {
        "syncEventId": event_id,
        "syncEventNumber": message.sequence_id,
        "relationKey": relation,
        "replica": replica,
        "traces": document.get("traces", []),
        "blobMetadataList": document.get("blobMetadataList", []),
        "message": rest,
    }


@dataclass(frozen=True)
class ReceivedEvent:
    """A sync event read from the partner: its id there and the message it carries."""

    event_id: int
    message: Message


def read_sync_event(document: object, relation: str) -> ReceivedEvent:
    """The message a sync event (request or response) carries.

    Raises:
        InvalidMessageError: not a sync event of this relation, naming what is wrong.
    """
    if not isinstance(document, dict):
        raise InvalidMessageError("a sync event must be a JSON object")
    event_id = document.get("syncEventId")
    if not isinstance(event_id, int) or isinstance(event_id, bool) or event_id < 0:
        raise InvalidMessageError("syncEventId: must be a whole number")
    if document.get("relationKey") != relation:
        raise InvalidMessageError(f"relationKey: must be '{relation}'")
    rest = document.get("message")
    if not isinstance(rest, dict):
        raise InvalidMessageError("message: must be the issuesync message (an object)")
    merged = {name: document[name] for name in _EVENT_FIELDS if name in document} | rest
    if merged.get("replica") is None:
        merged.pop("replica", None)
    message = Message.loads(json.dumps(merged))
    return ReceivedEvent(event_id, message)


class ErrorReason(StrEnum):
    """``errorReason`` of an error response: why a sync request of the partner failed here."""

    NO_ISSUE_TO_CONNECT_TO = "NO_ISSUE_TO_CONNECT_TO"  # the issue it needs is not linked
    INVALID_SYNC_EVENT = "INVALID_SYNC_EVENT"  # not a message this node can read
    BLOB_NOT_RECEIVED = "BLOB_NOT_RECEIVED"  # an attachment's content never arrived intact
    SYNC_FAILED = "SYNC_FAILED"  # the tracker refused, a conflict waits, …


def error_reason(state: str, reason: str | None) -> ErrorReason:
    """The seed's ``errorReason`` for a received message's state and reason."""
    text = (reason or "").lower()
    if state == ReceiveState.INVALID:
        return ErrorReason.INVALID_SYNC_EVENT
    if state == ReceiveState.ISSUE_MISSING or "not linked" in text:
        return ErrorReason.NO_ISSUE_TO_CONNECT_TO
    if "blob" in text or "checksum" in text:
        return ErrorReason.BLOB_NOT_RECEIVED
    return ErrorReason.SYNC_FAILED


def checksum_mismatch_text(blob_id: str, expected: str, actual: str) -> str:
    """The seed's text for content that is not what its checksum says."""
    return f"Checksums for blob id '{blob_id}' do not match. Expected: {expected} Was: {actual}"
