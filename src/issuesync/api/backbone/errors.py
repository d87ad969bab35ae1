"""How the Backbone dialect answers errors: Atlassian's REST plugin body, and its status
for each class of the tree (registered for both base paths by ``routers.install``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from issuesync.api.errors import HTTP_STATUSES, ErrorDialect, StatusTable


def backbone_error(status: int, message: str, field_errors: Mapping[str, str]) -> object:
    """Errors as Atlassian's REST plugins answer them: ``{"status-code": 404, "message": ...}``.

    A 400 for a wrong body also names each wrong field under ``errors``.
    """
    body: dict[str, object] = {"status-code": status, "message": message}
    if field_errors:
        body["errors"] = dict(field_errors)
    return body


# Backbone (Atlassian's REST plugins) answers every class at the status HTTP defines for it;
# a class it answers otherwise gets its own entry here.
BACKBONE_STATUSES: Final[StatusTable] = {**HTTP_STATUSES}

BACKBONE: Final = ErrorDialect(backbone_error, BACKBONE_STATUSES)

__all__ = ["BACKBONE", "BACKBONE_STATUSES", "backbone_error"]
