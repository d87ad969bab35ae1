"""The node API's pure parts (seed 003): replicas, sync events, invitations, tokens, errors.

``tests/fixtures/issuehub/seed_payloads.json`` holds the two ``encodedPayload`` strings
of the seed, as they are: the sync request's (``AC-108``) and the sync response's
(``Exalated: BasicAttachmentWiredTest``). No network and no database here.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from issuesync.domain.message import (
    AttachmentChange,
    BlobMetadata,
    ChangeAction,
    CommentChange,
    Message,
    MessageKind,
    ReceiveState,
    ReplicaEnvelope,
    Trace,
    TraceType,
)
from issuesync.domain.relation import (
    INVITATION_PREFIX,
    MAX_INVITATION_CHARS,
    ErrorReason,
    Invitation,
    checksum_mismatch_text,
    error_reason,
    read_sync_event,
    sync_event,
)
from issuesync.domain.replica import (
    HUB_VERSION,
    HubComment,
    HubIssue,
    NamedRef,
    ProjectRef,
    Replica,
    UserRef,
    canonical_fields,
    ms_to_day,
)
from issuesync.engine.transports.nodes import tokens
from issuesync.errors import InvalidInputError, InvalidMessageError, NodeTokenError

PAYLOADS: dict[str, str] = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "issuehub" / "seed_payloads.json").read_text()
)
RELATION = "AllContent"


# -- the seed's replicas -------------------------------------------------------------------


def _names(items: list[Any]) -> list[str]:
    return [item.name for item in items]


def _extra(model: Any) -> dict[str, Any]:
    """The keys a hub model keeps without a field of its own."""
    extra = model.model_extra
    assert extra is not None
    return dict(extra)


def _check_sync_request_issue(replica: Replica) -> None:
    """The values of the seed's sync request payload (``AC-108``)."""
    assert replica.version == HUB_VERSION
    issue = replica.hub_issue
    assert replica.key == issue.key == "AC-108"
    assert issue.summary == "AllContentPairAndSyncWiredTest"
    assert issue.description == "AllContentPairAndSyncWiredTest description"
    assert issue.environment == "AllContentPairAndSyncWiredTest environment"

    project = issue.project
    assert project is not None
    assert (project.id, project.key, project.name) == (10300, "AC", "All content")
    assert project.lead is not None
    assert project.lead.username == "admin"
    assert project.versions is not None
    assert _names(list(project.versions)) == ["1.0", "1.1", "2.0"]
    first = project.versions[0]
    assert (first.released, first.release_date, first.start_date) == (
        True,
        1435881600000,
        1435708800000,
    )
    assert first.project_key == "AC"
    assert project.components is not None
    [component] = project.components
    assert (component.name, component.project_id, component.assignee_type) == (
        "Test Component",
        "10300",
        "PROJECT_DEFAULT",
    )
    assert _extra(project) == {}

    _check_fields(issue)
    _check_comment_and_worklog(issue)
    _check_watchers_votes_and_time(issue)
    _check_custom_fields(issue)


def _check_fields(issue: HubIssue) -> None:
    assert [label.model_dump() for label in issue.labels] == [{"label": "Review"}]
    assert _names(issue.components) == ["Test Component"]
    assert _names(issue.fix_versions) == ["1.1", "2.0"]
    assert _names(issue.affected_versions) == ["1.0", "1.1"]
    assert _extra(issue.fix_versions[0])["description"] == "The bug fix release"
    assert _extra(issue.affected_versions[0])["releaseDate"] == 1435881600000

    assert issue.assignee is not None
    assert issue.reporter is not None
    for person in (issue.assignee, issue.reporter):
        assert (person.username, person.display_name) == ("developer", "Brad Pitt")
        assert person.email == "developer@example.com"
    assert issue.status is not None
    assert (issue.status.id, issue.status.name) == ("10001", "To Do")
    assert issue.issue_type is not None
    assert issue.issue_type.name == "New Feature"
    assert issue.priority is not None
    assert issue.priority.name == "Critical"
    # The hubIssue's due date is epoch ms at midnight UTC, kept as it is.
    assert issue.due == 1451606400000
    assert ms_to_day(issue.due) == "2016-01-01"


def _check_comment_and_worklog(issue: HubIssue) -> None:
    [comment] = issue.comments
    assert comment.id == "10817"
    assert comment.body == "Houston, we have a problem."
    assert comment.author is not None
    assert comment.author.username == "issuehub"
    assert comment.internal is False
    assert comment.created == 1454678262522

    [worklog] = issue.work_logs
    assert worklog.id == "10101"
    assert worklog.time_spent == 36000
    assert worklog.comment == "I've been working for too long."
    assert worklog.start_date == 1454678257807
    assert worklog.author is not None
    assert worklog.author.username == "issuehub"
    assert issue.attachments == []


def _check_watchers_votes_and_time(issue: HubIssue) -> None:
    assert (issue.votes, issue.watches) == (1, 1)
    assert [v.username for v in issue.voters or []] == ["admin"]
    assert [w.username for w in issue.watchers or []] == ["issuehub", "admin"]
    assert (issue.estimate, issue.spent) == (0, 36000)
    assert _extra(issue) == {}  # every key of the seed's hubIssue has a field


def _check_custom_fields(issue: HubIssue) -> None:
    fields = issue.custom_fields
    assert len(fields) == 24  # 12 custom fields, each by name and by id
    for by_name, by_id in (("Location", "10000"), ("Age", "10001"), ("Gender", "10004")):
        assert fields[by_name] == fields[by_id]
    assert (fields["Location"].name, fields["Location"].value) == ("Location", "Brussels")
    age = fields["10001"]
    assert (age.id, age.name, age.type, age.value) == (10001, "Age", "NUMERIC", 22.0)
    assert fields["Gender"].value["value"] == "Male"
    assert [o["value"] for o in fields["Studies"].value] == ["University", "Secondary"]
    assert fields["Mood"].value is None
    assert _extra(fields["Customer Request Type"])["description"].startswith("Holds information")
    canonical = canonical_fields(issue)
    assert canonical["Location"] == "Brussels"
    assert canonical["duedate"] == "2016-01-01"
    assert canonical["fixVersions"] == ["1.1", "2.0"]


def _check_sync_response_issue(replica: Replica) -> None:
    """The values of the seed's sync response payload (an attachment)."""
    issue = replica.hub_issue
    assert issue.summary == "Exalated: BasicAttachmentWiredTest"
    [attachment] = issue.attachments
    assert attachment.id == "10002"
    assert attachment.filename == "Triangle_16x16.png"
    assert attachment.mimetype == "image/png"
    assert attachment.filesize == 888
    assert attachment.created == 1454678010832
    assert attachment.author is not None
    assert attachment.author.username == "issuehub"
    assert _extra(attachment) == {"thumbnailable": True, "zip": False}
    assert issue.comments == []
    assert issue.custom_fields["Location"].value is None


CHECKS: dict[str, Callable[[Replica], None]] = {
    "syncrequest": _check_sync_request_issue,
    "syncresponse": _check_sync_response_issue,
}


@pytest.mark.parametrize("example", sorted(CHECKS))
def test_the_seeds_encoded_payloads_decode_to_their_hub_issue(example: str) -> None:
    replica = Replica.decode(PAYLOADS[example])
    CHECKS[example](replica)


@pytest.mark.parametrize("example", sorted(CHECKS))
def test_the_seeds_payloads_keep_their_values_when_encoded_again(example: str) -> None:
    replica = Replica.decode(PAYLOADS[example])
    again = Replica.decode(replica.encode())
    assert again == replica
    CHECKS[example](again)
    # What no synced field holds (votes, watchers, an attachment's zip) travels on too.
    original = json.loads(base64.b64decode(PAYLOADS[example]))["hubIssue"]
    encoded = json.loads(base64.b64decode(again.encode()))["hubIssue"]
    for name in ("votes", "watches", "voters", "watchers", "estimate", "spent"):
        assert encoded.get(name) == original.get(name)


# -- sync events ---------------------------------------------------------------------------

CHECKSUM = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def _replica() -> Replica:
    return Replica(
        hub_issue=HubIssue(
            id="7",
            key="PA-7",
            summary="Seven",
            description="The seventh issue",
            project=ProjectRef(key="PA"),
            status=NamedRef(name="To Do"),
            comments=[HubComment(id="41", body="hello", author=UserRef(username="ann"))],
            updated=1_700_000_000_000,
        )
    )


def _create() -> Message:
    replica = _replica()
    return Message(
        integration_key="INT-1",
        from_connector="PA-1",
        to_connector="PB-2",
        source_issue_key="PA-7",
        sequence_id=3,
        ack_sequence_id=1,
        kind=MessageKind.CREATE,
        created=1_700_000_000_500,
        issue_updated=replica.updated,
        issue_type="Task",
        changes={"summary": "Seven", "labels": ["a", "b"], "duedate": None},
        comments=[CommentChange(action=ChangeAction.ADD, source_id="41", body="hello")],
        attachments=[
            AttachmentChange(
                action=ChangeAction.ADD,
                source_id="51",
                filename="a.txt",
                mimetype="text/plain",
                filesize=4,
                checksum=CHECKSUM,
            )
        ],
        replica=ReplicaEnvelope.of(replica),
        traces=[
            Trace(type=TraceType.COMMENT, local_id="41", action=ChangeAction.ADD),
            Trace(type=TraceType.ATTACHMENT, local_id="51", action=ChangeAction.ADD),
        ],
        blob_metadata_list=[BlobMetadata(blob_id="51", checksum=CHECKSUM, size=4)],
        markup="wiki",
    )


def _response() -> Message:
    return Message(
        integration_key="INT-1",
        from_connector="PB-2",
        to_connector="PA-1",
        source_issue_key="PB-3",
        remote_issue_key="PA-7",
        sequence_id=1,
        ack_sequence_id=3,
        kind=MessageKind.RESPONSE,
        traces=[Trace(type=TraceType.COMMENT, local_id="90", remote_id="41")],
    )


def _wire(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the partner reads it: through JSON text."""
    read: dict[str, Any] = json.loads(json.dumps(document))
    return read


def _payload(event: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(event["replica"]["encodedPayload"]))


def test_a_create_message_is_the_seeds_sync_request_and_reads_back_whole() -> None:
    message = _create()
    event = _wire(sync_event(4, RELATION, message))
    assert set(event) == {
        "syncEventId",
        "syncEventNumber",
        "relationKey",
        "replica",
        "traces",
        "blobMetadataList",
        "message",
    }
    assert (event["syncEventId"], event["syncEventNumber"]) == (4, 3)
    assert event["relationKey"] == RELATION
    assert event["replica"]["issueKey"] == {"id": "7", "urn": "PA-7"}
    assert event["replica"]["summary"] == "Seven"
    assert Replica.decode(event["replica"]["encodedPayload"]) == _replica()
    assert event["traces"] == [
        {"type": "COMMENT", "localId": "41", "action": "ADD", "toSynchronize": True},
        {"type": "ATTACHMENT", "localId": "51", "action": "ADD", "toSynchronize": True},
    ]
    assert event["blobMetadataList"] == [{"blobId": "51", "checksum": CHECKSUM, "size": 4}]
    # The seed's fields are not carried twice.
    assert not set(event["message"]) & {"replica", "traces", "blobMetadataList"}

    received = read_sync_event(event, RELATION)
    assert received.event_id == 4
    assert received.message == message
    assert received.message.full_replica() == _replica()


def test_a_response_shows_the_source_issue_key_and_a_key_only_replica() -> None:
    message = _response()
    event = _wire(sync_event(16, RELATION, message))
    assert set(event) == {
        "syncEventId",
        "relationKey",
        "sourceIssueKey",
        "replica",
        "traces",
        "message",
    }
    assert event["sourceIssueKey"] == {"urn": "PA-7"}
    assert event["replica"]["issueKey"] == {"urn": "PB-3"}
    assert event["replica"]["summary"] == ""
    assert _payload(event) == {"version": HUB_VERSION, "hubIssue": {"key": "PB-3"}}
    assert event["traces"] == [
        {
            "type": "COMMENT",
            "localId": "90",
            "remoteId": "41",
            "action": "NONE",
            "toSynchronize": True,
        }
    ]
    assert event["message"]["replica"] is None

    received = read_sync_event(event, RELATION)
    assert received.event_id == 16
    assert received.message.replica is None
    assert received.message == message


def test_a_message_without_a_replica_reads_back_without_one() -> None:
    message = _create().model_copy(update={"replica": None})
    event = _wire(sync_event(5, RELATION, message))
    assert _payload(event)["hubIssue"] == {"key": "PA-7"}
    received = read_sync_event(event, RELATION)
    assert received.message.replica is None
    assert received.message == message


_MISSING = object()  # a value that removes its key


def _set(path: tuple[str, ...], value: object) -> Callable[[dict[str, Any]], object]:
    """A change of a sync event: ``value`` at ``path`` (a missing value removes the key)."""

    def change(event: dict[str, Any]) -> object:
        *parents, last = path
        target = event
        for name in parents:
            target = target[name]
        if value is _MISSING:
            del target[last]
        else:
            target[last] = value
        return event

    return change


REFUSED_EVENTS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("a list", lambda _event: [], "JSON object"),
    ("a text", lambda _event: "syncEventId", "JSON object"),
    ("null", lambda _event: None, "JSON object"),
    ("no syncEventId", _set(("syncEventId",), _MISSING), "syncEventId"),
    ("a negative syncEventId", _set(("syncEventId",), -1), "syncEventId"),
    ("a bool syncEventId", _set(("syncEventId",), value=True), "syncEventId"),
    ("a text syncEventId", _set(("syncEventId",), "4"), "syncEventId"),
    ("a fraction syncEventId", _set(("syncEventId",), 4.5), "syncEventId"),
    ("another relation", _set(("relationKey",), "Other"), "relationKey: must be 'AllContent'"),
    ("no relationKey", _set(("relationKey",), _MISSING), "relationKey"),
    ("no message", _set(("message",), _MISSING), "message"),
    ("a text message", _set(("message",), "hello"), "message"),
    ("an unknown kind", _set(("message", "kind"), "explode"), "kind"),
    ("no sequenceId", _set(("message", "sequenceId"), _MISSING), "sequenceId"),
    ("a negative sequenceId", _set(("message", "sequenceId"), -1), "sequenceId"),
    ("an unknown key", _set(("message", "surprise"), 1), "surprise"),
    ("another format", _set(("message", "format"), "other/9"), "format"),
    ("a damaged trace", _set(("traces",), [{"type": "BOGUS", "localId": "1"}]), "traces"),
    ("a damaged replica", _set(("replica", "encodedPayload"), 5), "replica"),
    ("a damaged blob", _set(("blobMetadataList",), [{"blobId": "1"}]), "blobMetadataList"),
]


@pytest.mark.parametrize(
    ("change", "match"),
    [pytest.param(change, match, id=name) for name, change, match in REFUSED_EVENTS],
)
def test_read_sync_event_refuses_what_is_not_a_sync_event_of_the_relation(
    change: Callable[[dict[str, Any]], object], match: str
) -> None:
    document = change(_wire(sync_event(4, RELATION, _create())))
    with pytest.raises(InvalidMessageError, match=match):
        read_sync_event(document, RELATION)


# -- invitations ---------------------------------------------------------------------------

INVITATION = Invitation("https://node-a.example:8443", RELATION, "one-time-token", 1_700_000_000)


def _code(document: object) -> str:
    raw = json.dumps(document).encode()
    return INVITATION_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _body(code: str) -> Any:
    body = code.removeprefix(INVITATION_PREFIX)
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_an_invitation_reads_back_and_names_no_secret() -> None:
    code = INVITATION.encode()
    assert code.startswith(INVITATION_PREFIX)
    assert Invitation.decode(code) == INVITATION
    assert Invitation.decode(f"  {code}\n") == INVITATION  # pasted with blanks around
    assert set(_body(code)) == {"url", "relation", "token", "expires"}
    assert "secret" not in code.lower()
    assert "secret" not in json.dumps(_body(code)).lower()


GOOD = {"url": "https://a.example", "relation": RELATION, "token": "t", "expires": 1}

REFUSED_CODES: list[tuple[str, str]] = [
    ("another prefix", "issuesync-invitation-2." + INVITATION.encode().split(".", 1)[1]),
    ("no prefix", INVITATION.encode().removeprefix(INVITATION_PREFIX)),
    ("empty", ""),
    ("garbage base64", INVITATION_PREFIX + "!!!not*base64~~"),
    ("base64 of no JSON", INVITATION_PREFIX + base64.urlsafe_b64encode(b"hello").decode()),
    ("a JSON list", _code([GOOD])),
    ("no url", _code({k: v for k, v in GOOD.items() if k != "url"})),
    ("no relation", _code({k: v for k, v in GOOD.items() if k != "relation"})),
    ("no token", _code({k: v for k, v in GOOD.items() if k != "token"})),
    ("no expiry", _code({k: v for k, v in GOOD.items() if k != "expires"})),
    ("an expiry that is no number", _code(GOOD | {"expires": "soon"})),
    ("an empty token", _code(GOOD | {"token": ""})),
    ("a relation with a blank", _code(GOOD | {"relation": "All Content"})),
    ("a relation with a slash", _code(GOOD | {"relation": "All/Content"})),
    ("a relation starting with a dot", _code(GOOD | {"relation": ".hidden"})),
    ("a relation of 65 characters", _code(GOOD | {"relation": "r" * 65})),
    ("a relation ending in a newline", _code(GOOD | {"relation": "AllContent\n"})),
    ("an ftp url", _code(GOOD | {"url": "ftp://a.example"})),
    ("a javascript url", _code(GOOD | {"url": "javascript:alert(1)"})),
    ("over 4096 characters", _code(GOOD | {"token": "t" * MAX_INVITATION_CHARS})),
]


@pytest.mark.parametrize("code", [pytest.param(code, id=name) for name, code in REFUSED_CODES])
def test_a_damaged_or_foreign_invitation_code_is_refused_on_the_code_field(code: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        Invitation.decode(code)
    assert set(refused.value.field_errors) == {"code"}
    assert INVITATION_PREFIX in refused.value.field_errors["code"]


relation_names = st.text(
    alphabet=st.characters(codec="ascii", categories=["Lu", "Ll", "Nd"]), min_size=1, max_size=1
).flatmap(
    lambda first: st.text(alphabet=st.sampled_from("abcXYZ019_.-"), max_size=63).map(
        lambda rest: first + rest
    )
)
urls = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}:{port}{path}",
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){0,2}", fullmatch=True),
    st.integers(1, 65535),
    st.sampled_from(["", "/", "/jira", "/issuesync/node"]),
)


@settings(max_examples=50, deadline=None)
@given(
    url=urls,
    relation=relation_names,
    token=st.text(min_size=1, max_size=200),
    expires=st.integers(0, 2**53),
)
def test_any_invitation_reads_back_as_it_was(
    url: str, relation: str, token: str, expires: int
) -> None:
    invitation = Invitation(url, relation, token, expires)
    code = invitation.encode()
    assert code.startswith(INVITATION_PREFIX)
    assert len(code) <= MAX_INVITATION_CHARS
    assert Invitation.decode(code) == invitation


# -- request tokens ------------------------------------------------------------------------

# 64 bytes: long enough for HS512 too, so PyJWT's InsecureKeyLengthWarning never fires.
SECRET = "relation-secret-" + "0123456789abcdef" * 3
ISSUER = "node-0123456789abcdef"


def _now() -> int:
    return int(time.time())


def _signed(secret: str = SECRET, **claims: object) -> str:
    now = _now()
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": RELATION,
        "iat": now,
        "exp": now + 60,
        "jti": f"j{time.time_ns()}",
    }
    document = {name: value for name, value in (base | claims).items() if value is not _MISSING}
    return jwt.encode(document, secret.encode(), algorithm="HS256")


def _check(token: str) -> tokens.Claims:
    return tokens.check(token, SECRET, issuer=ISSUER, audience=RELATION)


def test_an_issued_token_is_checked_and_its_claims_read() -> None:
    now = _now()
    token = tokens.issue(SECRET, issuer=ISSUER, audience=RELATION, now_s=now)
    assert tokens.bearer(f"Bearer {token}") == token
    assert tokens.bearer(f"bearer  {token} ") == token
    claims = _check(token)
    assert claims.expires_s == now + tokens.LIFETIME_S
    assert 1 <= len(claims.jti) <= 64
    # Every token has its own jti: the replay cache tells them apart.
    other = tokens.issue(SECRET, issuer=ISSUER, audience=RELATION, now_s=now)
    assert _check(other).jti != claims.jti


@pytest.mark.parametrize(
    "seconds",
    [pytest.param(50, id="50 s ahead"), pytest.param(-tokens.LIFETIME_S - 30, id="30 s late")],
)
def test_a_token_within_the_clock_skew_is_accepted(seconds: int) -> None:
    token = tokens.issue(SECRET, issuer=ISSUER, audience=RELATION, now_s=_now() + seconds)
    assert _check(token).jti


OTHER_SECRET = "another-secret-" + "fedcba9876543210" * 3


def _issued(
    *, secret: str = SECRET, issuer: str = ISSUER, audience: str = RELATION, ahead: int = 0
) -> Callable[[], str]:
    """A builder of a token from :func:`tokens.issue`, ``ahead`` seconds from the test's now."""

    def build() -> str:
        return tokens.issue(secret, issuer=issuer, audience=audience, now_s=_now() + ahead)

    return build


def _hs512() -> str:
    now = _now()
    claims = {"iss": ISSUER, "aud": RELATION, "iat": now, "exp": now + 60, "jti": "j"}
    return jwt.encode(claims, SECRET.encode(), algorithm="HS512")


# Each token is made when its test runs: made at collection, it could expire before.
WRONG_TOKENS: list[tuple[str, Callable[[], str], str]] = [
    ("another secret", _issued(secret=OTHER_SECRET), "signature"),
    ("another audience", _issued(audience="Other"), "another relation"),
    ("another issuer", _issued(issuer="node-someone-else"), "another node"),
    ("expired beyond the leeway", _issued(ahead=-tokens.LIFETIME_S - 61), "expired"),
    ("issued beyond the skew", _issued(ahead=70), "not valid"),
    ("lives over 300 s", lambda: _signed(exp=_now() + 301), "longer than 300"),
    ("no jti", lambda: _signed(jti=_MISSING), "jti"),
    ("an empty jti", lambda: _signed(jti=""), "jti"),
    ("a jti of 65 characters", lambda: _signed(jti="j" * 65), "jti"),
    ("a number jti", lambda: _signed(jti=7), "JWT ID|jti"),
    ("no iat", lambda: _signed(iat=_MISSING), "iat"),
    ("no exp", lambda: _signed(exp=_MISSING), "exp"),
    ("no aud", lambda: _signed(aud=_MISSING), "aud"),
    ("another algorithm", _hs512, "not valid"),
]


@pytest.mark.parametrize(
    ("make", "match"), [pytest.param(make, match, id=name) for name, make, match in WRONG_TOKENS]
)
def test_check_refuses_a_wrong_token_as_wrong_not_unreadable(
    make: Callable[[], str], match: str
) -> None:
    with pytest.raises(NodeTokenError, match=match) as refused:
        _check(make())
    assert refused.value.unreadable is False


def test_an_unsigned_token_is_refused() -> None:
    now = _now()
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": RELATION, "iat": now, "exp": now + 60, "jti": "j"},
        "",  # no key: alg "none"
        algorithm="none",
    )
    assert tokens.bearer(f"Bearer {unsigned}") == unsigned  # a JWT: checked, then refused
    with pytest.raises(NodeTokenError) as refused:
        _check(unsigned)
    assert refused.value.unreadable is False


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic x",
        "Basic dXNlcjpwdw==",
        "Bearer",
        "Bearer ",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Token a.b.c",
        "Bearer " + "x" * (tokens.MAX_TOKEN_CHARS + 1),
    ],
)
def test_bearer_refuses_a_header_without_a_jwt_as_unreadable(header: str | None) -> None:
    with pytest.raises(NodeTokenError) as refused:
        tokens.bearer(header)
    assert refused.value.unreadable is True


# -- error reasons -------------------------------------------------------------------------

SEED_CHECKSUM_TEXT = (
    "Checksums for blob id '10000' do not match. "
    "Expected: 17a7c1aaf84aa7c551dd1e349f30c2c8 Was: 90630d8f774de272400bdc9422b26d91"
)


def test_the_checksum_mismatch_text_is_the_seeds_word_for_word() -> None:
    text = checksum_mismatch_text(
        "10000", "17a7c1aaf84aa7c551dd1e349f30c2c8", "90630d8f774de272400bdc9422b26d91"
    )
    assert text == SEED_CHECKSUM_TEXT


@pytest.mark.parametrize(
    ("state", "reason", "expected"),
    [
        (ReceiveState.INVALID, None, ErrorReason.INVALID_SYNC_EVENT),
        ("invalid", "checksum: not hex", ErrorReason.INVALID_SYNC_EVENT),
        (ReceiveState.ISSUE_MISSING, None, ErrorReason.NO_ISSUE_TO_CONNECT_TO),
        (
            ReceiveState.ERROR,
            "The issue PA-7 is not linked here",
            ErrorReason.NO_ISSUE_TO_CONNECT_TO,
        ),
        (ReceiveState.ERROR, "Not Linked: PA-7", ErrorReason.NO_ISSUE_TO_CONNECT_TO),
        (ReceiveState.ERROR, SEED_CHECKSUM_TEXT, ErrorReason.BLOB_NOT_RECEIVED),
        (ReceiveState.ERROR, "Blob 10008 never arrived", ErrorReason.BLOB_NOT_RECEIVED),
        (ReceiveState.ERROR, "Jira answered 400: summary is required", ErrorReason.SYNC_FAILED),
        (ReceiveState.ERROR, None, ErrorReason.SYNC_FAILED),
        (ReceiveState.SEQUENCE_ERROR, "", ErrorReason.SYNC_FAILED),
    ],
)
def test_error_reason_names_why_a_sync_request_failed(
    state: str, reason: str | None, expected: ErrorReason
) -> None:
    assert error_reason(state, reason) is expected
    assert str(expected) == expected.name  # the seed's spelling on the wire
