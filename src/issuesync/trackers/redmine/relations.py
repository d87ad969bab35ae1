"""Redmine's issue relations in the replica's terms.

Redmine's relations (``relates``, ``duplicates``/``duplicated``, ``blocks``/``blocked``,
``precedes``/``follows``, ``copied_to``/``copied_from``) are the link types Relates,
Duplicate, Blocks, Precedes and Cloners, named as Jira and the built-in tracker name
theirs so that links cross by name. An issue read with ``include=relations`` lists its
relations (no request more); one is made with ``POST /issues/<id>/relations.json`` and
removed with ``DELETE /relations/<id>.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from issuesync.domain.issuelinks import INWARD, OUTWARD, LinkType, find_type
from issuesync.domain.replica import HubIssueLink
from issuesync.errors import TrackerRejectedError
from issuesync.trackers.http import RestClient

RELATES: Final = LinkType("Relates", "relates to", "relates to")
DUPLICATE: Final = LinkType("Duplicate", "duplicates", "is duplicated by")
BLOCKS: Final = LinkType("Blocks", "blocks", "is blocked by")
PRECEDES: Final = LinkType("Precedes", "precedes", "follows")
CLONERS: Final = LinkType("Cloners", "clones", "is cloned by")
LINK_TYPES: Final = (RELATES, DUPLICATE, BLOCKS, PRECEDES, CLONERS)

# A relation type as its ``issue_id`` end reads it: (link type, direction). "A copied_to B"
# makes B the copy: A is cloned by B.
_TYPES: Final[Mapping[str, tuple[LinkType, str]]] = {
    "relates": (RELATES, OUTWARD),
    "duplicates": (DUPLICATE, OUTWARD),
    "duplicated": (DUPLICATE, INWARD),
    "blocks": (BLOCKS, OUTWARD),
    "blocked": (BLOCKS, INWARD),
    "precedes": (PRECEDES, OUTWARD),
    "follows": (PRECEDES, INWARD),
    "copied_to": (CLONERS, INWARD),
    "copied_from": (CLONERS, OUTWARD),
}
_FLIP: Final = {OUTWARD: INWARD, INWARD: OUTWARD}


def links_of(issue: Mapping[str, Any]) -> list[HubIssueLink]:
    """The relations of an issue read with ``include=relations``, as its links."""
    me = str(issue.get("id"))
    links: list[HubIssueLink] = []
    for relation in issue.get("relations") or []:
        kind, direction = _TYPES.get(str(relation.get("relation_type")), (RELATES, OUTWARD))
        source, target = str(relation.get("issue_id")), str(relation.get("issue_to_id"))
        if source == me:
            other = target
        else:
            other, direction = source, _FLIP[direction]
        links.append(
            HubIssueLink(
                id=str(relation.get("id")),
                other_issue_id=other,
                other_issue_key=other,
                link_type_name=kind.name,
                link_name=kind.phrase(direction),
                direction=direction,
            )
        )
    return links


def relation_type(kind: str, *, outward: bool) -> str:
    """Redmine's relation type for a link of type ``kind`` from the ``outward`` end or not
    (a type Redmine lacks is ``relates``)."""
    found = find_type(kind, LINK_TYPES) or RELATES
    direction = OUTWARD if outward or not found.directed else INWARD
    for name, (link_type, end) in _TYPES.items():
        if link_type is found and end == direction:
            return name
    return "relates"


def add_relation(
    client: RestClient, issue_id: str, other_id: str, kind: str, *, outward: bool
) -> None:
    """Relate issue ``issue_id`` to ``other_id``; a relation that exists is left as it is."""
    relation = {"issue_to_id": int(other_id), "relation_type": relation_type(kind, outward=outward)}
    body = {"relation": relation}
    try:
        client.post(f"issues/{issue_id}/relations.json", body)
    except TrackerRejectedError:
        # 422 "Related issue has already been taken": a retry's relation exists.
        listed = client.get(f"issues/{issue_id}/relations.json").get("relations") or []
        ends = ({str(r.get("issue_id")), str(r.get("issue_to_id"))} for r in listed)
        if {issue_id, other_id} not in list(ends):
            raise


def delete_relation(client: RestClient, relation_id: str) -> None:
    """Remove a relation; one that is gone is not an error."""
    client.delete(f"relations/{relation_id}.json", missing_ok=True)
