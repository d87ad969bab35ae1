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

from issuesync.trackers.jira.adf import adf_to_text, adfs_of, texts_of

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
    """A v3 issue whose ``rich_fields`` (ids) and comments are text, with its users named.

    All its documents are converted in one batch (two pandoc processes at most)."""
    named: dict[str, Any] = with_names(issue)
    fields: dict[str, Any] = dict(named.get("fields") or {})
    rich = [f for f in sorted(set(rich_fields) | RICH_SYSTEM_FIELDS) if f in fields]
    comment = fields.get("comment")
    listed: list[dict[str, Any]] = []
    if isinstance(comment, Mapping):
        listed = [with_names(c) for c in comment.get("comments") or [] if isinstance(c, Mapping)]
    texts = texts_of([fields[f] for f in rich] + [c.get("body") for c in listed])
    fields.update(zip(rich, texts, strict=False))
    for named_comment, text in zip(listed, texts[len(rich) :], strict=True):
        named_comment["body"] = text or ""
    if isinstance(comment, Mapping):
        fields["comment"] = {**comment, "comments": listed}
    named["fields"] = fields
    return named


def fields_as_v3(
    fields: Mapping[str, Any], rich_fields: Collection[str], user_fields: Collection[str]
) -> dict[str, Any]:
    """A v2 ``fields`` body as v3 takes it: rich text as ADF, users by ``accountId``."""
    body: dict[str, Any] = {}
    rich = [
        field_id
        for field_id, value in fields.items()
        if (field_id in RICH_SYSTEM_FIELDS or field_id in rich_fields) and isinstance(value, str)
    ]
    documents = dict(zip(rich, adfs_of([fields[f] for f in rich]), strict=True))
    for field_id, value in fields.items():
        if field_id in documents:
            body[field_id] = documents[field_id]
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
