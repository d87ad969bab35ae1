"""What an adapter whose tracker has typed issue links offers the engine.

Optional, as :class:`~issuesync.trackers.adapter.Outlines` is: an adapter that reads its
issues' links into the replica's ``issueLinks`` and can make and remove them implements
:class:`IssueLinking` and declares ``Capabilities(links=True)``. GitHub has no typed
links between issues (only text references and sub-issues), so its adapter has neither
and links are not synchronized with it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from issuesync.domain.issuelinks import LinkType


@runtime_checkable
class IssueLinking(Protocol):
    """Typed links between issues of the adapter's tracker."""

    def link_types(self) -> tuple[LinkType, ...]:
        """The tracker's link types (an adapter may remember them: they rarely change)."""
        ...

    def add_link(self, key: str, other_key: str, link_type: str, *, outward: bool) -> None:
        """Link ``key`` to ``other_key`` with the type named ``link_type``: ``key`` is the
        outward end (``key`` blocks ``other_key``) when ``outward``, else the inward one.

        A link that exists already is not an error and is not made twice.
        """
        ...

    def delete_link(self, key: str, link_id: str) -> None:
        """Remove the link ``link_id`` of issue ``key``; one that is gone is not an error."""
        ...
