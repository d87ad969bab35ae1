"""One side of a tracker pair, worked as a person would through that tracker's own API.

``tests/integration/test_default_mappings.py`` runs one scenario over every pair of
issue 19 §1; each :class:`Side` says how its tracker is connected (the connector's
``connection.application``, credentials only) and how a person creates, comments,
attaches, closes and reopens an issue there, and reads it back. Statuses are read as
categories (``new``, ``indeterminate``, ``done``): the pair's proposed mappings choose
the names, the test checks that the meaning crosses.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

import httpx
from tracker_helpers import API, create_issue

REDMINE_WRITE_TRIES = 5

NEW, UNDER_WAY, DONE = "new", "indeterminate", "done"


@dataclass(frozen=True)
class Seen:
    """An issue as read back: summary, status category, comment bodies, files (name ->
    sha256 of the content downloaded), its type and priority (None where there are none)."""

    summary: str
    category: str
    comments: tuple[str, ...]
    files: dict[str, str]
    kind: str
    priority: str | None


def digest(content: bytes) -> str:
    """A file's sha256, to compare contents without printing them."""
    return hashlib.sha256(content).hexdigest()


class Side(Protocol):
    """One project of a pair and what a person does there."""

    name: str
    attachments: bool  # whether the tracker has attachments at all
    subtasks: bool  # whether an issue may have a parent there

    def application(self) -> dict[str, str]:
        """The connector's ``connection.application``: where, and credentials."""
        ...

    @property
    def project(self) -> str:
        """The connector's project key."""
        ...

    def create(self, summary: str) -> str: ...
    def comment(self, key: str, text: str) -> None: ...
    def attach(self, key: str, filename: str, content: bytes) -> None: ...
    def close(self, key: str) -> None: ...
    def reopen(self, key: str) -> None: ...
    def create_subtask(self, parent: str, summary: str) -> str:
        """A sub-task of ``parent`` (only where :attr:`subtasks`)."""
        ...

    def parent(self, key: str) -> str | None:
        """The key of the issue's parent, if it has one."""
        ...

    def seen(self, key: str) -> Seen:
        """The issue as a person sees it now, read in as few requests as the API allows."""
        ...


# -- the built-in tracker, and Jira (jira820, or the built-in tracker's Jira API) -------------


@dataclass
class JiraSide:
    """A project spoken to in Jira's REST v2: the built-in tracker (``connection`` without a
    system or base URL), the built-in tracker through the ``jira`` adapter, or jira820."""

    name: str
    client: httpx.Client  # its base URL is the server's; paths below start with /rest/api/2
    key: str
    connection: dict[str, str]
    attachments: bool = True
    subtasks: bool = True

    def application(self) -> dict[str, str]:
        return dict(self.connection)

    @property
    def project(self) -> str:
        return self.key

    def _fields(self, key: str) -> dict[str, Any]:
        response = self.client.get(f"{API}/issue/{key}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()["fields"]
        return found

    def create(self, summary: str) -> str:
        return create_issue(self.client, self.key, summary)

    def create_subtask(self, parent: str, summary: str) -> str:
        return create_issue(self.client, self.key, summary, "Sub-task", parent={"key": parent})

    def parent(self, key: str) -> str | None:
        parent = self._fields(key).get("parent")
        return str(parent["key"]) if parent else None

    def comment(self, key: str, text: str) -> None:
        said = self.client.post(f"{API}/issue/{key}/comment", json={"body": text})
        assert said.status_code == 201, said.text

    def attach(self, key: str, filename: str, content: bytes) -> None:
        sent = self.client.post(
            f"{API}/issue/{key}/attachments",
            files={"file": (filename, content, "application/octet-stream")},
            headers={"X-Atlassian-Token": "no-check"},
        )
        assert sent.status_code == 200, sent.text

    def _move(self, key: str, category: str) -> None:
        listed = self.client.get(f"{API}/issue/{key}/transitions").json()["transitions"]
        # The last of the category: jira820's "Reopened" rather than "Open", which the
        # proposal maps by category, not by name.
        step = [t for t in listed if t["to"]["statusCategory"]["key"] == category][-1]
        moved = self.client.post(
            f"{API}/issue/{key}/transitions", json={"transition": {"id": step["id"]}}
        )
        assert moved.is_success, moved.text

    def close(self, key: str) -> None:
        self._move(key, DONE)

    def reopen(self, key: str) -> None:
        self._move(key, NEW)

    def seen(self, key: str) -> Seen:
        fields = self._fields(key)
        response = self.client.get(f"{API}/issue/{key}/comment")
        assert response.status_code == 200, response.text
        files: dict[str, str] = {}
        for meta in fields.get("attachment") or []:
            content = self.client.get(meta["content"])
            assert content.status_code == 200, content.text
            files[meta["filename"]] = digest(content.content)
        return Seen(
            str(fields["summary"]),
            str(fields["status"]["statusCategory"]["key"]),
            tuple(c["body"] for c in response.json()["comments"]),
            files,
            str(fields["issuetype"]["name"]),
            (fields.get("priority") or {}).get("name"),
        )


# -- Redmine ----------------------------------------------------------------------------------


@dataclass
class RedmineSide:
    """A Redmine project, worked by its administrator; the sync user's key connects it."""

    admin: httpx.Client
    url: str
    key: str
    sync_key: str
    name: str = "Redmine"
    attachments: bool = True
    subtasks: bool = True
    _statuses: list[dict[str, Any]] = field(default_factory=list)

    def application(self) -> dict[str, str]:
        return {"system": "redmine", "baseUrl": self.url, "token": self.sync_key}

    @property
    def project(self) -> str:
        return self.key

    def statuses(self) -> list[dict[str, Any]]:
        """Redmine's statuses in their order (the first is the default, "New")."""
        if not self._statuses:
            self._statuses = self.admin.get("/issue_statuses.json").json()["issue_statuses"]
        return self._statuses

    def _issue(self, key: str) -> dict[str, Any]:
        answer = self.admin.get(f"/issues/{key}.json", params={"include": "journals,attachments"})
        assert answer.status_code == 200, answer.text
        issue: dict[str, Any] = answer.json()["issue"]
        return issue

    def _update(self, key: str, **changes: object) -> None:
        # Debian's Redmine on SQLite answers a write 500 now and then while the engine reads
        # (the database was busy: nothing was written), as the engine's own requests see;
        # a person would press the button again, and so does this, a few times at most.
        for _ in range(REDMINE_WRITE_TRIES):
            answer = self.admin.put(f"/issues/{key}.json", json={"issue": changes})
            if answer.status_code != 500:
                break
            time.sleep(0.5)
        assert answer.status_code in {200, 204}, answer.text

    def create(self, summary: str, **more: object) -> str:
        issue = {"project_id": self.key, "subject": summary, **more}
        made = self.admin.post("/issues.json", json={"issue": issue})
        assert made.status_code == 201, made.text
        return str(made.json()["issue"]["id"])

    def create_subtask(self, parent: str, summary: str) -> str:
        return self.create(summary, parent_issue_id=int(parent))

    def parent(self, key: str) -> str | None:
        parent = self._issue(key).get("parent")
        return str(parent["id"]) if parent else None

    def comment(self, key: str, text: str) -> None:
        self._update(key, notes=text)

    def attach(self, key: str, filename: str, content: bytes) -> None:
        upload = self.admin.post(
            "/uploads.json",
            params={"filename": filename},
            content=content,
            headers={"Content-Type": "application/octet-stream"},
        )
        assert upload.status_code == 201, upload.text
        token = upload.json()["upload"]["token"]
        self._update(key, uploads=[{"token": token, "filename": filename}])

    def close(self, key: str) -> None:
        closed = next(s for s in self.statuses() if s.get("is_closed"))
        self._update(key, status_id=closed["id"])

    def reopen(self, key: str) -> None:
        self._update(key, status_id=self.statuses()[0]["id"])

    def seen(self, key: str) -> Seen:
        """Closed statuses are done, the first status is new, the others under way (as the
        Redmine adapter's outline says)."""
        issue = self._issue(key)
        status = next(s for s in self.statuses() if s["name"] == issue["status"]["name"])
        category = NEW if status is self.statuses()[0] else UNDER_WAY
        files: dict[str, str] = {}
        for meta in issue["attachments"]:
            content = self.admin.get(meta["content_url"])
            assert content.status_code == 200, content.text
            files[meta["filename"]] = digest(content.content)
        return Seen(
            str(issue["subject"]),
            DONE if status.get("is_closed") else category,
            tuple(j["notes"] for j in issue["journals"] if j.get("notes")),
            files,
            str(issue["tracker"]["name"]),
            str(issue["priority"]["name"]),
        )


# -- GitHub and GitLab (the fakes, over real HTTP) --------------------------------------------


@dataclass
class GitHubSide:
    """A repository of the fake GitHub, worked by its owner; the sync bot's token connects."""

    owner: httpx.Client  # the fake's base URL, the owner's token
    url: str
    repo: str
    token: str
    name: str = "GitHub"
    attachments: bool = False
    subtasks: bool = False

    def application(self) -> dict[str, str]:
        return {"system": "github", "baseUrl": self.url, "token": self.token}

    @property
    def project(self) -> str:
        return self.repo

    def _issue(self, key: str) -> dict[str, Any]:
        answer = self.owner.get(f"/repos/{self.repo}/issues/{key}")
        assert answer.status_code == 200, answer.text
        issue: dict[str, Any] = answer.json()
        return issue

    def create(self, summary: str) -> str:
        made = self.owner.post(f"/repos/{self.repo}/issues", json={"title": summary})
        assert made.status_code == 201, made.text
        return str(made.json()["number"])

    def comment(self, key: str, text: str) -> None:
        said = self.owner.post(f"/repos/{self.repo}/issues/{key}/comments", json={"body": text})
        assert said.status_code == 201, said.text

    def attach(self, key: str, filename: str, content: bytes) -> None:  # noqa: ARG002 - none
        raise AssertionError(f"GitHub's issues have no attachments ({key}: {filename})")

    def create_subtask(self, parent: str, summary: str) -> str:
        raise AssertionError(f"GitHub's issues have no parent ({parent}: {summary})")

    def parent(self, key: str) -> str | None:  # noqa: ARG002 - no issue has one here
        return None

    def close(self, key: str) -> None:
        edited = self.owner.patch(f"/repos/{self.repo}/issues/{key}", json={"state": "closed"})
        assert edited.status_code == 200, edited.text

    def reopen(self, key: str) -> None:
        edited = self.owner.patch(f"/repos/{self.repo}/issues/{key}", json={"state": "open"})
        assert edited.status_code == 200, edited.text

    def seen(self, key: str) -> Seen:
        issue = self._issue(key)
        answer = self.owner.get(f"/repos/{self.repo}/issues/{key}/comments")
        assert answer.status_code == 200, answer.text
        category = DONE if issue["state"] == "closed" else NEW
        comments = tuple(c["body"] for c in answer.json())
        return Seen(str(issue["title"]), category, comments, {}, "Issue", None)


UPLOAD_LINK = re.compile(r"\]\((/uploads/\w+/[^)\s]+)\)")


@dataclass
class GitLabSide:
    """A project of the fake GitLab, worked by a developer; the sync user's token connects.
    A file is an upload linked in a note, as GitLab's web page makes it."""

    person: httpx.Client  # base URL .../api/v4/projects/:id, a developer's token
    url: str
    path: str
    token: str
    name: str = "GitLab"
    attachments: bool = True
    subtasks: bool = False

    def application(self) -> dict[str, str]:
        return {"system": "gitlab", "baseUrl": self.url, "token": self.token}

    @property
    def project(self) -> str:
        return self.path

    def _issue(self, key: str) -> dict[str, Any]:
        answer = self.person.get(f"/issues/{key}")
        assert answer.status_code == 200, answer.text
        issue: dict[str, Any] = answer.json()
        return issue

    def _notes(self, key: str) -> list[str]:
        answer = self.person.get(f"/issues/{key}/notes")
        assert answer.status_code == 200, answer.text
        return [n["body"] for n in answer.json() if not n.get("system")]

    def create(self, summary: str) -> str:
        made = self.person.post("/issues", json={"title": summary})
        assert made.status_code == 201, made.text
        return str(made.json()["iid"])

    def comment(self, key: str, text: str) -> None:
        said = self.person.post(f"/issues/{key}/notes", json={"body": text})
        assert said.status_code == 201, said.text

    def attach(self, key: str, filename: str, content: bytes) -> None:
        upload = self.person.post("/uploads", files={"file": (filename, content)})
        assert upload.status_code == 201, upload.text
        self.comment(key, upload.json()["markdown"])

    def create_subtask(self, parent: str, summary: str) -> str:
        raise AssertionError(f"GitLab's issues have no parent here ({parent}: {summary})")

    def parent(self, key: str) -> str | None:  # noqa: ARG002 - no issue has one here
        return None

    def _state(self, key: str, event: str) -> None:
        edited = self.person.put(f"/issues/{key}", json={"state_event": event})
        assert edited.status_code == 200, edited.text

    def close(self, key: str) -> None:
        self._state(key, "close")

    def reopen(self, key: str) -> None:
        self._state(key, "reopen")

    def seen(self, key: str) -> Seen:
        issue = self._issue(key)
        notes = self._notes(key)
        files: dict[str, str] = {}
        for body in notes:
            for link in UPLOAD_LINK.findall(body):
                content = self.person.get(link)
                assert content.status_code == 200, content.text
                files[unquote(link.rsplit("/", 1)[-1])] = digest(content.content)
        category = DONE if issue["state"] == "closed" else NEW
        kind = str(issue["issue_type"]).capitalize()  # the outline's names: Issue, Incident
        return Seen(str(issue["title"]), category, tuple(notes), files, kind, None)
