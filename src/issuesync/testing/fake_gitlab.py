"""A stateful fake GitLab (REST v4, the issue parts): an ``httpx.MockTransport`` handler.

It follows GitLab's documented behaviour where the ``gitlab`` adapter relies on it:
projects by numeric id or URL-encoded path (in any case, as GitLab's routes take them),
issues by ``iid`` (``state_event`` close/reopen, labels made on first use, a milestone
by id, assignees by id, ``updated_after`` inclusive, ``order_by``/``sort``, offset
paging with ``X-Next-Page``, ``X-Total`` and ``Link``), notes (system notes included, a
new note touching its issue's ``updated_at``), time tracking (``time_stats``,
``add_spent_time``, see ``fake_gitlab_time``), issue links (``fake_gitlab_links``),
uploads (``POST /projects/:id/uploads``, read and deleted by secret and filename), users
(``?username=``, ``?search=``; lists without e-mails), access levels in
``GET /projects/:id``'s ``permissions``, and the rate limit: a fixed window per user and
minute that answers ``429`` with ``Retry-After`` and ``RateLimit-*`` headers once spent.
Errors have GitLab's ``{"message": ...}`` and ``{"error": ...}`` shapes. Weak
``ETag``\\ s are sent, but ``If-None-Match`` is ignored, as GitLab's API does
(gitlab-org/gitlab#14357).

Use it directly (``httpx.MockTransport(FakeGitLab())``) or over HTTP with
:class:`~issuesync.testing.handler_server.HandlerServer`. ``calls`` counts the
requests by method and route (``"PUT /projects/:id/issues/:iid"``), for tests and
benchmarks. Thread-safe: one lock around each request.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, unquote

import httpx

from issuesync.testing import fake_gitlab_time
from issuesync.testing.fake_gitlab_links import GitLabLink, IssueLinks
from issuesync.testing.fake_gitlab_wire import (
    Answer,
    Json,
    Reply,
    body_of,
    iso,
    multipart_file,
    page,
    selected,
    too_many,
)

__all__ = ["FakeGitLab", "GitLabProject", "GitLabUser"]

API: Final = "/api/v4"
GUEST, REPORTER, DEVELOPER, MAINTAINER = 10, 20, 30, 40


@dataclass(eq=False)  # one object per user: hashable by identity
class GitLabUser:
    """A user of the fake; ``token`` authenticates as them."""

    id: int
    username: str
    name: str
    email: str
    token: str
    state: str = "active"

    def json(self) -> Json:
        """The user as GitLab's lists and issues show one (``UserBasic``: no e-mail)."""
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "state": self.state,
            "web_url": f"https://gitlab.example/{self.username}",
        }


@dataclass
class GitLabProject:
    """A project of the fake, with its members' access levels."""

    id: int
    path: str  # path_with_namespace
    name: str
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level
    issues_enabled: bool = True
    issues: dict[int, Json] = field(default_factory=dict)  # iid -> issue
    notes: dict[int, list[Json]] = field(default_factory=dict)  # iid -> notes
    labels: dict[str, Json] = field(default_factory=dict)
    milestones: dict[int, Json] = field(default_factory=dict)
    uploads: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # secret/name -> (, by)
    timelogs: list[Json] = field(default_factory=list)  # what add_spent_time was told, in order


class FakeGitLab(IssueLinks):
    """The handler: ``fake(request) -> response``; see the module docstring (and
    ``fake_gitlab_links`` for issue links)."""

    def __init__(
        self,
        *,
        requests_per_minute: int = 2000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self.calls: Counter[str] = Counter()
        self.users: dict[int, GitLabUser] = {}
        self.projects: dict[int, GitLabProject] = {}
        self.links: dict[int, GitLabLink] = {}
        self._clock = clock
        self._lock = threading.RLock()
        self._ids = iter(range(1, 1 << 30))
        self._last_ms = 0
        self._windows: dict[int, tuple[int, int]] = {}  # user id -> (minute, requests)
        self._refuse: list[int] = []  # Retry-After seconds of forced 429s

    # -- setting up ----------------------------------------------------------------------------

    def add_user(self, username: str, *, name: str = "", email: str = "") -> GitLabUser:
        """A user with a fresh token."""
        with self._lock:
            user = GitLabUser(
                id=next(self._ids),
                username=username,
                name=name or username.title(),
                email=email or f"{username}@example.test",
                token=f"glpat-{uuid.uuid4().hex}",
            )
            self.users[user.id] = user
            return user

    def add_project(
        self, path: str, *, members: Mapping[GitLabUser, int], issues_enabled: bool = True
    ) -> GitLabProject:
        """A project (``group/name``) with members at access levels (10 guest ... 50 owner)."""
        with self._lock:
            project = GitLabProject(
                id=next(self._ids),
                path=path,
                name=path.rsplit("/", 1)[-1],
                members={user.id: level for user, level in members.items()},
                issues_enabled=issues_enabled,
            )
            self.projects[project.id] = project
            return project

    def add_milestone(self, project: GitLabProject, title: str) -> Json:
        """An active milestone of the project."""
        with self._lock:
            milestone: Json = {"id": next(self._ids), "iid": len(project.milestones) + 1}
            milestone |= {"title": title, "state": "active", "project_id": project.id}
            project.milestones[milestone["id"]] = milestone
            return milestone

    def add_system_note(self, project: GitLabProject, iid: int, body: str) -> Json:
        """A note GitLab writes itself (``system: true``), as on a label change."""
        with self._lock:
            author = next(iter(self.users.values()))
            return self._new_note(project, iid, body, author, system=True)

    def refuse_next(self, count: int, *, retry_after_s: int = 1) -> None:
        """Answer the next ``count`` requests with 429 and this ``Retry-After``."""
        with self._lock:
            self._refuse.extend([retry_after_s] * count)

    def writes(self) -> int:
        """Requests counted so far that were not GETs."""
        return sum(n for route, n in self.calls.items() if not route.startswith("GET "))

    # -- serving -------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Answer one request, as GitLab would."""
        with self._lock:
            path = request.url.raw_path.split(b"?", 1)[0].decode()
            headers: dict[str, str] = {}
            try:
                route, handler, args = self._route(request.method, path)
                self.calls[f"{request.method} {route}"] += 1
                user = self._user(request)
                headers = self._spend(user)
                status, body, extra = handler(request, user, *args)
                headers |= extra
            except Reply as reply:
                status, body = reply.status, reply.body
                headers |= reply.headers
            headers["Date"] = email.utils.formatdate(self._clock(), usegmt=True)
            if isinstance(body, bytes):
                return httpx.Response(status, content=body, headers=headers)
            if status == 204:  # noqa: PLR2004 - no content
                return httpx.Response(204, headers=headers)
            content = json.dumps(body).encode()
            headers["ETag"] = f'W/"{hashlib.md5(content).hexdigest()}"'  # noqa: S324 - not security
            headers["Content-Type"] = "application/json"
            return httpx.Response(status, content=content, headers=headers)

    def _route(self, method: str, full_path: str) -> tuple[str, Callable[..., Any], list[str]]:
        path = full_path.removeprefix(API) if full_path.startswith(API + "/") else ""
        for verb, pattern, name, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and verb == method:
                return name, handler, [unquote(g) for g in match.groups()]
        raise Reply(404, {"message": "404 Not Found"})

    def _routes(self) -> list[tuple[str, str, str, Callable[..., Any]]]:
        project = r"/projects/([^/]+)"
        issue = project + r"/issues/(\d+)"
        return [
            ("GET", r"/version", "/version", self._version),
            ("GET", r"/user", "/user", self._me),
            ("GET", r"/users", "/users", self._users),
            ("GET", project, "/projects/:id", self._project),
            ("GET", project + "/issues", "/projects/:id/issues", self._issues),
            ("POST", project + "/issues", "/projects/:id/issues", self._create_issue),
            ("GET", issue, "/projects/:id/issues/:iid", self._issue),
            ("PUT", issue, "/projects/:id/issues/:iid", self._edit_issue),
            ("GET", issue + "/notes", "/projects/:id/issues/:iid/notes", self._notes),
            *self._time_routes(issue),
            ("POST", issue + "/notes", "/projects/:id/issues/:iid/notes", self._create_note),
            ("GET", issue + r"/notes/(\d+)", "/projects/:id/issues/:iid/notes/:id", self._note),
            (
                "PUT",
                issue + r"/notes/(\d+)",
                "/projects/:id/issues/:iid/notes/:id",
                self._edit_note,
            ),
            (
                "DELETE",
                issue + r"/notes/(\d+)",
                "/projects/:id/issues/:iid/notes/:id",
                self._delete_note,
            ),
            *self.link_routes(issue),
            ("GET", project + "/labels", "/projects/:id/labels", self._labels),
            ("GET", project + "/milestones", "/projects/:id/milestones", self._milestones),
            ("POST", project + "/uploads", "/projects/:id/uploads", self._upload),
            (
                "GET",
                project + r"/uploads/(\w+)/([^/]+)",
                "/projects/:id/uploads/:secret/:filename",
                self._read_upload,
            ),
            (
                "DELETE",
                project + r"/uploads/(\w+)/([^/]+)",
                "/projects/:id/uploads/:secret/:filename",
                self._delete_upload,
            ),
        ]

    # -- authentication, access and the rate limit ---------------------------------------------

    def _user(self, request: httpx.Request) -> GitLabUser:
        token = request.headers.get("PRIVATE-TOKEN") or ""
        bearer = request.headers.get("Authorization", "")
        if not token and bearer.startswith("Bearer "):
            token = bearer[len("Bearer ") :]
        for user in self.users.values():
            if token and user.token == token and user.state == "active":
                return user
        raise Reply(401, {"message": "401 Unauthorized"})

    def _spend(self, user: GitLabUser) -> dict[str, str]:
        now = self._clock()
        minute = int(now // 60)
        reset = str((minute + 1) * 60)
        if self._refuse:
            wait = self._refuse.pop(0)
            limits = {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(now) + wait)}
            raise too_many(wait, limits)
        window, spent = self._windows.get(user.id, (minute, 0))
        if window != minute:
            window, spent = minute, 0
        spent += 1
        self._windows[user.id] = (window, spent)
        left = max(self.requests_per_minute - spent, 0)
        headers = {
            "RateLimit-Limit": str(self.requests_per_minute),
            "RateLimit-Observed": str(spent),
            "RateLimit-Remaining": str(left),
            "RateLimit-Reset": reset,
        }
        if spent > self.requests_per_minute:
            raise too_many(max(int((minute + 1) * 60 - now), 1), headers)
        return headers

    def _project_of(self, ref: str, user: GitLabUser, *, level: int = GUEST) -> GitLabProject:
        found = None
        for project in self.projects.values():
            if ref in (str(project.id), project.path) or ref.lower() == project.path.lower():
                found = project
        if found is None or found.members.get(user.id, 0) < GUEST:
            raise Reply(404, {"message": "404 Project Not Found"})
        if found.members[user.id] < level:
            raise Reply(403, {"message": "403 Forbidden"})
        return found

    def _issue_of(self, project: GitLabProject, iid: str) -> Json:
        if not project.issues_enabled or int(iid) not in project.issues:
            raise Reply(404, {"message": "404 Issue Not Found"})
        return project.issues[int(iid)]

    def _now_ms(self) -> int:
        """The clock in ms, never going back; writes within one ms share it, as in GitLab."""
        self._last_ms = max(int(self._clock() * 1000), self._last_ms)
        return self._last_ms

    # -- handlers ------------------------------------------------------------------------------

    def _version(self, _request: httpx.Request, _user: GitLabUser) -> Answer:
        return 200, {"version": "17.6.0-fake", "revision": "fake"}, {}

    def _me(self, _request: httpx.Request, user: GitLabUser) -> Answer:
        return 200, user.json() | {"email": user.email, "public_email": user.email}, {}

    def _users(self, request: httpx.Request, _user: GitLabUser) -> Answer:
        params = request.url.params
        found = list(self.users.values())
        if username := params.get("username"):
            found = [u for u in found if u.username.lower() == username.lower()]
        if search := params.get("search"):
            text = search.lower()
            found = [
                u
                for u in found
                if text in u.username.lower() or text in u.name.lower() or text == u.email.lower()
            ]
        return 200, [u.json() for u in found], {}

    def _project(self, _request: httpx.Request, user: GitLabUser, ref: str) -> Answer:
        project = self._project_of(ref, user)
        body = {
            "id": project.id,
            "name": project.name,
            "path_with_namespace": project.path,
            "issues_enabled": project.issues_enabled,
            "permissions": {
                "project_access": {"access_level": project.members[user.id]},
                "group_access": None,
            },
        }
        return 200, body, {}

    def _issues(self, request: httpx.Request, user: GitLabUser, ref: str) -> Answer:
        project = self._project_of(ref, user)
        if not project.issues_enabled:
            raise Reply(403, {"message": "403 Forbidden"})
        params = request.url.params
        issues = [i for i in project.issues.values() if selected(i, params)]
        order = params.get("order_by", "created_at")
        if order not in {"created_at", "updated_at", "title"}:
            raise Reply(400, {"error": "order_by does not have a valid value"})
        issues.sort(key=lambda i: (i[order], i["id"]), reverse=params.get("sort", "desc") == "desc")
        return page(request, issues)

    def _issue(self, _request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        return 200, self._issue_of(self._project_of(ref, user), iid), {}

    def _create_issue(self, request: httpx.Request, user: GitLabUser, ref: str) -> Answer:
        project = self._project_of(ref, user)
        if not project.issues_enabled:
            raise Reply(403, {"message": "403 Forbidden"})
        body = body_of(request)
        if not str(body.get("title") or "").strip():
            raise Reply(400, {"error": "title is missing"})
        now = iso(self._now_ms())
        iid = max(project.issues, default=0) + 1
        issue: Json = {
            "id": next(self._ids),
            "iid": iid,
            "project_id": project.id,
            "title": "",
            "description": None,
            "state": "opened",
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
            "labels": [],
            "milestone": None,
            "assignees": [],
            "assignee": None,
            "author": user.json(),
            "type": "ISSUE",
            "issue_type": body.get("issue_type") or "issue",
            "user_notes_count": 0,
            "due_date": None,
            "time_stats": fake_gitlab_time.new_time_stats(),
            "web_url": f"https://gitlab.example/{project.path}/-/issues/{iid}",
        }
        if issue["issue_type"] not in {"issue", "incident", "test_case", "task"}:
            raise Reply(400, {"error": "issue_type does not have a valid value"})
        self._apply(project, issue, body)
        project.issues[iid] = issue
        project.notes[iid] = []
        return 201, issue, {}

    def _edit_issue(self, request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        project = self._project_of(ref, user, level=REPORTER)
        issue = self._issue_of(project, iid)
        before = json.dumps(issue, sort_keys=True)
        body = body_of(request)
        event = body.pop("state_event", None)
        if event not in {None, "close", "reopen"}:
            raise Reply(400, {"error": "state_event does not have a valid value"})
        if "title" in body and not str(body["title"] or "").strip():
            raise Reply(400, {"message": {"title": ["can't be blank"]}})
        self._apply(project, issue, body)
        if event == "close" and issue["state"] == "opened":
            issue["state"], issue["closed_at"] = "closed", iso(self._now_ms())
        elif event == "reopen" and issue["state"] == "closed":
            issue["state"], issue["closed_at"] = "opened", None
        if json.dumps(issue, sort_keys=True) != before:
            issue["updated_at"] = iso(self._now_ms())
        return 200, issue, {}

    def _apply(self, project: GitLabProject, issue: Json, body: Json) -> None:
        if "title" in body:
            issue["title"] = str(body["title"])
        if "description" in body:
            issue["description"] = _checked("description", body["description"])
        if "labels" in body:
            names = [n.strip() for n in str(body["labels"] or "").split(",") if n.strip()]
            for name in names:  # GitLab makes a label on first use
                project.labels.setdefault(name, {"id": next(self._ids), "name": name})
            issue["labels"] = sorted(set(names))
        if "milestone_id" in body:
            ident = body["milestone_id"]
            if ident in (None, "", 0, "0"):
                issue["milestone"] = None
            elif int(ident) in project.milestones:
                issue["milestone"] = project.milestones[int(ident)]
            else:
                raise Reply(404, {"message": "404 Milestone Not Found"})
        if "assignee_ids" in body:
            ids = [int(i) for i in body["assignee_ids"] or [] if int(i)]
            unknown = [i for i in ids if i not in self.users]
            if unknown:
                raise Reply(400, {"message": {"assignee_ids": ["are not valid users"]}})
            issue["assignees"] = [self.users[i].json() for i in ids]
            issue["assignee"] = issue["assignees"][0] if ids else None
        if "due_date" in body:
            due = body["due_date"] or None
            if due is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(due)):
                raise Reply(400, {"error": "due_date is invalid"})
            issue["due_date"] = due

    # -- time tracking (``fake_gitlab_time``) ---------------------------------------------

    def _time_routes(self, issue: str) -> list[tuple[str, str, str, Callable[..., Any]]]:
        route = "/projects/:id/issues/:iid/"
        return [
            ("GET", issue + "/time_stats", route + "time_stats", self._time_stats),
            ("POST", issue + "/add_spent_time", route + "add_spent_time", self._add_spent),
            ("POST", issue + "/reset_spent_time", route + "reset_spent_time", self._reset_spent),
        ]

    def _time_stats(self, _request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        issue = self._issue_of(self._project_of(ref, user), iid)
        return 200, issue.setdefault("time_stats", fake_gitlab_time.new_time_stats()), {}

    def _add_spent(self, request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        project = self._project_of(ref, user, level=REPORTER)
        issue = self._issue_of(project, iid)
        body = {**dict(request.url.params), **body_of(request)}
        if "duration" not in body:
            raise Reply(400, {"error": "duration is missing"})
        note = fake_gitlab_time.spend(issue, fake_gitlab_time.parse_duration(body["duration"]))
        summary = str(body.get("summary") or "")
        project.timelogs.append({"iid": int(iid), "user": user.id, "summary": summary})
        self._new_note(project, int(iid), note, user, system=True)
        return 201, issue["time_stats"], {}

    def _reset_spent(self, _request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        project = self._project_of(ref, user, level=REPORTER)
        issue = self._issue_of(project, iid)
        self._new_note(project, int(iid), fake_gitlab_time.reset(issue), user, system=True)
        return 200, issue["time_stats"], {}

    def _notes(self, request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        project = self._project_of(ref, user)
        self._issue_of(project, iid)
        params = request.url.params
        order = params.get("order_by", "created_at")
        notes = sorted(
            project.notes[int(iid)],
            key=lambda n: (n[order], n["id"]),
            reverse=params.get("sort", "desc") == "desc",
        )
        return page(request, notes)

    def _note(
        self, _request: httpx.Request, user: GitLabUser, ref: str, iid: str, note_id: str
    ) -> Answer:
        project = self._project_of(ref, user)
        return 200, self._note_of(project, iid, note_id), {}

    def _note_of(self, project: GitLabProject, iid: str, note_id: str) -> Json:
        self._issue_of(project, iid)
        for note in project.notes[int(iid)]:
            if note["id"] == int(note_id):
                return note
        raise Reply(404, {"message": "404 Note Not Found"})

    def _create_note(self, request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        project = self._project_of(ref, user)
        self._issue_of(project, iid)
        given = body_of(request)
        body = str(_checked("note", str(given.get("body") or "")))
        if not body.strip():
            raise Reply(400, {"error": "body is missing"})
        internal = given.get("internal") in (True, "true") or given.get("confidential") in (
            True,
            "true",
        )
        note = self._new_note(project, int(iid), body, user, system=False, internal=internal)
        return 201, note, {}

    def _new_note(
        self,
        project: GitLabProject,
        iid: int,
        body: str,
        author: GitLabUser,
        *,
        system: bool,
        internal: bool = False,
    ) -> Json:
        now = iso(self._now_ms())
        note = {
            "id": next(self._ids),
            "body": body,
            "author": author.json(),
            "created_at": now,
            "updated_at": now,
            "system": system,
            "noteable_id": project.issues[iid]["id"],
            "noteable_iid": iid,
            "noteable_type": "Issue",
            "internal": internal,
            "confidential": internal,  # the older name GitLab still sends
        }
        project.notes[iid].append(note)
        self._touch(project, iid)
        return note

    def _touch(self, project: GitLabProject, iid: int) -> None:
        issue = project.issues[iid]
        issue["updated_at"] = iso(self._now_ms())
        issue["user_notes_count"] = sum(1 for n in project.notes[iid] if not n["system"])

    def _edit_note(
        self, request: httpx.Request, user: GitLabUser, ref: str, iid: str, note_id: str
    ) -> Answer:
        project = self._project_of(ref, user)
        note = self._note_of(project, iid, note_id)
        if note["system"] or (note["author"]["id"] != user.id and project.members[user.id] < 40):  # noqa: PLR2004
            raise Reply(403, {"message": "403 Forbidden"})
        note["body"] = _checked("note", str(body_of(request).get("body") or ""))
        note["updated_at"] = iso(self._now_ms())
        self._touch(project, int(iid))
        return 200, note, {}

    def _delete_note(
        self, _request: httpx.Request, user: GitLabUser, ref: str, iid: str, note_id: str
    ) -> Answer:
        project = self._project_of(ref, user)
        note = self._note_of(project, iid, note_id)
        if note["author"]["id"] != user.id and project.members[user.id] < MAINTAINER:
            raise Reply(403, {"message": "403 Forbidden"})
        project.notes[int(iid)].remove(note)
        self._touch(project, int(iid))
        return 204, None, {}

    def _labels(self, request: httpx.Request, user: GitLabUser, ref: str) -> Answer:
        project = self._project_of(ref, user)
        return page(request, sorted(project.labels.values(), key=lambda label: label["name"]))

    def _milestones(self, request: httpx.Request, user: GitLabUser, ref: str) -> Answer:
        project = self._project_of(ref, user)
        found = list(project.milestones.values())
        if title := request.url.params.get("title"):
            found = [m for m in found if m["title"] == title]
        return page(request, found)

    def _upload(self, request: httpx.Request, user: GitLabUser, ref: str) -> Answer:
        project = self._project_of(ref, user)
        filename, content = multipart_file(request)
        secret = uuid.uuid4().hex
        path = f"{secret}/{filename}"
        project.uploads[path] = (content, user.id)
        url = f"/uploads/{secret}/{quote(filename)}"
        body = {
            "id": next(self._ids),
            "alt": filename.rsplit(".", 1)[0],
            "url": url,
            "full_path": f"/-/project/{project.id}{url}",
            "markdown": f"[{filename}]({url})",
        }
        return 201, body, {}

    def _read_upload(
        self, _request: httpx.Request, user: GitLabUser, ref: str, secret: str, name: str
    ) -> Answer:
        project = self._project_of(ref, user)
        found = project.uploads.get(f"{secret}/{name}")
        if found is None:
            raise Reply(404, {"message": "404 Not found"})
        return 200, found[0], {"Content-Type": "application/octet-stream"}

    def _delete_upload(
        self, _request: httpx.Request, user: GitLabUser, ref: str, secret: str, name: str
    ) -> Answer:
        project = self._project_of(ref, user, level=MAINTAINER)
        if project.uploads.pop(f"{secret}/{name}", None) is None:
            raise Reply(404, {"message": "404 Not found"})
        return 204, None, {}


# GitLab's limit of a description and a note: "The content of a note. Limited to 1,000,000
# characters." (https://docs.gitlab.com/api/notes/; Gitlab::Database::MAX_TEXT_SIZE_LIMIT).
TEXT_LIMIT: Final = 1_000_000


def _checked(name: str, text: Any) -> Any:  # noqa: ANN401 - a JSON value as given
    """``text``, or GitLab's 400 for a text over :data:`TEXT_LIMIT` characters."""
    if isinstance(text, str) and len(text) > TEXT_LIMIT:
        raise Reply(400, {"message": {name: [f"is too long (maximum is {TEXT_LIMIT} characters)"]}})
    return text
