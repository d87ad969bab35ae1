"""JQL to SQL for the built-in tracker: ``compile_jql`` and what it returns.

The compiled condition and sort keys go straight into a ``select(Issue)``; no
issue is loaded into Python to decide whether it matches. Names in the query
(projects, statuses, users, custom fields, ...) are resolved to ids with the
session while compiling, so unknown names fail with Jira's messages and the
issue query compares indexed integer columns: ``project = X AND updated >= -1d
ORDER BY updated`` becomes ``project_id = 7 AND updated_ms >= ? ORDER BY
updated_ms DESC, id DESC`` and runs on the ``(project_id, updated_ms)`` index.

``NOT`` is pushed down to the conditions, inverting their operators (``=`` to
``!=``, ``IN`` to ``NOT IN``, ``>`` to ``<=``...), which is how Jira evaluates it:
``NOT assignee = bob`` is ``assignee != bob`` and, like it, skips unassigned issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, or_, true

from issuesync.domain.jql import (
    And,
    Clause,
    FieldRef,
    Not,
    Operator,
    OrderItem,
    Query,
    Terminal,
)
from issuesync.errors import QueryError
from issuesync.trackers.local.jql_catalog import resolve_field
from issuesync.trackers.local.jql_fields import Field, unsupported
from issuesync.trackers.local.jql_values import JqlContext
from issuesync.trackers.local.models import Issue

__all__ = ["CompiledQuery", "JqlContext", "compile_jql"]

_NEGATED: Final[dict[Operator, Operator]] = {
    "=": "!=",
    "!=": "=",
    ">": "<=",
    "<=": ">",
    ">=": "<",
    "<": ">=",
    "~": "!~",
    "!~": "~",
    "IN": "NOT IN",
    "NOT IN": "IN",
    "IS": "IS NOT",
    "IS NOT": "IS",
}


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A query as SQL: ``select(Issue).where(where).order_by(*order_by)``.

    Without ``ORDER BY`` issues come newest first (``Issue.id DESC``); ``Issue.id``
    always ends the sort keys so that pages never overlap or skip.
    """

    where: ColumnElement[bool]
    order_by: list[ColumnElement[Any]] = field(default_factory=list)


def compile_jql(query: Query, context: JqlContext) -> CompiledQuery:
    """Compile a parsed query to SQL for the built-in tracker's tables.

    Raises:
        QueryError: a field does not exist, does not take an operator or cannot
            be sorted by, or a value names nothing (an unknown status, user...).
    """
    compiler = _Compiler(context)
    where = true() if query.where is None else compiler.clause(query.where, negated=False)
    return CompiledQuery(where=where, order_by=compiler.order_by(query.order_by))


class _Compiler:
    def __init__(self, context: JqlContext) -> None:
        self.context = context
        self._fields: dict[FieldRef, Field] = {}

    def field(self, ref: FieldRef) -> Field:
        if ref not in self._fields:
            self._fields[ref] = resolve_field(ref, self.context.session)
        return self._fields[ref]

    def clause(self, clause: Clause, *, negated: bool) -> ColumnElement[bool]:
        if isinstance(clause, Terminal):
            return self.terminal(clause, negated=negated)
        if isinstance(clause, Not):
            return self.clause(clause.clause, negated=not negated)
        parts = [self.clause(child, negated=negated) for child in clause.clauses]
        # De Morgan: under a NOT, AND becomes OR and OR becomes AND.
        if isinstance(clause, And) != negated:
            return and_(*parts)
        return or_(*parts)

    def terminal(self, terminal: Terminal, *, negated: bool) -> ColumnElement[bool]:
        field = self.field(terminal.field)
        label = terminal.field.name
        if terminal.operator not in field.operators:
            raise unsupported(terminal.operator, label)
        op = _NEGATED[terminal.operator] if negated else terminal.operator
        return field.condition(op, terminal.operand, self.context, label)

    def order_by(self, items: tuple[OrderItem, ...]) -> list[ColumnElement[Any]]:
        if not items:
            return [Issue.id.desc()]
        keys: list[ColumnElement[Any]] = []
        descending = False
        for item in items:
            sort = self.field(item.field).sort
            if sort is None:
                raise QueryError(f"Field '{item.field.name}' does not support sorting.")
            written = (
                sort.default_descending if item.direction is None else item.direction == "DESC"
            )
            descending = written != sort.inverted
            for expression in sort.expressions:
                key = expression.desc() if descending else expression.asc()
                if sort.nullable:
                    # Empty sorts after every value in the written ascending order.
                    key = key.nulls_first() if written else key.nulls_last()
                keys.append(key)
        # The tie-breaker follows the last key's direction so that an index on
        # (..., that key) also serves the tie-breaker (the row id ends every index).
        keys.append(Issue.id.desc() if descending else Issue.id.asc())
        return keys
