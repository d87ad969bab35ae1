"""The state of :class:`~issuesync.testing.fake_github.FakeGitHub`: users, repositories, issues.

Plain records and their JSON as GitHub's REST API (version 2022-11-28) renders
them; the HTTP side (routes, paging, ETags, rate limits) is in ``fake_github``.
Times are whole epoch seconds, as GitHub keeps them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from issuesync.trackers.fieldcodec import parse_datetime

Json = dict[str, Any]

# Repository roles, weakest first, and what ``permissions`` says for each.
ROLES: Final = ("read", "triage", "write", "maintain", "admin")
_PERMISSION_OF: Final = {
    "pull": "read",
    "triage": "triage",
    "push": "write",
    "maintain": "maintain",
}


def iso(seconds: int) -> str:
    """GitHub's timestamp: ``2026-11-23T22:00:00Z``."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> int | None:
    """Whole epoch seconds of an ISO 8601 time (``Z`` or an offset); None when not one."""
    ms = parse_datetime(text)
    return None if ms is None else ms // 1000


DOCS: Final = "https://docs.github.com/rest"


class Reply(Exception):  # noqa: N818 - a control-flow signal carrying an answer
    """An answer other than a route's success: an error or a spent limit, in GitHub's shape."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"message": message, **extra, "documentation_url": DOCS}
        self.headers: dict[str, str] = {}


BODY_LIMIT: Final = 65_536  # characters of an issue's or a comment's body


def checked_body(resource: str, body: object) -> object:
    """``body``, or GitHub's 422 for one over :data:`BODY_LIMIT` characters."""
    if isinstance(body, str) and len(body) > BODY_LIMIT:
        message = f"body is too long (maximum is {BODY_LIMIT} characters)"
        error: Json = {"resource": resource, "code": "custom", "field": "body", "message": message}
        raise Reply(422, "Validation Failed", errors=[error])
    return body


def invalid(resource: str, field: str, code: str, value: object = None) -> Reply:
    """GitHub's ``422 Validation Failed`` naming one field."""
    error: Json = {"resource": resource, "field": field, "code": code}
    if value is not None:
        error["value"] = value
    return Reply(422, "Validation Failed", errors=[error])


@dataclass
class GitHubUser:
    """An account; ``email`` is its public e-mail (usually none)."""

    id: int
    login: str
    email: str | None = None
    name: str | None = None

    def json(self, base: str) -> Json:
        """The simple user object issues and comments embed."""
        return {
            "login": self.login,
            "id": self.id,
            "node_id": f"U_{self.id}",
            "type": "User",
            "site_admin": False,
            "url": f"{base}/users/{self.login}",
            "html_url": f"https://github.example/{self.login}",
        }

    def profile(self, base: str) -> Json:
        """``GET /users/{login}``: the simple object and the public profile."""
        return {**self.json(base), "name": self.name, "email": self.email}


@dataclass
class Label:
    """A repository's label."""

    id: int
    name: str
    color: str = "ededed"

    def json(self, base: str, repo: str) -> Json:
        """As issues and ``/labels`` list it."""
        return {
            "id": self.id,
            "node_id": f"LA_{self.id}",
            "url": f"{base}/repos/{repo}/labels/{self.name}",
            "name": self.name,
            "color": self.color,
            "default": False,
            "description": None,
        }


@dataclass
class Milestone:
    """A repository's milestone, by number within the repository."""

    id: int
    number: int
    title: str
    state: str = "open"

    def json(self, base: str, repo: str) -> Json:
        """As issues and ``/milestones`` list it."""
        return {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "state": self.state,
            "url": f"{base}/repos/{repo}/milestones/{self.number}",
        }


@dataclass
class Comment:
    """An issue comment; ids are global, as GitHub's are."""

    id: int
    issue_number: int
    body: str
    user: GitHubUser
    created: int
    updated: int


@dataclass
class Issue:
    """An issue or, with ``pull_request``, a pull request (they share the numbers)."""

    id: int
    number: int
    title: str
    body: str | None
    user: GitHubUser
    created: int
    updated: int
    state: str = "open"
    state_reason: str | None = None
    closed: int | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[GitHubUser] = field(default_factory=list)
    milestone: Milestone | None = None
    pull_request: bool = False
    comments: list[Comment] = field(default_factory=list)

    def move(self, state: object, reason: object, now: int) -> None:
        """Open or close, as a ``PATCH`` with ``state`` and ``state_reason`` does."""
        if state is None:
            return
        if state not in {"open", "closed"}:
            raise invalid("Issue", "state", "invalid", state)
        if state == "closed":
            if reason not in {None, "completed", "not_planned", "duplicate"}:
                raise invalid("Issue", "state_reason", "invalid", reason)
            if self.state != "closed" or (reason or "completed") != self.state_reason:
                self.state, self.state_reason = "closed", str(reason or "completed")
                self.closed = now
        elif self.state == "closed":
            self.state, self.state_reason, self.closed = "open", "reopened", None

    def listed(self, params: Mapping[str, str]) -> bool:  # noqa: PLR0911 - one per filter
        """Whether the issue passes the filters of ``GET /repos/{o}/{r}/issues``."""
        state = params.get("state", "open")
        if state not in {"all", self.state}:
            return False
        since = params.get("since")
        if since and self.updated < (parse_iso(since) or 0):
            return False
        wanted = [n.strip().lower() for n in params.get("labels", "").split(",") if n.strip()]
        if not set(wanted) <= {label.name.lower() for label in self.labels}:
            return False
        assignee = params.get("assignee")
        logins = {u.login.lower() for u in self.assignees}
        if (assignee == "none" and logins) or (assignee == "*" and not logins):
            return False
        if assignee not in {None, "none", "*"} and str(assignee).lower() not in logins:
            return False
        mentioned = params.get("mentioned")
        texts = [self.body or "", *(c.body for c in self.comments)]
        if mentioned and not any(f"@{mentioned.lower()}" in t.lower() for t in texts):
            return False
        creator = params.get("creator")
        if creator and self.user.login.lower() != creator.lower():
            return False
        milestone = params.get("milestone")
        number = self.milestone.number if self.milestone else None
        if (milestone == "none" and number is not None) or (milestone == "*" and number is None):
            return False
        return milestone in {None, "none", "*"} or str(number) == milestone

    def json(self, base: str, repo: str) -> Json:
        """The issue object of GitHub's REST API."""
        url = f"{base}/repos/{repo}/issues/{self.number}"
        body: Json = {
            "id": self.id,
            "node_id": f"I_{self.id}",
            "url": url,
            "repository_url": f"{base}/repos/{repo}",
            "comments_url": f"{url}/comments",
            "html_url": f"https://github.example/{repo}/issues/{self.number}",
            "number": self.number,
            "state": self.state,
            "state_reason": self.state_reason,
            "title": self.title,
            "body": self.body,
            "user": self.user.json(base),
            "labels": [label.json(base, repo) for label in self.labels],
            "assignee": self.assignees[0].json(base) if self.assignees else None,
            "assignees": [user.json(base) for user in self.assignees],
            "milestone": self.milestone.json(base, repo) if self.milestone else None,
            "locked": False,
            "comments": len(self.comments),
            "created_at": iso(self.created),
            "updated_at": iso(self.updated),
            "closed_at": iso(self.closed) if self.closed is not None else None,
            "author_association": "OWNER",
        }
        if self.pull_request:
            pulls = f"{base}/repos/{repo}/pulls/{self.number}"
            body["pull_request"] = {"url": pulls, "merged_at": None}
        return body


def comment_json(comment: Comment, base: str, repo: str) -> Json:
    """The issue comment object of GitHub's REST API."""
    return {
        "id": comment.id,
        "node_id": f"IC_{comment.id}",
        "url": f"{base}/repos/{repo}/issues/comments/{comment.id}",
        "html_url": f"https://github.example/{repo}/issues/{comment.issue_number}",
        "issue_url": f"{base}/repos/{repo}/issues/{comment.issue_number}",
        "body": comment.body,
        "user": comment.user.json(base),
        "created_at": iso(comment.created),
        "updated_at": iso(comment.updated),
        "author_association": "OWNER",
    }


@dataclass
class Repository:
    """A repository with its issue tracker; ``roles`` gives each login's role."""

    id: int
    owner: GitHubUser
    name: str
    private: bool = False
    has_issues: bool = True
    roles: dict[str, str] = field(default_factory=dict)  # login (lower case) -> role
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)  # lower-case name -> label
    milestones: dict[int, Milestone] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner.login}/{self.name}"

    def role(self, user: GitHubUser) -> str | None:
        """The user's role here: the owner is admin; anyone may read a public repository."""
        if user.id == self.owner.id:
            return "admin"
        role = self.roles.get(user.login.lower())
        return "read" if role is None and not self.private else role

    def may(self, user: GitHubUser, permission: str) -> bool:
        """Whether the user holds ``permission`` (``pull``, ``triage``, ``push``, ...)."""
        role = self.role(user)
        wanted = _PERMISSION_OF.get(permission, permission)
        return role is not None and ROLES.index(role) >= ROLES.index(wanted)

    def json(self, base: str, user: GitHubUser) -> Json:
        """``GET /repos/{owner}/{repo}`` as ``user`` sees it."""
        return {
            "id": self.id,
            "node_id": f"R_{self.id}",
            "name": self.name,
            "full_name": self.full_name,
            "owner": self.owner.json(base),
            "private": self.private,
            "has_issues": self.has_issues,
            "url": f"{base}/repos/{self.full_name}",
            "permissions": {
                name: self.may(user, name)
                for name in ("admin", "maintain", "push", "triage", "pull")
            },
        }
