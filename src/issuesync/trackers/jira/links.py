"""Jira's issue links (REST v2 ``issueLink`` and ``issueLinkType``) for the ``jira`` adapter.

An issue's links come with the issue (``issuelinks`` is among ``*navigable``) and are read
by ``fieldcodec.links_from_jira``. As Jira's API takes a link, ``POST issueLink`` goes from
its ``inwardIssue`` to its ``outwardIssue``: with Blocks, the inward issue blocks the
outward one; Jira answers a link that exists already as made. The types are read once per
adapter (a route's life): they rarely change.
"""

from __future__ import annotations

from issuesync.domain.issuelinks import LinkType
from issuesync.errors import NotFoundError
from issuesync.trackers.jira.client import JiraClient


class JiraLinks:
    """One Jira's link types, and links made and removed."""

    def __init__(self, client: JiraClient) -> None:
        self._client = client
        self._types: tuple[LinkType, ...] | None = None

    def types(self) -> tuple[LinkType, ...]:
        """``GET issueLinkType``; none where the API has no links (``issueLinkType`` 404)."""
        if self._types is None:
            try:
                found = self._client.get("issueLinkType").get("issueLinkTypes") or []
            except NotFoundError:
                found = []
            self._types = tuple(
                LinkType(str(t["name"]), str(t.get("outward") or ""), str(t.get("inward") or ""))
                for t in found
                if t.get("name")
            )
        return self._types

    def add(self, key: str, other_key: str, link_type: str, *, outward: bool) -> None:
        """Link ``key`` to ``other_key``: ``key`` is the link's outward end when ``outward``."""
        source, target = (key, other_key) if outward else (other_key, key)
        body = {
            "type": {"name": link_type},
            "inwardIssue": {"key": source},
            "outwardIssue": {"key": target},
        }
        self._client.post("issueLink", body)

    def delete(self, link_id: str) -> None:
        """``DELETE issueLink/{id}``; one that is gone is not an error."""
        self._client.delete(f"issueLink/{link_id}", missing_ok=True)
