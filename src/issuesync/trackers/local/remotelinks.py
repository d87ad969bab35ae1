"""Remote issue links of the built-in tracker: Jira's ``issue/{key}/remotelink``.

A remote link points from an issue to an object elsewhere (a ticket in another
tracker, a build, a page). As Jira Server 8.20 defines the resource:

- ``POST`` creates a link, or, when its ``globalId`` names a link the issue has
  already, updates that one: 201 for a new link, 200 for an updated one, both
  answering ``{"id", "self"}``;
- ``GET`` lists the issue's links, or answers the one of ``?globalId=``; ``GET|PUT|
  DELETE .../remotelink/{id}`` reads, replaces (what the body leaves out is cleared)
  and deletes one; ``DELETE ...remotelink?globalId=`` deletes by the global id;
- an id that is not a number, or names another issue's link, is a 400; a link that
  does not exist is a 404.

``object.url`` and ``object.title`` are required. Every text is bounded (255
characters, as Jira's columns, or the tracker's text limit for the summary), and
every URL is ``http`` or ``https`` (``domain.urls.checked_link``): a link is shown to
people, so a ``javascript:`` one is never stored. An issue holds at most
:data:`MAX_REMOTE_LINKS` links, a bound of ours. Deleting an issue deletes its links
(a foreign key with ``ON DELETE CASCADE``). Every user may read and add links (Link
Issues); editing and deleting are open to every user too, as Jira's default scheme
gives Link Issues to everyone who can browse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from sqlalchemy import func, select

from issuesync.domain.urls import MAX_URL_LENGTH, checked_link
from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.models import Issue, RemoteLink, row_id
from issuesync.trackers.local.textlimits import check_length

MAX_REMOTE_LINKS: Final = 1000  # per issue: a page of them is always one small answer
MAX_SHORT_TEXT: Final = 255  # globalId, relationship, title, names: Jira's column width

_TOP_LEVEL: Final = frozenset({"globalId", "application", "relationship", "object"})
_OBJECT: Final = frozenset({"url", "title", "summary", "icon", "status"})
_APPLICATION: Final = frozenset({"type", "name"})
_ICON: Final = frozenset({"url16x16", "title", "link"})
_STATUS: Final = frozenset({"resolved", "icon"})


def list_remote_links(op: Operation, key: str, global_id: str | None) -> list[JsonDict] | JsonDict:
    """The issue's remote links, oldest first; the one link of ``global_id`` when given."""
    issue = op.issue(key)
    if global_id is not None:
        return _json(op, issue, _by_global_id(op, issue, global_id))
    rows = op.session.scalars(
        select(RemoteLink).where(RemoteLink.issue_id == issue.id).order_by(RemoteLink.id)
    )
    return [_json(op, issue, row) for row in rows]


def get_remote_link(op: Operation, key: str, link_id: str) -> JsonDict:
    """One remote link of the issue."""
    issue = op.issue(key)
    return _json(op, issue, _link(op, issue, link_id))


def create_or_update_remote_link(
    op: Operation, key: str, body: Mapping[str, object]
) -> tuple[JsonDict, bool]:
    """Create a link, or update the issue's link of the body's ``globalId``.

    Returns ``{"id", "self"}`` and whether a new link was made (201) or not (200).
    """
    issue = op.issue(key)
    values = _values(op, body)
    row = None
    if values["global_id"] is not None:
        row = op.session.scalar(
            select(RemoteLink).where(
                RemoteLink.issue_id == issue.id, RemoteLink.global_id == values["global_id"]
            )
        )
    created = row is None
    if row is None:
        count = op.session.scalar(select(func.count()).where(RemoteLink.issue_id == issue.id)) or 0
        if count >= MAX_REMOTE_LINKS:
            raise InvalidInputError(
                f"The issue has {MAX_REMOTE_LINKS} remote links, as many as an issue may have.",
                field_errors={"remotelink": f"at most {MAX_REMOTE_LINKS} per issue"},
            )
        row = RemoteLink(issue_id=issue.id, created_ms=op.now)
        op.session.add(row)
    _assign(row, values, op.now)
    op.touch(issue)
    op.session.flush()
    return {"id": row.id, "self": _self(op, issue, row)}, created


def update_remote_link(op: Operation, key: str, link_id: str, body: Mapping[str, object]) -> None:
    """Replace a link with the body: what it leaves out is cleared, as Jira does."""
    issue = op.issue(key)
    row = _link(op, issue, link_id)
    values = _values(op, body)
    if values["global_id"] is not None and values["global_id"] != row.global_id:
        clash = op.session.scalar(
            select(RemoteLink.id).where(
                RemoteLink.issue_id == issue.id, RemoteLink.global_id == values["global_id"]
            )
        )
        if clash is not None:
            raise InvalidInputError(
                "Another remote link of this issue has that global id.",
                field_errors={"globalId": "Another remote link of this issue has this globalId."},
            )
    _assign(row, values, op.now)
    op.touch(issue)


def delete_remote_link(op: Operation, key: str, link_id: str) -> None:
    """Delete one link of the issue."""
    issue = op.issue(key)
    op.session.delete(_link(op, issue, link_id))
    op.touch(issue)


def delete_remote_link_by_global_id(op: Operation, key: str, global_id: str) -> None:
    """Delete the issue's link of ``global_id``."""
    issue = op.issue(key)
    op.session.delete(_by_global_id(op, issue, global_id))
    op.touch(issue)


# -- reading ------------------------------------------------------------------------------


def _link(op: Operation, issue: Issue, link_id: str) -> RemoteLink:
    number = row_id(link_id)
    if number is None:
        raise InvalidInputError(
            f"The remote link id '{link_id}' is not a valid number.",
            field_errors={"linkId": "must be a number"},
        )
    row = op.session.get(RemoteLink, number)
    if row is None:
        raise NotFoundError(f"No remote link with id '{link_id}' exists.")
    if row.issue_id != issue.id:
        raise InvalidInputError(
            f"The remote link with id '{link_id}' does not belong to the issue {issue.key}."
        )
    return row


def _by_global_id(op: Operation, issue: Issue, global_id: str) -> RemoteLink:
    row = op.session.scalar(
        select(RemoteLink).where(RemoteLink.issue_id == issue.id, RemoteLink.global_id == global_id)
    )
    if row is None:
        raise NotFoundError(f"No remote link with globalId '{global_id}' exists on {issue.key}.")
    return row


def _self(op: Operation, issue: Issue, row: RemoteLink) -> str:
    return f"{op.base_url}/rest/api/2/issue/{issue.key}/remotelink/{row.id}"


def _json(op: Operation, issue: Issue, row: RemoteLink) -> JsonDict:
    """Jira's remote link: ``id``, ``self``, ``globalId``, ``application``, ``relationship``,
    ``object`` {url, title, summary, icon, status}."""
    target: JsonDict = {"url": row.url, "title": row.title}
    if row.summary is not None:
        target["summary"] = row.summary
    target["icon"] = json.loads(row.icon_json) if row.icon_json else {}
    target["status"] = json.loads(row.status_json) if row.status_json else {}
    body: JsonDict = {"id": row.id, "self": _self(op, issue, row)}
    if row.global_id is not None:
        body["globalId"] = row.global_id
    body["application"] = json.loads(row.application_json) if row.application_json else {}
    if row.relationship is not None:
        body["relationship"] = row.relationship
    body["object"] = target
    return body


# -- checking a body ----------------------------------------------------------------------


def _assign(row: RemoteLink, values: Mapping[str, object], now: int) -> None:
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_ms = now


def _values(op: Operation, body: Mapping[str, object]) -> dict[str, object]:
    """The columns a body sets, every part checked; every problem is reported at once."""
    errors: dict[str, str] = {}
    _unknown(body, _TOP_LEVEL, "", errors)
    target = body.get("object")
    if not isinstance(target, Mapping):
        raise InvalidInputError(
            "The remote link needs an object with a url and a title.",
            field_errors={"object": '\'object\' is required: {"url": ..., "title": ...}'},
        )
    _unknown(target, _OBJECT, "object.", errors)
    values: dict[str, object] = {
        "global_id": _text(body.get("globalId"), "globalId", MAX_SHORT_TEXT, errors),
        "relationship": _text(body.get("relationship"), "relationship", MAX_SHORT_TEXT, errors),
        "url": _url(target.get("url"), "url", errors, required=True),
        "title": _text(target.get("title"), "title", MAX_SHORT_TEXT, errors, required=True),
        "summary": _text(target.get("summary"), "summary", op.text_limit, errors),
        "application_json": _part(body.get("application"), "application", _APPLICATION, errors),
        "icon_json": _icon(target.get("icon"), "icon", errors),
        "status_json": _status(target.get("status"), errors),
    }
    if errors:
        raise InvalidInputError("The remote link is not valid.", field_errors=errors)
    return values


def _unknown(
    value: Mapping[str, object], known: frozenset[str], prefix: str, errors: dict[str, str]
) -> None:
    for name in sorted(set(value) - known):
        errors[prefix + name] = f"Unrecognized field '{name}'."


def _text(
    value: object, name: str, limit: int, errors: dict[str, str], *, required: bool = False
) -> str | None:
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = f"'{name}' is required."
        return None
    if not isinstance(value, str):
        errors[name] = f"'{name}' must be a string."
        return None
    try:
        return check_length(value, name, limit)
    except InvalidInputError as exc:
        errors.update(exc.field_errors or {name: exc.message})
        return None


def _url(value: object, name: str, errors: dict[str, str], *, required: bool = False) -> str | None:
    text = _text(value, name, MAX_URL_LENGTH, errors, required=required)
    if text is None:
        return None
    try:
        return checked_link(text)
    except ValueError as exc:
        errors[name] = f"The URL {exc}."
        return None


def _part(value: object, name: str, known: frozenset[str], errors: dict[str, str]) -> str | None:
    """A small object of short texts (``application``), kept as its JSON text."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors[name] = f"'{name}' must be an object."
        return None
    _unknown(value, known, f"{name}.", errors)
    kept = {k: _text(value.get(k), f"{name}.{k}", MAX_SHORT_TEXT, errors) for k in sorted(known)}
    kept = {k: v for k, v in kept.items() if v is not None}
    return json.dumps(kept) if kept else None


def _icon(value: object, name: str, errors: dict[str, str]) -> str | None:
    """An icon: ``url16x16`` and ``link`` (http or https), ``title``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors[name] = f"'{name}' must be an object."
        return None
    _unknown(value, _ICON, f"{name}.", errors)
    kept: dict[str, str | None] = {
        "url16x16": _url(value.get("url16x16"), f"{name}.url16x16", errors),
        "title": _text(value.get("title"), f"{name}.title", MAX_SHORT_TEXT, errors),
        "link": _url(value.get("link"), f"{name}.link", errors),
    }
    present = {k: v for k, v in kept.items() if v is not None}
    return json.dumps(present) if present else None


def _status(value: object, errors: dict[str, str]) -> str | None:
    """``{"resolved": bool, "icon": {...}}``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors["status"] = "'status' must be an object."
        return None
    _unknown(value, _STATUS, "status.", errors)
    kept: dict[str, object] = {}
    resolved = value.get("resolved")
    if resolved is not None:
        if isinstance(resolved, bool):
            kept["resolved"] = resolved
        else:
            errors["status.resolved"] = "'resolved' must be true or false."
    icon = _icon(value.get("icon"), "status.icon", errors)
    if icon is not None:
        kept["icon"] = json.loads(icon)
    return json.dumps(kept) if kept else None
