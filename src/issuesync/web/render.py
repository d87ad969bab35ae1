"""How the dashboard answers: its pages rendered, its redirects, its error page, its headers.

Every answer carries :data:`SECURITY_HEADERS`: a Content-Security-Policy that allows
only this server's own stylesheet and script (nothing inline, nothing from
elsewhere), no framing, no caching. A button's outcome is carried to the page it
leads back to in a short-lived cookie (the *flash*), shown once.
"""

from __future__ import annotations

import functools
import time
from http import HTTPStatus
from typing import Final
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from issuesync import __version__
from issuesync.errors import HTTP_STATUSES, IssueSyncError, nearest
from issuesync.web.session import Session

PREFIX: Final = "/ui"
FLASH_COOKIE: Final = "issuesync_flash"
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@functools.cache
def templates() -> Environment:
    """The Jinja2 environment of the templates (autoescaped), built once."""
    environment = Environment(
        loader=PackageLoader("issuesync.web"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = when
    environment.globals["version"] = __version__
    return environment


def when(ms: int | None) -> str:
    """A time in epoch milliseconds as people read it (UTC), or a dash."""
    if not ms:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ms / 1000))


def render(
    request: Request, name: str, answer: int = HTTPStatus.OK, **context: object
) -> HTMLResponse:
    """A template rendered as a page, with the flash shown once and the headers set."""
    flash = request.cookies.get(FLASH_COOKIE)
    html = templates().get_template(name).render(prefix=PREFIX, flash=flash_text(flash), **context)
    response = HTMLResponse(html, status_code=answer, headers=SECURITY_HEADERS)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return response


def flash_text(value: str | None) -> tuple[str, str] | None:
    """The flash cookie as (kind, text): kind is "done" or "error"."""
    if not value or ":" not in value:
        return None
    kind, _, text = value.partition(":")
    return ("error" if kind == "error" else "done", unquote(text)[:500])


def back(request: Request, where: str, text: str, *, error: bool = False) -> RedirectResponse:
    """A redirect to ``where`` that shows ``text`` there once (post/redirect/get)."""
    response = RedirectResponse(where, status_code=HTTPStatus.SEE_OTHER, headers=SECURITY_HEADERS)
    response.set_cookie(
        FLASH_COOKIE,
        f"{'error' if error else 'done'}:{quote(text[:500])}",
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        max_age=60,
    )
    return response


def secure(request: Request) -> bool:
    """Whether the page was asked for over HTTPS (then cookies are ``Secure``)."""
    return request.url.scheme == "https"


def error_page(
    request: Request, session: Session | None, status: int, message: str
) -> HTMLResponse:
    """The page that says what went wrong, with the status the APIs would answer."""
    return render(
        request,
        "error.html",
        status,
        user=session.principal if session else None,
        csrf=session.csrf if session else "",
        status=status,
        title=HTTPStatus(status).phrase,
        message=message,
    )


def status_of(error: IssueSyncError) -> int:
    """The HTTP status of an error, as for paths of no dialect."""
    return int(nearest(HTTP_STATUSES, error) or HTTPStatus.INTERNAL_SERVER_ERROR)
