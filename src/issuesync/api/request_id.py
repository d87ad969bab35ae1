"""Every HTTP request's id: taken from ``X-Request-ID`` or made, logged, and answered.

A reverse proxy (or a client) that sends ``X-Request-ID`` finds its id on the log lines
the request wrote and in the answer's ``X-Request-ID``; a request without one (or with
one that is too long or holds other characters than :data:`ACCEPTED`) gets a new one.
Pure ASGI: the id is bound around the request (``structlog.contextvars``, which the
threads that run sync routes inherit) and added to the answer's headers as it starts,
so nothing is buffered: a streamed attachment streams as before.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER: Final = "X-Request-ID"
_HEADER_KEY: Final = HEADER.lower().encode("latin-1")
# Letters, digits and ``._:-``, at most 128 of them: a UUID, a proxy's hex or its
# ``host:counter`` fit; nothing that could forge a log line or carry a body.
ACCEPTED: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(given: bytes | None) -> str:
    """The id of a request that sent ``given`` (None: no header): itself when it is
    acceptable, else a new one (32 hex digits)."""
    if given is not None:
        text = given.decode("latin-1")
        if ACCEPTED.fullmatch(text):
            return text
    return uuid.uuid4().hex


class RequestIds:
    """The ASGI middleware: binds ``request_id`` for the request's log lines and answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id bound; the answer's headers carry the id."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k.lower() == _HEADER_KEY), None)
        rid = request_id(given)
        answer = rid.encode("latin-1")

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER_KEY]
                message = {**message, "headers": [*kept, (_HEADER_KEY, answer)]}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=rid):
            await self.app(scope, receive, with_id)
