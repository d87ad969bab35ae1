"""The dashboard's chart of the last hour: changes applied per minute, and how long they took.

Drawn on the server as SVG (no script, nothing fetched): one panel of bars, the
changes each side applied per minute (stacked: into the first connector's project,
then the second's), and one of lines, the mean and the slowest propagation latency
per minute (from the change on its source tracker to its commit on the other side).
The data is the store's per-minute table (:mod:`issuesync.store.throughput`), which
every process of the instance writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

from issuesync.store.throughput import MINUTE_MS, ConnectorMinute, minute_of

MINUTES: Final = 60
WIDTH: Final = 720
PANEL: Final = 120  # each panel's height
LEFT: Final = 56  # room for the axis labels
TOP: Final = 18
GAP: Final = 40
BAR: Final = (WIDTH - LEFT - 8) / MINUTES


@dataclass(frozen=True)
class MinutePoint:
    """One minute of the chart."""

    start_ms: int
    first: int  # applied into the first connector's project
    second: int
    mean_s: float | None
    max_s: float | None


def points(rows: Sequence[ConnectorMinute], first_id: int, now_ms: int) -> list[MinutePoint]:
    """The last :data:`MINUTES` minutes up to ``now_ms``, oldest first, empty ones included."""
    end = minute_of(now_ms)
    start = end - (MINUTES - 1) * MINUTE_MS
    by_minute: dict[int, list[ConnectorMinute]] = {}
    for row in rows:
        if start <= row.minute_ms <= end:
            by_minute.setdefault(row.minute_ms, []).append(row)
    found = []
    for index in range(MINUTES):
        minute = start + index * MINUTE_MS
        rows_of = by_minute.get(minute, [])
        count = sum(r.latency_count for r in rows_of)
        found.append(
            MinutePoint(
                start_ms=minute,
                first=sum(r.applied for r in rows_of if r.connector_id == first_id),
                second=sum(r.applied for r in rows_of if r.connector_id != first_id),
                mean_s=sum(r.latency_sum_ms for r in rows_of) / count / 1000 if count else None,
                max_s=max(r.latency_max_ms for r in rows_of) / 1000 if count else None,
            )
        )
    return found


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top``."""
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000):
        if top <= step:
            return float(step)
    return float(int(top) + 1)


def svg(minutes: Sequence[MinutePoint], first_label: str, second_label: str) -> Markup:
    """The chart's SVG element."""
    height = TOP + PANEL + GAP + PANEL + 28
    top_count = _nice(max((m.first + m.second for m in minutes), default=0) or 1)
    top_latency = _nice(max((m.max_s or 0.0 for m in minutes), default=0.0) or 1.0)
    parts = [
        (
            f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
            f'xmlns="http://www.w3.org/2000/svg" aria-label="Changes applied per minute and '
            f'propagation latency over the last hour">'
        ),
        _axis(TOP, f"{top_count:g}"),
        _axis(TOP + PANEL + GAP, f"{top_latency:g} s"),
        f'<text x="{LEFT}" y="{TOP - 5}" class="title">Changes applied per minute</text>',
        (
            f'<text x="{LEFT}" y="{TOP + PANEL + GAP - 5}" class="title">'
            "Propagation latency: mean (line) and slowest (dots)</text>"
        ),
    ]
    total = sum(m.first + m.second for m in minutes)
    for index, minute in enumerate(minutes):
        x = LEFT + index * BAR
        base: float = TOP + PANEL
        for count, css in ((minute.first, "into-first"), (minute.second, "into-second")):
            if count:
                h = PANEL * count / top_count
                base -= h
                parts.append(
                    f'<rect class="{css}" x="{x + 1:.1f}" y="{base:.1f}" '
                    f'width="{BAR - 2:.1f}" height="{h:.1f}"><title>{count}</title></rect>'
                )
    latency_top = TOP + PANEL + GAP
    line = [
        f"{LEFT + (i + 0.5) * BAR:.1f},{latency_top + PANEL * (1 - m.mean_s / top_latency):.1f}"
        for i, m in enumerate(minutes)
        if m.mean_s is not None
    ]
    if line:
        parts.append(f'<polyline class="mean" points="{" ".join(line)}" />')
    for i, m in enumerate(minutes):
        if m.max_s is not None:
            y = latency_top + PANEL * (1 - m.max_s / top_latency)
            parts.append(
                f'<circle class="slowest" cx="{LEFT + (i + 0.5) * BAR:.1f}" cy="{y:.1f}" r="2.5">'
                f"<title>{m.max_s:.1f} s</title></circle>"
            )
    bottom = latency_top + PANEL + 16
    parts += [
        f'<text x="{LEFT}" y="{bottom}" class="axis">60 min ago</text>',
        f'<text x="{WIDTH - 8}" y="{bottom}" class="axis" text-anchor="end">now</text>',
        f'<rect class="into-first" x="{LEFT + 110}" y="{bottom - 9}" width="10" height="10" />',
        f'<text x="{LEFT + 124}" y="{bottom}" class="axis">into {escape(first_label)}</text>',
        f'<rect class="into-second" x="{LEFT + 260}" y="{bottom - 9}" width="10" height="10" />',
        f'<text x="{LEFT + 274}" y="{bottom}" class="axis">into {escape(second_label)}</text>',
        (
            f'<text x="{WIDTH - 8}" y="{TOP - 5}" class="axis" text-anchor="end">'
            f"{total} in the last hour</text>"
        ),
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - numbers and escaped labels only


def _axis(top: float, label: str) -> str:
    return (
        f'<line class="grid" x1="{LEFT}" y1="{top}" x2="{WIDTH - 8}" y2="{top}" />'
        f'<line class="grid" x1="{LEFT}" y1="{top + PANEL}" x2="{WIDTH - 8}" y2="{top + PANEL}" />'
        f'<text x="{LEFT - 4}" y="{top + 10}" class="axis" text-anchor="end">{escape(label)}</text>'
        f'<text x="{LEFT - 4}" y="{top + PANEL}" class="axis" text-anchor="end">0</text>'
    )
