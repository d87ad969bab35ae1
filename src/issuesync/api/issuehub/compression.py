"""Sync events cross the network between two organisations: compressed when the partner
accepts gzip (issuesync's client does). A page of 500 events shrinks about ninefold
(bench/nodes.py); blobs go as they are (attachments are often compressed already)."""

from __future__ import annotations

from typing import Final

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from issuesync.domain.relation import API_PREFIX

_EVENTS: Final = f"{API_PREFIX}/relations/"
_MINIMUM_BYTES: Final = 1024


class NodeCompression:
    """gzip for the node API's answers to a partner, nothing else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=_MINIMUM_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Compress when the path is a partner route (not a blob's content)."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith(_EVENTS) and "/blobs/" not in path:
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
