"""A stateful fake GitHub (REST API 2022-11-28, its issues): an ``httpx.MockTransport`` handler.

It follows GitHub's documented behaviour where the ``github`` adapter relies on it:

- ``X-GitHub-Api-Version``: ``2022-11-28`` (the default); another is ``400``.
- ``Authorization: Bearer <token>`` (or ``token <token>``); none or an unknown
  token is ``401`` with GitHub's ``{"message": "Bad credentials"}``; a private
  repository the user cannot see is ``404``, as GitHub hides it.
- issues and pull requests share numbers; ``GET /repos/{o}/{r}/issues`` lists both
  (a pull request carries ``pull_request``), with ``state``, ``labels`` (all of
  them), ``assignee``, ``creator``, ``mentioned`` (an ``@login`` in the body
  or a comment), ``milestone`` (number, ``*``, ``none``),
  ``since`` (updated at or after, whole seconds), ``sort``, ``direction``,
  ``per_page`` (at most 100) and ``page``, and a ``Link`` header (``next``,
  ``last``, ``first``, ``prev``); labels are made on first use; ``state_reason``
  ``completed`` / ``not_planned`` on closing, ``reopened`` on reopening.
- comments: per issue and repository-wide (``sort=updated``), a new comment
  touches its issue's ``updated_at`` (an edited one does not).
- every ``GET`` answer has a weak ``ETag``; ``If-None-Match`` with it is ``304``
  without a body, which, as at GitHub, costs nothing against the rate limit.
- the primary rate limit per token (``limit`` requests per ``window_s``): every
  answer has ``x-ratelimit-limit/-remaining/-used/-reset/-resource``; once spent,
  ``403`` (or ``primary_status``) with ``"API rate limit exceeded for user ID
  ..."`` and ``x-ratelimit-remaining: 0``. ``GET /rate_limit`` is free.
- optionally the secondary limit on content creation: more than
  ``secondary_writes_per_minute`` writes in a minute answer ``403`` with
  "You have exceeded a secondary rate limit" (and ``Retry-After`` when
  ``secondary_retry_after_s`` is set).

``calls`` counts requests by method and route (``"PATCH /repos/:owner/:repo/issues/:number"``),
``log`` lists ``(method, path, status)``. Thread-safe: one lock around each request.
Use it directly (``httpx.MockTransport(FakeGitHub())``) or over HTTP with
:class:`~issuesync.testing.handler_server.HandlerServer`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple
from urllib.parse import parse_qsl, urlencode

import httpx

from issuesync.testing.fake_github_limits import RateLimits
from issuesync.testing.fake_github_state import (
    Comment,
    GitHubUser,
    Issue,
    Json,
    Label,
    Milestone,
    Reply,
    Repository,
    checked_body,
    comment_json,
    invalid,
    parse_iso,
)

__all__ = ["FakeGitHub", "GitHubUser", "Repository"]

API_VERSIONS: Final = ("2022-11-28",)  # what X-GitHub-Api-Version may name (default: the first)
MAX_PER_PAGE: Final = 100
DEFAULT_PER_PAGE: Final = 30

_O_R = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
# (pattern, route name): the first that matches serves the path.
ROUTES: Final = tuple(
    (re.compile(f"^{pattern}$"), name)
    for pattern, name in (
        ("/user", "/user"),
        ("/users/(?P<login>[^/]+)", "/users/:login"),
        ("/rate_limit", "/rate_limit"),
        (_O_R, "/repos/:owner/:repo"),
        (f"{_O_R}/issues", "/repos/:owner/:repo/issues"),
        (f"{_O_R}/issues/comments", "/repos/:owner/:repo/issues/comments"),
        (f"{_O_R}/issues/comments/(?P<id>\\d+)", "/repos/:owner/:repo/issues/comments/:id"),
        (f"{_O_R}/issues/(?P<number>\\d+)", "/repos/:owner/:repo/issues/:number"),
        (f"{_O_R}/issues/(?P<number>\\d+)/comments", "/repos/:owner/:repo/issues/:number/comments"),
        (f"{_O_R}/labels", "/repos/:owner/:repo/labels"),
        (f"{_O_R}/milestones", "/repos/:owner/:repo/milestones"),
        (f"{_O_R}/assignees/(?P<login>[^/]+)", "/repos/:owner/:repo/assignees/:login"),
    )
)


class _Call(NamedTuple):
    """What a repository route works on."""

    repo: Repository
    user: GitHubUser
    match: dict[str, str]
    params: dict[str, str]
    body: Json
    base: str
    request: httpx.Request


class FakeGitHub:
    """GitHub's issue REST API over in-memory state; see the module docstring."""

    def __init__(
        self,
        *,
        prefix: str = "",
        clock: Callable[[], float] = time.time,
        limit: int = 5000,
        window_s: float = 3600.0,
        primary_status: int = 403,
        secondary_writes_per_minute: int | None = None,
        secondary_retry_after_s: int | None = None,
    ) -> None:
        self.prefix = prefix.rstrip("/")
        self.clock = clock
        self.limits = RateLimits(
            clock,
            limit=limit,
            window_s=window_s,
            primary_status=primary_status,
            secondary_writes_per_minute=secondary_writes_per_minute,
            secondary_retry_after_s=secondary_retry_after_s,
        )
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, str, int]] = []
        self.users: dict[str, GitHubUser] = {}  # lower-case login -> user
        self.repos: dict[str, Repository] = {}  # lower-case full name -> repository
        self._tokens: dict[str, GitHubUser] = {}
        self._ids = 1000
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"FakeGitHub(users={len(self.users)}, repos={sorted(self.repos)})"

    # -- arranging state ---------------------------------------------------------------------

    def add_user(
        self, login: str, *, token: str | None = None, email: str | None = None
    ) -> GitHubUser:
        """An account, signed in by ``token`` when given."""
        with self._lock:
            user = GitHubUser(self._next_id(), login, email=email, name=login.title())
            self.users[login.lower()] = user
            if token is not None:
                self._tokens[token] = user
            return user

    def add_repo(
        self,
        full_name: str,
        *,
        private: bool = False,
        has_issues: bool = True,
        roles: Mapping[str, str] | None = None,
    ) -> Repository:
        """A repository of an existing owner; ``roles`` maps logins to ``read`` ... ``admin``."""
        owner, name = full_name.split("/")
        with self._lock:
            repo = Repository(
                self._next_id(),
                self.users[owner.lower()],
                name,
                private=private,
                has_issues=has_issues,
                roles={login.lower(): role for login, role in (roles or {}).items()},
            )
            self.repos[full_name.lower()] = repo
            return repo

    def add_milestone(self, full_name: str, title: str) -> Milestone:
        """A milestone of the repository."""
        with self._lock:
            repo = self.repos[full_name.lower()]
            milestone = Milestone(self._next_id(), len(repo.milestones) + 1, title)
            repo.milestones[milestone.number] = milestone
            return milestone

    def add_pull_request(self, full_name: str, title: str, author: str) -> Issue:
        """A pull request: it takes the next issue number and shows in the issue list."""
        with self._lock:
            repo = self.repos[full_name.lower()]
            now = self._now()
            number = len(repo.issues) + 1
            pull = Issue(
                self._next_id(),
                number,
                title,
                None,
                self.users[author.lower()],
                now,
                now,
                pull_request=True,
            )
            repo.issues[number] = pull
            return pull

    def used(self, token: str) -> int:
        """Requests counted against ``token``'s primary limit in its current window."""
        with self._lock:
            return self.limits.used(token)

    # -- the handler -------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as GitHub would."""
        with self._lock:
            path = request.url.path
            if self.prefix and path.startswith(self.prefix):
                path = path[len(self.prefix) :]
            method = request.method
            route, match = self._route(path)
            self.calls[f"{method} {route}"] += 1
            token = _token(request)
            headers: dict[str, str] = {"Date": email.utils.formatdate(self.clock(), usegmt=True)}
            try:
                _check_version(request)
                user = self._user_for(token)
                if route != "/rate_limit" and token is not None:
                    headers.update(self.limits.spend(token, user.id, method))
                status, body = self._serve(method, route, match, request, user)
            except Reply as answer:
                headers.update(answer.headers)
                status, body = answer.status, answer.body
            response = self._respond(request, status, body, headers, token)
            self.log.append((method, path, response.status_code))
            return response

    def _route(self, path: str) -> tuple[str, dict[str, str]]:
        for pattern, name in ROUTES:
            if found := pattern.match(path):
                return name, found.groupdict()
        return path, {}

    def _user_for(self, token: str | None) -> GitHubUser:
        if token is None:
            raise Reply(401, "Requires authentication")
        user = self._tokens.get(token)
        if user is None:
            raise Reply(401, "Bad credentials")
        return user

    def _respond(
        self,
        request: httpx.Request,
        status: int,
        body: object,
        headers: dict[str, str],
        token: str | None,
    ) -> httpx.Response:
        if status == 204:  # noqa: PLR2004 - No Content
            return httpx.Response(204, headers=headers, request=request)
        if isinstance(body, _Linked) and body.link:
            headers["Link"] = body.link
        content = json.dumps(body).encode()
        if request.method == "GET" and status == 200:  # noqa: PLR2004
            etag = f'W/"{hashlib.sha256(content).hexdigest()[:32]}"'
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                self.limits.refund(token or "", headers)
                return httpx.Response(304, headers=headers, request=request)
        headers["Content-Type"] = "application/json; charset=utf-8"
        return httpx.Response(status, headers=headers, content=content, request=request)

    # -- routes ------------------------------------------------------------------------------

    def _serve(
        self,
        method: str,
        route: str,
        match: dict[str, str],
        request: httpx.Request,
        user: GitHubUser,
    ) -> tuple[int, object]:
        base = f"{request.url.scheme}://{request.url.netloc.decode()}{self.prefix}"
        params = dict(request.url.params)
        if route == "/user" and method == "GET":
            return 200, user.profile(base)
        if route == "/rate_limit" and method == "GET":
            return 200, {"resources": {}, "rate": {"limit": self.limits.limit}}
        if route == "/users/:login" and method == "GET":
            found = self.users.get(match["login"].lower())
            if found is None:
                raise Reply(404, "Not Found")
            return 200, found.profile(base)
        if "owner" not in match:
            raise Reply(404, "Not Found")
        repo = self._repo(match, user)
        handler = _REPO_ROUTES.get((method, route))
        if handler is None:
            raise Reply(404, "Not Found")
        return handler(self, _Call(repo, user, match, params, _body(request), base, request))

    def _repo(self, match: Mapping[str, str], user: GitHubUser) -> Repository:
        repo = self.repos.get(f"{match['owner']}/{match['repo']}".lower())
        if repo is None or repo.role(user) is None:
            raise Reply(404, "Not Found")
        return repo

    # -- the repository's routes (dispatched by _REPO_ROUTES) ---------------------------------

    def _get_repo(self, call: _Call) -> tuple[int, object]:
        return 200, call.repo.json(call.base, call.user)

    def _list_issues(self, call: _Call) -> tuple[int, object]:
        issues = [i for i in call.repo.issues.values() if i.listed(call.params)]
        sort = call.params.get("sort", "created")
        key: Callable[[Issue], tuple[int, int]] = {
            "updated": lambda i: (i.updated, i.number),
            "comments": lambda i: (len(i.comments), i.number),
        }.get(sort, lambda i: (i.created, i.number))
        issues.sort(key=key, reverse=call.params.get("direction", "desc") != "asc")
        return _paged(
            call.request, [i.json(call.base, call.repo.full_name) for i in issues], call.params
        )

    def _create_issue(self, call: _Call) -> tuple[int, object]:
        if not call.repo.has_issues:
            raise Reply(410, "Issues are disabled for this repo")
        title = call.body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise invalid("Issue", "title", "missing_field")
        now = self._now()
        issue = Issue(
            self._next_id(),
            len(call.repo.issues) + 1,
            title,
            checked_body("Issue", call.body.get("body")),  # type: ignore[arg-type]
            call.user,
            now,
            now,
        )
        self._apply(call.repo, call.user, issue, call.body)
        call.repo.issues[issue.number] = issue
        return 201, issue.json(call.base, call.repo.full_name)

    def _get_issue(self, call: _Call) -> tuple[int, object]:
        return 200, self._issue(call.repo, call.match).json(call.base, call.repo.full_name)

    def _edit_issue(self, call: _Call) -> tuple[int, object]:
        issue = self._issue(call.repo, call.match)
        if issue.user.id != call.user.id and not call.repo.may(call.user, "triage"):
            raise Reply(403, "Must have triage access to edit this issue.")
        before = issue.json(call.base, call.repo.full_name)
        if "title" in call.body:
            if not isinstance(call.body["title"], str) or not call.body["title"].strip():
                raise invalid("Issue", "title", "missing_field")
            issue.title = call.body["title"]
        if "body" in call.body:
            issue.body = checked_body("Issue", call.body["body"])  # type: ignore[assignment]
        self._apply(call.repo, call.user, issue, call.body)
        issue.move(call.body.get("state"), call.body.get("state_reason"), self._now())
        if issue.json(call.base, call.repo.full_name) != before:
            issue.updated = self._now()
        return 200, issue.json(call.base, call.repo.full_name)

    def _list_comments(self, call: _Call) -> tuple[int, object]:
        issue = self._issue(call.repo, call.match)
        since = parse_iso(call.params.get("since", "")) if call.params.get("since") else None
        found = [c for c in issue.comments if since is None or c.updated >= since]
        return _paged(
            call.request,
            [comment_json(c, call.base, call.repo.full_name) for c in found],
            call.params,
        )

    def _list_repo_comments(self, call: _Call) -> tuple[int, object]:
        since = parse_iso(call.params.get("since", "")) if call.params.get("since") else None
        found = [
            c
            for i in call.repo.issues.values()
            for c in i.comments
            if since is None or c.updated >= since
        ]
        sort = call.params.get("sort")
        if sort == "updated":
            found.sort(
                key=lambda c: (c.updated, c.id), reverse=call.params.get("direction") == "desc"
            )
        else:
            found.sort(
                key=lambda c: c.id,
                reverse=sort == "created" and call.params.get("direction") == "desc",
            )
        return _paged(
            call.request,
            [comment_json(c, call.base, call.repo.full_name) for c in found],
            call.params,
        )

    def _add_comment(self, call: _Call) -> tuple[int, object]:
        issue = self._issue(call.repo, call.match)
        text = call.body.get("body")
        if not isinstance(text, str) or not text:
            raise invalid("IssueComment", "body", "missing_field")
        checked_body("IssueComment", text)
        now = self._now()
        comment = Comment(self._next_id(), issue.number, text, call.user, now, now)
        issue.comments.append(comment)
        issue.updated = now
        return 201, comment_json(comment, call.base, call.repo.full_name)

    def _comment_route(self, call: _Call) -> tuple[int, object]:
        issue, comment = self._comment(call.repo, int(call.match["id"]))
        if call.request.method == "GET":
            return 200, comment_json(comment, call.base, call.repo.full_name)
        if comment.user.id != call.user.id and not call.repo.may(call.user, "triage"):
            raise Reply(403, "Must have triage access to change this comment.")
        if call.request.method == "DELETE":
            issue.comments.remove(comment)
            return 204, None
        text = call.body.get("body")
        if not isinstance(text, str) or not text:
            raise invalid("IssueComment", "body", "missing_field")
        comment.body = str(checked_body("IssueComment", text))
        comment.updated = self._now()
        return 200, comment_json(comment, call.base, call.repo.full_name)

    def _labels(self, call: _Call) -> tuple[int, object]:
        labels = sorted(call.repo.labels.values(), key=lambda label: label.name.lower())
        return _paged(
            call.request,
            [label.json(call.base, call.repo.full_name) for label in labels],
            call.params,
        )

    def _milestones(self, call: _Call) -> tuple[int, object]:
        state = call.params.get("state", "open")
        found = [m for m in call.repo.milestones.values() if state in {"all", m.state}]
        return _paged(
            call.request, [m.json(call.base, call.repo.full_name) for m in found], call.params
        )

    def _assignable(self, call: _Call) -> tuple[int, object]:
        found = self.users.get(call.match["login"].lower())
        if found is None or not call.repo.may(found, "triage"):
            raise Reply(404, "Not Found")
        return 204, None

    # -- helpers -----------------------------------------------------------------------------

    def _issue(self, repo: Repository, match: Mapping[str, str]) -> Issue:
        issue = repo.issues.get(int(match["number"]))
        if issue is None:
            raise Reply(404, "Not Found")
        return issue

    def _comment(self, repo: Repository, comment_id: int) -> tuple[Issue, Comment]:
        for issue in repo.issues.values():
            for comment in issue.comments:
                if comment.id == comment_id:
                    return issue, comment
        raise Reply(404, "Not Found")

    def _apply(self, repo: Repository, user: GitHubUser, issue: Issue, body: Json) -> None:
        """Labels, assignees, milestone: silently dropped without triage access, as at GitHub."""
        if not repo.may(user, "triage"):
            return
        if "labels" in body:
            issue.labels = [self._label(repo, name) for name in _names(body["labels"], "labels")]
        if "assignees" in body:
            logins = _names(body["assignees"], "assignees")
            users = [self.users.get(login.lower()) for login in logins]
            for login, found in zip(logins, users, strict=True):
                if found is None or not repo.may(found, "triage"):
                    raise invalid("Issue", "assignees", "invalid", login)
            issue.assignees = [u for u in users if u is not None]
        if "milestone" in body:
            number = body["milestone"]
            if number is None:
                issue.milestone = None
            elif isinstance(number, int) and number in repo.milestones:
                issue.milestone = repo.milestones[number]
            else:
                raise invalid("Issue", "milestone", "invalid", number)

    def _label(self, repo: Repository, name: str) -> Label:
        label = repo.labels.get(name.lower())
        if label is None:
            label = repo.labels[name.lower()] = Label(self._next_id(), name)
        return label

    def _now(self) -> int:
        return int(self.clock())

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids


_Route = Callable[..., tuple[int, object]]
_REPO_ROUTES: Final[dict[tuple[str, str], _Route]] = {
    ("GET", "/repos/:owner/:repo"): FakeGitHub._get_repo,  # noqa: SLF001 - the class's own table
    ("GET", "/repos/:owner/:repo/issues"): FakeGitHub._list_issues,  # noqa: SLF001
    ("POST", "/repos/:owner/:repo/issues"): FakeGitHub._create_issue,  # noqa: SLF001
    ("GET", "/repos/:owner/:repo/issues/comments"): FakeGitHub._list_repo_comments,  # noqa: SLF001
    ("GET", "/repos/:owner/:repo/issues/:number"): FakeGitHub._get_issue,  # noqa: SLF001
    ("PATCH", "/repos/:owner/:repo/issues/:number"): FakeGitHub._edit_issue,  # noqa: SLF001
    ("GET", "/repos/:owner/:repo/issues/:number/comments"): FakeGitHub._list_comments,  # noqa: SLF001
    ("POST", "/repos/:owner/:repo/issues/:number/comments"): FakeGitHub._add_comment,  # noqa: SLF001
    ("GET", "/repos/:owner/:repo/issues/comments/:id"): FakeGitHub._comment_route,  # noqa: SLF001
    ("PATCH", "/repos/:owner/:repo/issues/comments/:id"): FakeGitHub._comment_route,  # noqa: SLF001
    ("DELETE", "/repos/:owner/:repo/issues/comments/:id"): FakeGitHub._comment_route,  # noqa: SLF001
    ("GET", "/repos/:owner/:repo/labels"): FakeGitHub._labels,  # noqa: SLF001
    ("GET", "/repos/:owner/:repo/milestones"): FakeGitHub._milestones,  # noqa: SLF001
    ("GET", "/repos/:owner/:repo/assignees/:login"): FakeGitHub._assignable,  # noqa: SLF001
}


def _check_version(request: httpx.Request) -> None:
    version = request.headers.get("X-GitHub-Api-Version", API_VERSIONS[0])
    if version not in API_VERSIONS:
        raise Reply(400, f"API version '{version}' is not supported.")


def _token(request: httpx.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() in {"bearer", "token"} and value.strip() else None


def _body(request: httpx.Request) -> Json:
    if not request.content:
        return {}
    try:
        body = json.loads(request.content)
    except ValueError as exc:
        raise Reply(400, "Problems parsing JSON") from exc
    if not isinstance(body, dict):
        raise Reply(400, "Problems parsing JSON")
    return body


def _names(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid("Issue", field, "invalid", value)
    return [str(v) for v in value]


def _paged(
    request: httpx.Request, items: list[Json], params: Mapping[str, str]
) -> tuple[int, object]:
    """One page of ``items`` and GitHub's ``Link`` header (raised as the answer's header)."""
    try:
        per_page = min(max(int(params.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
        page = max(int(params.get("page", 1)), 1)
    except ValueError as exc:
        raise Reply(422, "Invalid page or per_page") from exc
    last = max((len(items) + per_page - 1) // per_page, 1)
    links = []

    def url(number: int) -> str:
        query = urlencode({**dict(parse_qsl(request.url.query.decode())), "page": str(number)})
        return str(request.url.copy_with(query=query.encode()))

    if page < last:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    chunk = items[(page - 1) * per_page : page * per_page]
    return 200, _Linked(chunk, ", ".join(links))


class _Linked(list[Json]):
    """A page of items and its ``Link`` header."""

    def __init__(self, items: list[Json], link: str) -> None:
        super().__init__(items)
        self.link = link
