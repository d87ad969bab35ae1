"""The process's record of what fails: one problem per area, since when, cleared on recovery."""

from __future__ import annotations

from issuesync.health import DATABASE, ENGINE, MAX_TEXT, WRITES, Health


def test_a_problem_keeps_its_start_and_is_news_only_when_its_reason_changes() -> None:
    health = Health()
    assert health.healthy
    assert health.fail(WRITES, "writes fail: the disk of the database is full", "SQLITE_FULL")
    (first,) = health.problems()
    assert not health.fail(WRITES, "writes fail: the disk of the database is full", "SQLITE_FULL")
    assert health.fail(WRITES, "writes wait: another process has held the write turn")
    (changed,) = health.problems()
    assert changed.since_ms == first.since_ms  # failing since the first failure
    assert changed.reason.startswith("writes wait")
    assert not health.healthy


def test_recovery_clears_only_its_area_and_moves_the_version() -> None:
    health = Health()
    health.fail(ENGINE, "the engine cannot refresh its connectors: x")
    health.fail(DATABASE, "reads fail: the database cannot be reached")
    version = health.version
    assert health.recover(WRITES) is None
    assert health.version == version
    gone = health.recover(ENGINE)
    assert gone is not None
    assert gone.area == ENGINE
    assert health.version > version
    assert [p.area for p in health.problems()] == [DATABASE]
    assert health.recover(DATABASE) is not None
    assert health.healthy


def test_texts_are_one_short_line() -> None:
    health = Health()
    health.fail(WRITES, "a\nb  " + "x" * 1000, "detail\twith\nlines")
    (problem,) = health.problems()
    assert "\n" not in problem.reason
    assert len(problem.reason) == MAX_TEXT
    assert problem.detail == "detail with lines"
    assert problem.describe() == f"{problem.reason} (detail with lines)"
    assert problem.describe(detail=False) == problem.reason
