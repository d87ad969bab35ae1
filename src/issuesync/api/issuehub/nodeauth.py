"""Who calls a node route: the partner node of the relation, proved by its request token.

The seed's answers, in this order: no token, or one that is not a JWT → 403; a
relation this node does not have (or no longer: revoked, never paired) → 400
``text/plain`` "Connection `X` not found. Seems like it was removed on the Destination
side."; a token with a wrong signature, audience or issuer, expired, or used before
→ 401. The token's ``jti`` is recorded in the same transaction as what a writing route
does, so an acknowledgement is applied exactly when its token is spent; a reading
route reads after that transaction, holding no write turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session

from issuesync.domain.relation import RelationState, not_found_text
from issuesync.engine.transports.nodes import tokens
from issuesync.engine.transports.nodes.serving import relation_by_name
from issuesync.errors import NodeTokenError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.relations import RelationRow

T = TypeVar("T")

FORBIDDEN: Final = 403
UNAUTHORIZED: Final = 401
NOT_FOUND_STATUS: Final = 400  # the seed's status for a relation that is not here


def _refused(status: int, reason: str) -> JSONResponse:
    return JSONResponse(
        {"status": status, "message": reason},
        status_code=status,
        headers={"WWW-Authenticate": 'Bearer realm="issuehub"'},
    )


def not_found(name: str) -> PlainTextResponse:
    """The seed's 400 for a relation that is not (or no longer) here."""
    return PlainTextResponse(not_found_text(name), status_code=NOT_FOUND_STATUS)


def served(
    request: Request,
    services: Services,
    name: str,
    work: Callable[[Session, RelationRow], T],
    *,
    render: Callable[[T], Response] | None = None,
    writes: bool = False,
) -> Response:
    """Authenticate the partner node (spending its token), then do ``work``: in the same
    transaction when it ``writes``, else in a read-only one after it."""
    try:
        token = tokens.bearer(request.headers.get("authorization"))
    except NodeTokenError as exc:
        return _refused(FORBIDDEN, exc.message)
    now = now_ms()
    with services.uow_factory() as uow:
        session = uow.session
        relation = relation_by_name(session, name)
        if (
            relation is None
            or relation.state != RelationState.ACTIVE
            or not relation.secret
            or not relation.partner_node
        ):
            return not_found(name)
        try:
            claims = tokens.check(
                token,
                services.secrets.decrypt(relation.secret),
                issuer=relation.partner_node,
                audience=relation.name,
            )
            tokens.remember(session, relation.id, claims, now)
        except NodeTokenError as exc:
            return _refused(UNAUTHORIZED, exc.message)
        if relation.last_contact_ms is None:
            relation.last_contact_ms = now  # the pairing is done: no retry of it any more
        if writes:
            result = work(session, relation)
        uow.commit()
        relation_id = relation.id
    if not writes:
        # A read holds no write turn: the partner's pulls do not wait on this node's writes.
        with services.uow_factory(readonly=True) as uow:
            relation = uow.session.get(RelationRow, relation_id)
            if relation is None:
                return not_found(name)
            result = work(uow.session, relation)
    if render is not None:
        return render(result)
    return JSONResponse(result)
