"""Running a service function of the built-in tracker from a route: one read or write
operation, off the event loop (one thread-pool hop per request)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from issuesync.services import Services
from issuesync.store.principals import Principal

T = TypeVar("T")


async def read(services: Services, actor: Principal, action: Callable[..., T], *args: object) -> T:
    """Run ``action(op, *args)`` in a read operation."""

    def run() -> T:
        with services.tracker.read(actor) as op:
            return action(op, *args)

    return await run_in_threadpool(run)


async def write(services: Services, actor: Principal, action: Callable[..., T], *args: object) -> T:
    """Run ``action(op, *args)`` in a write operation, committed at its end."""

    def run() -> T:
        with services.tracker.write(actor) as op:
            return action(op, *args)

    return await run_in_threadpool(run)
