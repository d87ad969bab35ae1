"""Moving an issue of the built-in tracker to a status along its project's workflow."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from sqlalchemy import select

from issuesync.errors import TrackerRejectedError
from issuesync.trackers.local import issues
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.models import IssueFields, Transition


def shortest_path(
    edges: Sequence[tuple[int, int | None, int]], start: int, goal: int
) -> list[int] | None:
    """Transition numbers leading from status ``start`` to ``goal`` (breadth-first).

    ``edges`` are ``(number, from status or None for "from any", to status)``;
    the result is None when ``goal`` cannot be reached, ``[]`` when ``start`` is ``goal``.
    Ties go to the lower transition number, so the path is the same on every call.
    """
    ordered = sorted(edges, key=lambda edge: edge[0])
    previous: dict[int, tuple[int, int]] = {}
    queue = deque([start])
    seen = {start}
    while queue and goal not in seen:
        node = queue.popleft()
        for number, source, target in ordered:
            if (source is None or source == node) and target not in seen:
                seen.add(target)
                previous[target] = (node, number)
                queue.append(target)
    if goal not in seen:
        return None
    path: list[int] = []
    node = goal
    while node != start:
        node, number = previous[node]
        path.append(number)
    return path[::-1]


def move_to_status(op: Operation, issue: IssueFields, status: str) -> None:
    """Run the shortest path of transitions to ``status`` (case-insensitive); none when there.

    Every step is the tracker's own transition, with its history and resolution rules.

    Raises:
        TrackerRejectedError: no status has that name, or no transitions lead to it.
    """
    current = op.ref.statuses.get(issue.status_id)
    target = op.ref.statuses.by_name.get(status.lower())
    if target is not None and target.id == issue.status_id:
        return
    edges = op.session.execute(
        select(Transition.number, Transition.from_status_id, Transition.to_status_id).where(
            Transition.project_id == issue.project_id
        )
    ).all()
    path = None if target is None else shortest_path(edges, issue.status_id, target.id)
    if path is None:
        raise TrackerRejectedError(
            f"Issue {issue.key} cannot reach status '{status}' from its status "
            f"'{current.name}': no transition of its project's workflow leads there."
        )
    for number in path:
        issues.do_transition(op, issue.key, {"id": str(number)}, {}, {})
