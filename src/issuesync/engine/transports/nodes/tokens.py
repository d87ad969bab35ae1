"""The short-lived request tokens of the node API: JWT, HS256 with the relation's secret.

Every request one node makes of its partner carries ``Authorization: Bearer <jwt>``
with ``iss`` (the sending node), ``aud`` (the relation), ``iat``, ``exp`` (at most
five minutes later) and a unique ``jti``. The receiver checks the signature, the
audience, the issuer and the times (60 seconds of clock skew allowed) with PyJWT,
then records the ``jti`` until the token expires, so a token is good for one
request only (:func:`remember`). The seed's statuses: no token or one that is not
a JWT is a 403, any other refusal a 401 (``api/issuehub/nodeauth.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

import jwt
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from issuesync.errors import NodeTokenError
from issuesync.store.relations import NodeTokenRow

ALGORITHM: Final = "HS256"
LIFETIME_S: Final = 120  # what this node gives its tokens
MAX_LIFETIME_S: Final = 300  # what it accepts from a partner
LEEWAY_S: Final = 60  # clock skew between the nodes
MAX_TOKEN_CHARS: Final = 4096


def issue(secret: str, *, issuer: str, audience: str, now_s: int) -> str:
    """A token for one request to the partner."""
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": now_s,
        "exp": now_s + LIFETIME_S,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret.encode(), algorithm=ALGORITHM)


def bearer(header: str | None) -> str:
    """The token of an ``Authorization`` header; refused (403) when there is none."""
    if not header:
        raise NodeTokenError(
            "This route needs a node token (Authorization: Bearer).", unreadable=True
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise NodeTokenError("The Authorization header must be 'Bearer <token>'.", unreadable=True)
    try:
        jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise NodeTokenError("The node token is not a JWT.", unreadable=True) from exc
    return token


@dataclass(frozen=True)
class Claims:
    """What a checked token says."""

    jti: str
    expires_s: int


def check(token: str, secret: str, *, issuer: str, audience: str) -> Claims:
    """The claims of a token signed with ``secret`` by ``issuer`` for ``audience``.

    Raises:
        NodeTokenError: the signature, audience, issuer or times are wrong (401).
    """
    try:
        claims = jwt.decode(
            token,
            secret.encode(),
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iat", "iss", "aud", "jti"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise NodeTokenError("The node token has expired.") from exc
    except jwt.InvalidSignatureError as exc:
        raise NodeTokenError("The node token's signature does not match.") from exc
    except jwt.InvalidAudienceError as exc:
        raise NodeTokenError("The node token is for another relation.") from exc
    except jwt.InvalidIssuerError as exc:
        raise NodeTokenError("The node token is from another node.") from exc
    except jwt.InvalidTokenError as exc:
        raise NodeTokenError(f"The node token is not valid: {exc}.") from exc
    issued, expires, jti = claims["iat"], claims["exp"], claims["jti"]
    if not all(isinstance(v, int) for v in (issued, expires)) or not isinstance(jti, str):
        raise NodeTokenError("The node token's iat, exp and jti must be numbers and a text.")
    if expires - issued > MAX_LIFETIME_S:
        raise NodeTokenError(f"The node token lives longer than {MAX_LIFETIME_S} seconds.")
    if not 1 <= len(jti) <= 64:  # noqa: PLR2004 - the replay cache's column
        raise NodeTokenError("The node token's jti must have 1 to 64 characters.")
    return Claims(jti, expires)


def remember(session: Session, relation_id: int, claims: Claims, now_ms: int) -> None:
    """Record a token as used, in the caller's transaction; a second use is refused.

    Tokens that expired (with the leeway) are forgotten in the same transaction: they
    could not pass :func:`check` again anyway.
    """
    session.execute(delete(NodeTokenRow).where(NodeTokenRow.expires_ms < now_ms - LEEWAY_S * 1000))
    session.add(
        NodeTokenRow(
            jti=claims.jti,
            relation_id=relation_id,
            expires_ms=claims.expires_s * 1000,
        )
    )
    try:
        session.flush()
    except IntegrityError as exc:
        raise NodeTokenError("The node token was used already (a replay).") from exc
