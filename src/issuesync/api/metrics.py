"""Prometheus's scrape: ``GET /metrics``, in the text exposition format.

What it shows (docs/operations.md lists every metric): the store's readings,
taken now by :class:`~issuesync.engine.runtime.readings.StoreReadings`, and the
events this process counted (:mod:`issuesync.metrics`); under ``serve --workers
N`` the events of every worker, summed by prometheus-client's multiprocess mode.

With ``ISSUESYNC_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer
<token>`` (compared in constant time); without it /metrics is open on the API's
port, as ``/healthz`` is. A wrong token counts as a failed login of its client
address in the API's throttle (:class:`~issuesync.throttle.LoginThrottle`, the
same table and limits): an address that failed too often gets 429 with
``Retry-After`` before its token is looked at, whatever it is, so that the answer
during a lock says nothing of a guess; the right token from any other address
keeps working, and from that one once the lock ends.

The metrics name integrations, connectors, relations and connections, never an
issue, a user or a secret. With ``ISSUESYNC_METRICS_ENABLED`` false, nothing is
counted and /metrics answers 404.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from issuesync.engine.runtime.readings import StoreReadings
from issuesync.errors import ThrottledError
from issuesync.metrics import enabled, multiprocess_dir
from issuesync.services import Services

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"description": "Prometheus text exposition", "content": {CONTENT_TYPE_LATEST: {}}},
        401: {"description": "`ISSUESYNC_METRICS_TOKEN` is set and the bearer token is not it"},
        404: {"description": "metrics are off (`ISSUESYNC_METRICS_ENABLED=false`)"},
        429: {"description": "too many wrong tokens from this address lately (`Retry-After`)"},
    },
)
def metrics(
    request: Request,
    authorization: Annotated[
        str | None, Header(description="`Bearer <ISSUESYNC_METRICS_TOKEN>`, when it is set")
    ] = None,
) -> Response:
    """Every metric of issuesync (a thread of the pool: the store is read)."""
    services: Services = request.app.state.services
    if not enabled():
        return JSONResponse(
            {"error": "Metrics are off in this server (ISSUESYNC_METRICS_ENABLED=false)."},
            status_code=404,
        )
    token = services.settings.metrics_token
    if token is not None:
        refused = _refusal(request, services, authorization, token.get_secret_value())
        if refused is not None:
            return refused
    registry: CollectorRegistry | None = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = request.app.state.metrics_registry = build_registry(services)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def build_registry(services: Services) -> CollectorRegistry:
    """The scrape's registry: the store's readings, and this process's events (or, in
    multiprocess mode, every process's)."""
    disable_created_metrics()  # type: ignore[no-untyped-call] # `_created` series: noise
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreReadings(services.uow_factory, services.clock))
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess  # noqa: PLC0415 - only in that mode

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    return registry


class _ThisProcess(Collector):
    """The metrics of prometheus-client's default registry: this process's events, and its
    CPU, memory and garbage collector."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def _refusal(
    request: Request, services: Services, authorization: str | None, token: str
) -> Response | None:
    """401 for a missing or wrong token, 429 for an address that failed too often; None
    for the right token."""
    if authorization is not None:  # a scrape without a header guesses nothing: no count
        throttle = services.authenticator.throttle
        address = request.client.host if request.client is not None else None
        try:
            throttle.check(address)
        except ThrottledError as exc:
            return JSONResponse(
                {"error": "Too many wrong tokens for GET /metrics: wait (see Retry-After)."},
                status_code=429,
                headers={"Retry-After": str(exc.retry_after_s)},
            )
        if _bearer_is(authorization, token):
            return None
        throttle.failed(address)
    return JSONResponse(
        {"error": "GET /metrics needs the bearer token of ISSUESYNC_METRICS_TOKEN."},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


def _bearer_is(authorization: str, token: str) -> bool:
    scheme, _, given = authorization.partition(" ")
    # Digests of both compared whole, whatever was given: the time says nothing of the
    # token, not even its length.
    return hmac.compare_digest(_digest(given.strip()), _digest(token)) and (
        scheme.lower() == "bearer"
    )


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
