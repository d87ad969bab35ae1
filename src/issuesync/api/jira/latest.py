"""Jira's ``/rest/api/latest`` alias of the newest REST version, here ``/rest/api/2``.

Jira Server serves every resource of its newest REST version under ``latest`` as well,
and clients use it: the ``jira`` library (pycontribs) sends ``assign_issue``, user and
group calls there whatever version it was told to use. Rewriting the path once, before
anything else sees it, gives the alias every route of the dialect, its error shape and
its guard, with no route declared twice; the answers' ``self`` links still name
``/rest/api/2``, as Jira's do.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

LATEST_PREFIX: Final = "/rest/api/latest"
VERSION_PREFIX: Final = "/rest/api/2"


class LatestAlias:
    """Pure ASGI middleware: ``/rest/api/latest[/...]`` is ``/rest/api/2[/...]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, under the versioned path when it named ``latest``."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if path == LATEST_PREFIX or path.startswith(LATEST_PREFIX + "/"):
                rest = path[len(LATEST_PREFIX) :]
                scope = dict(scope)
                scope["path"] = VERSION_PREFIX + rest
                raw = scope.get("raw_path")
                if isinstance(raw, bytes) and raw.startswith(LATEST_PREFIX.encode()):
                    scope["raw_path"] = VERSION_PREFIX.encode() + raw[len(LATEST_PREFIX) :]
        await self.app(scope, receive, send)
