"""Mappings proposed from two projects' schemas (``domain/proposal.py``): pure, no tracker."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from issuesync.domain.configuration import GLOBAL_WORKFLOW
from issuesync.domain.mapping import ConnectorMapping
from issuesync.domain.outline import (
    OutlineField,
    OutlineIssueType,
    OutlineStatus,
    SchemaOutline,
    StatusCategory,
    guess_category,
)
from issuesync.domain.proposal import Kind, Side, propose, rank_map, type_kind

NEW, UNDER_WAY, DONE = StatusCategory.NEW, StatusCategory.INDETERMINATE, StatusCategory.DONE
SUMMARY = OutlineField("summary", "Summary", "string")
DESCRIPTION = OutlineField("description", "Description", "text")
LABELS = OutlineField("labels", "Labels", "array", multi=True)
DUE = OutlineField("duedate", "Due date", "date")


def outline(
    system: str,
    statuses: list[tuple[str, StatusCategory]],
    types: list[str] | None = None,
    priorities: tuple[str, ...] = (),
    fields: tuple[OutlineField, ...] = (SUMMARY, DESCRIPTION),
    *,
    subtasks: tuple[str, ...] = (),
    attachments: bool = True,
    nests: bool = True,
) -> SchemaOutline:
    """An outline with these statuses (in this order), types, priorities and fields."""
    return SchemaOutline(
        system=system,
        project_key=system.upper(),
        statuses=tuple(OutlineStatus(n, c, i) for i, (n, c) in enumerate(statuses)),
        issue_types=(
            *(OutlineIssueType(t) for t in types or ["Task"]),
            *(OutlineIssueType(t, subtask=True) for t in subtasks),
        ),
        priorities=priorities,
        fields=fields,
        attachments=attachments,
        subtasks=nests,
    )


JIRA = outline(
    "jira",
    [("To Do", NEW), ("In Progress", UNDER_WAY), ("In Review", UNDER_WAY), ("Done", DONE)],
    ["Bug", "Story", "Task", "Epic", "New Feature"],
    ("Highest", "High", "Medium", "Low", "Lowest"),
    (
        SUMMARY,
        DESCRIPTION,
        LABELS,
        DUE,
        OutlineField("customfield_1", "Severity", "option", custom=True),
    ),
    subtasks=("Sub-task",),
)
REDMINE = outline(
    "redmine",
    [
        ("New", NEW),
        ("In Progress", UNDER_WAY),
        ("Resolved", UNDER_WAY),
        ("Feedback", UNDER_WAY),
        ("Closed", DONE),
        ("Rejected", DONE),
    ],
    ["Bug", "Feature", "Support"],
    ("Immediate", "Urgent", "High", "Normal", "Low"),
    (SUMMARY, DESCRIPTION, DUE, OutlineField("customfield_4", "Severity", "option", custom=True)),
)
GITHUB = outline(
    "github",
    [("Open", NEW), ("Closed", DONE), ("Closed (not planned)", DONE)],
    ["Issue"],
    (),
    (SUMMARY, DESCRIPTION, LABELS, OutlineField("milestone", "Milestone", "option", custom=True)),
    attachments=False,
    nests=False,
)


def test_statuses_pair_by_name_then_by_category_and_position() -> None:
    proposal = propose(JIRA, REDMINE)
    assert proposal.mapping(Kind.STATUS, Side.FIRST) == {
        "To Do": "New",
        "In Progress": "In Progress",  # the same name first
        "In Review": "Resolved",  # the first under way status left, by position
        "Done": "Closed",
    }
    back = proposal.mapping(Kind.STATUS, Side.SECOND)
    # More under way statuses than the partner has left: the first of the category.
    assert back["Feedback"] == "In Progress"
    assert back["Rejected"] == "Done"
    reasons = {p.source: p.reason for p in proposal.pairs if p.side is Side.FIRST}
    assert reasons["In Progress"] == "same name"
    assert "by position" in reasons["In Review"]


def test_a_category_the_partner_lacks_borrows_the_nearest_with_a_warning() -> None:
    proposal = propose(JIRA, GITHUB)
    to_github = proposal.mapping(Kind.STATUS, Side.FIRST)
    assert to_github == {
        "To Do": "Open",
        "In Progress": "Open",
        "In Review": "Open",
        "Done": "Closed",
    }
    assert {(w.kind, w.name) for w in proposal.warnings} >= {
        (Kind.STATUS, "In Progress"),
        (Kind.STATUS, "In Review"),
    }
    assert proposal.mapping(Kind.STATUS, Side.SECOND)["Closed (not planned)"] == "Done"


def test_issue_types_by_name_then_kind_then_the_partners_default() -> None:
    proposal = propose(JIRA, REDMINE)
    assert proposal.mapping(Kind.ISSUE_TYPE, Side.FIRST) == {
        "Bug": "Bug",
        "Story": "Feature",
        "Task": "Support",
        "Epic": "Support",  # no epic in Redmine: its default, the generic (task) kind
        "New Feature": "Feature",
        "Sub-task": "Support",  # no sub-task type: the task kind
    }
    assert proposal.mapping(Kind.ISSUE_TYPE, Side.SECOND) == {
        "Bug": "Bug",
        "Feature": "Story",
        "Support": "Task",
    }
    assert [w.name for w in proposal.warnings if w.kind is Kind.ISSUE_TYPE] == ["Epic"]


def test_type_kinds_follow_the_synonym_table() -> None:
    kinds = {
        name: type_kind(OutlineIssueType(name))
        for name in ("Defect", "enhancement", "New_Feature", "Chore", "EPIC", "Sub-task", "Issue")
    }
    assert kinds == {
        "Defect": "bug",
        "enhancement": "story",
        "New_Feature": "story",
        "Chore": "task",
        "EPIC": "epic",
        "Sub-task": "sub-task",
        "Issue": None,
    }
    assert type_kind(OutlineIssueType("Child", subtask=True)) == "sub-task"


def test_a_standard_type_never_pairs_with_a_partners_subtask_type() -> None:
    mine = outline("a", [("Open", NEW)], ["Chore"])
    theirs = outline("b", [("Open", NEW)], ["Story"], subtasks=("Task",))
    proposal = propose(mine, theirs)
    # "Task" on the other side is a sub-task type: a chore would need a parent there.
    assert proposal.mapping(Kind.ISSUE_TYPE, Side.FIRST) == {"Chore": "Story"}


def test_priorities_anchor_equal_names_and_map_the_rest_by_rank() -> None:
    proposal = propose(JIRA, REDMINE)
    assert proposal.mapping(Kind.PRIORITY, Side.FIRST) == {
        "Highest": "Immediate",
        "High": "High",
        "Medium": "Normal",
        "Low": "Low",
        "Lowest": "Low",
    }
    mapping = next(m for m in proposal.first.field_mappings if m.local_field == "priority")
    assert [(v.local, v.remote) for v in mapping.value_mappings][2] == ("Medium", "Normal")
    assert ConnectorMapping(proposal.first).to_remote(mapping, "Lowest") == "Low"
    assert ConnectorMapping(proposal.second).to_remote(
        next(m for m in proposal.second.field_mappings if m.local_field == "priority"), "Urgent"
    ) in {"Highest", "High"}


def test_the_middle_maps_to_the_middle() -> None:
    assert rank_map(["A", "B", "C"], ["1", "2", "3", "4", "5"])[1][1] == "3"
    assert [t for _, t, _ in rank_map(["Only"], ["1", "2", "3"])] == ["2"]
    assert [t for _, t, _ in rank_map(["x", "y", "z"], ["P"])] == ["P", "P", "P"]


def test_fields_only_where_both_sides_have_them() -> None:
    proposal = propose(JIRA, REDMINE)
    fields = proposal.mapping(Kind.FIELD, Side.FIRST)
    assert fields == {
        "summary": "summary",
        "description": "description",
        "duedate": "duedate",
        "priority": "priority",
        "Severity": "Severity",  # custom fields by name
        "comment": "comment",
        "attachment": "attachment",
    }
    assert ("labels", Side.FIRST) in {(w.name, w.side) for w in proposal.warnings}

    with_github = propose(JIRA, GITHUB)
    assert with_github.mapping(Kind.FIELD, Side.SECOND) == {
        "summary": "summary",
        "description": "description",
        "labels": "labels",
        "comment": "comment",
    }
    warned = {(w.kind, w.side, w.name) for w in with_github.warnings}
    assert (Kind.FIELD, Side.FIRST, "attachment") in warned
    assert (Kind.FIELD, Side.SECOND, "Milestone") in warned
    assert (Kind.PRIORITY, Side.FIRST, "Medium") in warned
    assert (Kind.ISSUE_TYPE, Side.FIRST, "Sub-task") in warned  # crosses without its parent
    assert not with_github.first.field_mappings[0].value_mappings


def test_custom_fields_need_a_compatible_type() -> None:
    text = outline("a", [("Open", NEW)], fields=(OutlineField("c1", "Notes", "text", custom=True),))
    string = outline(
        "b", [("Open", NEW)], fields=(OutlineField("c2", "notes", "string", custom=True),)
    )
    number = outline(
        "c", [("Open", NEW)], fields=(OutlineField("c3", "Notes", "number", custom=True),)
    )
    assert propose(text, string).mapping(Kind.FIELD, Side.FIRST)["Notes"] == "notes"
    refused = propose(text, number)
    assert "Notes" not in refused.mapping(Kind.FIELD, Side.FIRST)
    assert {w.name for w in refused.warnings if w.kind is Kind.FIELD} == {"Notes"}


def test_the_configurations_speak_from_each_side() -> None:
    proposal = propose(JIRA, GITHUB)
    first, second = ConnectorMapping(proposal.first), ConnectorMapping(proposal.second)
    assert first.remote_status("In Review", "Task") == "Open"
    assert second.remote_status("Closed (not planned)", "Issue") == "Done"
    assert first.remote_issue_type("Bug") == "Issue"
    assert second.remote_issue_type("Issue") == "Task"  # no kind: Jira's default, its task
    # The receiving side reads the sender's raw type through its incoming pairs.
    assert first.local_issue_type("Issue", None) == "Task"
    assert second.local_issue_type("Epic", None) == "Issue"
    assert [w.id for w in proposal.first.workflow_mappings] == [GLOBAL_WORKFLOW]
    ids = {m.local_field: m.id for m in proposal.first.field_mappings}
    assert {m.remote_field: m.id for m in proposal.second.field_mappings} == ids
    assert propose(JIRA, GITHUB) == proposal  # the same schemas propose the same


def test_guessed_categories() -> None:
    assert [guess_category(n) for n in ("Backlog", "Reopened", "Won't Do", "Testing")] == [
        NEW,
        NEW,
        DONE,
        UNDER_WAY,
    ]


# -- properties --------------------------------------------------------------------------------

names = st.text(alphabet="abcdefgh XYZ-", min_size=1, max_size=8).map(str.strip).filter(bool)


@st.composite
def outlines(draw: st.DrawFn) -> SchemaOutline:
    """A project with statuses of any categories, types, ranked priorities and fields."""
    status_names = draw(st.lists(names, min_size=1, max_size=7, unique_by=str.casefold))
    categories = draw(
        st.lists(st.sampled_from(list(StatusCategory)), min_size=len(status_names), max_size=7)
    )
    kinds = ["Bug", "Defect", "Story", "Feature", "Task", "Chore", "Epic", "Sub-task", "Other"]
    types = draw(
        st.lists(st.sampled_from(kinds) | names, min_size=1, max_size=6, unique_by=str.casefold)
    )
    subtask = draw(st.lists(st.booleans(), min_size=len(types), max_size=len(types)))
    if all(subtask):
        subtask[0] = False
    return SchemaOutline(
        system="any",
        project_key="P",
        statuses=tuple(
            OutlineStatus(n, c, i)
            for i, (n, c) in enumerate(zip(status_names, categories, strict=False))
        ),
        issue_types=tuple(OutlineIssueType(t, s) for t, s in zip(types, subtask, strict=True)),
        priorities=tuple(draw(st.lists(names, max_size=7, unique_by=str.casefold))),
        fields=(SUMMARY, *draw(st.sampled_from([(), (LABELS,), (DUE, DESCRIPTION)]))),
        comments=draw(st.booleans()),
        attachments=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(outlines(), outlines())
def test_every_status_type_and_priority_maps_to_one_of_the_partners(
    a: SchemaOutline, b: SchemaOutline
) -> None:
    proposal = propose(a, b)
    for side, mine, theirs in ((Side.FIRST, a, b), (Side.SECOND, b, a)):
        statuses = proposal.mapping(Kind.STATUS, side)
        assert set(statuses) == {s.name for s in mine.statuses}
        assert set(statuses.values()) <= {s.name for s in theirs.statuses}
        types = proposal.mapping(Kind.ISSUE_TYPE, side)
        assert set(types) == {t.name for t in mine.issue_types}
        assert set(types.values()) <= {t.name for t in theirs.issue_types}
        priorities = proposal.mapping(Kind.PRIORITY, side)
        assert set(priorities) == (set(mine.priorities) if theirs.priorities else set())
        assert set(priorities.values()) <= set(theirs.priorities)
    # Each connector's configuration holds exactly its side's pairs.
    pairs = proposal.first.workflow_mappings[0].status_mappings
    assert {(p.local, p.remote) for p in pairs} == set(
        proposal.mapping(Kind.STATUS, Side.FIRST).items()
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(names, min_size=1, max_size=9, unique_by=str.casefold),
    st.lists(names, min_size=1, max_size=9, unique_by=str.casefold),
)
def test_rank_mapping_is_monotone_and_keeps_the_ends(mine: list[str], theirs: list[str]) -> None:
    ranks = [theirs.index(target) for _, target, _ in rank_map(mine, theirs)]
    assert len(ranks) == len(mine)
    assert ranks == sorted(ranks)  # a higher priority never maps below a lower one
    shared = {n.casefold() for n in mine} & {n.casefold() for n in theirs}
    if not shared and len(mine) > 1:
        assert ranks[0] == 0
        assert ranks[-1] == len(theirs) - 1


@settings(max_examples=100, deadline=None)
@given(outlines())
def test_a_project_proposed_against_itself_maps_everything_to_itself(a: SchemaOutline) -> None:
    proposal = propose(a, a)
    for kind in (Kind.STATUS, Kind.ISSUE_TYPE, Kind.PRIORITY):
        assert all(k == v for k, v in proposal.mapping(kind, Side.FIRST).items())
    assert not proposal.warnings
