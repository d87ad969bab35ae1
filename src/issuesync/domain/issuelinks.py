"""Issue links between synchronized issues: their canonical form and the three-way plan.

A link is a fact about two issues of one tracker (PA-1 *blocks* PA-2). It crosses to
the partner when both ends are synchronized, as Backbone does ("it is only possible to
synchronize issue links that are also synchronized to the partner"), and as the
pseudo-field ``issuelinks`` (Jira's id of *Linked Issues*), switched on like comments
by a field mapping whose value mappings pair link types by name.

Each end of a link lists it (PA-1 outward, PA-2 inward), so each end's message
carries it: whichever end reaches the partner last finds the other end's twin there,
and the link is made then. That is how a link to an issue synchronized later arrives
without a queue of pending links, and why making one is "add it unless it is there".

The comparable form of a link is :meth:`LinkEntry.text`: ``type|direction|key`` in
one side's terms. A type whose two phrases are the same (Relates: "relates to") has
no direction: both ends read ``both``, so a link made from either end is the same one.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from issuesync.domain.mapping import LINKS
from issuesync.domain.replica import HubIssue, HubIssueLink

__all__ = ["LINKS", "LinkEntry", "LinkPlan", "LinkType", "plan_links"]

OUTWARD: Final = "outward"
INWARD: Final = "inward"
BOTH: Final = "both"  # a type without direction (its two phrases are the same)

# Names of the generic type a link of a type the partner lacks becomes.
_GENERIC_NAMES: Final = ("relates", "relates to", "related", "related to", "relation", "relates_to")


@dataclass(frozen=True)
class LinkType:
    """A tracker's link type: its name and the phrase of each end (Blocks: blocks / is
    blocked by)."""

    name: str
    outward: str
    inward: str

    @property
    def directed(self) -> bool:
        """Whether the two ends read differently (Blocks) or alike (Relates)."""
        return self.outward.casefold() != self.inward.casefold()

    def phrase(self, direction: str) -> str:
        """What the end in ``direction`` reads."""
        return self.inward if direction == INWARD else self.outward


@dataclass(frozen=True, order=True)
class LinkEntry:
    """One link as one end sees it: the other end's key, the type's name, the direction."""

    key: str
    type: str
    direction: str = OUTWARD

    def text(self) -> str:
        """The comparable form, in this side's terms."""
        return f"{self.type}|{self.direction}|{self.key}"

    def to_json(self) -> dict[str, Any]:
        """As a message carries it."""
        return {"key": self.key, "type": self.type, "direction": self.direction}

    @classmethod
    def from_json(cls, value: object) -> LinkEntry | None:
        """From a message (None for what is not a link entry)."""
        if not isinstance(value, Mapping):
            return None
        key, kind, direction = value.get("key"), value.get("type"), value.get("direction")
        if not isinstance(key, str) or not isinstance(kind, str) or not key or not kind:
            return None
        if direction not in (OUTWARD, INWARD, BOTH):
            direction = OUTWARD
        return cls(key, kind, direction)

    @classmethod
    def from_text(cls, text: str) -> LinkEntry | None:
        """From :meth:`text` (None for another text)."""
        kind, _, rest = text.partition("|")
        direction, _, key = rest.partition("|")
        return cls(key, kind, direction) if kind and direction and key else None

    def seen_from(self, key: str) -> LinkEntry:
        """The same link as the other end lists it, ``key`` being this end."""
        flipped = {OUTWARD: INWARD, INWARD: OUTWARD}.get(self.direction, self.direction)
        return LinkEntry(key, self.type, flipped)


def find_type(name: str, types: Sequence[LinkType]) -> LinkType | None:
    """The type named ``name`` (case aside), else one with ``name`` as a phrase."""
    wanted = name.casefold()
    for kind in types:
        if kind.name.casefold() == wanted:
            return kind
    for kind in types:
        if wanted in (kind.outward.casefold(), kind.inward.casefold()):
            return kind
    return None


def generic_type(types: Sequence[LinkType]) -> LinkType | None:
    """The tracker's generic "relates" type, if it has one."""
    for kind in types:
        if kind.name.casefold() in _GENERIC_NAMES or kind.outward.casefold() in _GENERIC_NAMES:
            return kind
    return None


def normalized(entry: LinkEntry, types: Sequence[LinkType]) -> LinkEntry:
    """``entry`` with the type's own name, and no direction for a type without one."""
    kind = find_type(entry.type, types)
    if kind is None:
        return entry
    direction = entry.direction if kind.directed else BOTH
    if kind.directed and direction == BOTH:
        direction = OUTWARD
    return LinkEntry(entry.key, kind.name, direction)


def entries_of(issue: HubIssue) -> list[LinkEntry]:
    """The issue's links as entries in its own tracker's terms."""
    return [_entry(link) for link in issue.issue_links]


def _entry(link: HubIssueLink) -> LinkEntry:
    direction = link.direction if link.direction in (OUTWARD, INWARD, BOTH) else OUTWARD
    return LinkEntry(link.other_issue_key, link.link_type_name, direction)


def canonical(entries: Iterable[LinkEntry]) -> list[str]:
    """The comparable value of a set of links: their texts, sorted, once each."""
    return sorted({entry.text() for entry in entries})


@dataclass(frozen=True)
class TypeChoice:
    """The local type for a partner's type name, and a note when it had to fall back."""

    type: LinkType | None
    note: str | None = None


def local_type(name: str, types: Sequence[LinkType]) -> TypeChoice:
    """The type named ``name`` here; else the generic "relates" with a note; else none."""
    found = find_type(name, types)
    if found is not None:
        return TypeChoice(found)
    generic = generic_type(types)
    if generic is None:
        return TypeChoice(None, f"issuelinks: no link type '{name}' here and no generic one")
    return TypeChoice(
        generic, f"issuelinks: no link type '{name}' here; linked as '{generic.name}'"
    )


@dataclass
class LinkPlan:
    """What to write for one issue's links, and the set both sides then agree on."""

    adds: list[LinkEntry] = field(default_factory=list)
    removes: list[tuple[LinkEntry, HubIssueLink]] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)


def plan_links(
    desired: Sequence[LinkEntry],
    agreed: Collection[str],
    current: Sequence[HubIssueLink],
    types: Sequence[LinkType],
    *,
    crossed: bool = False,
) -> LinkPlan:
    """Three ways: the partner's links (``desired``, translated), the last agreed set and
    the issue's links now.

    A desired link the issue lacks is added; an agreed link the partner no longer
    lists is removed if the issue still has it; a link the issue has that was never
    agreed (made here, or to an issue the partner does not know) is left alone. A
    desired link of the generic type is the link the issue has to the same issue, if
    any: the partner may lack that link's type and have written its generic one.

    ``crossed``: this side's last links message had not reached the partner when it
    sent this one (its ``ackSequenceId`` is older), so its list lacks what was added
    here meanwhile: nothing is removed, and what was agreed and is here stays agreed.
    Concurrent additions on both sides then both survive; a removal that crossed an
    addition to the same issue's links is undone (the link comes back on both sides).
    """
    have: dict[str, HubIssueLink] = {}
    by_other: dict[str, LinkEntry] = {}
    for link in current:
        entry = normalized(_entry(link), types)
        have.setdefault(entry.text(), link)
        by_other.setdefault(entry.key, entry)
    generic = generic_type(types)
    want: dict[str, LinkEntry] = {}
    for wanted in desired:
        entry = wanted
        if entry.text() not in have and generic is not None and entry.type == generic.name:
            # The partner's generic link may stand for a type it lacks (ours became its
            # Relates): a link of ours between the two issues is that link, not another.
            entry = by_other.get(entry.key, entry)
        want[entry.text()] = entry
    plan = LinkPlan(agreed=sorted(want))
    plan.adds = [added for text, added in sorted(want.items()) if text not in have]
    if crossed:
        plan.agreed = sorted(set(want) | (set(agreed) & set(have)))
        return plan
    for text in sorted(set(agreed) - set(want)):
        if text in have and (gone := LinkEntry.from_text(text)) is not None:
            plan.removes.append((gone, have[text]))
    return plan


def agreed_of(value: object) -> list[str]:
    """A shadow's stored value of ``issuelinks`` as a list of texts."""
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []
