"""The syntax tree of a JQL query: immutable values that compare by content.

The constructors reject shapes that no query text can produce (an ``And`` of one
clause, ``IS`` with a value, ``IN`` with a single value), so every tree that can
be built can also be printed and parsed back to itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

Operator: TypeAlias = Literal[
    "=", "!=", ">", ">=", "<", "<=", "~", "!~", "IN", "NOT IN", "IS", "IS NOT"
]
Direction: TypeAlias = Literal["ASC", "DESC"]

COMPARISON_OPERATORS: Final[frozenset[str]] = frozenset(
    {"=", "!=", ">", ">=", "<", "<=", "~", "!~"}
)
LIST_OPERATORS: Final[frozenset[str]] = frozenset({"IN", "NOT IN"})
EMPTY_OPERATORS: Final[frozenset[str]] = frozenset({"IS", "IS NOT"})

_CUSTOM_FIELD = re.compile(r"cf\[(\d+)\]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FieldRef:
    """A field as written: a name (``status``, ``"Story Points"``) or ``cf[10001]``."""

    name: str

    @property
    def custom_id(self) -> int | None:
        """The id of a custom field written as ``cf[id]``, else None."""
        match = _CUSTOM_FIELD.fullmatch(self.name)
        return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Value:
    """A single value; ``quoted`` records whether it was written in quotes."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Empty:
    """``EMPTY`` or ``NULL``: the field has no value."""


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """A JQL function such as ``currentUser()`` or ``startOfDay(-1)``."""

    name: str
    args: tuple[Value, ...] = ()


ListItem: TypeAlias = Value | FunctionCall | Empty


@dataclass(frozen=True, slots=True)
class ValueList:
    """A parenthesised list of operands, for ``IN`` and ``NOT IN``."""

    items: tuple[ListItem, ...]

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a JQL list needs at least one item")


Operand: TypeAlias = Value | ValueList | FunctionCall | Empty


@dataclass(frozen=True, slots=True)
class Terminal:
    """One condition: ``field operator operand``."""

    field: FieldRef
    operator: Operator
    operand: Operand

    def __post_init__(self) -> None:
        if self.operator in EMPTY_OPERATORS:
            valid = isinstance(self.operand, Empty)
        elif self.operator in LIST_OPERATORS:
            valid = isinstance(self.operand, ValueList | FunctionCall)
        else:
            valid = self.operator in COMPARISON_OPERATORS and not isinstance(
                self.operand, ValueList
            )
        if not valid:
            raise ValueError(f"operator {self.operator!r} cannot take {self.operand!r}")


@dataclass(frozen=True, slots=True)
class And:
    """All of two or more clauses."""

    clauses: tuple[Clause, ...]

    def __post_init__(self) -> None:
        if len(self.clauses) < 2:  # noqa: PLR2004 - a conjunction joins at least two
            raise ValueError("AND joins at least two clauses")


@dataclass(frozen=True, slots=True)
class Or:
    """Any of two or more clauses."""

    clauses: tuple[Clause, ...]

    def __post_init__(self) -> None:
        if len(self.clauses) < 2:  # noqa: PLR2004 - a disjunction joins at least two
            raise ValueError("OR joins at least two clauses")


@dataclass(frozen=True, slots=True)
class Not:
    """The negation of a clause."""

    clause: Clause


Clause: TypeAlias = Terminal | And | Or | Not


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One ``ORDER BY`` key; ``direction`` None means the field's default."""

    field: FieldRef
    direction: Direction | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """A whole query: an optional condition and the sort keys."""

    where: Clause | None = None
    order_by: tuple[OrderItem, ...] = ()
