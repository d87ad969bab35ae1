"""Issue links' three-way plan: what the partner lists, what was agreed, what the issue has."""

from __future__ import annotations

from issuesync.domain.issuelinks import (
    BOTH,
    INWARD,
    OUTWARD,
    LinkEntry,
    LinkType,
    local_type,
    normalized,
    plan_links,
)
from issuesync.domain.replica import HubIssueLink

TYPES = (
    LinkType("Blocks", "blocks", "is blocked by"),
    LinkType("Cloners", "clones", "is cloned by"),
    LinkType("Relates", "relates to", "relates to"),
)


def have(link_id: str, key: str, kind: str, direction: str = OUTWARD) -> HubIssueLink:
    return HubIssueLink(id=link_id, other_issue_key=key, link_type_name=kind, direction=direction)


def test_a_new_link_is_added_and_an_agreed_one_gone_there_is_removed() -> None:
    desired = [LinkEntry("PB-2", "Blocks", OUTWARD)]
    current = [have("7", "PB-3", "Cloners", INWARD)]
    plan = plan_links(desired, ["Cloners|inward|PB-3"], current, TYPES)
    assert plan.adds == [LinkEntry("PB-2", "Blocks", OUTWARD)]
    assert [link.id for _, link in plan.removes] == ["7"]
    assert plan.agreed == ["Blocks|outward|PB-2"]


def test_a_link_never_agreed_is_left_alone_and_one_present_is_not_added_again() -> None:
    desired = [LinkEntry("PB-2", "Blocks", OUTWARD)]
    current = [have("1", "PB-2", "Blocks"), have("2", "PB-9", "Relates")]
    plan = plan_links(desired, [], current, TYPES)
    assert (plan.adds, plan.removes) == ([], [])


def test_relates_has_no_direction_so_either_end_is_the_same_link() -> None:
    assert normalized(LinkEntry("PB-2", "relates to", INWARD), TYPES).direction == BOTH
    desired = [normalized(LinkEntry("PB-2", "Relates", OUTWARD), TYPES)]
    plan = plan_links(desired, [], [have("3", "PB-2", "Relates", INWARD)], TYPES)
    assert plan.adds == []


def test_the_partners_generic_link_is_the_typed_link_here_between_the_same_issues() -> None:
    desired = [normalized(LinkEntry("PB-2", "Relates"), TYPES)]
    plan = plan_links(desired, [], [have("4", "PB-2", "Cloners", INWARD)], TYPES)
    assert plan.adds == []
    assert plan.agreed == ["Cloners|inward|PB-2"]  # what this side's own read will show


def test_a_type_missing_here_falls_back_to_relates_with_a_note() -> None:
    choice = local_type("Precedes", TYPES)
    assert choice.type is not None
    assert choice.type.name == "Relates"
    assert choice.note == "issuelinks: no link type 'Precedes' here; linked as 'Relates'"
    assert local_type("is blocked by", TYPES).type == TYPES[0]  # by a phrase
    assert local_type("Precedes", TYPES[:1]).type is None


def test_an_entry_reads_the_same_from_the_other_end() -> None:
    entry = LinkEntry("PB-2", "Blocks", OUTWARD)
    assert entry.seen_from("PB-1") == LinkEntry("PB-1", "Blocks", INWARD)
    assert LinkEntry.from_text(entry.text()) == entry
    assert LinkEntry.from_json(entry.to_json()) == entry
    assert LinkEntry.from_json({"key": "PB-2"}) is None


def test_a_list_that_crossed_ours_removes_nothing_and_keeps_what_we_agreed() -> None:
    # We sent Blocks PB-2; the partner, not having seen it yet, sent Cloners PB-3 alone.
    desired = [LinkEntry("PB-3", "Cloners", OUTWARD)]
    current = [have("1", "PB-2", "Blocks")]
    agreed = ["Blocks|outward|PB-2"]
    crossed = plan_links(desired, agreed, current, TYPES, crossed=True)
    assert crossed.removes == []
    assert crossed.adds == [LinkEntry("PB-3", "Cloners", OUTWARD)]
    assert crossed.agreed == ["Blocks|outward|PB-2", "Cloners|outward|PB-3"]
    assert [link.id for _, link in plan_links(desired, agreed, current, TYPES).removes] == ["1"]
