"""Jira Cloud's REST v3 JSON to and from the shapes the v2 code reads: pure functions.

Two things differ from Server's v2 for what a sync reads and writes:

- *Rich text.* Descriptions, environments, comment bodies and multi-line text
  custom fields are ADF documents; :mod:`~issuesync.trackers.jira.adf` turns them
  into the replica's wiki-markup text and back.
- *Users.* Cloud has no user names, only ``accountId``: the replica's
  ``username`` of a Cloud user is its account id (Cloud rarely shows e-mails),
  and a write names users as ``{"accountId": ...}``.

:func:`issue_as_v2` makes a v3 issue read like a v2 one (so ``fieldcodec`` reads
it), :func:`fields_as_v3` makes a v2 ``fields`` body a v3 one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from issuesync.trackers.jira.adf import adf_to_text, text_to_adf

RICH_SYSTEM_FIELDS = frozenset({"description", "environment"})


def with_names(data: Any) -> Any:  # noqa: ANN401 - any JSON
    """The JSON with every user object (one with an ``accountId``) named by that id."""
    if isinstance(data, Mapping):
        copied = {key: with_names(value) for key, value in data.items()}
        if isinstance(copied.get("accountId"), str) and not copied.get("name"):
            copied["name"] = copied["accountId"]
        return copied
    if isinstance(data, list):
        return [with_names(item) for item in data]
    return data


def comment_as_v2(comment: Mapping[str, Any]) -> dict[str, Any]:
    """A v3 comment with its body as text and its users named."""
    named: dict[str, Any] = with_names(comment)
    named["body"] = adf_to_text(comment.get("body")) or ""
    return named


def issue_as_v2(issue: Mapping[str, Any], rich_fields: Collection[str]) -> dict[str, Any]:
    """A v3 issue whose ``rich_fields`` (ids) and comments are text, with its users named."""
    named: dict[str, Any] = with_names(issue)
    fields: dict[str, Any] = dict(named.get("fields") or {})
    for field_id in set(rich_fields) | RICH_SYSTEM_FIELDS:
        if field_id in fields:
            fields[field_id] = adf_to_text(fields[field_id])
    comment = fields.get("comment")
    if isinstance(comment, Mapping):
        listed = comment.get("comments") or []
        fields["comment"] = {
            **comment,
            "comments": [comment_as_v2(c) for c in listed if isinstance(c, Mapping)],
        }
    named["fields"] = fields
    return named


def fields_as_v3(
    fields: Mapping[str, Any], rich_fields: Collection[str], user_fields: Collection[str]
) -> dict[str, Any]:
    """A v2 ``fields`` body as v3 takes it: rich text as ADF, users by ``accountId``."""
    body: dict[str, Any] = {}
    for field_id, value in fields.items():
        if field_id in RICH_SYSTEM_FIELDS or field_id in rich_fields:
            body[field_id] = text_to_adf(value) if isinstance(value, str) else value
        elif field_id in user_fields:
            body[field_id] = _by_account(value)
        else:
            body[field_id] = value
    return body


def _by_account(value: object) -> object:
    if isinstance(value, list):
        return [_by_account(item) for item in value]
    if isinstance(value, Mapping) and "name" in value:
        return {"accountId": value["name"]}
    return value
