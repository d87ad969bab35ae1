"""Request bodies as Django REST framework reads them: a JSON object, field by field.

Each field is checked by what it must be (text of a length, an integer in a range, a
boolean, one of some choices, an object) and every wrong field is named at once with
DRF's own messages ("This field is required.", "A valid integer is required."). No
message repeats the value it refuses: a value in the wrong field may be a password.
Fields that DRF would take as read-only (``id``, ``command``, ...) are passed over, so a
script may send back the body it read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Final

from fastapi import Request
from pydantic import ValidationError

from issuesync.api.connections.errors import NON_FIELD
from issuesync.errors import InvalidInputError

MAX_ID: Final = 2**31 - 1
REQUIRED: Final = "This field is required."
NOT_NULL: Final = "This field may not be null."
NOT_BLANK: Final = "This field may not be blank."
NOT_TEXT: Final = "Not a valid string."
NOT_INTEGER: Final = "A valid integer is required."
NOT_BOOLEAN: Final = "Must be a valid boolean."
INVALID: Final = "The request is not valid."


class Fields:
    """One JSON object's fields, read one by one; the messages gathered by field path
    (``prefix`` + name: ``params.issue_tracker_project``)."""

    def __init__(
        self, data: Mapping[str, object], errors: dict[str, str], prefix: str = ""
    ) -> None:
        self.data = data
        self.errors = errors
        self.prefix = prefix

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def refuse(self, name: str, message: str) -> None:
        """Name a field as wrong (its first message stays); ``""``: this object itself."""
        self.errors.setdefault(
            self.prefix + name if name else self.prefix.rstrip(".") or NON_FIELD, message
        )

    def refused(self) -> bool:
        """Whether this object or one of its fields was named as wrong."""
        own = self.prefix.rstrip(".")
        return any(name == own or name.startswith(self.prefix) for name in self.errors)

    def _given(self, name: str, *, required: bool, nullable: bool) -> object:
        if name not in self.data:
            if required:
                self.refuse(name, REQUIRED)
            return None
        value = self.data[name]
        if value is None and not nullable:
            self.refuse(name, NOT_NULL)
        return value

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        blank: bool = False,
        max_length: int = 255,
    ) -> str | None:
        """A string (stripped); None when absent, null or wrong."""
        value = self._given(name, required=required, nullable=nullable)
        if value is None:
            return None
        if not isinstance(value, str):
            self.refuse(name, NOT_TEXT)
            return None
        value = value.strip()
        if not value and not blank:
            self.refuse(name, NOT_BLANK)
            return None
        if len(value) > max_length:
            self.refuse(name, f"Ensure this field has no more than {max_length} characters.")
            return None
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        low: int = 1,
        high: int = MAX_ID,
    ) -> int | None:
        """An integer (or a string of digits, as DRF takes it) in ``low..high``."""
        value = self._given(name, required=required, nullable=nullable)
        if value is None:
            return None
        number = as_integer(value)
        if number is None:
            self.refuse(name, NOT_INTEGER)
        elif number < low:
            self.refuse(name, f"Ensure this value is greater than or equal to {low}.")
        elif number > high:
            self.refuse(name, f"Ensure this value is less than or equal to {high}.")
        else:
            return number
        return None

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        """A JSON boolean."""
        value = self._given(name, required=required, nullable=False)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.refuse(name, NOT_BOOLEAN)
            return None
        return value

    def choice(self, name: str, choices: Collection[str], *, required: bool = False) -> str | None:
        """One of ``choices`` (named in the message when it is not)."""
        value = self._given(name, required=required, nullable=False)
        if value is None:
            return None
        if not isinstance(value, str) or value not in choices:
            self.refuse(name, f"Not a valid choice: use one of {', '.join(choices)}.")
            return None
        return value

    def object(self, name: str, *, required: bool = False) -> Fields | None:
        """A nested object, read with the same errors under ``name.``."""
        value = self._given(name, required=required, nullable=False)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.refuse(name, f'Expected a dictionary of items but got type "{_kind(value)}".')
            return None
        return Fields(value, self.errors, f"{self.prefix}{name}.")


def as_integer(value: object) -> int | None:
    """An integer, or a string of (at most 12) digits, as an int; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and 0 < len(value.strip()) <= 12:  # noqa: PLR2004 - beyond any id
        text = value.strip()
        digits = text.removeprefix("-")
        if digits.isascii() and digits.isdigit():
            return int(text)
    return None


def model_errors(exc: ValidationError, names: Mapping[str, str]) -> dict[str, str]:
    """A neutral model's refusal, each field under the body's name for it, in the model's
    words without pydantic's "Value error, " (never the value: its input is left out)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False):
        name = str(error["loc"][0]) if error["loc"] else ""
        text = error["msg"].removeprefix("Value error, ")
        fields.setdefault(names.get(name, name) or NON_FIELD, text)
    return fields


def raise_errors(errors: Mapping[str, str]) -> None:
    """Raise the gathered messages, if there are any, as one 400."""
    if errors:
        raise InvalidInputError(INVALID, field_errors=errors)


def _kind(value: object) -> str:
    return {str: "str", list: "list", int: "int", float: "float", bool: "bool"}.get(
        type(value), "object"
    )


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("a number is too large")
    return number


async def json_object(request: Request) -> dict[str, object]:
    """The request's body as a JSON object ({} when it is empty, as DRF reads it).

    The door (``api/guard.py``) has refused a body too large, too deep or not UTF-8.
    """
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InvalidInputError(f"JSON parse error - {reason}.") from None
    if not isinstance(data, dict):
        raise InvalidInputError(f"Invalid data. Expected a dictionary, but got {_kind(data)}.")
    return data
