"""The Jira dialect's paths: ``/rest/api/latest`` as an alias of ``/rest/api/2``, and a
404 (not a 405) for a method sent to a path that names no resource.

Jira Server serves its REST API under both ``/rest/api/2`` and ``/rest/api/latest``, and
clients use both (``jira`` asks ``latest`` for users, groups and the assignee). Rather
than registering each route twice (and doubling the OpenAPI document), :class:`JiraPaths`
rewrites ``latest`` into ``2`` before anything else sees the request, so every Jira router
(present and future, whichever module mounts it) answers under both, and errors take the
Jira shape registered for ``/rest/api/2``.

Jira (Jersey) answers a wrong method on a resource it has with 405. Starlette does the
same whenever a route's path template matches, which is also true of Jira's own literal
paths that the built-in tracker does not serve and a template swallows: ``POST
/rest/api/2/issue/bulk`` matches ``/issue/{key}`` (GET, PUT, DELETE), and a 405 "Method
POST is not allowed" would say the resource exists. So a 405 stands only when the path
names a resource: every parameter its template captured is an identifier (a number, a
project key, an issue key). Otherwise the answer is Jira's 404.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Final

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from issuesync.api.jira.errors import jira_error
from issuesync.api.jira.routers import JIRA_PREFIX

LATEST_PREFIX: Final = "/rest/api/latest"

# What a path parameter of a Jira resource looks like: an id, a project key (upper case,
# as Jira makes them) or an issue key (any case: Jira finds "pa-1" too). Jira's literal
# path segments ("bulk", "createmeta", "picker", "archive", "type", "meta") are none.
_IDENTIFIER: Final = re.compile(r"\d+|[A-Z][A-Z0-9_]*|[A-Za-z][A-Za-z0-9_]*-\d+")


def jira_path(path: str) -> str:
    """``path`` with ``/rest/api/latest`` replaced by ``/rest/api/2`` (others unchanged)."""
    if path == LATEST_PREFIX or path.startswith(LATEST_PREFIX + "/"):
        return JIRA_PREFIX + path[len(LATEST_PREFIX) :]
    return path


class JiraPaths:
    """Pure ASGI middleware: the ``latest`` alias, and 404 for a path that is no resource.

    Added outermost, so that the request guard, the error shapes and the routes all see
    ``/rest/api/2``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Rewrite the path; replace a 405 for a path that names no resource by a 404."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = jira_path(scope["path"])
        if path != scope["path"]:
            scope = {**scope, "path": path, "raw_path": _raw_path(scope, path)}
        if not path.startswith(JIRA_PREFIX + "/"):
            await self.app(scope, receive, send)
            return

        replaced = False

        async def checked(message: Message) -> None:
            # Only an error answer is looked at, and only a 405: a served request costs nothing.
            nonlocal replaced
            if message["type"] == "http.response.start" and (
                message["status"] == HTTPStatus.METHOD_NOT_ALLOWED and not _names_resource(scope)
            ):
                replaced = True
                body = jira_error(404, f"No resource at {scope['path']}.", {})
                await JSONResponse(body, status_code=HTTPStatus.NOT_FOUND)(scope, receive, send)
                return
            if not replaced:
                await send(message)

        await self.app(scope, receive, checked)


def _raw_path(scope: Scope, path: str) -> bytes:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw.startswith(LATEST_PREFIX.encode()):
        return JIRA_PREFIX.encode() + raw[len(LATEST_PREFIX) :]
    return path.encode()


def _names_resource(scope: Scope) -> bool:
    """Whether the route whose template matched (the router put what it captured in the
    scope before answering 405) took identifiers only in its parameters."""
    params = scope.get("path_params") or {}
    return all(_IDENTIFIER.fullmatch(str(value)) for value in params.values())


__all__ = ["LATEST_PREFIX", "JiraPaths", "jira_path"]
