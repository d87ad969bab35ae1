"""JQL search over the built-in tracker, evaluated as SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from issuesync.domain.jql import parse_jql
from issuesync.errors import InvalidInputError
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.jql_sql import JqlContext, compile_jql
from issuesync.trackers.local.models import Issue
from issuesync.trackers.local.render import FieldSelection

MAX_RESULTS = 1000


def search(
    op: Operation,
    jql: str,
    start_at: int,
    max_results: int,
    fields: str | Sequence[str] | None,
    expand: str | Sequence[str] | None,
    *,
    validate: bool = True,
) -> JsonDict:
    """Jira's search: a page of issues matching ``jql`` and the total count.

    ``validate`` false (Jira's ``validateQuery=false``): an unknown issue key matches
    nothing and comes back in ``warningMessages``.
    """
    if start_at < 0:
        raise InvalidInputError(
            "startAt must not be negative.", field_errors={"startAt": "must be >= 0"}
        )
    if max_results < 0:
        raise InvalidInputError(
            "maxResults must not be negative.", field_errors={"maxResults": "must be >= 0"}
        )
    max_results = min(max_results, MAX_RESULTS)
    query = parse_jql(jql)
    context = JqlContext(
        session=op.session,
        current_user_id=op.actor.id,
        now_ms=op.now,
        all_emails=op.emails.everyone,
        validate=validate,
    )
    compiled = compile_jql(query, context)
    total = op.session.scalar(select(func.count()).select_from(Issue).where(compiled.where)) or 0
    issues = list(
        op.session.scalars(
            select(Issue)
            .where(compiled.where)
            .order_by(*compiled.order_by)
            .offset(start_at)
            .limit(max_results)
        )
    )
    expands = _expand_set(expand)
    selection = FieldSelection.parse(fields, default="*navigable")
    renderer = op.renderer()
    rendered = renderer.issues(issues, selection, changelog="changelog" in expands)
    extra = renderer.names_and_schema(
        selection, names="names" in expands, schema="schema" in expands
    )
    page: JsonDict = {
        "expand": "schema,names",
        "startAt": start_at,
        "maxResults": max_results,
        "total": total,
        "issues": rendered,
    }
    if context.warnings:
        page["warningMessages"] = context.warnings
    return extra | page


def _expand_set(expand: str | Sequence[str] | None) -> set[str]:
    if expand is None:
        return set()
    chunks = [expand] if isinstance(expand, str) else list(expand)
    return {part.strip() for chunk in chunks for part in chunk.split(",") if part.strip()}
