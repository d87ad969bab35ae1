"""Error responses, each in the status and shape of the dialect whose path was called.

Every surface registers its path prefix and its :class:`ErrorDialect`: how its
errors look (a shape function) and which HTTP status answers which class of the
error tree (a table of its own: ``api/jira/errors.py``, ``api/backbone/errors.py``;
:data:`PLAIN` for paths of no dialect). One set of exception handlers turns
issuesync's error tree, FastAPI's validation errors and Starlette's HTTP errors
into that shape, and two classes of error whichever layer raised them: a
constraint violation (``IntegrityError``, at a flush as well as at a commit) is a
``ConflictError``, and a full disk or database an ``InsufficientStorageError``.

Nothing reaches the client as a 500 with a traceback: :class:`UnexpectedErrors`
answers any other exception with a short message in the dialect's shape, logs it
once with its traceback (each part of it cut short, so that no whole SQL statement
or query lands in the log), and, unlike Starlette's own last resort, does not
raise it again: the connection stays usable for the client's next request.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from issuesync.errors import (
    HTTP_STATUSES,
    ConflictError,
    InsufficientStorageError,
    IssueSyncError,
    RetryableError,
    nearest,
)
from issuesync.store.space import is_disk_full, storage_full_error

log = logging.getLogger(__name__)

# How much of each part of a logged traceback is kept: a driver's error repeats the
# whole SQL statement and its parameters (a 1,000-term query made a 387 KB log line).
LOGGED_PART_CHARS: Final = 2_000

ErrorShape = Callable[[int, str, Mapping[str, str]], object]
"""A dialect's error body: from the status, the message and the per-field errors."""

StatusTable = Mapping[type[IssueSyncError], int]
"""A dialect's status for each class of the error tree; an error takes its nearest
class's (:func:`~issuesync.errors.nearest`), so a group's entry covers the group."""


@dataclass(frozen=True)
class ErrorDialect:
    """How one dialect answers an error: the shape of its body and its table of statuses."""

    shape: ErrorShape
    statuses: StatusTable

    def status(self, error: IssueSyncError) -> int:
        """The status that answers ``error``: its nearest class's in the table, else 500."""
        return int(nearest(self.statuses, error) or HTTPStatus.INTERNAL_SERVER_ERROR)


def plain_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """The default shape for paths of no dialect."""
    body: dict[str, object] = {"status": status, "message": message}
    if field_errors:
        body["errors"] = dict(field_errors)
    return body


PLAIN: Final = ErrorDialect(plain_error, HTTP_STATUSES)


class ErrorShapes:
    """Which dialect answers the errors of which path prefix (longest prefix wins)."""

    def __init__(self) -> None:
        self._dialects: list[tuple[str, ErrorDialect]] = []

    def register(self, prefix: str, dialect: ErrorDialect) -> None:
        """Answer errors under ``prefix`` as ``dialect`` does."""
        self._dialects.append((prefix, dialect))
        self._dialects.sort(key=lambda item: len(item[0]), reverse=True)

    def for_path(self, path: str) -> ErrorDialect:
        """The dialect of a request path."""
        for prefix, dialect in self._dialects:
            if path.startswith(prefix):
                return dialect
        return PLAIN


def error_answer(shapes: ErrorShapes, path: str, error: IssueSyncError) -> JSONResponse:
    """The answer to a request for ``path`` that raised ``error``: the status its
    dialect's table gives, in its dialect's shape, with ``Retry-After`` when it says when."""
    dialect = shapes.for_path(path)
    return error_response(
        shapes,
        path,
        dialect.status(error),
        error.message,
        error.field_errors,
        retry_after_s=error.retry_after_s if isinstance(error, RetryableError) else None,
    )


def error_response(
    shapes: ErrorShapes,
    path: str,
    status: int,
    message: str,
    field_errors: Mapping[str, str] | None = None,
    *,
    retry_after_s: int | None = None,
) -> JSONResponse:
    """An error answer to a request for ``path``, in the shape of its dialect."""
    shape = shapes.for_path(path).shape
    headers: dict[str, str] = {}
    if status == HTTPStatus.UNAUTHORIZED:
        headers["WWW-Authenticate"] = 'Basic realm="issuesync"'
    if retry_after_s is not None:
        headers["Retry-After"] = str(retry_after_s)
    return JSONResponse(
        shape(status, message, field_errors or {}), status_code=status, headers=headers or None
    )


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _validation_errors(errors: Sequence[Mapping[str, object]]) -> tuple[str, dict[str, str]]:
    """A message and per-field errors from pydantic's error list."""
    fields: dict[str, str] = {}
    for error in errors:
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx")
            detail = ctx.get("error") if isinstance(ctx, Mapping) else None
            return f"The request body is not valid JSON: {detail or 'malformed JSON'}.", {}
        raw = error.get("loc", ())
        parts = [str(part) for part in raw] if isinstance(raw, tuple | list) else []
        # The first part says where (body, query, ...); only the rest names a field, which
        # may itself be called "body" (a comment's text).
        loc = parts[1:] if parts and parts[0] in _LOCATIONS else parts
        name = ".".join(loc) or "body"
        if error.get("type") == "missing" and not loc:
            return "The request body is missing: send a JSON object.", {}
        # A validator's own words, without pydantic's "Value error, " in front.
        message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = (
                f'Unrecognized field "{loc[-1] if loc else name}"; it is not part of this request.'
            )
        fields.setdefault(name, message)
    return "The request is not valid: " + "; ".join(f"{k}: {v}" for k, v in fields.items()), fields


def install_error_handlers(app: FastAPI, shapes: ErrorShapes) -> None:
    """Register the handlers that turn every error into the dialect's shape."""

    @app.exception_handler(IssueSyncError)
    async def _issuesync_error(request: Request, exc: IssueSyncError) -> JSONResponse:
        if is_disk_full(exc) and not isinstance(exc, InsufficientStorageError):
            exc = storage_full_error()  # the driver said so in its own words: say it in ours
        response = error_answer(shapes, request.url.path, exc)
        if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
            log.error("%s %s failed: %s", request.method, request.url.path, exc.message)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, fields = _validation_errors(exc.errors())
        return error_response(shapes, request.url.path, 400, message, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == HTTPStatus.NOT_FOUND and message == "Not Found":
            message = f"No resource at {request.url.path}."
        elif exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            message = f"Method {request.method} is not allowed at {request.url.path}."
        return error_response(shapes, request.url.path, exc.status_code, message)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A constraint refused the change (a duplicate, say, or a row deleted meanwhile),
        # wherever it was flushed; the transaction was rolled back, nothing was kept.
        log.info(
            "%s %s: a constraint refused the change: %s",
            request.method,
            request.url.path,
            _cut(str(exc.orig)),
        )
        conflict = ConflictError(
            "The change clashes with data that exists (a duplicate, or something deleted "
            "meanwhile); nothing was changed."
        )
        return error_answer(shapes, request.url.path, conflict)


class UnexpectedErrors:
    """The last resort, as pure ASGI middleware: any exception a route did not expect.

    Answered in the dialect's shape (507 when it says the disk is full, else 500), and
    logged once with its traceback. Starlette's ``ServerErrorMiddleware`` answers such
    an exception too but then raises it again, and the server closes the keep-alive
    connection under the client's next request; this one returns normally. When the
    response had already begun, the exception goes on: the connection cannot be saved.
    """

    def __init__(self, app: ASGIApp, *, shapes: ErrorShapes) -> None:
        self.app = app
        self.shapes = shapes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; answer what escapes it, if nothing was answered yet."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            method, path = scope.get("method", ""), scope.get("path", "")
            if is_disk_full(exc):
                # One line: a full disk is the operator's to fix, not a bug to trace.
                log.error("%s %s: the disk is full: %s", method, path, _cut(str(exc)))  # noqa: TRY400
                response = error_answer(self.shapes, path, storage_full_error())
            else:
                # The traceback cut short, not whole: see bounded_traceback.
                trace = bounded_traceback(exc)
                log.error("unexpected error on %s %s\n%s", method, path, trace)  # noqa: TRY400
                response = error_response(
                    self.shapes, path, 500, "Internal error; the server log has the details."
                )
            await response(scope, receive, send)


def bounded_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` (with its causes), each part cut to :data:`LOGGED_PART_CHARS`."""
    return "".join(_cut(part) for part in traceback.format_exception(exc)).rstrip()


def _cut(text: str) -> str:
    if len(text) <= LOGGED_PART_CHARS:
        return text
    return f"{text[:LOGGED_PART_CHARS]} [... {len(text) - LOGGED_PART_CHARS} characters cut]\n"


__all__ = [
    "HTTP_STATUSES",
    "PLAIN",
    "ErrorDialect",
    "ErrorShape",
    "ErrorShapes",
    "StatusTable",
    "UnexpectedErrors",
    "error_answer",
    "error_response",
    "install_error_handlers",
    "plain_error",
]
