"""The wire of the fake GitLab: its answers, JSON bodies, list filters, paging and uploads.

Used by :mod:`issuesync.testing.fake_gitlab`; each function follows GitLab's
documented behaviour for the part it names.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Final

import httpx

MAX_PER_PAGE: Final = 100
Json = dict[str, Any]
Answer = tuple[int, Any, dict[str, str]]  # status, JSON or bytes, headers


class Reply(Exception):  # noqa: N818 - a control-flow signal, not an error
    """An answer other than the handler's: an error, or a 429."""

    def __init__(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def too_many(wait_s: int, headers: Mapping[str, str]) -> Reply:
    return Reply(429, {"message": "Retry later"}, {**headers, "Retry-After": str(wait_s)})


def iso(ms: int) -> str:
    """GitLab's time stamps: ISO 8601 in UTC, to the millisecond."""
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ms(text: str) -> int:
    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def body_of(request: httpx.Request) -> Json:
    """A JSON body, or form fields (GitLab takes both)."""
    if not request.content:
        return dict(request.url.params)
    try:
        body = json.loads(request.content)
    except ValueError as exc:
        raise Reply(400, {"error": "the body is not JSON"}) from exc
    if not isinstance(body, dict):
        raise Reply(400, {"error": "the body is not a JSON object"})
    return body


def selected(issue: Json, params: httpx.QueryParams) -> bool:
    """Whether the issue passes the list filters GitLab's issue list documents."""
    checks: list[bool] = []
    if after := params.get("updated_after"):
        checks.append(ms(issue["updated_at"]) >= ms(after))
    if before := params.get("updated_before"):
        checks.append(ms(issue["updated_at"]) <= ms(before))
    if after := params.get("created_after"):
        checks.append(ms(issue["created_at"]) >= ms(after))
    if (state := params.get("state", "all")) != "all":
        checks.append(issue["state"] == state)
    if labels := params.get("labels"):
        checks.append(all(name.strip() in issue["labels"] for name in labels.split(",")))
    if milestone := params.get("milestone"):
        checks.append((issue["milestone"] or {}).get("title") == milestone)
    if assignee := params.get("assignee_username"):
        checks.append(any(a["username"] == assignee for a in issue["assignees"]))
    if author := params.get("author_username"):
        checks.append(issue["author"]["username"] == author)
    if issue_type := params.get("issue_type"):
        checks.append(issue["issue_type"] == issue_type)
    if iids := params.get_list("iids[]"):
        checks.append(str(issue["iid"]) in iids)
    if search := params.get("search"):
        where = params.get("in", "title,description").split(",")
        texts = [str(issue.get(name) or "") for name in where]
        checks.append(any(search.lower() in text.lower() for text in texts))
    return all(checks)


def page(request: httpx.Request, items: list[Json]) -> Answer:
    """One page of ``items`` with GitLab's offset-paging headers."""
    params = request.url.params
    try:
        per_page = min(max(int(params.get("per_page", 20)), 1), MAX_PER_PAGE)
        page = max(int(params.get("page", 1)), 1)
    except ValueError as exc:
        raise Reply(400, {"error": "page or per_page is invalid"}) from exc
    total_pages = max((len(items) + per_page - 1) // per_page, 1)
    chosen = items[(page - 1) * per_page : page * per_page]
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Total": str(len(items)),
        "X-Total-Pages": str(total_pages),
        "X-Next-Page": str(page + 1) if page < total_pages else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "",
    }
    if page < total_pages:
        headers["Link"] = f'<{request.url.copy_merge_params({"page": page + 1})}>; rel="next"'
    return 200, chosen, headers


def multipart_file(request: httpx.Request) -> tuple[str, bytes]:
    """The ``file`` part of a multipart upload: its filename and content."""
    kind = request.headers.get("Content-Type", "")
    if not kind.startswith("multipart/form-data"):
        raise Reply(400, {"error": "file is missing"})
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + kind.encode() + b"\r\n\r\n" + request.read()
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            filename = part.get_filename() or "file"
            payload = part.get_payload(decode=True)
            return filename, payload if isinstance(payload, bytes) else b""
    raise Reply(400, {"error": "file is missing"})
