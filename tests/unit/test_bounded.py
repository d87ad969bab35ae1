"""What adapters remember stays bounded: the newest entries, the oldest dropped first."""

from __future__ import annotations

from issuesync.trackers.bounded import Bounded


def test_it_keeps_the_newest_entries_and_setting_one_again_makes_it_new() -> None:
    made: Bounded[str, int] = Bounded(3)
    for number, key in enumerate("abc"):
        made[key] = number
    made["a"] = 10  # "a" is now the newest: "b" is the oldest
    made["d"] = 3
    assert list(made) == ["c", "a", "d"]
    assert made.get("b") is None
    assert made["a"] == 10
    assert made.pop("c") == 2
    made["e"] = 4
    assert list(made.items()) == [("a", 10), ("d", 3), ("e", 4)]
