"""How SD Elements' API answers errors: Django REST framework's bodies (seed 004).

- a request the server refuses as a whole (401, 403, 404, 405, 409, 413, 429, 5xx):
  ``{"detail": "..."}``;
- a body with wrong fields (400): each field's messages under its name,
  ``{"alias": ["This field is required."]}``; a field of ``params`` under ``params``, as
  DRF nests a nested serializer's errors: ``{"params": {"issue_tracker_project": [...]}}``;
- a 400 that names no field (a body that is not JSON, or not an object):
  ``{"non_field_errors": ["..."]}``.

The routes name fields in the dialect's terms; a field path is written with dots
(``params.issue_tracker_project``) and nested here. Every class of the tree answers at
the status HTTP defines for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Final

from issuesync.api.errors import HTTP_STATUSES, ErrorDialect, StatusTable

PREFIX: Final = "/api/v2"
NON_FIELD: Final = "non_field_errors"


def drf_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """An error body as Django REST framework writes it."""
    if status != HTTPStatus.BAD_REQUEST:
        return {"detail": message}
    if not field_errors:
        return {NON_FIELD: [message]}
    body: dict[str, object] = {}
    for path, text in field_errors.items():
        # One level of nesting (params.<key>, system.id): a param's own name may hold dots.
        *parents, name = path.split(".", 1)
        level = body
        for parent in parents:
            found = level.setdefault(parent, {})
            if not isinstance(found, dict):  # the parent has messages of its own
                found = level[parent] = {NON_FIELD: found}
            level = found
        messages = level.setdefault(name, [])
        if isinstance(messages, dict):
            messages = messages.setdefault(NON_FIELD, [])
        assert isinstance(messages, list)
        messages.append(text)
    return body


SDE_STATUSES: Final[StatusTable] = {**HTTP_STATUSES}

SDE: Final = ErrorDialect(drf_error, SDE_STATUSES)

__all__ = ["NON_FIELD", "PREFIX", "SDE", "SDE_STATUSES", "drf_error"]
