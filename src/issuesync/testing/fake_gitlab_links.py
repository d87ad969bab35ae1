"""The fake GitLab's issue links (REST v4 ``/projects/:id/issues/:iid/links``), as GitLab's
*Issue links API* documents them.

- ``GET .../links``: the linked issues, oldest link first, each an issue with
  ``issue_link_id``, ``link_type`` as *the listed issue* relates to the queried one's
  reading (``relates_to``, ``blocks``, ``is_blocked_by``: on the blocker's list the
  blocked issue shows ``blocks``), ``link_created_at`` and ``link_updated_at``;
- ``POST .../links`` with ``target_project_id`` (id or path), ``target_issue_iid`` and
  ``link_type`` (default ``relates_to``): 201 with ``source_issue``, ``target_issue``
  and ``link_type``; a link that exists between the two already is 409 ``Issue(s)
  already assigned``; one to the issue itself 400;
- ``DELETE .../links/:issue_link_id``: 200 with the removed link; 404 for one that is not
  the issue's.

Writing a link needs Reporter on both projects; making or removing one writes a system
note on both issues (``marked this issue as related to #2``), which moves both
``updated_at``, as GitLab's notes do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx

from issuesync.testing.fake_gitlab_wire import Answer, Json, Reply, body_of, iso

GitLabUser = Any  # fake_gitlab's; named here without importing it (no cycle)


class GitLabProject(Protocol):
    """What the links need of a project of the fake (``fake_gitlab.GitLabProject``)."""

    id: int
    path: str
    issues: dict[int, Json]


LINK_TYPES: Final = ("relates_to", "blocks", "is_blocked_by")
_REVERSE: Final = {"relates_to": "relates_to", "blocks": "is_blocked_by", "is_blocked_by": "blocks"}
_NOTES: Final = {
    "relates_to": "marked this issue as related to {}",
    "blocks": "marked this issue as blocking {}",
    "is_blocked_by": "marked this issue as blocked by {}",
}
REPORTER: Final = 20


@dataclass
class GitLabLink:
    """A link from ``source`` to ``target`` (project id, iid): source ``link_type`` target."""

    id: int
    source: tuple[int, int]
    target: tuple[int, int]
    link_type: str
    created_at: str


class IssueLinks:
    """The links routes of :class:`~issuesync.testing.fake_gitlab.FakeGitLab` (a mixin)."""

    projects: Mapping[int, GitLabProject]
    links: dict[int, GitLabLink]
    _ids: Any
    _project_of: Callable[..., GitLabProject]
    _issue_of: Callable[..., Json]
    _now_ms: Callable[[], int]
    _new_note: Callable[..., Json]

    def link_routes(self, issue: str) -> list[tuple[str, str, str, Callable[..., Any]]]:
        """The routes, under ``issue``'s pattern (project ref and iid)."""
        name = "/projects/:id/issues/:iid/links"
        return [
            ("GET", issue + "/links", name, self._links),
            ("POST", issue + "/links", name, self._create_link),
            ("DELETE", issue + r"/links/(\d+)", name + "/:link_id", self._delete_link),
        ]

    def _links(self, _request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        project = self._project_of(ref, user)
        self._issue_of(project, iid)
        me = (project.id, int(iid))
        listed: list[Json] = []
        for link in sorted(self.links.values(), key=lambda found: found.id):
            if me not in (link.source, link.target):
                continue
            outward = link.source == me
            other = link.target if outward else link.source
            issue = self.projects[other[0]].issues[other[1]]
            kind = link.link_type if outward else _REVERSE[link.link_type]
            listed.append(
                issue
                | {
                    "issue_link_id": link.id,
                    "link_type": kind,
                    "link_created_at": link.created_at,
                    "link_updated_at": link.created_at,
                }
            )
        return 200, listed, {}

    def _create_link(self, request: httpx.Request, user: GitLabUser, ref: str, iid: str) -> Answer:
        project = self._project_of(ref, user, level=REPORTER)
        source_issue = self._issue_of(project, iid)
        body = body_of(request)
        kind = str(body.get("link_type") or "relates_to")
        if kind not in LINK_TYPES:
            raise Reply(400, {"error": "link_type does not have a valid value"})
        target_ref, target_iid = body.get("target_project_id"), body.get("target_issue_iid")
        if target_ref is None or target_iid is None:
            raise Reply(400, {"error": "target_project_id, target_issue_iid are missing"})
        target_project = self._project_of(str(target_ref), user, level=REPORTER)
        target_issue = self._issue_of(target_project, str(target_iid))
        source, target = (project.id, int(iid)), (target_project.id, int(target_iid))
        if source == target:
            raise Reply(400, {"message": "Cannot link an issue to itself"})
        if any({link.source, link.target} == {source, target} for link in self.links.values()):
            raise Reply(409, {"message": "Issue(s) already assigned"})
        link = GitLabLink(next(self._ids), source, target, kind, iso(self._now_ms()))
        self.links[link.id] = link
        self._note_both(link, user, removed=False)
        return (
            201,
            {"source_issue": source_issue, "target_issue": target_issue, "link_type": kind},
            {},
        )

    def _delete_link(
        self, _request: httpx.Request, user: GitLabUser, ref: str, iid: str, link_id: str
    ) -> Answer:
        project = self._project_of(ref, user, level=REPORTER)
        self._issue_of(project, iid)
        link = self.links.get(int(link_id))
        if link is None or (project.id, int(iid)) not in (link.source, link.target):
            raise Reply(404, {"message": "404 Not found"})
        del self.links[link.id]
        self._note_both(link, user, removed=True)
        source = self.projects[link.source[0]].issues[link.source[1]]
        target = self.projects[link.target[0]].issues[link.target[1]]
        return (
            200,
            {"source_issue": source, "target_issue": target, "link_type": link.link_type},
            {},
        )

    def _note_both(self, link: GitLabLink, user: GitLabUser, *, removed: bool) -> None:
        for me, other, kind in (
            (link.source, link.target, link.link_type),
            (link.target, link.source, _REVERSE[link.link_type]),
        ):
            reference = f"#{other[1]}" if me[0] == other[0] else self.projects[other[0]].path
            text = "removed the relation with {}" if removed else _NOTES[kind]
            self._new_note(self.projects[me[0]], me[1], text.format(reference), user, system=True)
