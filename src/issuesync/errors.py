"""The one exception tree of issuesync, grouped by what the caller should do.

::

    IssueSyncError                    message, field_errors, describe()
    ├── FatalError                    stop: the route (or the command) cannot go on until a
    │   │                             person changes something; the message says what
    │   ├── ConfigurationError        the settings or a connector's configuration cannot work
    │   └── PartnerGoneError          the partner node no longer has the relation (seed 003)
    ├── RetryableError                back off and do the same again; ``retry_after_s`` says
    │   │                             when (None: the caller's own back-off)
    │   ├── TrackerOfflineError       the tracker cannot be reached, fails, or rate-limits
    │   ├── StoreError                the database failed the operation; nothing was changed
    │   │   ├── BusyError             another process holds the write turn or a lock
    │   │   └── InsufficientStorageError  the disk (or the database's space) is full
    │   └── ThrottledError            too many failed logins from this client or for this user
    ├── PerIssueError                 park that issue's message in ``state``; the others go on
    │   ├── TrackerRejectedError      error: the tracker refused a write, with its reason
    │   ├── IssueMissingError         issue-missing: the issue it needs (a parent) is not linked
    │   ├── ConflictPendingError      error: both sides changed a field, nobody picked a side
    │   │                             (engine/pipeline/incoming.py: it carries the conflicts)
    │   ├── InvalidMessageError       invalid: the text is not a message of this format
    │   ├── BlobMissingError          error: an attachment's content has not arrived
    │   └── ChecksumMismatchError     error: content is not what its checksum says
    └── RequestError                  the request cannot be done as it was asked
        ├── InvalidInputError         the input is wrong; ``field_errors`` names the fields
        │   ├── QueryError            a query (JQL) does not parse or names unknown things
        │   └── UsageError            the command line is wrong (cli/: the CLI's own)
        ├── NotFoundError             the named thing does not exist (or is not visible)
        ├── AuthError
        │   ├── AuthenticationError   no or wrong credentials
        │   │   └── NodeTokenError    a partner node's request token is refused (seed 003)
        │   └── PermissionDeniedError a known user, not allowed to do this
        ├── ConflictError             the request clashes with the current state
        └── PayloadTooLargeError      over a configured size limit

No class here knows HTTP: each surface maps the tree to its answers in a table of
its own (``api/jira/errors.py``, ``api/backbone/errors.py``; paths of no dialect
in ``api/errors.py``), and the CLI to its exit codes (``cli/__init__.py``). The
engine decides by the group: a per-issue error parks the message in its
``state``, a retryable one backs the route off, anything else ends the route's
run with the message in its status.

A tracker adapter translates its tracker's errors into this tree at its edge, as
the tracker's API means them: a request error (an issue not found, a permission
the sync user lacks) is the tracker's answer to the engine's request, which the
engine takes as a refusal of that one issue's change (``TrackerRejectedError``),
except an ``AuthenticationError``: the sync user's credentials are the whole
route's.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import ClassVar, Final, TypeVar

T = TypeVar("T")


class IssueSyncError(Exception):
    """Base of every error issuesync raises on purpose."""

    def __init__(self, message: str, *, field_errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors: dict[str, str] = dict(field_errors or {})

    def describe(self) -> str:
        """The message with the field errors it does not already name, on one line."""
        details = "; ".join(f"{name}: {text}" for name, text in self.field_errors.items())
        if not details or details in self.message:
            return self.message
        return f"{self.message} ({details})"


# -- fatal: a person must change something --------------------------------------------------


class FatalError(IssueSyncError):
    """Nothing goes on until a person changes something; the message says what."""


class ConfigurationError(FatalError):
    """The settings cannot work; the user must change them."""


class PartnerGoneError(FatalError):
    """The partner node answered that the relation is not there (revoked or deleted):
    nothing is exchanged until the two nodes are paired again."""


# -- retryable: back off, then do the same again --------------------------------------------


class RetryableError(IssueSyncError):
    """The same work may simply be done again later: after ``retry_after_s`` seconds when
    it is known, else after the caller's own back-off."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: int | None = None,
        field_errors: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message, field_errors=field_errors)
        self.retry_after_s = retry_after_s


class TrackerOfflineError(RetryableError):
    """The tracker cannot be reached now; the work waits (in ``offline``) and is retried."""


class StoreError(RetryableError):
    """The database refused or failed an operation; nothing was changed."""


class BusyError(StoreError):
    """The store cannot take the work now (another process holds its write turn or a lock).

    Nothing was changed; the same request may simply be repeated after ``retry_after_s``.
    """

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message, retry_after_s=max(1, retry_after_s))


class InsufficientStorageError(StoreError):
    """The server could not store what it was asked to: its disk or database space is full.

    Nothing was kept. The client did nothing wrong and may repeat the request once an
    operator has freed space: WebDAV's 507 says exactly that (RFC 4918, section 11.5).
    ``retry_after_s``, when given, is when to look again (the engine backs off).
    """


class ThrottledError(RetryableError):
    """Too many failed attempts (logins) from this client or for this user; wait and retry."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, retry_after_s=max(1, retry_after_s))


# -- per issue: park that issue, the others go on ----------------------------------------------


class PerIssueError(IssueSyncError):
    """One issue's message cannot be applied now; it parks in ``state`` (a receive queue
    state: seed 002's folder names) with the message as its reason, and the issue's
    later messages wait behind it."""

    state: ClassVar[str] = "error"


class TrackerRejectedError(PerIssueError):
    """The tracker refused a write; ``message`` is the tracker's reason."""


class IssueMissingError(PerIssueError):
    """The message needs an issue that is not linked yet (a sub-task's parent)."""

    state = "issue-missing"


class InvalidMessageError(PerIssueError):
    """Text that is not a message of this format."""

    state = "invalid"


class BlobMissingError(PerIssueError):
    """An attachment's content (its blob) has not arrived (yet)."""


class ChecksumMismatchError(PerIssueError):
    """Content is not what its checksum says: it is refused, never stored."""


# -- request errors: the request cannot be done as it was asked ---------------------------


class RequestError(IssueSyncError):
    """The caller asked for something that cannot be done as it was asked; the message
    says what to change. Each surface answers it in its dialect."""


class InvalidInputError(RequestError):
    """The input is wrong; ``field_errors`` names the fields when it can."""


class QueryError(InvalidInputError):
    """A query does not parse or cannot be evaluated; the message names the position."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class NotFoundError(RequestError):
    """The named resource does not exist (or is not visible to the caller)."""


class AuthError(RequestError):
    """Credentials are missing, wrong, or not enough."""


class AuthenticationError(AuthError):
    """No valid credentials were given."""


class NodeTokenError(AuthenticationError):
    """A partner node's request token is refused. ``unreadable``: there is none, or it
    is not a JWT (the node API answers 403); else it is wrong, expired or replayed (401)."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


class PermissionDeniedError(AuthError):
    """The user is known but may not do this."""


class ConflictError(RequestError):
    """The request clashes with the current state (a duplicate key, say)."""


class PayloadTooLargeError(RequestError):
    """The request body is over a configured limit."""


RECOVERY_GROUPS: tuple[type[IssueSyncError], ...] = (
    FatalError,
    RetryableError,
    PerIssueError,
    RequestError,
)
"""The four groups every error of the tree is under, exactly one each."""


def nearest(table: Mapping[type[IssueSyncError], T], error: IssueSyncError) -> T | None:
    """What ``table`` says for ``error``: the entry of its own class, else of the nearest
    class above it; None when the table names none of them.

    How a surface's table maps the tree: one entry for a group covers every error under
    it that has no entry of its own.
    """
    for cls in type(error).__mro__:
        if issubclass(cls, IssueSyncError) and cls in table:
            return table[cls]
    return None


# Each class of the tree at the status HTTP defines for it: the table of paths of no dialect
# (/healthz, /metrics, an unknown path), and the one a dialect's own table (in its folder)
# starts from, changing only where its product answers otherwise.
HTTP_STATUSES: Final[Mapping[type[IssueSyncError], int]] = {
    # the request cannot be done as it was asked
    RequestError: HTTPStatus.BAD_REQUEST,
    InvalidInputError: HTTPStatus.BAD_REQUEST,
    AuthenticationError: HTTPStatus.UNAUTHORIZED,
    PermissionDeniedError: HTTPStatus.FORBIDDEN,
    NotFoundError: HTTPStatus.NOT_FOUND,
    ConflictError: HTTPStatus.CONFLICT,
    PayloadTooLargeError: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    # a tracker's refusal of what the request made it do
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
