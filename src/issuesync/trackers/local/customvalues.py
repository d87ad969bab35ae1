"""Custom field values of the built-in tracker: Jira's JSON in, typed rows out."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from issuesync.errors import InvalidInputError
from issuesync.store.users import User
from issuesync.trackers.local.jiratime import format_ms, parse_date, parse_datetime_ms
from issuesync.trackers.local.models import CustomField, CustomFieldType, CustomValue
from issuesync.trackers.local.textlimits import DEFAULT_TEXT_LIMIT, check_length
from issuesync.trackers.local.users import UserDirectory

MAX_STRING = 255


def number_text(value: float) -> str:
    """A number as the history shows it: no ``.0`` on whole numbers."""
    return str(int(value)) if value.is_integer() else str(value)


@dataclass
class CustomValues:
    """Turns values of custom fields, as Jira clients send them, into rows, and back to text.

    One row per value: string and text fields fill ``string_value``; number, date
    and date-time fields their own column; option and user fields hold the id.
    """

    session: Session
    users: UserDirectory
    text_limit: int = DEFAULT_TEXT_LIMIT  # a text field's; a string field's is 255

    def value(self, custom: CustomField, value: object) -> CustomValue:
        """The row for one value of a single-valued field (or one item of a list)."""
        kind = CustomFieldType(custom.field_type)
        field_id = custom.field_id
        row = CustomValue(field_id=custom.id)
        if kind in (CustomFieldType.STRING, CustomFieldType.TEXT):
            if not isinstance(value, str):
                raise InvalidInputError(field_id, field_errors={field_id: "Expected a string."})
            if kind is CustomFieldType.STRING and len(value) > MAX_STRING:
                raise InvalidInputError(
                    field_id, field_errors={field_id: "Text must be less than 255 characters."}
                )
            row.string_value = check_length(value, field_id, self.text_limit)
        elif kind is CustomFieldType.NUMBER:
            number = math.nan
            if isinstance(value, int | float) and not isinstance(value, bool):
                # An integer beyond a double's range would overflow; it is no number we keep.
                with contextlib.suppress(OverflowError):
                    number = float(value)
            if not math.isfinite(number):
                raise InvalidInputError(field_id, field_errors={field_id: "Expected a number."})
            row.number_value = number
        elif kind is CustomFieldType.DATE:
            row.date_value = parse_date(value, field_id)
        elif kind is CustomFieldType.DATETIME:
            row.datetime_ms = parse_datetime_ms(value, field_id)
        else:
            return self.row(custom, self.ref(custom, value))
        return row

    def ref(self, custom: CustomField, value: object) -> int:
        """The option id or user id a value of an option/user field names."""
        kind = CustomFieldType(custom.field_type)
        field_id = custom.field_id
        if kind in (CustomFieldType.USER, CustomFieldType.USERS):
            user = self.users.resolve(value, field_id)
            if user is None:
                raise InvalidInputError(field_id, field_errors={field_id: "Expected a user."})
            return user.id
        ref = value
        if isinstance(value, Mapping):
            if value.get("id") is not None:
                for option in custom.options:
                    if str(option.id) == str(value["id"]):
                        return option.id
                raise InvalidInputError(
                    field_id, field_errors={field_id: f"Option id '{value['id']}' is not valid"}
                )
            ref = value.get("value")
        for option in custom.options:
            if isinstance(ref, str) and option.value.lower() == ref.lower():
                return option.id
        raise InvalidInputError(
            field_id, field_errors={field_id: f"Option value '{ref}' is not valid"}
        )

    @staticmethod
    def row(custom: CustomField, ref: int) -> CustomValue:
        """The row of an option or user value."""
        kind = CustomFieldType(custom.field_type)
        if kind in (CustomFieldType.USER, CustomFieldType.USERS):
            return CustomValue(field_id=custom.id, user_id=ref)
        return CustomValue(field_id=custom.id, option_id=ref)

    @staticmethod
    def key(row: CustomValue) -> object:
        """The raw value a row holds, for the change history."""
        for value in (
            row.option_id,
            row.user_id,
            row.string_value,
            row.number_value,
            row.date_value,
            row.datetime_ms,
        ):
            if value is not None:
                return value
        return None

    def text(self, custom: CustomField, rows: list[CustomValue]) -> str | None:
        """The display text of a field's rows, for the change history."""
        texts: list[str] = []
        options = {o.id: o.value for o in custom.options}
        for row in rows:
            if row.option_id is not None:
                texts.append(options.get(row.option_id, str(row.option_id)))
            elif row.user_id is not None:
                user = self.session.get(User, row.user_id)
                texts.append(user.display_name if user else str(row.user_id))
            elif row.datetime_ms is not None:
                texts.append(format_ms(row.datetime_ms) or "")
            elif row.number_value is not None:
                texts.append(number_text(row.number_value))
            else:
                texts.append(str(self.key(row)))
        return ", ".join(texts) or None
