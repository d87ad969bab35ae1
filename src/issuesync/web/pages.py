"""The dashboard's pages under ``/ui``: for people, over the same services as the APIs.

Every page needs a session (:mod:`issuesync.web.session`); without one a page
redirects to the login. Every form that changes something is a POST carrying the
session's CSRF token, answered by a redirect back to its page (post/redirect/get)
with what happened, or what went wrong, shown on top. Who sees what is the APIs'
rule (:mod:`issuesync.application.access`): a user who administers nothing gets 403,
an integration the user may not see is a 404, as in the Backbone API.

Each answer carries the headers of :mod:`issuesync.web.render` (a Content-Security-
Policy, no framing, no caching). Errors are shown as a page with the message the APIs
give, never a trace. The buttons' work is in :mod:`issuesync.web.actions`.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from issuesync.errors import (
    AuthenticationError,
    InvalidInputError,
    IssueSyncError,
    NotFoundError,
    ThrottledError,
)
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.web import actions, chart, views
from issuesync.web.actions import MAX_FIELD, MAX_IDS, advance_tasks, checks
from issuesync.web.render import (
    PREFIX,
    SECURITY_HEADERS,
    back,
    error_page,
    render,
    secure,
    status_of,
)
from issuesync.web.session import LOGIN_COOKIE, SESSION_COOKIE, Session, Sessions, new_sid

MAX_PASSWORD: Final = 1024
T = TypeVar("T")


def mount(app: FastAPI) -> None:
    """Serve the dashboard under ``/ui`` (its pages, and its stylesheet and script)."""
    services: Services = app.state.services
    app.state.web_sessions = Sessions(services.secrets, services.uow_factory)
    app.mount(  # before the pages: their last route answers every other path under /ui
        f"{PREFIX}/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="ui-static",
    )
    app.include_router(build_router(), include_in_schema=False)


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.web_sessions
    return sessions


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _session(request: Request) -> Session | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    return await run_in_threadpool(_sessions(request).session_of, cookie, now_ms())


async def _page_session(request: Request) -> Session | Response:
    """The session of a page's request, or the answer that sends the user to log in."""
    session = await _session(request)
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"{PREFIX}/login?next={quote(target, safe='')}",
            status_code=HTTPStatus.SEE_OTHER,
            headers=SECURITY_HEADERS,
        )
    return session


async def _form(
    request: Request, session: Session | None, sid: str | None = None
) -> FormData | Response:
    """A POSTed form whose CSRF token is the session's (or the login form's); else the
    answer that refuses it."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_IDS + 10)
    except Exception as exc:  # any unreadable body is the same refusal
        raise InvalidInputError(
            "The form could not be read; reload the page and try again."
        ) from exc
    token = form.get("csrf")
    wanted = session.sid if session is not None else sid
    if not isinstance(token, str) or not _sessions(request).csrf_ok(wanted, token):
        return error_page(
            request,
            session,
            HTTPStatus.FORBIDDEN,
            "The form has expired or did not come from this dashboard. "
            "Reload the page and try again.",
        )
    return form


def _guarded(route: Callable[..., object]) -> Callable[..., object]:
    """A page handler whose errors are shown as a page."""

    @functools.wraps(route)
    async def guarded(request: Request, **kwargs: object) -> Response:
        try:
            response: Response = await route(request, **kwargs)  # type: ignore[misc]
        except IssueSyncError as error:
            session = await _session(request)
            return error_page(request, session, status_of(error), error.describe())
        return response

    return guarded


async def _fragment_session(request: Request) -> Session | Response:
    """The session of a live part's request, or 401: the page's script then reloads the
    page, which leads to the login."""
    session = await _session(request)
    if session is None:
        return Response(status_code=HTTPStatus.UNAUTHORIZED, headers=SECURITY_HEADERS)
    return session


async def _posted(request: Request) -> tuple[Session, FormData] | Response:
    """The session and the form of a button's POST, or the answer that sends the user to
    log in or refuses a form without the session's CSRF token."""
    session = await _page_session(request)
    if isinstance(session, Response):
        return session
    form = await _form(request, session)
    if isinstance(form, Response):
        return form
    return session, form


def _integration_url(key: str) -> str:
    return f"{PREFIX}/integrations/{quote(key, safe='')}"


def build_router() -> APIRouter:  # noqa: C901, PLR0915 - one table of pages, read top to bottom
    """The dashboard's page handlers."""
    router = APIRouter(prefix=PREFIX)

    @router.get("")
    async def root() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=HTTPStatus.SEE_OTHER)

    # -- login ----------------------------------------------------------------------------

    @router.get("/login")
    @_guarded
    async def login_page(request: Request, next: str = f"{PREFIX}/") -> Response:  # noqa: A002
        return _login_form(request, _next(next), problem=None)

    @router.post("/login")
    @_guarded
    async def login(request: Request) -> Response:
        form = await _form(request, None, request.cookies.get(LOGIN_COOKIE))
        if isinstance(form, Response):
            return form
        target = _next(actions.field(form, "next", required=False) or f"{PREFIX}/")
        name = actions.field(form, "username", required=False)
        password = form.get("password")
        if (
            not name
            or not isinstance(password, str)
            or not password
            or len(password) > MAX_PASSWORD
        ):
            return _login_form(request, target, problem="Enter your user name and password.")
        header = "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()
        address = request.client.host if request.client is not None else None
        services = _services(request)
        try:
            principal = await run_in_threadpool(
                services.authenticator.authenticate, header, address
            )
        except (AuthenticationError, ThrottledError) as refused:
            status = status_of(refused)
            return _login_form(request, target, problem=refused.describe(), status=status)
        cookie = await run_in_threadpool(_sessions(request).cookie_for, principal, now_ms())
        response = RedirectResponse(target, status_code=HTTPStatus.SEE_OTHER)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @router.post("/logout")
    @_guarded
    async def logout(request: Request) -> Response:
        session = await _session(request)
        if session is not None:
            refused = await _form(request, session)
            if isinstance(refused, Response):
                return refused
            await run_in_threadpool(_sessions(request).end, session)
        response = RedirectResponse(f"{PREFIX}/login", status_code=HTTPStatus.SEE_OTHER)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    # -- the board ------------------------------------------------------------------------

    @router.get("/")
    @_guarded
    async def board_page(request: Request) -> Response:
        session = await _page_session(request)
        if isinstance(session, Response):
            return session
        rows = await _read(request, views.board, session, now_ms())
        return render(request, "board.html", user=session.principal, csrf=session.csrf, rows=rows)

    @router.get("/fragments/board")
    @_guarded
    async def board_fragment(request: Request) -> Response:
        session = await _fragment_session(request)
        if isinstance(session, Response):
            return session
        rows = await _read(request, views.board, session, now_ms())
        return render(request, "_board.html", rows=rows)

    # -- one integration ------------------------------------------------------------------

    @router.get("/integrations/{key}")
    @_guarded
    async def integration_page(request: Request, key: str, issue: str | None = None) -> Response:
        session = await _page_session(request)
        if isinstance(session, Response):
            return session
        return await _integration(request, session, key, issue=issue)

    @router.get("/integrations/{key}/fragments/status")
    @_guarded
    async def status_fragment(request: Request, key: str) -> Response:
        session = await _fragment_session(request)
        if isinstance(session, Response):
            return session
        page = await _read(request, views.integration_page, session, key, now_ms(), live=True)
        return render(request, "_status.html", page=page, chart=_chart(page))

    @router.get("/integrations/{key}/fragments/checks")
    @_guarded
    async def checks_fragment(request: Request, key: str) -> Response:
        session = await _fragment_session(request)
        if isinstance(session, Response):
            return session
        found = await run_in_threadpool(checks, _services(request), session, key)
        return render(request, "_checks.html", checks=found, tested=False)

    @router.post("/integrations/{key}/test")
    @_guarded
    async def test_integration(request: Request, key: str) -> Response:
        posted = await _posted(request)
        if isinstance(posted, Response):
            return posted
        session, _ = posted
        found = await run_in_threadpool(checks, _services(request), session, key)
        return await _integration(request, session, key, tested=found)

    @router.post("/integrations/{key}/{action}")
    @_guarded
    async def button(request: Request, key: str, action: str) -> Response:
        posted = await _posted(request)
        if isinstance(posted, Response):
            return posted
        session, form = posted
        where = _integration_url(key)
        try:
            done = await run_in_threadpool(
                actions.act, _services(request), session, key, action, form
            )
        except NotFoundError:
            raise  # the integration (or the action) is not there: a 404 page, not a redirect
        except IssueSyncError as refused:  # what the API would answer, said on the page
            return back(request, where, refused.describe(), error=True)
        return back(request, where, done)

    async def _integration(
        request: Request,
        session: Session,
        key: str,
        *,
        issue: str | None = None,
        tested: views.Checks | None = None,
    ) -> Response:
        if issue is not None and len(issue) > MAX_FIELD:
            raise InvalidInputError(f"An issue key has at most {MAX_FIELD} characters.")
        await run_in_threadpool(advance_tasks, _services(request), session, key)
        page = await _read(
            request, views.integration_page, session, key, now_ms(), issue=issue or None
        )
        return render(
            request,
            "integration.html",
            user=session.principal,
            csrf=session.csrf,
            page=page,
            tested=tested,
            chart=_chart(page),
        )

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def unknown(request: Request, rest: str) -> Response:
        session = await _session(request)
        return error_page(
            request,
            session,
            HTTPStatus.NOT_FOUND,
            f"The dashboard has no page {PREFIX}/{rest} (for a {request.method}).",
        )

    def _login_form(
        request: Request, target: str, *, problem: str | None, status: int = HTTPStatus.OK
    ) -> Response:
        sid = new_sid()
        response = render(
            request,
            "login.html",
            status,
            user=None,
            csrf=_sessions(request).csrf_token(sid),
            next=target,
            problem=problem,
        )
        response.set_cookie(
            LOGIN_COOKIE,
            sid,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        return response

    return router


def _next(target: str) -> str:
    """Where to go after the login: a dashboard page, never another site."""
    if not target.startswith(f"{PREFIX}/") or "//" in target or "\\" in target:
        return f"{PREFIX}/"
    return target[:MAX_FIELD]


async def _read(
    request: Request, read: Callable[..., T], session: Session, *args: object, **kwargs: object
) -> T:
    services = _services(request)

    def run() -> T:
        with services.uow_factory(readonly=True) as uow:
            return read(uow.session, session.principal, *args, **kwargs)

    return await run_in_threadpool(run)


def _chart(page: views.IntegrationPage) -> Markup:
    first, second = page.view.first, page.view.second
    points = chart.points(page.minutes, first.id, now_ms())
    return chart.svg(points, first.project_key, second.project_key)
