"""Moving a Jira issue to a status through its workflow, with only what REST v2 shows.

Jira's REST v2 lists the transitions available *from the issue's current status*
and nothing of the workflow beyond it. So the path is found while walking it:
each status reached has its transitions read (and remembered), the shortest
known path to the target is taken when there is one, else the shortest known
path to a status not yet visited, until the target is reached or nothing new
can be reached. A refusal names the status the issue was left in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from issuesync.errors import TrackerRejectedError
from issuesync.trackers.jira.client import JiraClient

MAX_STEPS: Final = 20  # no real workflow needs more; it bounds a walk through a maze


@dataclass(frozen=True)
class Step:
    """One transition: its id and name, and the status it leads to."""

    id: str
    name: str
    to: str


def available(client: JiraClient, key: str) -> list[Step]:
    """The transitions available on the issue now."""
    answer: Mapping[str, Any] = client.get(f"issue/{key}/transitions")
    steps = []
    for raw in answer.get("transitions") or []:
        target = raw.get("to") if isinstance(raw, Mapping) else None
        if isinstance(target, Mapping) and target.get("name") and raw.get("id") is not None:
            steps.append(Step(str(raw["id"]), str(raw.get("name") or ""), str(target["name"])))
    return steps


def _first_step(graph: Mapping[str, list[Step]], start: str, goals: set[str]) -> Step | None:
    """The first transition of a shortest path in ``graph`` from ``start`` to any of ``goals``."""
    first: dict[str, Step | None] = {start: None}
    queue = deque([start])
    while queue:
        status = queue.popleft()
        for step in graph.get(status, []):
            if step.to in first:
                continue
            first[step.to] = first[status] or step
            if step.to in goals:
                return first[step.to]
            queue.append(step.to)
    return None


def move_to(client: JiraClient, key: str, current: str, status: str) -> None:
    """Move issue ``key`` from ``current`` to ``status`` (case-insensitive); nothing if there.

    Raises:
        TrackerRejectedError: no path of available transitions leads to ``status``.
    """
    wanted = status.lower()
    graph: dict[str, list[Step]] = {}
    here = current
    for _ in range(MAX_STEPS):
        if here.lower() == wanted:
            return
        graph[here] = available(client, key)
        seen_targets = {s.to for steps in graph.values() for s in steps}
        goals = {t for t in seen_targets if t.lower() == wanted}
        step = _first_step(graph, here, goals) if goals else None
        if step is None:
            unvisited = {t for t in seen_targets if t not in graph}
            step = _first_step(graph, here, unvisited) if unvisited else None
        if step is None:
            names = ", ".join(f"'{s.name}' (to {s.to})" for s in graph[here]) or "none"
            raise TrackerRejectedError(
                f"Issue {key} cannot move from '{here}' to '{status}': no transition "
                f"leads there (available from '{here}': {names}).",
                field_errors={"status": f"no transition to '{status}'"},
            )
        client.post(f"issue/{key}/transitions", {"transition": {"id": step.id}})
        here = step.to
    if here.lower() != wanted:
        raise TrackerRejectedError(
            f"Issue {key} did not reach '{status}' within {MAX_STEPS} transitions; "
            f"it is in '{here}' now.",
            field_errors={"status": f"no path to '{status}'"},
        )
