"""Numbers within their ranges: refused from a body, brought into them when stored.

:func:`whole_number` is the check of one numeric field of an input model: a
whole number from ``low`` to ``high`` or a ``ValueError`` that names the range
(``1e30``, ``NaN``, ``0.5``, ``true``, ``"12abc"`` and ``2**63`` alike). What was
stored before a range was checked is read with the validation context
:data:`STORED`, under which :func:`within_ranges` moves a number outside its
range to the nearest end of it instead, so that an old row cannot stop the
engine. Pure: pydantic only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import annotated_types
from pydantic import BeforeValidator, ValidationInfo
from pydantic.fields import FieldInfo

# The validation context of a configuration read back from the store.
STORED: Final = {"stored": True}


def whole_number(low: int, high: int, unit: str) -> BeforeValidator:
    """Refuses what is not a whole number from ``low`` to ``high``, saying so: a fraction,
    ``1e30``, ``NaN``, ``true``, a text that is not a number (the field's ``ge``/``le``
    state the range in the API's schema too)."""
    message = f"must be a whole number from {low} to {high}{unit}"

    def check(value: object) -> object:
        number = value
        if isinstance(value, str):
            try:
                number = int(value.strip())
            except ValueError:  # not a number, or one of thousands of digits
                raise ValueError(message) from None
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise ValueError(message)
        return number

    return BeforeValidator(check)


def stored(info: ValidationInfo) -> bool:
    """Whether the model is read back from the store (the context :data:`STORED`)."""
    return isinstance(info.context, dict) and bool(info.context.get("stored"))


def _bounds(field: FieldInfo) -> tuple[int | None, int | None]:
    low = high = None
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            low = int(rule.ge)  # type: ignore[call-overload]
        elif isinstance(rule, annotated_types.Le):
            high = int(rule.le)  # type: ignore[call-overload]
    return low, high


def within_ranges(fields: Mapping[str, FieldInfo], data: Any) -> Any:  # noqa: ANN401 - any JSON
    """``data`` (a model's input) with each number outside its field's ``ge``/``le``
    brought to the nearest end of the range."""
    if not isinstance(data, dict):
        return data
    within = dict(data)
    for name, field in fields.items():
        key = field.alias if field.alias in within else name
        value = within.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = _bounds(field)
            if high is not None and not value <= high:  # NaN too
                within[key] = high
            elif low is not None and value < low:
                within[key] = low
    return within
