"""A message stores a long text once: the replica leaves out what the message carries."""

from __future__ import annotations

import json

import pytest

from issuesync.domain.message import (
    SHARED_MIN_CHARS,
    ChangeAction,
    CommentChange,
    Message,
    MessageKind,
    ReplicaEnvelope,
)
from issuesync.domain.replica import (
    CustomFieldValue,
    FieldValue,
    HubComment,
    HubIssue,
    ProjectRef,
    Replica,
)
from issuesync.errors import InvalidMessageError

LONG = "a long text " * 3_000
NOTES = "notes that go on " * 100


def _replica() -> Replica:
    return Replica(
        hub_issue=HubIssue(
            id="7",
            key="PA-7",
            summary="Large",
            description=LONG,
            project=ProjectRef(key="PA"),
            custom_fields={"Notes/Remarks": CustomFieldValue(name="Notes/Remarks", value=NOTES)},
            comments=[
                HubComment(id="41", body="short"),
                HubComment(id="42", body=LONG + "!"),
            ],
        )
    )


def _message(replica: Replica, changes: dict[str, FieldValue]) -> Message:
    comments = [CommentChange(action=ChangeAction.ADD, source_id="42", body=LONG + "!")]
    return Message(
        integration_key="INT-1",
        from_connector="PA-1",
        to_connector="PB-2",
        source_issue_key="PA-7",
        sequence_id=1,
        kind=MessageKind.CREATE,
        changes=changes,
        comments=comments,
        replica=ReplicaEnvelope.of(replica, changes, comments),
    )


def test_long_texts_the_message_carries_are_stored_once_and_read_back_whole() -> None:
    replica = _replica()
    message = _message(replica, {"description": LONG, "customfield_1": NOTES, "summary": "Large"})
    assert message.replica is not None
    assert message.replica.shared_values == {
        "description": "changes:description",
        "customField:Notes/Remarks": "changes:customfield_1",
        "comment:42": "comments:42",
    }
    wire = message.dumps()
    # Each long text once (the comment is LONG too); without sharing, twice more in base64.
    assert len(wire) < len(LONG) * 2 + len(NOTES) * 2
    read = Message.loads(wire)
    assert read.full_replica() == replica


def test_short_or_different_texts_stay_in_the_replica() -> None:
    replica = _replica()
    assert len("Large") < SHARED_MIN_CHARS
    message = _message(replica, {"summary": "Large", "description": LONG.upper()})
    assert message.replica is not None
    assert message.replica.shared_values == {"comment:42": "comments:42"}
    assert message.replica.decode().hub_issue.description == LONG
    plain = ReplicaEnvelope.of(replica)
    assert plain.shared_values is None
    assert plain.decode() == replica


def test_a_reference_to_nothing_makes_the_message_invalid() -> None:
    message = _message(_replica(), {"description": LONG})
    wire = json.loads(message.dumps())
    wire["replica"]["sharedValues"]["description"] = "changes:environment"
    with pytest.raises(InvalidMessageError, match="sharedValues"):
        Message.loads(json.dumps(wire))
    wire["replica"]["sharedValues"] = {"status": "changes:description"}
    with pytest.raises(InvalidMessageError, match="sharedValues"):
        Message.loads(json.dumps(wire))
