"""Both connectors' queues, defaults filled in and checked against this server's places."""

from __future__ import annotations

from issuesync.application.fields import SIDES, queue_field
from issuesync.domain.connection import Queue, QueueSettings
from issuesync.engine.connectors import QueuePair, QueuePlaces
from issuesync.errors import InvalidInputError


def resolve_queues(
    integration_key: str,
    keys: tuple[str, str],
    given: tuple[QueueSettings | None, QueueSettings | None],
    *,
    places: QueuePlaces,
    distributed: bool = False,
) -> tuple[QueuePair, QueuePair]:
    """Both connectors' (send, receive) queues, defaults filled in.

    A queue left out is the mirror of the partner's (A's send queue is B's
    receive queue); when neither side names it, it is a ``vm`` queue named
    ``<from>_<to>``. A ``file`` queue without a path gets
    ``<INT-n>/<from>_to_<to>``; every file queue's folder must be allowed by
    ``places``. In a centralized integration both sides must agree: A's send
    queue is B's receive queue.
    """
    explicit = [(s.send_queue if s else None, s.receive_queue if s else None) for s in given]
    hint = next((q.type for pair in explicit for q in pair if q is not None), "vm")
    resolved: list[QueuePair] = []
    for index in (0, 1):
        me, partner = keys[index], keys[1 - index]
        send = explicit[index][0] or explicit[1 - index][1]
        receive = explicit[index][1] or explicit[1 - index][0]
        resolved.append(
            (
                _filled(send, hint, integration_key, me, partner),
                _filled(receive, hint, integration_key, partner, me),
            )
        )
    errors: dict[str, str] = {}
    for index, side in enumerate(SIDES):
        for label, queue in zip(QUEUES, resolved[index], strict=True):
            problem = _queue_problem(queue, places)
            if problem:
                errors[queue_field(side, label)] = problem
    if not distributed and not errors:
        if resolved[0][0] != resolved[1][1]:
            errors[queue_field(SIDES[1], RECEIVE)] = (
                "must be the same queue as firstConnector's sendQueue"
            )
        if resolved[0][1] != resolved[1][0]:
            errors[queue_field(SIDES[1], SEND)] = (
                "must be the same queue as firstConnector's receiveQueue"
            )
    if errors:
        raise InvalidInputError("The integration's queues are not valid.", field_errors=errors)
    return resolved[0], resolved[1]


def relation_queue_errors(
    before: tuple[QueuePair, QueuePair] | None, after: tuple[QueuePair, QueuePair]
) -> dict[str, str]:
    """``http`` queues belong to relations: only pairing makes them (``before`` None: a
    new integration), and a relation's queues stay what pairing made."""
    errors: dict[str, str] = {}
    for index, side in enumerate(SIDES):
        for label, position in zip(QUEUES, (0, 1), strict=True):
            now = after[index][position]
            was = before[index][position] if before is not None else None
            if before is None and now.type == "http":
                errors[queue_field(side, label)] = (
                    "http queues are made by pairing two nodes: "
                    "issuesync relation invite / relation accept (docs/issuehub.md)"
                )
            elif was is not None and (was.type == "http") != (now.type == "http"):
                errors[queue_field(side, label)] = (
                    "the queues of a relation's integration stay as pairing made them"
                    if was.type == "http"
                    else "http queues are made by pairing two nodes, not by a change"
                )
    return errors


SEND = "send_queue"
RECEIVE = "receive_queue"
QUEUES = (SEND, RECEIVE)


def _filled(
    queue: Queue | None, hint: str, integration_key: str, source: str, target: str
) -> Queue:
    kind = queue.type if queue is not None else hint
    if kind == "file":
        path = (queue.path if queue else None) or f"{integration_key}/{source}_to_{target}"
        return Queue(type="file", path=path)
    name = (queue.name if queue else None) or f"{source}_{target}"
    return Queue(type="http" if kind == "http" else "vm", name=name)


def _queue_problem(queue: Queue, places: QueuePlaces) -> str | None:
    if queue.type == "file":
        assert queue.path is not None
        return places.refusal(queue.path)
    return None
