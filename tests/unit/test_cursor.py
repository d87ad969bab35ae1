"""The outgoing route's cursor: stored and read back, with what a stopped route had read."""

from __future__ import annotations

import json

from issuesync.engine.pipeline.cursor import Cursor


def test_a_cursor_keeps_what_its_route_read_only_when_given_and_not_too_much() -> None:
    plain = Cursor(updated_ms=10, deletions_ms=5)
    assert json.loads(plain.dumps()) == {"version": 1, "updated_ms": 10, "deletions_ms": 5}
    assert Cursor.loads(plain.dumps()) == plain
    kept = Cursor(updated_ms=10, seen={"PB-1": 9001, "PB-2": 9002})
    assert Cursor.loads(kept.dumps()) == kept
    many = Cursor(updated_ms=10, seen={f"PB-{n}": n for n in range(Cursor.MAX_SEEN + 1)})
    assert Cursor.loads(many.dumps()) == Cursor(updated_ms=10)  # read again: harmless
    assert Cursor.loads(None) == Cursor()
    assert Cursor.loads('{"version": 0}') == Cursor()
    assert Cursor.loads('{"version": 1, "updated_ms": 3, "seen": "junk"}') == Cursor(updated_ms=3)
