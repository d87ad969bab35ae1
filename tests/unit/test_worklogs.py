"""Work logs between trackers: the author's header, digests, the outgoing diff, Jira's pages."""

from __future__ import annotations

import json

import httpx
from hypothesis import given
from hypothesis import strategies as st

from issuesync.domain.configuration import Configuration, FieldMapping
from issuesync.domain.diff import TraceState, outgoing_diff
from issuesync.domain.mapping import ConnectorMapping
from issuesync.domain.message import ChangeAction, TraceType, WorklogChange
from issuesync.domain.outline import OutlineStatus, SchemaOutline, StatusCategory
from issuesync.domain.proposal import Kind, Side, propose
from issuesync.domain.replica import HubIssue, HubWorklog, ProjectRef, UserRef
from issuesync.domain.shadow import Shadow
from issuesync.domain.worklogs import (
    MIRROR,
    comment_for,
    digest_seconds,
    split_header,
    with_header,
    worklog_changes,
    worklog_digest,
)
from issuesync.trackers.jira.client import JiraClient
from issuesync.trackers.jira.worklogs import with_worklogs

ALICE = UserRef(username="alice", display_name="Alice Smith")


def test_a_header_names_the_author_and_comes_off_whole() -> None:
    assert with_header("Alice Smith", "fixed it") == "Alice Smith logged: fixed it"
    assert with_header("Alice Smith", "") == "Alice Smith logged."
    assert split_header("Alice Smith logged: fixed it") == ("Alice Smith", "fixed it")
    assert split_header("Alice Smith logged.") == ("Alice Smith", "")
    assert split_header("Alice Smith logged: line 1\nline 2") == ("Alice Smith", "line 1\nline 2")
    assert split_header("fixed it") == (None, "fixed it")
    assert split_header("I logged the error") == (None, "I logged the error")


@given(name=st.text(min_size=1, max_size=40).filter(lambda n: "\n" not in n), text=st.text())
def test_a_comment_crossing_back_and_forth_never_grows(name: str, text: str) -> None:
    name = name.strip() or "Bob"
    author = UserRef(display_name=name)
    # The original's text crosses under a header, into a mirror.
    mirrored = comment_for(
        WorklogChange(action=ChangeAction.ADD, source_id="1", comment=text, author=author), None
    )
    assert mirrored == with_header(name, text)
    # The mirror edited back: its header comes off before it is sent ...
    _, sent_back = split_header(mirrored)
    assert sent_back == text
    # ... and the original gets the text as it is (the change names no author).
    back = WorklogChange(action=ChangeAction.UPDATE, source_id="9", comment=sent_back)
    assert comment_for(back, HubWorklog(id="1", comment=text)) == text
    # The original edited again: the mirror keeps one header, the name it has.
    again = WorklogChange(action=ChangeAction.UPDATE, source_id="1", comment=text, author=ALICE)
    assert comment_for(again, HubWorklog(id="9", comment=mirrored)) == mirrored


def test_a_text_that_looks_like_a_header_is_the_persons_own() -> None:
    original = HubWorklog(id="1", time_spent=60, comment="Build logged: see CI", author=ALICE)
    (added,) = worklog_changes([original], {}).changes
    assert (added.comment, added.author) == ("Build logged: see CI", ALICE)
    traced = {"1": "60:before"}  # an original's trace: no MIRROR mark
    (edited,) = worklog_changes([original], traced).changes
    assert (edited.action, edited.comment, edited.author) == (
        ChangeAction.UPDATE,
        "Build logged: see CI",
        ALICE,
    )
    assert comment_for(edited, HubWorklog(id="9", comment="Alice Smith logged: old")) == (
        "Alice Smith logged: Build logged: see CI"
    )


def test_the_digest_keeps_the_seconds_and_sees_every_change() -> None:
    worklog = HubWorklog(id="1", time_spent=5400, start_date=1_000, comment="a")
    digest = worklog_digest(worklog)
    assert digest_seconds(digest) == 5400
    assert digest_seconds(None) == 0
    for change in ({"time_spent": 5401}, {"start_date": 2_000}, {"comment": "b"}):
        assert worklog_digest(worklog.model_copy(update=change)) != digest


def _issue(*worklogs: HubWorklog) -> HubIssue:
    return HubIssue(key="PA-1", project=ProjectRef(key="PA"), work_logs=list(worklogs))


def _mapping(*names: str) -> ConnectorMapping:
    fields = [FieldMapping(local_field=n, remote_field=n) for n in names]
    return ConnectorMapping(Configuration(field_mappings=fields))


def test_the_outgoing_diff_adds_edits_and_deletes_work_logs_by_trace() -> None:
    kept = HubWorklog(id="1", time_spent=60, comment="same")
    edited = HubWorklog(id="2", time_spent=120, comment="Alice Smith logged: new text")
    new = HubWorklog(id="3", time_spent=180, comment="fresh", author=ALICE, start_date=5)
    traces = {
        (TraceType.WORKLOG, "1"): TraceState(TraceType.WORKLOG, "1", "a", worklog_digest(kept)),
        (TraceType.WORKLOG, "2"): TraceState(TraceType.WORKLOG, "2", "b", "60:old" + MIRROR),
        (TraceType.WORKLOG, "4"): TraceState(TraceType.WORKLOG, "4", "c", "60:gone"),
    }
    diff = outgoing_diff(_mapping("worklog"), _issue(kept, edited, new), Shadow.empty(), traces, 1)
    by_id = {c.source_id: c for c in diff.worklogs}
    assert set(by_id) == {"2", "3", "4"}
    assert (by_id["2"].action, by_id["2"].comment, by_id["2"].time_spent) == (
        ChangeAction.UPDATE,
        "new text",  # the header is the sync's: it does not cross
        120,
    )
    assert (by_id["3"].action, by_id["3"].author, by_id["3"].started) == (
        ChangeAction.ADD,
        ALICE,
        5,
    )
    assert by_id["4"].action is ChangeAction.DELETE
    assert [t.local_id for t in diff.traces_added] == ["3"]
    assert traces[(TraceType.WORKLOG, "2")].digest == worklog_digest(edited) + MIRROR
    assert [t.local_id for t in diff.traces_removed] == ["4"]
    assert not diff.empty


def test_without_the_mapping_no_work_log_is_sent() -> None:
    issue = _issue(HubWorklog(id="1", time_spent=60))
    assert outgoing_diff(_mapping("comment"), issue, Shadow.empty(), {}, 1).empty


def _outline(system: str, *, worklogs: bool) -> SchemaOutline:
    return SchemaOutline(
        system, "P", (OutlineStatus("Open", StatusCategory.NEW, 0),), (), worklogs=worklogs
    )


def test_the_proposal_maps_work_logs_only_where_both_trackers_keep_them() -> None:
    both = propose(_outline("local", worklogs=True), _outline("redmine", worklogs=True))
    assert both.mapping(Kind.FIELD, Side.FIRST).get("worklog") == "worklog"
    one = propose(_outline("local", worklogs=True), _outline("github", worklogs=False))
    assert "worklog" not in one.mapping(Kind.FIELD, Side.FIRST)
    assert (Kind.FIELD, Side.FIRST, "worklog") in {(w.kind, w.side, w.name) for w in one.warnings}


def test_jira_work_logs_beyond_the_first_page_are_read_from_worklog() -> None:
    asked: list[str] = []
    logs = [{"id": str(n), "timeSpentSeconds": 60, "comment": f"{n}"} for n in range(25)]

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        start = int(request.url.params.get("startAt", "0"))
        page = logs[start : start + 10]
        return httpx.Response(200, json={"startAt": start, "total": len(logs), "worklogs": page})

    client = JiraClient(
        "http://jira.example.test", None, transport=httpx.MockTransport(handler), cloud=False
    )
    issue = {"key": "PB-1", "fields": {"worklog": {"total": 25, "worklogs": logs[:20]}}}
    whole = with_worklogs(client, issue)
    assert [w["id"] for w in whole["fields"]["worklog"]["worklogs"]] == [str(n) for n in range(25)]
    assert asked == ["/rest/api/2/issue/PB-1/worklog"] * 3
    complete = {"key": "PB-2", "fields": {"worklog": {"total": 2, "worklogs": logs[:2]}}}
    assert with_worklogs(client, complete) is complete
    assert len(asked) == 3
    json.dumps(whole)  # plain JSON, as a replica is read from
