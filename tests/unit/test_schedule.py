"""Connections' schedule, scope, title format and job reports: pure rules (``domain/``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from issuesync.domain.configuration import (
    FieldMapping,
    NewIssues,
    fill_template,
    template_problem,
)
from issuesync.domain.schedule import HOUR_MS, Frequency, JobReport, next_run_ms
from issuesync.domain.scheduled import (
    ConnectionSettings,
    TrackerServer,
    priorities_at_or_above,
    priority_ranks,
)

SHIPPED = ["Highest", "High", "Medium", "Low", "Lowest"]


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_each_frequency_runs_a_period_after_the_last_jobs_start() -> None:
    anchor = _ms("2026-01-31T10:17:00")
    assert next_run_ms(Frequency.MANUALLY, anchor) is None
    assert next_run_ms(Frequency.HOURLY, anchor) == anchor + HOUR_MS
    assert next_run_ms(Frequency.DAILY, anchor) == _ms("2026-02-01T10:17:00")
    assert next_run_ms(Frequency.WEEKLY, anchor) == _ms("2026-02-07T10:17:00")
    # A month later, or the month's last day when it has no such day.
    assert next_run_ms(Frequency.MONTHLY, anchor) == _ms("2026-02-28T10:17:00")
    assert next_run_ms(Frequency.MONTHLY, _ms("2026-12-15T00:00:00")) == _ms("2027-01-15T00:00:00")
    assert next_run_ms(Frequency.MONTHLY, _ms("2028-01-31T23:59:00")) == _ms("2028-02-29T23:59:00")


@given(st.integers(min_value=0, max_value=4_000_000_000_000), st.sampled_from(list(Frequency)))
def test_the_next_run_is_always_later_and_within_a_month(anchor: int, frequency: Frequency) -> None:
    after = next_run_ms(frequency, anchor)
    if frequency is Frequency.MANUALLY:
        assert after is None
    else:
        assert after is not None
        assert anchor + HOUR_MS <= after <= anchor + 31 * 24 * HOUR_MS


def test_the_shipped_priorities_spread_over_sd_elements_ranks() -> None:
    assert priority_ranks(SHIPPED) == {"Highest": 10, "High": 8, "Medium": 5, "Low": 3, "Lowest": 1}
    assert priorities_at_or_above(SHIPPED, 7) == ["Highest", "High"]
    assert priorities_at_or_above(SHIPPED, 1) == SHIPPED
    assert priorities_at_or_above(SHIPPED, None) == []  # no minimum: any priority
    assert priority_ranks(["Only"]) == {"Only": 10}
    assert priority_ranks([]) == {}


@given(st.lists(st.text(min_size=1, max_size=5), min_size=2, max_size=30, unique=True))
def test_ranks_go_from_ten_down_to_one_in_order(names: list[str]) -> None:
    ranks = list(priority_ranks(names).values())
    assert ranks[0] == 10
    assert ranks[-1] == 1
    assert ranks == sorted(ranks, reverse=True)


def test_new_issues_in_scope_by_status_and_priority_regardless_of_case() -> None:
    scope = NewIssues(statuses=["To Do"], priorities=["Highest", "High"])
    assert scope.admits("to do", "HIGH")
    assert not scope.admits("Done", "High")
    assert not scope.admits("To Do", "Low")
    assert not scope.admits(None, None)
    assert NewIssues().admits(None, None)
    assert not NewIssues(send=False).admits("To Do", "High")


def test_a_title_format_names_known_placeholders_only() -> None:
    assert template_problem("$task_id $title") is None
    assert template_problem("[$project/$task_id] ${title} costs $$5") is None
    unknown = template_problem("$task_id $name")
    assert unknown is not None
    assert "$name" in unknown
    assert "$title" in unknown
    assert template_problem("costs $5") is not None
    assert (
        fill_template("$task_id $title", key="PA-3", value="Fix it", project="PA") == "PA-3 Fix it"
    )
    assert fill_template("$$ $title", key="K", value="$task_id", project="P") == "$ $task_id"
    with pytest.raises(ValidationError, match="Unknown placeholder"):
        FieldMapping(local_field="summary", remote_field="summary", template="$nope")
    with pytest.raises(ValidationError, match="placeholder"):
        ConnectionSettings(tracker_project="X", title_format="100$")


def test_a_tracker_server_is_a_host_without_scheme_or_credentials() -> None:
    server = TrackerServer(name="n", system="jira", server="jira.example.test:8443/ctx/")
    assert server.base_url == "https://jira.example.test:8443/ctx"
    for bad in ("https://jira.example.test", "user:pw@jira.example.test", "a b", " "):
        with pytest.raises(ValidationError):
            TrackerServer(name="n", system="jira", server=bad)
    shown = TrackerServer(name="n", system="jira", server="h", secret="s3cr3t")
    assert "s3cr3t" not in repr(shown)
    assert "s3cr3t" not in shown.model_dump_json()


def test_a_jobs_result_message_says_what_it_did() -> None:
    report = JobReport("Redmine", created=3, updated=1, statuses={"Closed": 1})
    report.returned, report.returned_statuses = 2, {"Done": 2}
    assert report.succeeded
    assert report.message() == (
        "Redmine: 3 created, 1 updated (1 now Closed); back: 2 updated (2 now Done)."
    )
    assert JobReport("Jira").message() == "No changes."
    failed = JobReport("Jira", created=1, failures=[(f"PA-{n}", "no such type") for n in range(12)])
    assert not failed.succeeded
    said = failed.message(max_failures=2)
    assert said.startswith("Jira: 1 created, 0 updated; back: 0 updated. 12 failed: PA-0: no such")
    assert said.endswith("(and 10 more)")
    fatal = JobReport("Jira", fatal="the login was refused (401)")
    assert fatal.message() == "Failed: the login was refused (401)"
    assert not fatal.succeeded


def test_in_debug_mode_a_job_names_every_issue_it_moved() -> None:
    report = JobReport("Jira", created=1, details=["PA-1 created (To Do)"])
    assert report.message() == (
        "Jira: 1 created, 0 updated; back: 0 updated. Details: PA-1 created (To Do)."
    )
    many = JobReport("Jira", updated=250, details=[f"PA-{n} updated" for n in range(250)])
    assert many.message().endswith("PA-199 updated (and 50 more).")
    assert JobReport("Jira", details=[]).message() == "No changes."
