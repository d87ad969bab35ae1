"""A small stateful Jira Cloud (REST v3), as an ``httpx.MockTransport`` handler.

It follows Atlassian's documented behaviour for what the ``jira`` adapter uses:
``serverInfo`` says ``deploymentType: "Cloud"``; users have an ``accountId``
and no name; descriptions and comment bodies are ADF documents (a plain string
is refused with 400, as Cloud does); ``POST /search/jql`` pages by an opaque
``nextPageToken`` (left out of the last page), takes no ``startAt`` and gives no
``total``; update times carry milliseconds; a throttled request gets 429 with
``Retry-After`` and ``X-RateLimit-Reset``. JQL is the subset the adapter sends
(``project``, ``key in``, ``updated >=``, ``created >= -Nd``, ``creator =
currentUser()``, ``summary ~``, ``labels =``, ``AND``/``OR``, ``ORDER BY``);
anything else is refused, as Jira refuses what it cannot parse.

Serve it over HTTP with :class:`~issuesync.testing.handler_server.HandlerServer`
or hand it to a client as ``httpx.MockTransport(fake)``.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.parser
import email.policy
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import unquote

import httpx

from issuesync.trackers.http import RequestBudget
from issuesync.trackers.jira.client import CLOUD_LIMITS

Json = dict[str, Any]

STATUSES: Final = (("10000", "To Do", "new"), ("10001", "In Progress", "indeterminate"),
                   ("10002", "Done", "done"))  # fmt: skip
TYPES: Final = (("10001", "Task", False), ("10002", "Bug", False), ("10003", "Subtask", True))
PRIORITIES: Final = (("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"))
NOTES_FIELD: Final = "customfield_10050"  # a multi-line text custom field: ADF
SEARCH_CAP: Final = 100
PERMISSIONS: Final = ("BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES",
                      "ADD_COMMENTS", "CREATE_ATTACHMENTS")  # fmt: skip


def _stamp(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


def _is_adf(value: object) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and "content" in value


class SimulatedClock:
    """A monotonic clock that moves only when slept on: a request budget's, in tests."""

    def __init__(self) -> None:
        self.at = 0.0
        self.slept = 0.0

    def now(self) -> float:
        """The simulated time, in seconds."""
        return self.at

    def sleep(self, seconds: float) -> None:
        """Move the clock on instead of waiting."""
        self.at += seconds
        self.slept += seconds

    def budget(self) -> RequestBudget:
        """Jira Cloud's request budget (``CLOUD_LIMITS``) on this clock."""
        return RequestBudget(CLOUD_LIMITS, serial_writes=True, clock=self.now, sleep=self.sleep)


class Refusal(Exception):  # noqa: N818 - a response, not a failure of the fake
    """An error answer: ``status`` and Jira's error body."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"errorMessages": [message] if message else [], "errors": errors or {}}


@dataclass
class Issue:
    """One issue as the fake keeps it."""

    id: str
    key: str
    project: str
    fields: Json
    status: str
    created: int
    updated: int
    creator: str
    comments: list[Json] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    properties: dict[str, object] = field(default_factory=dict)


class FakeJiraCloud:
    """One Jira Cloud site: users by API token, projects, issues; thread-safe."""

    def __init__(
        self, site: str = "https://acme.atlassian.net", *, page_cap: int = SEARCH_CAP
    ) -> None:
        self.site = site.rstrip("/")
        self.page_cap = page_cap
        self.users: dict[str, Json] = {}
        self.tokens: dict[str, str] = {}  # "email:token" -> accountId
        self.projects: dict[str, str] = {}
        self.issues: dict[str, Issue] = {}
        self.attachments: dict[str, tuple[Json, bytes]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of each request served
        self.search_bodies: list[Json] = []
        self._throttled: list[float] = []  # Retry-After seconds of the next answers
        self._lock = threading.RLock()
        self._ids = 10000
        self._clock = 0

    # -- set-up -----------------------------------------------------------------------------

    def add_user(self, account_id: str, name: str, email_address: str, token: str) -> None:
        """A user who authenticates with ``email_address`` and API ``token``."""
        self.users[account_id] = {
            "accountId": account_id,
            "accountType": "atlassian",
            "emailAddress": email_address,
            "displayName": name,
            "active": True,
            "timeZone": "UTC",
        }
        self.tokens[f"{email_address}:{token}"] = account_id

    def add_project(self, key: str, name: str | None = None) -> None:
        """An empty project."""
        self.projects[key] = name or f"Project {key}"

    def throttle(self, *retry_after_s: float) -> None:
        """Answer the next requests with 429, asking to wait these seconds each."""
        with self._lock:
            self._throttled.extend(retry_after_s)

    # -- serving ----------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Serve one request."""
        with self._lock:
            path = unquote(request.url.path)
            self.requests.append((request.method, path))
            if self._throttled:
                wait = self._throttled.pop(0)
                reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
                headers = {
                    "Retry-After": str(int(wait)),
                    "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                    "RateLimit-Reason": "jira-burst-based",
                }
                return httpx.Response(429, headers=headers, json={"errorMessages": []})
            try:
                me = self._authenticate(request)
                return self._route(request, path, me)
            except Refusal as refusal:
                return httpx.Response(refusal.status, json=refusal.body)

    def _authenticate(self, request: httpx.Request) -> str:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            pair = base64.b64decode(header[6:]).decode()
            if pair in self.tokens:
                return self.tokens[pair]
        raise Refusal(401, "Client must be authenticated to access this resource.")

    def _route(self, request: httpx.Request, path: str, me: str) -> httpx.Response:
        found = re.fullmatch(r"/rest/api/([23])/(.+)", path)
        if not found or (found.group(1) == "2" and found.group(2) != "serverInfo"):
            raise Refusal(404, "")
        resource = found.group(2)
        for pattern, method, handler in self._routes():
            matched = re.fullmatch(pattern, resource)
            if matched and request.method == method:
                return handler(request, me, *matched.groups())
        raise Refusal(405 if any(re.fullmatch(p, resource) for p, _m, _h in self._routes())
                      else 404, "")  # fmt: skip

    def _routes(self) -> list[tuple[str, str, Callable[..., httpx.Response]]]:
        return [
            ("serverInfo", "GET", self._server_info),
            ("myself", "GET", lambda _r, me: _json(self.users[me])),
            ("project/([^/]+)", "GET", self._project),
            ("project/([^/]+)/statuses", "GET", self._project_statuses),
            ("priority", "GET", lambda _r, _me: _json([_priority(n) for _i, n in PRIORITIES])),
            ("issuetype", "GET", lambda _r, _me: _json([_type(n) for _i, n, _s in TYPES])),
            ("field", "GET", lambda _r, _me: _json(_fields())),
            ("mypermissions", "GET", self._permissions),
            ("user/search", "GET", self._user_search),
            ("search/jql", "POST", self._search),
            ("issue", "POST", self._create),
            ("issue/([^/]+)", "GET", self._get),
            ("issue/([^/]+)", "PUT", self._edit),
            ("issue/([^/]+)/transitions", "GET", self._transitions),
            ("issue/([^/]+)/transitions", "POST", self._transition),
            ("issue/([^/]+)/comment", "GET", self._comments),
            ("issue/([^/]+)/comment", "POST", self._add_comment),
            ("issue/([^/]+)/comment/([^/]+)", "GET", self._comment),
            ("issue/([^/]+)/comment/([^/]+)", "PUT", self._edit_comment),
            ("issue/([^/]+)/comment/([^/]+)", "DELETE", self._delete_comment),
            ("issue/([^/]+)/attachments", "POST", self._attach),
            ("attachment/([^/]+)", "GET", lambda _r, _me, i: _json(self._attachment(i)[0])),
            ("attachment/content/([^/]+)", "GET", self._attachment_content),
            ("attachment/([^/]+)", "DELETE", self._delete_attachment),
        ]

    # -- resources --------------------------------------------------------------------------

    def _now(self) -> int:
        self._clock = max(self._clock + 1, int(time.time() * 1000))
        return self._clock

    def _server_info(self, _request: httpx.Request, _me: str) -> httpx.Response:
        return _json({
            "baseUrl": self.site,
            "displayUrl": self.site,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100_285,
            "buildDate": "2026-11-20T06:35:51.000+0000",
            "serverTime": _stamp(int(time.time() * 1000)),
            "scmInfo": "7c3b3d1d7e2bd9c3b8a3b9b1b2e0c9a8f0d1e2f3",
            "serverTitle": "Jira",
        })  # fmt: skip

    def _project_key(self, key: str) -> str:
        if key not in self.projects:
            raise Refusal(404, f"No project could be found with key '{key}'.")
        return key

    def _project(self, _request: httpx.Request, _me: str, key: str) -> httpx.Response:
        key = self._project_key(key)
        return _json({
            "self": f"{self.site}/rest/api/3/project/{key}", "id": str(10000 + len(key)),
            "key": key, "name": self.projects[key], "projectTypeKey": "software",
            "simplified": False, "style": "classic", "components": [], "versions": [],
            "issueTypes": [_type(n) for _i, n, _s in TYPES],
        })  # fmt: skip

    def _project_statuses(self, _request: httpx.Request, _me: str, key: str) -> httpx.Response:
        self._project_key(key)
        statuses = [_status(n) for _i, n, _c in STATUSES]
        return _json([{**_type(n), "statuses": statuses} for _i, n, _s in TYPES])

    def _permissions(self, _request: httpx.Request, _me: str) -> httpx.Response:
        held = {p: {"key": p, "havePermission": True} for p in PERMISSIONS}
        return _json({"permissions": held})

    def _user_search(self, request: httpx.Request, _me: str) -> httpx.Response:
        query = (request.url.params.get("query") or "").lower()
        found = [
            u
            for u in self.users.values()
            if query
            and (query in u["displayName"].lower() or query in (u["emailAddress"], u["accountId"]))
        ]
        return _json(found)

    def _issue(self, key: str) -> Issue:
        issue = self.issues.get(key)
        if issue is None:
            raise Refusal(404, "Issue does not exist or you do not have permission to see it.")
        return issue

    def _render(self, issue: Issue, wanted: set[str]) -> Json:
        fields: Json = {
            "description": None, "labels": [], "duedate": None, "assignee": None,
            NOTES_FIELD: None,
            **issue.fields,
            "issuetype": _type(issue.fields["issuetype"]),
            "status": _status(issue.status),
            "project": {"id": "10000", "key": issue.project, "name": self.projects[issue.project]},
            "creator": self.users[issue.creator],
            "created": _stamp(issue.created),
            "updated": _stamp(issue.updated),
            "comment": {"comments": issue.comments[:20], "maxResults": 20,
                        "total": len(issue.comments), "startAt": 0},
            "attachment": [self.attachments[a][0] for a in issue.attachments],
        }  # fmt: skip
        if fields.get("priority"):
            fields["priority"] = _priority(fields["priority"])
        for name in ("reporter", "assignee"):
            account = fields.get(name)
            fields[name] = self.users.get(account) if isinstance(account, str) else None
        parent = fields.pop("parent", None)
        if parent in self.issues:
            fields["parent"] = {"id": self.issues[parent].id, "key": parent}
        if "*navigable" not in wanted and "*all" not in wanted:
            fields = {k: v for k, v in fields.items() if k in wanted}
        link = f"{self.site}/rest/api/3/issue/{issue.id}"
        return {"id": issue.id, "key": issue.key, "self": link, "fields": fields}

    def _get(self, request: httpx.Request, _me: str, key: str) -> httpx.Response:
        wanted = set((request.url.params.get("fields") or "*navigable").split(","))
        rendered = self._render(self._issue(key), wanted)
        if request.url.params.get("properties"):
            rendered["properties"] = dict(self._issue(key).properties)
        return _json(rendered)

    def _writable(self, fields: Json) -> Json:
        """The fields of a create or edit body as kept, or a 400 naming what is wrong."""
        kept: Json = {}
        errors: dict[str, str] = {}
        for name, value in fields.items():
            if name in ("description", "environment", NOTES_FIELD):
                if value is not None and not _is_adf(value):
                    errors[name] = "Operation value must be an Atlassian Document (see the ADF)."
                kept[name] = value
            elif name in ("reporter", "assignee"):
                account = (value or {}).get("accountId") if isinstance(value, dict) else None
                if value is not None and account not in self.users:
                    errors[name] = "Specify a valid accountId."
                kept[name] = account
            elif name in ("priority", "issuetype"):
                kept[name] = (value or {}).get("name") if isinstance(value, dict) else None
            elif name == "parent":
                kept[name] = (value or {}).get("key")
            elif name in ("summary", "labels", "duedate"):
                kept[name] = value
        if errors:
            raise Refusal(400, "", errors)
        return kept

    def _create(self, request: httpx.Request, me: str) -> httpx.Response:
        body = _body(request)
        fields = dict(body.get("fields") or {})
        project = self._project_key(str((fields.pop("project", None) or {}).get("key")))
        kept = self._writable(fields)
        if not kept.get("summary"):
            raise Refusal(400, "", {"summary": "You must specify a summary of the issue."})
        if kept.get("issuetype") not in {n for _i, n, _s in TYPES}:
            raise Refusal(400, "", {"issuetype": "Specify an issue type"})
        self._ids += 1
        number = 1 + sum(1 for i in self.issues.values() if i.project == project)
        key = f"{project}-{number}"
        now = self._now()
        kept.setdefault("reporter", me)
        kept.setdefault("priority", "Medium")
        self.issues[key] = Issue(str(self._ids), key, project, kept, "To Do", now, now, me)
        for prop in body.get("properties") or []:
            self.issues[key].properties[prop["key"]] = prop["value"]
        return _json({"id": str(self._ids), "key": key,
                      "self": f"{self.site}/rest/api/3/issue/{self._ids}"}, 201)  # fmt: skip

    def _edit(self, request: httpx.Request, _me: str, key: str) -> httpx.Response:
        issue = self._issue(key)
        issue.fields.update(self._writable(_body(request).get("fields") or {}))
        issue.updated = self._now()
        return httpx.Response(204)

    def _transitions(self, _request: httpx.Request, _me: str, key: str) -> httpx.Response:
        here = self._issue(key).status
        listed = [
            {"id": f"{index + 1}1", "name": name, "to": _status(name), "hasScreen": False,
             "isGlobal": True, "isInitial": False, "isAvailable": True, "isConditional": False}
            for index, (_i, name, _c) in enumerate(STATUSES) if name != here
        ]  # fmt: skip
        return _json({"expand": "transitions", "transitions": listed})

    def _transition(self, request: httpx.Request, _me: str, key: str) -> httpx.Response:
        issue = self._issue(key)
        wanted = str((_body(request).get("transition") or {}).get("id"))
        for index, (_i, name, _c) in enumerate(STATUSES):
            if f"{index + 1}1" == wanted and name != issue.status:
                issue.status, issue.updated = name, self._now()
                return httpx.Response(204)
        raise Refusal(400, f"Transition id '{wanted}' is not valid for this issue.")

    def _comments(self, request: httpx.Request, _me: str, key: str) -> httpx.Response:
        listed = self._issue(key).comments
        start = int(request.url.params.get("startAt") or 0)
        size = int(request.url.params.get("maxResults") or 50)
        return _json({"startAt": start, "maxResults": size, "total": len(listed),
                      "comments": listed[start : start + size]})  # fmt: skip

    def _comment_of(self, key: str, comment_id: str) -> Json:
        for comment in self._issue(key).comments:
            if comment["id"] == comment_id:
                return comment
        raise Refusal(404, "Can not find a comment for the id.")

    def _add_comment(self, request: httpx.Request, me: str, key: str) -> httpx.Response:
        issue, body = self._issue(key), _body(request)
        if not _is_adf(body.get("body")):
            raise Refusal(400, "Comment body is not valid!", {"comment": "ADF expected"})
        self._ids += 1
        now = self._now()
        comment = {
            "self": f"{self.site}/rest/api/3/issue/{issue.id}/comment/{self._ids}",
            "id": str(self._ids), "author": self.users[me], "updateAuthor": self.users[me],
            "body": body["body"], "created": _stamp(now), "updated": _stamp(now),
            "jsdPublic": True,
        }  # fmt: skip
        issue.comments.append(comment)
        issue.updated = now
        return _json(comment, 201)

    def _comment(self, _request: httpx.Request, _me: str, key: str, cid: str) -> httpx.Response:
        return _json(self._comment_of(key, cid))

    def _edit_comment(self, request: httpx.Request, me: str, key: str, cid: str) -> httpx.Response:
        comment, body = self._comment_of(key, cid), _body(request)
        if not _is_adf(body.get("body")):
            raise Refusal(400, "Comment body is not valid!", {"comment": "ADF expected"})
        now = self._now()
        comment.update(body=body["body"], updated=_stamp(now), updateAuthor=self.users[me])
        self._issue(key).updated = now
        return _json(comment)

    def _delete_comment(self, _r: httpx.Request, _me: str, key: str, cid: str) -> httpx.Response:
        issue = self._issue(key)
        issue.comments.remove(self._comment_of(key, cid))
        issue.updated = self._now()
        return httpx.Response(204)

    def _attach(self, request: httpx.Request, me: str, key: str) -> httpx.Response:
        issue = self._issue(key)
        if request.headers.get("X-Atlassian-Token") != "no-check":
            raise Refusal(403, "XSRF check failed")
        made = []
        for filename, mimetype, content in _files(request):
            self._ids += 1
            meta = {
                "self": f"{self.site}/rest/api/3/attachment/{self._ids}", "id": str(self._ids),
                "filename": filename, "author": self.users[me], "created": _stamp(self._now()),
                "size": len(content), "mimeType": mimetype,
                "content": f"{self.site}/rest/api/3/attachment/content/{self._ids}",
            }  # fmt: skip
            self.attachments[str(self._ids)] = (meta, content)
            issue.attachments.append(str(self._ids))
            made.append(meta)
        issue.updated = self._now()
        return _json(made)

    def _attachment(self, attachment_id: str) -> tuple[Json, bytes]:
        if attachment_id not in self.attachments:
            raise Refusal(404, f"The attachment with id '{attachment_id}' does not exist")
        return self.attachments[attachment_id]

    def _attachment_content(self, _r: httpx.Request, _me: str, aid: str) -> httpx.Response:
        meta, content = self._attachment(aid)
        return httpx.Response(200, content=content, headers={"Content-Type": meta["mimeType"]})

    def _delete_attachment(self, _r: httpx.Request, _me: str, aid: str) -> httpx.Response:
        self._attachment(aid)
        del self.attachments[aid]
        for issue in self.issues.values():
            if aid in issue.attachments:
                issue.attachments.remove(aid)
                issue.updated = self._now()
        return httpx.Response(204)

    # -- search -----------------------------------------------------------------------------

    def _search(self, request: httpx.Request, me: str) -> httpx.Response:
        body = _body(request)
        self.search_bodies.append(body)
        if "startAt" in body:
            raise Refusal(400, "Invalid request payload. Refer to the REST API documentation.")
        jql = str(body.get("jql") or "")
        ordered = re.search(r"\s*\bORDER BY\s+", jql, flags=re.IGNORECASE)
        where = jql[: ordered.start()] if ordered else jql
        order = jql[ordered.end() :] if ordered else ""
        found = [i for i in self.issues.values() if self._matches(where, i, me)]
        for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
            name, _, direction = part.partition(" ")
            found.sort(key=_sort_key(name.lower()), reverse=direction.upper() == "DESC")
        start = 0
        if body.get("nextPageToken"):
            start = int(base64.b64decode(str(body["nextPageToken"])).decode().rsplit(":", 1)[1])
        size = min(int(body.get("maxResults") or 50), self.page_cap)
        page = found[start : start + size]
        wanted = set(body.get("fields") or ["*navigable"])
        answer: Json = {"issues": [self._render(i, wanted) for i in page], "isLast": True}
        if start + size < len(found):
            token = f"{jql}:{start + size}".encode()
            answer.update(isLast=False, nextPageToken=base64.b64encode(token).decode())
        props = body.get("properties") or []
        for rendered in answer["issues"]:
            kept = self.issues[rendered["key"]].properties
            rendered["properties"] = {p: kept[p] for p in props if p in kept}
        return _json(answer)

    def _matches(self, where: str, issue: Issue, me: str) -> bool:
        text = where.strip()
        if not text:
            return True
        inner = _unwrapped(text)
        if inner is not None:
            return self._matches(inner, issue, me)
        for word, combine in ((" OR ", any), (" AND ", all)):
            parts = _split(text, word)
            if len(parts) > 1:
                return combine(self._matches(p, issue, me) for p in parts)
        return self._clause(text, issue, me)

    def _clause(self, clause: str, issue: Issue, me: str) -> bool:  # noqa: PLR0911 - by shape
        if m := re.fullmatch(r'project\s*=\s*"?([^"]+)"?', clause):
            return issue.project == m.group(1)
        if m := re.fullmatch(r"key\s+in\s*\((.*)\)", clause, flags=re.DOTALL):
            keys = re.findall(r'"([^"]+)"', m.group(1))
            for key in keys:
                if key not in self.issues:
                    raise Refusal(400, f"An issue with key '{key}' does not exist for field 'key'.")
            return issue.key in keys
        if m := re.fullmatch(r'updated\s*>=\s*"(\d{4}-\d\d-\d\d \d\d:\d\d)"', clause):
            bound = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
            return issue.updated >= bound.timestamp() * 1000
        if m := re.fullmatch(r"created\s*>=\s*-(\d+)d", clause):
            return issue.created >= (time.time() - int(m.group(1)) * 86400) * 1000
        if re.fullmatch(r"creator\s*=\s*currentUser\(\)", clause):
            return issue.creator == me
        if m := re.fullmatch(r'summary\s*~\s*"([^"]*)"', clause):
            return m.group(1).lower() in str(issue.fields.get("summary") or "").lower()
        if m := re.fullmatch(r'labels\s*=\s*"?([^"]+)"?', clause):
            return m.group(1) in (issue.fields.get("labels") or [])
        raise Refusal(400, f"Error in the JQL Query: '{clause}' is not supported here.")


def _json(data: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data)


def _body(request: httpx.Request) -> Json:
    try:
        body = httpx.Response(200, content=request.content).json()
    except ValueError as exc:
        raise Refusal(400, "Unexpected character in the request body.") from exc
    if not isinstance(body, dict):
        raise Refusal(400, "A JSON object is expected.")
    return body


def _files(request: httpx.Request) -> list[tuple[str, str, bytes]]:
    """The ``file`` parts of a multipart body: (filename, mime type, content)."""
    head = f"Content-Type: {request.headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    found = []
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            found.append((part.get_filename() or "file", part.get_content_type(), content))
    if not found:
        raise Refusal(400, "No file was sent (multipart field 'file').")
    return found


def _unwrapped(text: str) -> str | None:
    """The inside of ``(...)`` when those parentheses wrap the whole text."""
    if not (text.startswith("(") and text.endswith(")")):
        return None
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and index < len(text) - 1:
            return None
    return text[1:-1]


def _split(text: str, word: str) -> list[str]:
    """``text`` split at ``word`` outside parentheses and quotes."""
    parts, depth, quoted, start, index = [], 0, False, 0, 0
    while index < len(text):
        char = text[index]
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif not quoted and depth == 0 and text.startswith(word, index):
            parts.append(text[start:index])
            start = index = index + len(word)
            continue
        index += 1
    parts.append(text[start:])
    return parts


def _sort_key(name: str) -> Callable[[Issue], Any]:
    if name == "key":
        return lambda i: (i.project, int(i.key.rsplit("-", 1)[1]))
    if name in ("updated", "created"):
        return lambda i: getattr(i, name)
    raise Refusal(400, f"Not able to sort using field '{name}'.")


def _status(name: str) -> Json:
    sid, category = next((i, c) for i, n, c in STATUSES if n == name)
    return {"id": sid, "name": name, "statusCategory": {"key": category}}


def _type(name: str) -> Json:
    tid, subtask = next((i, s) for i, n, s in TYPES if n == name)
    return {"id": tid, "name": name, "subtask": subtask, "hierarchyLevel": -1 if subtask else 0}


def _priority(name: str) -> Json:
    return {"id": next(i for i, n in PRIORITIES if n == name), "name": name}


def _fields() -> list[Json]:
    def system(fid: str, name: str, kind: str) -> Json:
        return {"id": fid, "key": fid, "name": name, "custom": False, "schema": {"type": kind}}

    return [
        system("summary", "Summary", "string"),
        system("description", "Description", "string"),
        system("priority", "Priority", "priority"),
        system("labels", "Labels", "array"),
        {
            "id": NOTES_FIELD, "key": NOTES_FIELD, "name": "Notes", "custom": True,
            "schema": {"type": "string", "customId": 10050,
                       "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textarea"},
        },
    ]  # fmt: skip
