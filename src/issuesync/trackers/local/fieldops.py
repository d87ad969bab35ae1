"""Jira's operations on multi-valued fields, and the small checks the writer shares."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from issuesync.errors import InvalidInputError
from issuesync.trackers.local.models import Component, Version, row_id

K = TypeVar("K")
MAX_LABEL = 255


def ids_text(values: Sequence[object]) -> str | None:
    """Raw values as the change history shows them."""
    return ", ".join(str(v) for v in values) or None


def names_text(rows: Mapping[int, Component] | Mapping[int, Version], ids: list[int]) -> str | None:
    """Display names as the change history shows them."""
    return ", ".join(rows[i].name for i in ids if i in rows) or None


def apply_operation(
    verb: str,
    value: object,
    current: list[K],
    resolve: Callable[[object], K],
    field_id: str,
) -> list[K]:
    """The wanted values after Jira's ``set``, ``add`` or ``remove`` of a multi-valued field."""
    if verb == "set":
        if not isinstance(value, list):
            raise InvalidInputError(field_id, field_errors={field_id: "Expected a list."})
        return list(dict.fromkeys(resolve(v) for v in value))
    if verb == "add":
        new = resolve(value)
        return current if new in current else [*current, new]
    if verb == "remove":
        gone = resolve(value)
        return [c for c in current if c != gone]
    raise InvalidInputError(field_id, field_errors={field_id: f"Unknown operation '{verb}'."})


def named_row(
    rows: Mapping[int, Component] | Mapping[int, Version],
    value: object,
    field_id: str,
    label: str,
) -> int:
    """The id of the component or version a reference names (by id or by name)."""
    if isinstance(value, Mapping):
        if value.get("id") is not None:
            key = str(value["id"])
            number = row_id(key)
            if number is not None and number in rows:
                return number
            raise InvalidInputError(
                field_id, field_errors={field_id: f"{label} id '{key}' is not valid"}
            )
        value = value.get("name")
    if isinstance(value, str):
        for candidate, row in rows.items():
            if row.name.lower() == value.lower():
                return candidate
    raise InvalidInputError(
        field_id, field_errors={field_id: f"{label} name '{value}' is not valid"}
    )


def valid_label(value: object) -> str:
    """A label as Jira allows it: non-empty, without spaces."""
    if not isinstance(value, str) or not value or len(value) > MAX_LABEL:
        raise InvalidInputError(
            "labels", field_errors={"labels": "A label must be a non-empty string."}
        )
    if any(ch.isspace() for ch in value):
        raise InvalidInputError(
            "labels",
            field_errors={"labels": "The label '" + value + "' contains spaces which is invalid."},
        )
    return value
