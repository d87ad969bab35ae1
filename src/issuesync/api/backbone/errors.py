"""How the Backbone dialect answers errors: Atlassian's REST plugin body, and its status
for each class of the tree (registered for both base paths by ``routers.install``)."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from issuesync.api.errors import ErrorDialect, StatusTable
from issuesync.errors import (
    AuthenticationError,
    BusyError,
    ConflictError,
    FatalError,
    InsufficientStorageError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    PerIssueError,
    PermissionDeniedError,
    RequestError,
    RetryableError,
    StoreError,
    ThrottledError,
    TrackerOfflineError,
)


def backbone_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """Errors as Atlassian's REST plugins answer them: ``{"status-code": 404, "message": ...}``.

    A 400 for a wrong body also names each wrong field under ``errors``.
    """
    body: dict[str, object] = {"status-code": status, "message": message}
    if field_errors:
        body["errors"] = dict(field_errors)
    return body


BACKBONE_STATUSES: Final[StatusTable] = {
    # the request cannot be done as it was asked
    RequestError: HTTPStatus.BAD_REQUEST,
    InvalidInputError: HTTPStatus.BAD_REQUEST,
    AuthenticationError: HTTPStatus.UNAUTHORIZED,
    PermissionDeniedError: HTTPStatus.FORBIDDEN,
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    PayloadTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    # a tracker's refusal of what the request made it do (a connection update, say)
    PerIssueError: HTTPStatus.UNPROCESSABLE_ENTITY,
    # repeat it later (with Retry-After when the error says when)
    RetryableError: HTTPStatus.SERVICE_UNAVAILABLE,
    TrackerOfflineError: HTTPStatus.SERVICE_UNAVAILABLE,
    StoreError: HTTPStatus.INTERNAL_SERVER_ERROR,
    BusyError: HTTPStatus.SERVICE_UNAVAILABLE,
    InsufficientStorageError: HTTPStatus.INSUFFICIENT_STORAGE,
    ThrottledError: HTTPStatus.TOO_MANY_REQUESTS,
    # the server's own configuration (or a connector's, found while answering)
    FatalError: HTTPStatus.INTERNAL_SERVER_ERROR,
}

BACKBONE: Final = ErrorDialect(backbone_error, BACKBONE_STATUSES)

__all__ = ["BACKBONE", "BACKBONE_STATUSES", "backbone_error"]
