"""docs/operations/: the Grafana dashboard and the Prometheus alert rules name only metrics
that /metrics exposes (the registry's list, issuesync.metrics.METRICS), and
docs/operations.md describes every one of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from issuesync.engine.pipeline.cursor import Cursor
from issuesync.engine.runtime.readings import _signpost
from issuesync.metrics import METRICS

DOCS = Path(__file__).parents[2] / "docs"
NAME = re.compile(r"\bissuesync_[a-z0-9_]+")


def exposed() -> set[str]:
    return {series for info in METRICS.values() for series in info.series_names}


def expressions(node: Any) -> list[str]:
    """Every ``expr`` in a dashboard's or a rule file's tree."""
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return []


def test_the_dashboard_names_only_exposed_metrics() -> None:
    dashboard = json.loads((DOCS / "operations" / "grafana-dashboard.json").read_text())
    exprs = expressions(dashboard["panels"])
    assert exprs
    used = {name for expr in exprs for name in NAME.findall(expr)}
    assert used <= exposed(), used - exposed()
    titles = " ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for wanted in (
        "cursor lag",
        "in error",
        "by state",
        "latency p50 / p99",
        "tracker requests",
        "route run duration",
        "connections' last job",
    ):
        assert wanted in titles


def test_the_alert_rules_name_only_exposed_metrics() -> None:
    rules = yaml.safe_load((DOCS / "operations" / "prometheus-alerts.yml").read_text())
    alerts = {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}
    used = {name for expr in alerts.values() for name in NAME.findall(expr)}
    assert used <= exposed(), used - exposed()
    for metric in (
        "issuesync_cursor_lag_seconds",
        "issuesync_issues_in_error",
        "issuesync_propagation_latency_seconds_bucket",
        "issuesync_tracker_requests_total",
        "issuesync_connection_last_job_succeeded",
    ):
        assert any(metric in expr for expr in alerts.values()), metric
    assert "histogram_quantile(0.99" in alerts["IssuesyncPropagationLatencyHigh"]


def test_the_operations_page_describes_every_metric() -> None:
    page = (DOCS / "operations.md").read_text()
    missing = [name for name in METRICS if f"`{name}`" not in page]
    assert not missing


def test_the_cursor_lag_reads_the_signpost_from_the_head_of_a_stored_cursor() -> None:
    many = {f"PA-{n}": n for n in range(5_000)}
    stored = Cursor(updated_ms=1_700_000_000_123, deletions_ms=5, seen=many).dumps()
    assert _signpost(stored[:200]) == 1_700_000_000_123
    assert _signpost(Cursor().dumps()) is None
    assert _signpost(None) is None
