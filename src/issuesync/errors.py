"""The one exception tree of issuesync, grouped by what the caller should do.

::

    IssueSyncError
    ├── ConfigurationError        fatal: fix the settings, then start again
    ├── StoreError                fatal for this operation: the database said no
    │   ├── BusyError             503, retryable: the store is busy (a held write turn, a lock)
    │   └── InsufficientStorageError  507: the disk (or the database's space) is full
    ├── AuthError
    │   ├── AuthenticationError   401: no or wrong credentials
    │   ├── PermissionDeniedError 403: known user, not allowed
    │   └── ThrottledError        429, retryable: too many failed logins; wait Retry-After
    ├── NotFoundError             404: the named thing does not exist
    ├── InvalidInputError         400: the request is wrong; carries per-field errors
    │   └── QueryError            400: a query (JQL) does not parse or names unknown things
    ├── ConflictError             409: the request clashes with the current state
    ├── PayloadTooLargeError      413: over a configured size limit
    └── TrackerError              raised at a tracker adapter's edge
        ├── TrackerOfflineError   retryable: the tracker cannot be reached; back off, retry
        └── TrackerRejectedError  per-issue: the tracker refused a write; park that issue

An error a client should simply repeat later carries ``retry_after_s``; the API
answers it with a ``Retry-After`` header.

The API layers translate these into their dialect's error shape; the CLI prints
the message on one line and exits non-zero. Vendor and HTTP errors from remote
trackers are translated into this tree at the adapter's edge.
"""

from __future__ import annotations

from collections.abc import Mapping


class IssueSyncError(Exception):
    """Base of every error issuesync raises on purpose."""

    status_code: int = 500
    retry_after_s: int | None = None

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


class ConfigurationError(IssueSyncError):
    """The settings cannot work; the user must change them."""


class StoreError(IssueSyncError):
    """The database refused or failed an operation."""


class BusyError(StoreError):
    """The store cannot take the work now (another process holds its write turn or a lock).

    Nothing was changed; the same request may simply be repeated after ``retry_after_s``.
    """

    status_code = 503

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class InsufficientStorageError(StoreError):
    """The server could not store what it was asked to: its disk or database space is full.

    Nothing was kept. The client did nothing wrong and may repeat the request once an
    operator has freed space: WebDAV's 507 says exactly that (RFC 4918, section 11.5).
    """

    status_code = 507

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # when to look again (the engine backs off)


class AuthError(IssueSyncError):
    """Credentials are missing, wrong, or not enough."""


class AuthenticationError(AuthError):
    """No valid credentials were given."""

    status_code = 401


class PermissionDeniedError(AuthError):
    """The user is known but may not do this."""

    status_code = 403


class ThrottledError(AuthError):
    """Too many failed attempts (logins) from this client or for this user; wait and retry."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class NotFoundError(IssueSyncError):
    """The named resource does not exist (or is not visible to the caller)."""

    status_code = 404


class InvalidInputError(IssueSyncError):
    """The input is wrong; ``field_errors`` names the fields when it can."""

    status_code = 400


class QueryError(InvalidInputError):
    """A query does not parse or cannot be evaluated; the message names the position."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class ConflictError(IssueSyncError):
    """The request clashes with the current state (a duplicate key, say)."""

    status_code = 409


class PayloadTooLargeError(IssueSyncError):
    """The request body is over a configured limit."""

    status_code = 413


class TrackerError(IssueSyncError):
    """A tracker adapter could not do what the engine asked."""

    status_code = 502


class TrackerOfflineError(TrackerError):
    """The tracker cannot be reached now; the work waits and is retried."""

    status_code = 503


class TrackerRejectedError(TrackerError):
    """The tracker refused a write; ``message`` is the tracker's reason."""

    status_code = 422
