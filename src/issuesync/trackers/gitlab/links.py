"""GitLab's issue links (``/projects/:id/issues/:iid/links``) in the replica's terms.

GitLab has three link types, read as the listed issue relates to the queried one:
``relates_to``, ``blocks`` and ``is_blocked_by``. They are the types Relates ("relates
to", both ends alike) and Blocks ("blocks" / "is blocked by"), named as Jira and the
built-in tracker name theirs, so that links cross by name. GitLab lists an issue's links
apart from the issue: reading an issue's links is one request more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from issuesync.domain.issuelinks import INWARD, OUTWARD, LinkType, find_type
from issuesync.domain.replica import HubIssueLink
from issuesync.errors import TrackerRejectedError
from issuesync.trackers.gitlab.client import GitLabClient

RELATES: Final = LinkType("Relates", "relates to", "relates to")
BLOCKS: Final = LinkType("Blocks", "blocks", "is blocked by")
LINK_TYPES: Final = (RELATES, BLOCKS)
# GitLab's link_type of the other issue, as this issue's end: (type, direction).
_READ: Final[Mapping[str, tuple[LinkType, str]]] = {
    "relates_to": (RELATES, OUTWARD),
    "blocks": (BLOCKS, OUTWARD),
    "is_blocked_by": (BLOCKS, INWARD),
}


def read_links(client: GitLabClient, path: str, project_id: object, iid: str) -> list[HubIssueLink]:
    """The issue's links; one to another project's issue is keyed ``group/project#iid``."""
    found: list[HubIssueLink] = []
    for item in client.everything(f"{path}/issues/{iid}/links", {}):
        kind, direction = _READ.get(str(item.get("link_type")), (RELATES, OUTWARD))
        other = str(item["iid"])
        if project_id is not None and item.get("project_id") != project_id:
            other = f"{item.get('project_id')}#{other}"
        found.append(
            HubIssueLink(
                id=str(item.get("issue_link_id")),
                other_issue_id=str(item.get("id")),
                other_issue_key=other,
                link_type_name=kind.name,
                link_name=kind.phrase(direction),
                direction=direction,
            )
        )
    return found


def add_link(
    client: GitLabClient, path: str, project: str, iid: str, other: str, kind: str, *, outward: bool
) -> None:
    """Link issue ``iid`` to ``other`` of the same project; one that exists is left as it is."""
    found = find_type(kind, LINK_TYPES) or RELATES
    link_type = "relates_to"
    if found is BLOCKS:
        link_type = "blocks" if outward else "is_blocked_by"
    body: dict[str, Any] = {
        "target_project_id": project,
        "target_issue_iid": other,
        "link_type": link_type,
    }
    try:
        client.post(f"{path}/issues/{iid}/links", body)
    except TrackerRejectedError:
        # 409 "Issue(s) already assigned": a link between the two exists (a retry's).
        listed = client.everything(f"{path}/issues/{iid}/links", {})
        if not any(str(item.get("iid")) == other for item in listed):
            raise


def delete_link(client: GitLabClient, path: str, iid: str, link_id: str) -> None:
    """Remove a link of the issue; one that is gone is not an error."""
    client.delete(f"{path}/issues/{iid}/links/{link_id}", missing_ok=True)
