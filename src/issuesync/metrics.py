"""What issuesync counts as it works: the in-process metrics, and the registry they live in.

Two kinds of metrics reach ``GET /metrics`` (docs/operations.md lists them all):

- **Readings of the store** (``issuesync_messages``, ``issuesync_cursor_lag_seconds``, …),
  taken at scrape time by a collector (``engine/runtime/readings.py``): right
  whichever process did the work, with any number of ``issuesync worker`` processes.
- **Events** counted here, where they happen (a route run, a change sent or applied,
  a request to a tracker): prometheus-client counters and histograms, module-level
  so that the engine and the tracker edge record with one call and no wiring.

Every metric, of either kind, is declared with :func:`register` (its name, kind and
labels, in :data:`METRICS`): the documentation's table, the alert rules' and the
dashboard's test (tests/unit/test_operations_docs.py) read that one list. A later
feature declares its metrics the same way, in its own module::

    JOBS = register(Counter, "issuesync_things_total", "Things done.", ("integration",))

Labels are bounded: integration, connector, relation and connection keys or ids,
tracker systems, HTTP methods and statuses; never an issue key.

Switched off (``ISSUESYNC_METRICS_ENABLED=false``, :func:`switch`): every metric's
``labels()`` returns one shared object whose ``inc``/``observe``/``set`` do nothing, so
recording costs a flag check and prometheus-client is not reached (no lock, no
multiprocess file), and ``GET /metrics`` answers 404.

Several processes (``serve --workers N``): prometheus-client's multiprocess mode,
which needs ``PROMETHEUS_MULTIPROC_DIR`` set before prometheus-client is first
imported; ``serve`` sets it for its workers (:func:`prepare_multiprocess_dir`).

This module sits on the ground floor beside ``health``: every layer records here,
and it imports nothing of issuesync.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Self, TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

# Seconds: from a poll of an idle tracker (milliseconds) to a long initial sync (minutes).
DURATION_BUCKETS: Final = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0)
# Seconds from a change on one tracker to its commit on the other: the polling interval
# and the look-back dominate; a backlog or an outage adds minutes to hours.
LATENCY_BUCKETS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0)


@dataclass(frozen=True)
class MetricInfo:
    """One metric /metrics exposes: what a dashboard, an alert or the docs may name."""

    name: str
    kind: str  # counter | gauge | histogram
    help: str
    labels: tuple[str, ...]

    @property
    def series_names(self) -> tuple[str, ...]:
        """The names of its samples in the text exposition (a counter's ``_total``, a
        histogram's ``_bucket``/``_sum``/``_count``)."""
        if self.kind == "histogram":
            return tuple(f"{self.name}{s}" for s in ("_bucket", "_sum", "_count"))
        return (self.name,)


METRICS: dict[str, MetricInfo] = {}

M = TypeVar("M", Counter, Gauge, Histogram)


class _Switch:
    """Whether this process records its events (one per process, set by :func:`switch`)."""

    on = True


def switch(*, on: bool) -> None:
    """Record events (``on``) or not, from now on in this process: the composition root
    calls it with ``ISSUESYNC_METRICS_ENABLED``. A child taken from ``labels()`` before
    a switch keeps what it was, so call it before the engine starts."""
    _Switch.on = on


def enabled() -> bool:
    """Whether this process records its events and serves ``GET /metrics``."""
    return _Switch.on


class _Off:
    """What ``labels()`` gives while metrics are off: records nothing."""

    def inc(self, amount: float = 1) -> None:
        """Nothing."""

    def dec(self, amount: float = 1) -> None:
        """Nothing."""

    def set(self, value: float) -> None:
        """Nothing."""

    def observe(self, amount: float) -> None:
        """Nothing."""


_OFF: Final = _Off()


class _Switchable:
    """A metric whose ``labels()`` gives :data:`_OFF` while metrics are switched off."""

    def labels(self, *values: Any, **named: Any) -> Self:  # noqa: ANN401 - prometheus-client's
        if not _Switch.on:
            return _OFF  # type: ignore[return-value] # the same recording methods, doing nothing
        return super().labels(*values, **named)  # type: ignore[misc,no-any-return]


class _Counter(_Switchable, Counter):
    pass


class _Gauge(_Switchable, Gauge):
    pass


class _Histogram(_Switchable, Histogram):
    pass


_SWITCHABLE: Final[dict[type[Any], tuple[str, type[MetricWrapperBase]]]] = {
    Counter: ("counter", _Counter),
    Gauge: ("gauge", _Gauge),
    Histogram: ("histogram", _Histogram),
}


def declare(name: str, kind: str, help_text: str, labels: Sequence[str]) -> MetricInfo:
    """Declare a metric another module exposes (a collector's reading of the store)."""
    info = MetricInfo(name, kind, help_text, tuple(labels))
    known = METRICS.setdefault(name, info)
    if known != info:
        raise ValueError(f"the metric {name} is declared twice, differently")
    return info


def register(
    metric_type: type[M],
    name: str,
    help_text: str,
    labels: Sequence[str] = (),
    **options: object,
) -> M:
    """Create an in-process metric in prometheus-client's default registry and declare it.

    ``name`` is as exposed (a counter's ends in ``_total``); ``options`` go to the
    metric (``buckets``, ``multiprocess_mode``). It has labels: events are recorded
    through ``labels()``, which :func:`switch` can turn off.
    """
    if not labels:
        raise ValueError(f"the metric {name} needs labels: it is recorded through labels()")
    kind, switchable = _SWITCHABLE[metric_type]
    declare(name, kind, help_text, labels)
    bare = name.removesuffix("_total") if metric_type is Counter else name
    return switchable(bare, help_text, tuple(labels), **options)  # type: ignore[arg-type,return-value]


# -- the engine ------------------------------------------------------------------------------

CONNECTOR = ("integration", "connector")

ROUTE_RUNS = register(
    Counter,
    "issuesync_route_runs_total",
    "Runs of a connector's route, by outcome (ok, failed).",
    (*CONNECTOR, "route", "outcome"),
)
ROUTE_DURATION = register(
    Histogram,
    "issuesync_route_run_duration_seconds",
    "How long a run of a connector's route took.",
    (*CONNECTOR, "route"),
    buckets=DURATION_BUCKETS,
)
CHANGES_SENT = register(
    Counter,
    "issuesync_changes_sent_total",
    "Messages the connector's outgoing route sent (changes, creations, deletions).",
    CONNECTOR,
)
CHANGES_APPLIED = register(
    Counter,
    "issuesync_changes_applied_total",
    "Messages the connector's incoming route applied to its tracker (archived).",
    CONNECTOR,
)
PROPAGATION = register(
    Histogram,
    "issuesync_propagation_latency_seconds",
    "From a change's update time on the source tracker to the commit of its apply on this "
    "connector's side.",
    CONNECTOR,
    buckets=LATENCY_BUCKETS,
)

# -- the tracker edge (trackers/http.py) -----------------------------------------------------

TRACKER_REQUESTS = register(
    Counter,
    "issuesync_tracker_requests_total",
    "Requests to trackers' APIs, by outcome class (2xx, 3xx, 4xx, 5xx, error: no answer) "
    "and status ('none' without an answer).",
    ("system", "method", "outcome", "status"),
)
TRACKER_LATENCY = register(
    Histogram,
    "issuesync_tracker_request_duration_seconds",
    "How long a tracker took to answer one request (each attempt).",
    ("system", "method"),
    buckets=DURATION_BUCKETS,
)
TRACKER_RETRIES = register(
    Counter,
    "issuesync_tracker_retries_total",
    "Requests sent again after a rate limit or a passing server error.",
    ("system",),
)
RATE_LIMIT_WAITS = register(
    Counter,
    "issuesync_tracker_rate_limit_waits_total",
    "Waits for a tracker's rate limit: its Retry-After, or issuesync's own budget.",
    ("system",),
)
RATE_LIMIT_WAIT_SECONDS = register(
    Counter,
    "issuesync_tracker_rate_limit_wait_seconds_total",
    "Seconds spent waiting for trackers' rate limits.",
    ("system",),
)
RATE_LIMIT_REMAINING = register(
    Gauge,
    "issuesync_tracker_rate_limit_remaining",
    "Requests left in the tracker's rate-limit window, as its last answer said.",
    ("system",),
    multiprocess_mode="mostrecent",
)


def outcome_class(status: int | None) -> str:
    """A status's class for the ``outcome`` label: ``2xx`` … ``5xx``, ``error`` for none."""
    return "error" if status is None else f"{status // 100}xx"


# -- several processes -----------------------------------------------------------------------


def multiprocess_dir() -> Path | None:
    """Where this process's metrics are shared with its siblings, if they are."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def prepare_multiprocess_dir(home: Path) -> Path:
    """For ``serve --workers N``, in the parent before the workers start: an empty private
    ``HOME/metrics`` named in the environment the workers inherit.

    An operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used as it is and not emptied (an
    ``issuesync worker`` may write there too); ours is emptied, since the values of the
    processes of a server that stopped are not this server's.
    """
    given = multiprocess_dir()
    if given is not None:
        given.mkdir(mode=0o700, parents=True, exist_ok=True)
        return given
    folder = home.resolve() / "metrics"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(mode=0o700, parents=True)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def process_exited(pid: int) -> None:
    """A worker process stops: its live gauges leave the sum (its counters stay)."""
    if multiprocess_dir() is None:
        return
    from prometheus_client import multiprocess  # noqa: PLC0415 - only in multiprocess mode

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
