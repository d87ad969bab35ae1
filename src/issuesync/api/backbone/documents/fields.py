"""Field names in Backbone's errors: a body's own (camelCase, dotted, ``[index]``).

Two sources: pydantic's errors for a body that does not validate
(:func:`validation_field_errors`), and the application's errors, which name fields by
their neutral paths (``application/fields.py``) and are renamed here
(:func:`backbone_fields`), with one table per kind of body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from pydantic import ValidationError

from issuesync.errors import IssueSyncError

# The body of POST and PUT /integrations: a connection is connection.application there,
# the queues connection.connector.
INTEGRATION_FIELDS: Final = {
    "first": "firstConnector",
    "second": "secondConnector",
    "first.connection": "firstConnector.connection.application",
    "second.connection": "secondConnector.connection.application",
    "first.queues": "firstConnector.connection.connector",
    "second.queues": "secondConnector.connection.connector",
}
# The body of PUT /integrations/{key}/applicationConnection: each side is a connection.
CONNECTION_FIELDS: Final = {"first": "firstConnector", "second": "secondConnector"}
# The body of POST /connectors/{key}/resync.
RESYNC_FIELDS: Final = {"field_mapping_ids": "fieldMappings", "query": "jql"}
# Sync information (seed 000): the neutral names camelCased, and the stores' *_ms named.
SYNC_INFO_FIELDS: Final = {
    "first_sync_ms": "firstSyncDate",
    "last_outgoing_change_ms": "lastOutgoingChange",
    "last_change_seen_ms": "lastChangeSeen",
    "outgoing_sequence_id": "outgoingMessageSequenceId",
    "last_incoming_change_ms": "lastIncomingChange",
    "incoming_sequence_id": "incomingMessageSequenceId",
}

_SEGMENT = re.compile(r"^(?P<name>[^\[]*)(?P<index>(?:\[\d+\])*)$")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _segment(segment: str, renames: Mapping[str, str]) -> str:
    found = _SEGMENT.match(segment)
    if found is None:
        return segment
    name = found.group("name")
    return renames.get(name, _camel(name)) + found.group("index")


def backbone_path(path: str, renames: Mapping[str, str]) -> str:
    """A neutral field path in Backbone's names: the longest renamed prefix, the rest
    camelCased (``first.queues.send_queue`` → ``firstConnector.connection.connector.sendQueue``)."""
    segments = path.split(".")
    for length in range(len(segments), 0, -1):
        head = ".".join(segments[:length])
        if head in renames:
            return ".".join([renames[head], *(_segment(s, renames) for s in segments[length:])])
    return ".".join(_segment(s, renames) for s in segments)


@contextmanager
def backbone_fields(renames: Mapping[str, str]) -> Iterator[None]:
    """Rename the fields of any error raised inside to Backbone's names."""
    try:
        yield
    except IssueSyncError as exc:
        if exc.field_errors:
            exc.field_errors = {
                backbone_path(name, renames): text for name, text in exc.field_errors.items()
            }
        raise


def validation_field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors keyed by the dotted path of the field, in the body's own names."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        path = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
        ).lstrip(".")
        message = {
            "extra_forbidden": "is not a known field",
            "missing": "is required",
        }.get(error["type"], error["msg"].removeprefix("Value error, "))
        errors.setdefault(path or "body", message)
    return errors
