"""The request guard's checks of raw bytes: what they refuse and what they let through."""

from __future__ import annotations

import json
import time

import pytest

from issuesync.api.guard import MAX_JSON_DEPTH, body_problem, url_problem


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"a": "x\x00"}', "NUL"),
        (b'{"a": "x\\u0000"}', "NUL"),
        (b'{"a": "\xff"}', "UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "UTF-8"),  # a surrogate encoded as if it were a character
        (b'{"a": "\\ud800"}', "surrogate"),
        (b'{"a": "\\uDBFF x"}', "surrogate"),
        (b'{"a": "\\udc00\\ud800"}', "surrogate"),  # low before high is no pair
        (b'{"a": "\\ud83d\\ud83d\\ude00"}', "surrogate"),  # a high half left over
        (b'{"a": "\\\\\\ud800"}', "surrogate"),  # an escaped backslash, then the escape
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "levels"),
        (b'{"a": ' * MAX_JSON_DEPTH + b"{}" + b"}" * MAX_JSON_DEPTH, "levels"),
        (b"[" * 1_000_000, "levels"),
    ],
)
def test_refused_bodies(body: bytes, words: str) -> None:
    problem = body_problem(body)
    assert problem is not None
    assert words in problem


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"summary": "plain"}',
        '{"summary": "Grüße 😀"}'.encode(),
        b'{"a": "\\ud83d\\ude00"}',  # a pair is one character
        b'{"a": "\\\\ud800"}',  # an escaped backslash, then text
        b'{"a": "\\\\\\\\ud800"}',
        b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
        b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\\"}',
        b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
        json.dumps([[1, 2, {"a": [3]}]] * 10_000).encode(),
    ],
)
def test_bodies_that_pass(body: bytes) -> None:
    assert body_problem(body) is None


def test_the_checks_of_ten_megabytes_answer_at_all() -> None:
    # Not a performance assertion: a guard that the checks are not quadratic (a hang).
    bodies = [
        b'{"a": "' + b"\\n" * 5_000_000 + b'"}',
        b"[" + b"[]," * 3_300_000 + b"[]]",
        b"[" + b'"\\ud83d\\ude00",' * 700_000 + b'""]',
    ]
    started = time.monotonic()
    for body in bodies:
        assert body_problem(body) is None
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [
        (b"/rest/api/2/project/P%00A", b"", "NUL"),
        (b"/rest/api/2/search", b"jql=a%00", "NUL"),
        (b"/rest/api/2/search", b"jql=%ED%A0%80", "UTF-8"),
        (b"/api/1/integrations", b"projectKey=%FF", "UTF-8"),
        (b"/h%C3", b"", "UTF-8"),
    ],
)
def test_refused_urls(path: bytes, query: bytes, words: str) -> None:
    problem = url_problem(path, query)
    assert problem is not None
    assert words in problem


def test_urls_that_pass() -> None:
    assert url_problem(b"/rest/api/2/search", b"jql=summary+~+%22Gr%C3%BC%C3%9Fe%22") is None
    assert url_problem(b"/rest/api/2/issue/PA-1", b"") is None
