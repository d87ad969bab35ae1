"""Logging in to the dashboard (/ui) over real HTTP, as a browser's forms do."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@contextmanager
def login(server: str, user: str, password: str) -> Iterator[httpx.Client]:
    """A client with a dashboard session, closed afterwards."""
    with httpx.Client(base_url=server, timeout=30) as client:
        token = csrf_of(client.get("/ui/login").text)
        answer = client.post(
            "/ui/login",
            data={"csrf": token, "next": "/ui/", "username": user, "password": password},
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/ui/"
        yield client


def post_form(client: httpx.Client, path: str, page: str, **fields: object) -> httpx.Response:
    """POST a form of ``page`` (its CSRF token included), as its button would."""
    token = csrf_of(client.get(page).text)
    data: dict[str, object] = {"csrf": token, **fields}
    return client.post(path, data=data)
