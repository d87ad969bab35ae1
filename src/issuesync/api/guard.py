"""The door every request passes: input that no route of any dialect takes, refused once.

One pure ASGI middleware, in front of every path of every dialect (the Jira API of
the built-in tracker, Backbone's two base paths, and any other), checks the raw
request before a route runs:

- the path and the query string, percent-decoded: UTF-8 text without NUL;
- every body that is not a multipart upload (every such body here is JSON): at most
  ``ISSUESYNC_MAX_REQUEST_SIZE`` bytes; UTF-8 without NUL, raw or escaped
  (``\\u0000``); no escaped UTF-16 surrogate (``\\ud800``) that is not half of a
  pair, since such a "character" can be neither stored nor encoded; arrays and
  objects nested at most :data:`MAX_JSON_DEPTH` levels;
- a multipart upload (an attachment): at most ``ISSUESYNC_MAX_ATTACHMENT_SIZE``
  plus :data:`MULTIPART_OVERHEAD` bytes, counted as it streams; the route checks
  each file.

A refusal (an ``InvalidInputError``, 400, or a ``PayloadTooLargeError``, 413) is
answered as the path's dialect answers it
(:class:`~issuesync.api.errors.ErrorShapes`) before anything runs, so nothing
changes. NUL is refused because PostgreSQL cannot store it in text; refusing it
for every store keeps SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
import re
from array import array
from itertools import accumulate
from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from issuesync.api.errors import ErrorShapes, error_answer
from issuesync.errors import InvalidInputError, PayloadTooLargeError, RequestError

# Deeper than any body of any route (an integration nests 6 levels, an issue edit 5);
# far from Python's recursion limit, which pydantic and the routes' own walks meet.
MAX_JSON_DEPTH: Final = 64
# The multipart framing around an attachment's content: part headers and boundaries.
MULTIPART_OVERHEAD: Final = 64 * 1024
# A body larger than this is checked off the event loop: it costs milliseconds.
_CHECK_INLINE: Final = 64 * 1024
_DEPTH_CHUNK: Final = 1 << 20

_ESCAPED_BACKSLASH: Final = b"\\\\"
_SURROGATE_PAIR: Final = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_BAD_ESCAPE: Final = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_STRING: Final = re.compile(rb'"[^"]*"')
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEPS: Final = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def url_problem(raw_path: bytes, query_string: bytes) -> str | None:
    """Why a request's path or query cannot be taken, or None."""
    for what, raw in (("path", raw_path), ("query string", query_string)):
        decoded = unquote_to_bytes(raw.replace(b"+", b" "))
        if b"\x00" in decoded:
            return f"The URL's {what} must not contain NUL characters (%00)."
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (
                f"The URL's {what} is not UTF-8 text: byte {exc.start} of it, "
                "percent-decoded, starts no character."
            )
    return None


def body_problem(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a JSON body cannot be taken, or None: NUL, not UTF-8, a lone surrogate, too deep.

    Works on the raw bytes at the speed of ``bytes`` methods, before any JSON parser
    (and any recursion) sees the body.
    """
    if b"\x00" in body:
        return "The body must not contain NUL characters (\\u0000)."
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"The body is not UTF-8 text: byte {exc.start} starts no character."
    if b"\\u" in body:
        problem = _escape_problem(body)
        if problem is not None:
            return problem
    if _depth_over(body, max_depth):
        return (
            f"The body nests arrays and objects more than {max_depth} levels deep; "
            "no request needs that many."
        )
    return None


def _escape_problem(body: bytes) -> str | None:
    # An escaped backslash is not the start of an escape: drop those pairs first (left
    # to right, as a JSON reader pairs them), then the well-formed surrogate pairs.
    escapes = _SURROGATE_PAIR.sub(b"", body.replace(_ESCAPED_BACKSLASH, b""))
    found = _BAD_ESCAPE.search(escapes)
    if found is None:
        return None
    if found.group() == b"\\u0000":
        return "The body must not contain NUL characters (\\u0000)."
    return (
        f"The body contains '{found.group().decode()}', half of a UTF-16 surrogate pair "
        "without its other half: that is no character. Send text as UTF-8, or escape a "
        "character beyond U+FFFF as a pair (high \\ud800-\\udbff, then low \\udc00-\\udfff)."
    )


def _depth_over(body: bytes, max_depth: int) -> bool:
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    # Strings out first (their escaped quotes and backslashes before them), then every
    # byte but the brackets; then the running depth, chunk by chunk, stopping early.
    structure = _STRING.sub(b"", body.replace(_ESCAPED_BACKSLASH, b"").replace(b'\\"', b""))
    steps = structure.translate(None, _NOT_BRACKETS).translate(_BRACKET_STEPS)
    depth = 0
    for start in range(0, len(steps), _DEPTH_CHUNK):
        levels = array("b", steps[start : start + _DEPTH_CHUNK])
        if max(accumulate(levels, initial=depth)) > max_depth:
            return True
        depth += sum(levels)
    return False


class RequestGuard:
    """The ASGI middleware that applies :func:`url_problem` and :func:`body_problem`."""

    def __init__(
        self, app: ASGIApp, *, shapes: ErrorShapes, max_body: int, max_upload: int
    ) -> None:
        self.app = app
        self.shapes = shapes
        self.max_body = max_body
        self.max_upload = max_upload + MULTIPART_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check one request; pass it on, or answer the refusal."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            checked = await self._checked(scope, receive)
        except RequestError as refusal:
            response = error_answer(self.shapes, scope["path"], refusal)
            await response(scope, _nothing, send)
            return
        if checked is None:
            return  # the client left: nobody to answer, and a cut body must not reach a route
        await self.app(scope, checked, send)

    async def _checked(self, scope: Scope, receive: Receive) -> Receive | None:
        """What the app reads the request's body from, once the request passed; None when
        the client left before its body was complete.

        Raises:
            InvalidInputError: the URL or the body is refused.
            PayloadTooLargeError: the body is over its limit.
        """
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        problem = url_problem(raw_path.split(b"?", 1)[0], scope.get("query_string", b""))
        if problem is not None:
            raise InvalidInputError(problem)
        headers = Headers(scope=scope)
        upload = headers.get("content-type", "").lower().startswith("multipart/form-data")
        limit = self.max_upload if upload else self.max_body
        too_large = PayloadTooLargeError(_too_large(limit, upload=upload))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        if upload:
            return _counted(receive, limit, too_large.message)
        body = await _read_body(receive, limit)
        if body is _Cut.CLIENT_LEFT:
            return None
        if body is _Cut.TOO_LARGE:
            raise too_large
        if len(body) > _CHECK_INLINE:
            problem = await run_in_threadpool(body_problem, body)
        else:
            problem = body_problem(body)
        if problem is not None:
            raise InvalidInputError(problem)
        return _replay(body, receive)


def _too_large(limit: int, *, upload: bool) -> str:
    if upload:
        return (
            f"The upload is larger than the limit of {limit - MULTIPART_OVERHEAD} bytes "
            "(ISSUESYNC_MAX_ATTACHMENT_SIZE) and its multipart framing."
        )
    return (
        f"The request body is larger than the limit of {limit} bytes (ISSUESYNC_MAX_REQUEST_SIZE)."
    )


class _Cut(enum.Enum):
    """Why :func:`_read_body` has no whole body (not an error: it is returned)."""

    TOO_LARGE = "over the limit; the rest is not read"
    CLIENT_LEFT = "the client disconnected before its body was complete"


async def _read_body(receive: Receive, limit: int) -> bytes | _Cut:
    """The whole body, or why there is none."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _Cut.CLIENT_LEFT
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return _Cut.TOO_LARGE
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then the client's own."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _counted(receive: Receive, limit: int, too_large: str) -> Receive:
    """A ``receive`` that raises 413 in the route reading the stream, once over ``limit``."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise PayloadTooLargeError(too_large)
        return message

    return counted


async def _nothing() -> Message:  # a refusal reads no body
    return {"type": "http.disconnect"}
