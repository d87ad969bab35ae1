"""The ``redmine`` adapter's pure parts: markers, queries, bodies, and its factory's checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from issuesync.errors import ConfigurationError, TrackerRejectedError
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.redmine import markers, redmine_adapter_for
from issuesync.trackers.redmine.schema import Catalog, CustomField
from issuesync.trackers.redmine.search import parse_query, timestamp
from issuesync.trackers.redmine.shape import issue_body

CATALOG = Catalog(
    project_id=7,
    identifier="shop",
    name="Shop",
    trackers={"Bug": 1, "Feature": 2},
    default_status={"Bug": "New", "Feature": "New"},
    statuses={"New": 1, "Closed": 5},
    closed=frozenset({"Closed"}),
    priorities={"Low": 1, "Normal": 2},
    default_priority="Normal",
    custom_fields={"Severity": CustomField(4, "Severity", "list", possible_values=("A", "B"))},
)


def test_a_marker_is_invisible_stable_and_stripped() -> None:
    mark = markers.marker("key-1")
    assert mark == markers.marker("key-1") != markers.marker("key-2")
    assert not mark.strip("\u2063\u200b\u200c")
    text = markers.mark("Line one\nLine two", "key-1")
    assert markers.markers_in(text) == [mark]
    assert markers.strip(text) == "Line one\nLine two"
    assert markers.strip(text.replace("\n", "\r\n")) == "Line one\nLine two"  # as Redmine keeps it
    assert markers.strip(markers.mark("", "k")) == ""
    assert markers.markers_in(None) == []


def test_queries_are_filter_parameters_with_every_status_by_default() -> None:
    assert parse_query("tracker_id=1") == {"tracker_id": "1", "status_id": "*"}
    assert parse_query("?status_id=open&subject=~a b") == {"status_id": "open", "subject": "~a b"}
    with pytest.raises(ConfigurationError, match="project_id"):
        parse_query("project_id=other")
    with pytest.raises(ConfigurationError, match="not a query string"):
        parse_query("summary ~ x")


def test_timestamps_are_whole_seconds_rounded_down() -> None:
    assert timestamp(1_700_000_000_999) == "2023-11-14T22:13:20Z"


def test_bodies_name_redmines_ids_and_refuse_what_it_lacks() -> None:
    def nobody(value: object) -> int | None:
        del value
        return None

    body = issue_body(
        {
            "summary": "S",
            "issuetype": "feature",
            "status": "Closed",
            "priority": None,
            "duedate": "2026-12-24",
            "Severity": "B",
            "labels": [],
            "reporter": {"username": "x"},
        },
        CATALOG,
        nobody,
    )
    assert body == {
        "subject": "S",
        "tracker_id": 2,
        "status_id": 5,
        "priority_id": 2,
        "due_date": "2026-12-24",
        "custom_fields": [{"id": 4, "value": "B"}],
    }
    with pytest.raises(TrackerRejectedError, match="no status 'Done'"):
        issue_body({"status": "Done"}, CATALOG, nobody)
    with pytest.raises(TrackerRejectedError, match="labels"):
        issue_body({"labels": ["ui"]}, CATALOG, nobody)
    with pytest.raises(TrackerRejectedError, match="assignee"):
        issue_body({"assignee": {"username": "ghost"}}, CATALOG, nobody)


def test_the_schema_lists_every_tracker_as_a_sub_task_type_too() -> None:
    schema = CATALOG.schema("shop")
    assert schema.issue_types == schema.subtask_types == ("Bug", "Feature")
    assert schema.initial_status == "New"
    severity = schema.field("Severity")
    assert severity is not None
    assert (severity.type, severity.allowed_values) == ("option", ("A", "B"))


def test_the_priority_is_required_only_without_a_default_priority() -> None:
    # Redmine gives an issue created without one its default (test_default_mappings'
    # Redmine <-> GitHub creates such issues), and issue_body writes it for an emptied one.
    assert issue_body({"priority": None}, CATALOG, lambda _: None)["priority_id"] == 2
    with_default = CATALOG.schema("shop").field("priority")
    without = replace(CATALOG, default_priority=None).schema("shop").field("priority")
    assert with_default is not None
    assert without is not None
    assert (with_default.required, without.required) == (False, True)


@pytest.mark.parametrize(
    ("access", "message"),
    [
        (TrackerAccess("redmine", "shop", None, None, None), "needs a base URL"),
        (TrackerAccess("redmine", "shop", "ftp://x", None, None), "not valid"),
        (TrackerAccess("redmine", "shop", "http://u:p@x", None, None), "credentials"),
        (TrackerAccess("redmine", "a/b", "http://x", None, None), "identifier"),
        (TrackerAccess("redmine", "shop", "http://x", None, ("password", "s3")), "no user"),
    ],
)
def test_the_factory_refuses_settings_that_cannot_work(access: TrackerAccess, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as raised:
        redmine_adapter_for(access)
    assert "s3" not in str(raised.value)
