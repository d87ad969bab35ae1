"""How the Jira dialect answers errors: Jira's body, and its status for each class of the tree.

Registered for the built-in tracker's REST API (``/rest/api/2``) and its attachment
content (``/secure/attachment``) in the composition root.
"""

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


def jira_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """Jira's ``{"errorMessages": [...], "errors": {...}}``."""
    del status
    return {
        "errorMessages": [message] if message and not field_errors else [],
        "errors": dict(field_errors),
    }


JIRA_STATUSES: Final[StatusTable] = {
    # the request cannot be done as it was asked
    RequestError: HTTPStatus.BAD_REQUEST,
    InvalidInputError: HTTPStatus.BAD_REQUEST,
    AuthenticationError: HTTPStatus.UNAUTHORIZED,
    PermissionDeniedError: HTTPStatus.FORBIDDEN,
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    PayloadTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    # a refusal of what the request made the tracker do
    PerIssueError: HTTPStatus.UNPROCESSABLE_ENTITY,
    # repeat it later (with Retry-After when the error says when)
    RetryableError: HTTPStatus.SERVICE_UNAVAILABLE,
    TrackerOfflineError: HTTPStatus.SERVICE_UNAVAILABLE,
    StoreError: HTTPStatus.INTERNAL_SERVER_ERROR,
    BusyError: HTTPStatus.SERVICE_UNAVAILABLE,
    InsufficientStorageError: HTTPStatus.INSUFFICIENT_STORAGE,
    ThrottledError: HTTPStatus.TOO_MANY_REQUESTS,
    # the server's own configuration
    FatalError: HTTPStatus.INTERNAL_SERVER_ERROR,
}

JIRA: Final = ErrorDialect(jira_error, JIRA_STATUSES)

__all__ = ["JIRA", "JIRA_STATUSES", "jira_error"]
