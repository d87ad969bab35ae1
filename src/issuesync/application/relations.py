"""Relations: pairing two issuesync nodes, revoking, monitoring (``docs/issuehub.md``).

Node A *invites*: it stores a relation in state ``invited`` with the sha256 of a
one-time token, and hands out an invitation code (A's URL, the relation's name, the
token, an expiry: never a secret). Node B *accepts*: it posts the token, its node
name, URL, project and an X25519 public key to A's ``POST /rest/issuehub/2.4/pairings``;
A answers with its own node name, project and public key. Both derive the relation's
secret from the X25519 exchange (HKDF-SHA256 bound to the relation and both node
names), so the secret itself never travels, and each creates its half of a
distributed integration whose queues are ``http`` (its own project first). The
secret is stored encrypted (``SecretBox``) and signs every request's token.

A retry of the acceptance (B crashed before it stored its side) is accepted from the
same node until the invitation expires and as long as B has not yet made an
authenticated request: A derives the secret again from B's new key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete as sa_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuesync.application.integrations import (
    create_integration,
    delete_integration,
    project_checker,
    set_running,
)
from issuesync.domain.configuration import Configuration, SyncSettings, duration_ms
from issuesync.domain.connection import Queue, QueueSettings
from issuesync.domain.integration import ConnectorDraft, IntegrationDraft
from issuesync.domain.message import ReceiveState, SendState
from issuesync.domain.relation import (
    API_PREFIX,
    Invitation,
    RelationRole,
    RelationState,
    check_relation_name,
    not_found_text,
)
from issuesync.domain.urls import checked_url
from issuesync.engine.transports import queues
from issuesync.engine.transports.nodes.client import NodeClient, Partner, client_for
from issuesync.engine.transports.nodes.serving import QueueCounts, queue_counts
from issuesync.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    IssueSyncError,
    NotFoundError,
    PermissionDeniedError,
)
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.relations import BlobFailureRow, OutboundBlobRow, RelationRow
from issuesync.store.sync import IntegrationRow, MessageRow

INVITATION_LIFETIME_MS: Final = 24 * 3_600_000
MAX_INVITATION_HOURS: Final = 24 * 30
PAIRING_TIMEOUT_S: Final = 20.0
_KEY_BYTES: Final = 32


def _node_name() -> str:
    return f"node-{secrets.token_hex(8)}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def derive_secret(
    private: X25519PrivateKey, partner_public: str, relation: str, inviter: str, acceptor: str
) -> str:
    """The relation's secret both nodes derive: X25519, then HKDF bound to who and what."""
    try:
        public = X25519PublicKey.from_public_bytes(_unb64(partner_public))
    except ValueError as exc:
        raise InvalidInputError(
            "The partner's public key is not an X25519 key.",
            field_errors={"publicKey": "32 bytes, base64url"},
        ) from exc
    shared = private.exchange(public)
    info = f"issuesync relation {relation} {inviter} {acceptor}".encode()
    key = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(shared)
    return _b64(key)


def _public(private: X25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return _b64(raw)


def _check_url(url: str, field: str) -> str:
    """A node's URL: plain ``http(s)://host[:port][/path]``, never with credentials."""
    try:
        checked = checked_url(url.strip(), credentials="nothing: a relation signs its requests")
    except ValueError as exc:
        raise InvalidInputError(
            "The node's URL is not valid.",
            field_errors={field: f"where the other node reaches this one: {exc}"},
        ) from exc
    if len(checked) > 1000:  # noqa: PLR2004 - the column
        raise InvalidInputError(
            "The node's URL is too long.", field_errors={field: "at most 1000 characters"}
        )
    return checked.rstrip("/")


def _check_interval(interval: str) -> str:
    try:
        SyncSettings(outgoing_interval=interval, incoming_interval=interval)
    except ValueError as exc:
        raise InvalidInputError(
            "The interval is not valid.", field_errors={"interval": "a duration such as 1s or 5m"}
        ) from exc
    duration_ms(interval)
    return interval


def _refuse_taken(session: Session, name: str) -> None:
    if session.scalar(select(RelationRow.id).where(RelationRow.name == name)) is not None:
        raise ConflictError(f"A relation named {name} exists already on this node.")


def _require_project(services: Services, project_key: str) -> None:
    if not project_checker(services)("local", project_key):
        raise InvalidInputError(
            f"There is no project with key '{project_key}'.",
            field_errors={"projectKey": f"there is no project with key '{project_key}'"},
        )


# -- inviting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invited:
    """A new relation and its invitation code (shown once: only its hash is kept)."""

    relation: RelationView
    code: str


def invite(
    services: Services,
    *,
    name: str,
    project_key: str,
    actor: str,
    url: str | None = None,
    interval: str = "5s",
    hours: int = 24,
) -> Invited:
    """Create a relation for ``project_key`` and the code that invites the partner node."""
    check_relation_name(name)
    own_url = _check_url(url or services.settings.resolved_base_url, "url")
    _check_interval(interval)
    if not 1 <= hours <= MAX_INVITATION_HOURS:
        raise InvalidInputError(
            "The invitation's lifetime is not valid.",
            field_errors={"hours": f"1 to {MAX_INVITATION_HOURS} hours"},
        )
    _require_project(services, project_key)
    token = secrets.token_urlsafe(32)
    now = now_ms()
    expires = now + hours * 3_600_000
    with services.uow_factory() as uow:
        _refuse_taken(uow.session, name)
        row = RelationRow(
            name=name,
            role=RelationRole.INVITER.value,
            state=RelationState.INVITED.value,
            reason="",
            project_key=project_key,
            node=_node_name(),
            url=own_url,
            interval=interval,
            token_hash=_token_hash(token),
            token_expires_ms=expires,
            created_user=actor,
            created_ms=now,
            modified_ms=now,
        )
        uow.session.add(row)
        uow.commit()
        view = _view(uow.session, row)
    return Invited(view, Invitation(own_url, name, token, expires).encode())


def reinvite(services: Services, name: str, *, hours: int = 24) -> str:
    """A new invitation code for a relation not yet paired (the old one stops working)."""
    token = secrets.token_urlsafe(32)
    expires = now_ms() + max(1, min(hours, MAX_INVITATION_HOURS)) * 3_600_000
    with services.uow_factory() as uow:
        row = _relation(uow.session, name)
        if row.state != RelationState.INVITED:
            raise ConflictError(f"The relation {name} is {row.state}: it takes no invitation.")
        row.token_hash, row.token_expires_ms = _token_hash(token), expires
        row.modified_ms = now_ms()
        uow.commit()
        return Invitation(row.url, name, token, expires).encode()


# -- pairing (node A's side of an acceptance) ------------------------------------------------


class PairingRequest:
    """What node B posts to ``pairings``, checked."""

    def __init__(self, body: object) -> None:
        if not isinstance(body, dict):
            raise InvalidInputError("The pairing request must be a JSON object.")
        fields: dict[str, str] = {}
        values: dict[str, str] = {}
        for key in ("relation", "token", "node", "url", "projectKey", "publicKey"):
            value = body.get(key)
            if not isinstance(value, str) or not value or len(value) > 1000:  # noqa: PLR2004
                fields[key] = "required: a text of 1 to 1000 characters"
            else:
                values[key] = value
        if fields:
            raise InvalidInputError("The pairing request is not valid.", field_errors=fields)
        self.relation = values["relation"]
        self.token = values["token"]
        self.node = values["node"]
        self.url = _check_url(values["url"], "url")
        self.project_key = values["projectKey"]
        self.public_key = values["publicKey"]
        if len(self.node) > 64:  # noqa: PLR2004 - the column
            raise InvalidInputError("The node name is too long.", field_errors={"node": "1 to 64"})


_REFUSED: Final = "The invitation is not valid (wrong, used or expired): ask for a new one."


def pair(services: Services, body: object) -> dict[str, Any]:
    """Accept node B's pairing request with a valid invitation token; A's answer."""
    request = PairingRequest(body)
    private = X25519PrivateKey.generate()
    now = now_ms()
    with services.uow_factory() as uow:
        session = uow.session
        row = session.scalar(select(RelationRow).where(RelationRow.name == request.relation))
        if row is None or row.token_hash is None:
            raise PermissionDeniedError(_REFUSED)
        retry = (
            row.state == RelationState.ACTIVE
            and row.partner_node == request.node
            and row.last_contact_ms is None
        )
        fresh = row.state == RelationState.INVITED
        good = hmac.compare_digest(row.token_hash, _token_hash(request.token))
        if not good or not (fresh or retry) or (row.token_expires_ms or 0) < now:
            raise PermissionDeniedError(_REFUSED)
        secret = derive_secret(private, request.public_key, row.name, row.node, request.node)
        row.partner_node, row.partner_url = request.node, request.url
        row.partner_project_key = request.project_key
        row.secret = services.secrets.encrypt(secret)
        if fresh:
            _connect(services, session, row, actor=row.created_user)
        row.state = RelationState.ACTIVE.value
        row.modified_ms = now
        uow.commit()
        return {
            "relation": row.name,
            "node": row.node,
            "projectKey": row.project_key,
            "publicKey": _public(private),
            "interval": row.interval,
        }


def _connect(services: Services, session: Session, row: RelationRow, *, actor: str) -> None:
    """Create and start this node's half of the relation's distributed integration."""
    assert row.partner_project_key is not None
    queue = Queue(type="http", name=row.name)
    configuration = Configuration(
        sync=SyncSettings(outgoing_interval=row.interval, incoming_interval=row.interval)
    )
    draft = IntegrationDraft(
        summary=f"{row.name}: {row.project_key} <> {row.partner_project_key} (relation)",
        first=ConnectorDraft(
            project_key=row.project_key,
            queues=QueueSettings(send_queue=queue, receive_queue=queue),
            configuration=configuration,
        ),
        second=ConnectorDraft(project_key=row.partner_project_key),
        distributed=True,
    )
    view = create_integration(
        session,
        draft,
        actor=actor,
        secrets=services.secrets,
        project_exists=project_checker(services),
        places=services.queue_places,
        relation=True,
    )
    row.integration_id, row.connector_id = view.id, view.first.id
    set_running(session, view.key, running=True, actor=actor)


# -- accepting (node B) ---------------------------------------------------------------------


def accept(
    services: Services,
    *,
    code: str,
    project_key: str,
    actor: str,
    url: str | None = None,
    ca_bundle: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> RelationView:
    """Pair with the node that invited us: agree on the secret, create our half, start it."""
    invitation = Invitation.decode(code)
    own_url = _check_url(url or services.settings.resolved_base_url, "url")
    if invitation.expires_ms < now_ms():
        raise InvalidInputError(
            "The invitation has expired.", field_errors={"code": "ask for a new invitation"}
        )
    _require_project(services, project_key)
    with services.uow_factory(readonly=True) as uow:
        _refuse_taken(uow.session, invitation.relation)
    # The same name for every try with this invitation: a node that crashed after the
    # inviter paired it (before it stored its side) accepts again and is recognised.
    digest = hashlib.sha256(services.secrets.signature("relation-node", invitation.token).encode())
    node = f"node-{digest.hexdigest()[:16]}"
    private = X25519PrivateKey.generate()
    body = {
        "relation": invitation.relation,
        "token": invitation.token,
        "node": node,
        "url": own_url,
        "projectKey": project_key,
        "publicKey": _public(private),
    }
    answer = _post_pairing(invitation.url, body, ca_bundle, transport)
    partner_node = _answered(answer, "node")
    secret = derive_secret(
        private, _answered(answer, "publicKey"), invitation.relation, partner_node, node
    )
    now = now_ms()
    with services.uow_factory() as uow:
        _refuse_taken(uow.session, invitation.relation)
        row = RelationRow(
            name=invitation.relation,
            role=RelationRole.ACCEPTOR.value,
            state=RelationState.ACTIVE.value,
            reason="",
            project_key=project_key,
            node=node,
            url=own_url,
            partner_node=partner_node,
            partner_url=invitation.url,
            partner_project_key=_answered(answer, "projectKey"),
            ca_bundle=ca_bundle,
            secret=services.secrets.encrypt(secret),
            interval=str(answer.get("interval") or "5s"),
            created_user=actor,
            created_ms=now,
            modified_ms=now,
        )
        uow.session.add(row)
        uow.session.flush()
        _connect(services, uow.session, row, actor=actor)
        uow.commit()
        return _view(uow.session, row)


def _post_pairing(
    url: str, body: dict[str, str], ca_bundle: str | None, transport: httpx.BaseTransport | None
) -> dict[str, Any]:
    try:
        client = (
            httpx.Client(base_url=url, transport=transport, timeout=PAIRING_TIMEOUT_S)
            if transport is not None
            else client_for(url, ca_bundle, PAIRING_TIMEOUT_S)
        )
    except ConfigurationError as exc:
        raise InvalidInputError(
            exc.message, field_errors={"caBundle": "a readable PEM file"}
        ) from exc
    where = f"{url}{API_PREFIX}/pairings"
    try:
        with client:
            response = client.post(f"{API_PREFIX}/pairings", json=body)
    except httpx.TransportError as exc:
        raise InvalidInputError(
            f"The inviting node at {url} cannot be reached: {exc}",
            field_errors={"code": f"check that {where} is reachable from this node"},
        ) from exc
    if response.status_code != httpx.codes.OK:
        text = response.text[:300]
        raise InvalidInputError(
            f"The inviting node refused the invitation ({response.status_code}): {text}",
            field_errors={"code": "ask the other node's administrator for a new invitation"},
        )
    try:
        answer = response.json()
    except ValueError as exc:
        raise InvalidInputError(f"The inviting node's answer is not JSON: {where}") from exc
    if not isinstance(answer, dict):
        raise InvalidInputError(f"The inviting node's answer is not an object: {where}")
    return answer


def _answered(answer: dict[str, Any], key: str) -> str:
    value = answer.get(key)
    if not isinstance(value, str) or not value or len(value) > 1000:  # noqa: PLR2004
        raise InvalidInputError(f"The inviting node's answer has no valid '{key}'.")
    return value


# -- revoking --------------------------------------------------------------------------------


def revoke(services: Services, name: str, *, actor: str) -> RelationView:
    """End the relation here: its integration stops and the partner's requests get the
    seed's 400. The partner is told (best effort); if it is down it learns at its next pull."""
    with services.uow_factory() as uow:
        row = _relation(uow.session, name)
        partner = _partner(services, row)
        row.state = RelationState.REVOKED.value
        row.reason = f"revoked by {actor}"
        row.modified_ms = now_ms()
        row.token_hash = None
        _stop(uow.session, row, actor)
        uow.commit()
    if partner is not None:
        client = NodeClient(partner)
        try:
            client.post("revocation", {"reason": f"revoked by the partner node ({actor})"})
        except IssueSyncError:
            pass  # it learns at its next pull: the seed's 400
        finally:
            client.close()
    with services.uow_factory(readonly=True) as uow:
        return _view(uow.session, _relation(uow.session, name))


def partner_revoked(relation: RelationRow, now: int) -> None:
    """The partner ended the relation (``POST revocation``, in the request's transaction):
    it is broken here, with the seed's reason."""
    if relation.state == RelationState.ACTIVE:
        relation.state = RelationState.BROKEN.value
        relation.reason = not_found_text(relation.name)
        relation.modified_ms = now


def delete(services: Services, name: str, *, actor: str) -> None:
    """Forget a relation that is revoked or broken, with its integration and its messages."""
    with services.uow_factory() as uow:
        row = _relation(uow.session, name)
        if row.state == RelationState.ACTIVE:
            raise ConflictError(f"The relation {name} is active: revoke it first.")
        if row.integration_id is not None:
            key = uow.session.scalar(
                select(IntegrationRow.key).where(IntegrationRow.id == row.integration_id)
            )
            if key is not None:
                delete_integration(uow.session, key)
        if row.connector_id is not None:
            uow.session.execute(
                sa_delete(OutboundBlobRow).where(OutboundBlobRow.connector_id == row.connector_id)
            )
        uow.session.delete(row)
        uow.commit()
    del actor


def _stop(session: Session, row: RelationRow, actor: str) -> None:
    if row.integration_id is None:
        return
    key = session.scalar(select(IntegrationRow.key).where(IntegrationRow.id == row.integration_id))
    if key is not None:
        set_running(session, key, running=False, actor=actor)


def _partner(services: Services, row: RelationRow) -> Partner | None:
    if not (row.secret and row.partner_url and row.partner_node):
        return None
    return Partner(
        relation=row.name,
        node=row.node,
        partner_node=row.partner_node,
        url=row.partner_url,
        secret=services.secrets.decrypt(row.secret),
        ca_bundle=row.ca_bundle,
    )


def nudged(relation: RelationRow, now: int) -> None:
    """The partner has something for us (``POST nudges``, in the request's transaction):
    the engine that runs the relation pulls at once (``engine/runtime/runner.py``)."""
    relation.nudged_ms = now


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelationView:
    """A relation as admins see it: never its secret or its invitation token."""

    name: str
    role: str
    state: str
    reason: str
    project_key: str
    integration_key: str | None
    connector_id: int | None
    node: str
    url: str
    partner_node: str | None
    partner_url: str | None
    partner_project_key: str | None
    online: bool
    last_contact_ms: int | None
    last_failure: str
    partner_errors: int
    partner_error: str
    invitation_expires_ms: int | None
    counts: QueueCounts

    def to_json(self) -> dict[str, Any]:
        """The admin routes' and the CLI's JSON."""
        return {
            "name": self.name,
            "relationKey": self.name,
            "role": self.role,
            "state": self.state,
            "reason": self.reason,
            "projectKey": self.project_key,
            "integrationKey": self.integration_key,
            "node": self.node,
            "url": self.url,
            "partner": {
                "node": self.partner_node,
                "url": self.partner_url,
                "projectKey": self.partner_project_key,
                "online": self.online,
                "lastContact": self.last_contact_ms,
                "lastFailure": self.last_failure,
                "errors": self.partner_errors,
                "firstError": self.partner_error,
            },
            "invitationExpires": self.invitation_expires_ms,
            "syncQueue": self.counts.to_json(),
        }


def _view(session: Session, row: RelationRow) -> RelationView:
    key = None
    if row.integration_id is not None:
        key = session.scalar(
            select(IntegrationRow.key).where(IntegrationRow.id == row.integration_id)
        )
    invited = row.state == RelationState.INVITED
    return RelationView(
        name=row.name,
        role=row.role,
        state=row.state,
        reason=row.reason,
        project_key=row.project_key,
        integration_key=key,
        connector_id=row.connector_id,
        node=row.node,
        url=row.url,
        partner_node=row.partner_node,
        partner_url=row.partner_url,
        partner_project_key=row.partner_project_key,
        online=row.online,
        last_contact_ms=row.last_contact_ms,
        last_failure=row.last_failure,
        partner_errors=row.partner_errors,
        partner_error=row.partner_error,
        invitation_expires_ms=row.token_expires_ms if invited else None,
        counts=queue_counts(session, row),
    )


def _relation(session: Session, name: str) -> RelationRow:
    row = session.scalar(select(RelationRow).where(RelationRow.name == name))
    if row is None:
        raise NotFoundError(f"There is no relation named {name} on this node.")
    return row


def list_relations(services: Services) -> list[RelationView]:
    """Every relation of this node, by name."""
    with services.uow_factory(readonly=True) as uow:
        rows = uow.session.scalars(select(RelationRow).order_by(RelationRow.name))
        return [_view(uow.session, row) for row in rows]


def get_relation(services: Services, name: str) -> RelationView:
    """One relation."""
    with services.uow_factory(readonly=True) as uow:
        return _view(uow.session, _relation(uow.session, name))


def sync_queue(services: Services) -> dict[str, Any]:
    """The sync queue's counts, summed and per relation: flat JSON for a Zabbix item."""
    views = list_relations(services)
    totals = {"pendingOut": 0, "pendingIn": 0, "blobsPending": 0, "inError": 0}
    per: dict[str, Any] = {}
    for view in views:
        counts = view.counts.to_json()
        for name, value in counts.items():
            totals[name] += value
        per[view.name] = counts | {
            "state": view.state,
            "online": view.online,
            "partnerErrors": view.partner_errors,
        }
    return totals | {"relations": per}


# -- sync errors -----------------------------------------------------------------------------

_MAX_ROW_ID: Final = 2**63  # row ids are 64-bit signed integers in both databases
_ERROR_STATES: Final = (ReceiveState.ERROR.value, ReceiveState.INVALID.value)
MAX_ERRORS_SHOWN: Final = 500


def sync_errors(services: Services, relation: str | None = None) -> list[dict[str, Any]]:
    """The sync errors of every relation (or one): messages in error each way, and blobs
    that did not arrive intact, newest first."""
    found: list[dict[str, Any]] = []
    with services.uow_factory(readonly=True) as uow:
        session = uow.session
        query = select(RelationRow).order_by(RelationRow.name)
        if relation is not None:
            query = query.where(RelationRow.name == relation)
        for row in session.scalars(query):
            if row.connector_id is None:
                continue
            messages = session.scalars(
                select(MessageRow)
                .where(
                    MessageRow.connector_id == row.connector_id,
                    ((MessageRow.queue == queues.RECEIVE) & MessageRow.state.in_(_ERROR_STATES))
                    | ((MessageRow.queue == queues.SEND) & (MessageRow.state == SendState.ERROR)),
                )
                .order_by(MessageRow.id.desc())
                .limit(MAX_ERRORS_SHOWN)
            )
            found.extend(
                {
                    "id": m.id,
                    "relation": row.name,
                    "direction": "incoming" if m.queue == queues.RECEIVE else "outgoing",
                    "issueKey": m.issue_key,
                    "state": m.state,
                    "reason": m.reason or "",
                    "time": m.updated_ms,
                    "sequenceId": m.sequence_id,
                }
                for m in messages
            )
            blobs = session.scalars(
                select(BlobFailureRow)
                .where(BlobFailureRow.relation_id == row.id)
                .order_by(BlobFailureRow.id.desc())
                .limit(MAX_ERRORS_SHOWN)
            )
            found.extend(
                {
                    "id": f"blob-{b.id}",
                    "relation": row.name,
                    "direction": "incoming",
                    "issueKey": b.source_issue_key,
                    "state": "parked" if b.parked else "retrying",
                    "reason": b.message,
                    "time": b.updated_ms,
                    "attempts": b.attempts,
                }
                for b in blobs
            )
    found.sort(key=lambda e: e["time"], reverse=True)
    return found[:MAX_ERRORS_SHOWN]


def settle_error(services: Services, error_id: str, *, retry: bool) -> dict[str, Any]:
    """Retry (or discard) one sync error of a relation: a message, or a blob failure."""
    now = now_ms()
    with services.uow_factory() as uow:
        session = uow.session
        number = error_id.removeprefix("blob-")
        if not number.isdigit() or int(number) >= _MAX_ROW_ID:
            raise NotFoundError(f"There is no sync error {error_id}.")
        if error_id.startswith("blob-"):
            failure = session.get(BlobFailureRow, int(error_id[5:]))
            if failure is None:
                raise NotFoundError(f"There is no sync error {error_id}.")
            # Forgotten: the next pull fetches the blob again (with its own attempts); a
            # discarded one's message was parked in error and is discarded with it.
            _settle_blob_message(session, failure, retry=retry, now=now)
            session.delete(failure)
            uow.commit()
            return {"id": error_id, "done": "retried" if retry else "discarded"}
        message = session.get(MessageRow, int(error_id))
        connectors = set(
            session.scalars(
                select(RelationRow.connector_id).where(RelationRow.connector_id.is_not(None))
            )
        )
        if message is None or message.connector_id not in connectors:
            raise NotFoundError(f"There is no sync error {error_id}.")
        count = queues.retry([message], now) if retry else queues.discard([message], now)
        uow.commit()
        return {
            "id": error_id,
            "done": ("retried" if retry else "discarded") if count else "nothing",
        }


def _settle_blob_message(
    session: Session, failure: BlobFailureRow, *, retry: bool, now: int
) -> None:
    relation = session.get(RelationRow, failure.relation_id)
    if relation is None or relation.connector_id is None:
        return
    message = session.scalar(
        select(MessageRow).where(
            MessageRow.connector_id == relation.connector_id,
            MessageRow.queue == queues.RECEIVE,
            MessageRow.uuid == failure.message_uuid,
        )
    )
    if message is None:
        return
    if retry and message.state == ReceiveState.ERROR:
        queues.retry([message], now)
    elif not retry:
        queues.discard([message], now)


def set_ca_bundle(services: Services, name: str, ca_bundle: str | None) -> RelationView:
    """The CA certificates this node trusts for its partner's https URL (None: the system's)."""
    if ca_bundle is not None and (len(ca_bundle) > 1024 or not ca_bundle.strip()):  # noqa: PLR2004
        raise InvalidInputError(
            "The CA bundle is not valid.", field_errors={"caBundle": "a file path"}
        )
    with services.uow_factory() as uow:
        row = _relation(uow.session, name)
        row.ca_bundle = ca_bundle
        row.modified_ms = now_ms()
        uow.commit()
        return _view(uow.session, row)
