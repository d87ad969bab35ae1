"""Error responses, each in the shape of the dialect whose path was called.

Every surface registers its path prefix and how its errors look; one set of
exception handlers turns issuesync's error tree, FastAPI's validation errors and
Starlette's HTTP errors into that shape. Nothing reaches the client as a 500
with a traceback: unexpected exceptions are logged and answered with a short
message in the dialect's shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from issuesync.errors import AuthenticationError, IssueSyncError

log = logging.getLogger(__name__)

ErrorShape = Callable[[int, str, Mapping[str, str]], object]


def jira_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """Jira's ``{"errorMessages": [...], "errors": {...}}``."""
    del status
    return {
        "errorMessages": [message] if message and not field_errors else [],
        "errors": dict(field_errors),
    }


def plain_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """The default shape for paths of no dialect."""
    body: dict[str, object] = {"status": status, "message": message}
    if field_errors:
        body["errors"] = dict(field_errors)
    return body


class ErrorShapes:
    """Which error shape answers which path prefix (longest prefix wins)."""

    def __init__(self) -> None:
        self._shapes: list[tuple[str, ErrorShape]] = []

    def register(self, prefix: str, shape: ErrorShape) -> None:
        """Answer errors under ``prefix`` in ``shape``."""
        self._shapes.append((prefix, shape))
        self._shapes.sort(key=lambda item: len(item[0]), reverse=True)

    def for_path(self, path: str) -> ErrorShape:
        """The shape for a request path."""
        for prefix, shape in self._shapes:
            if path.startswith(prefix):
                return shape
        return plain_error


def _respond(
    shapes: ErrorShapes,
    request: Request,
    status: int,
    message: str,
    field_errors: Mapping[str, str] | None = None,
    *,
    retry_after_s: int | None = None,
) -> JSONResponse:
    shape = shapes.for_path(request.url.path)
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
        message = str(error.get("msg", "is not valid"))
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
        status = exc.status_code
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            log.error("request failed: %s", exc.message)
        return _respond(
            shapes,
            request,
            status,
            exc.message,
            exc.field_errors,
            retry_after_s=exc.retry_after_s,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, fields = _validation_errors(exc.errors())
        return _respond(shapes, request, 400, message, fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == HTTPStatus.NOT_FOUND and message == "Not Found":
            message = f"No resource at {request.url.path}."
        elif exc.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            message = f"Method {request.method} is not allowed at {request.url.path}."
        return _respond(shapes, request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return _respond(shapes, request, 500, "Internal error; the server log has the details.")


__all__ = ["AuthenticationError", "ErrorShapes", "install_error_handlers", "jira_error"]
