"""How the Jira dialect answers errors: Jira's body, and its status for each class of the tree.

Registered for the built-in tracker's REST API (``/rest/api/2``) and its attachment
content (``/secure/attachment``) in the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from issuesync.api.errors import HTTP_STATUSES, ErrorDialect, StatusTable


def jira_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """Jira's ``{"errorMessages": [...], "errors": {...}}``."""
    del status
    return {
        "errorMessages": [message] if message and not field_errors else [],
        "errors": dict(field_errors),
    }


# Jira answers every class of the tree at the status HTTP defines for it;
# a class it answers otherwise gets its own entry here.
JIRA_STATUSES: Final[StatusTable] = {**HTTP_STATUSES}

JIRA: Final = ErrorDialect(jira_error, JIRA_STATUSES)

__all__ = ["JIRA", "JIRA_STATUSES", "jira_error"]
