"""What keeps credentials out of text and URLs: ``redact``, ``checked_url``, the edge's use.

Pure functions, and the shared tracker client with an ``httpx.MockTransport``
tracker that echoes what it got, the way a tracker or a proxy may.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import sys
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from issuesync.domain.redaction import (
    ELLIPSIS,
    MAX_SHOWN_TEXT,
    REDACTED,
    credential_forms,
    redact,
)
from issuesync.domain.urls import checked_url, without_credentials
from issuesync.errors import AuthenticationError, IssueSyncError
from issuesync.security import RedactingFilter
from issuesync.trackers.credentials import BasicAuth, BearerAuth, HeaderAuth, ProxySettings
from issuesync.trackers.github.client import GitHubClient
from issuesync.trackers.http import RestClient

SECRET = "s3cr3t-Value-42"


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.def-123\r\nAccept: */*",
        "proxy-authorization: Basic dXNlcjpwYXNz",
        '{"headers": {"Authorization": "token gho_16C7e42F292c6912E7710c838347Ae178B4a"}}',
        "{'PRIVATE-TOKEN': 'plain-looking'}",
        "X-Redmine-API-Key: 0123456789abcdef",
        "GET /api/v4/projects?private_token=plainvalue&page=2",
        "https://example.test/x?access_token=plainvalue",
        "password=hunter2&user=bob",
        '{"password": "hunter2", "user": "bob"}',
        '{"api_key": "plainvalue"}',
        "a token ghp_abcdefghijklmnopqrstuvwxyz0123456789 in a sentence",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
        "GitLab glpat-xyzXYZ0123456789abcd said no",
        "issuesync isy_AbCdEf0123456789-_xyz",
        "Atlassian ATATT3xFfGF0abcdefghijklmnop",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "Bearer aBcDeFgHiJkLmNoP",
        "https://bob:hunter2@tracker.example.test/path",
        "https://ghp_tokenonly@github.example.test/",
        "http://maps.example.test/api?key=AIzaSyplainvalue",
    ],
)
def test_credential_looking_values_are_redacted(text: str) -> None:
    redacted = redact(text)
    assert REDACTED in redacted
    for secret in ("abc.def-123", "dXNlcjpwYXNz", "gho_16C7", "plain-looking", "0123456789abcdef"):
        assert secret not in redacted
    for secret in ("plainvalue", "hunter2", "ghp_abc", "github_pat_", "glpat-", "isy_", "ATATT"):
        assert secret not in redacted
    assert "eyJzdWIi" not in redacted
    assert "aBcDeFgHiJkLmNoP" not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "Basic authentication with passwords is deprecated.",
        "The token expired: create a new one.",
        "Issue PA-1 has the key PA-1.",
        "Field 'summary' is required",
        "GitHub answered GET repos/octo/widgets with 404: Not Found",
    ],
)
def test_ordinary_words_stay(text: str) -> None:
    assert redact(text) == text


def test_known_secrets_go_in_every_form_they_travel_in() -> None:
    basic = base64.b64encode(f"sync:{SECRET}".encode()).decode()
    text = " | ".join(
        [
            f"raw {SECRET}",
            f"url {quote(SECRET, safe='')}",
            f"form {quote_plus(SECRET)}",
            f"json {json.dumps(SECRET)}",
            f"basic {basic}",
        ]
    )
    redacted = redact(text, credential_forms(SECRET, user="sync"))
    assert SECRET not in redacted
    assert basic not in redacted
    assert redacted.count(REDACTED) == 5


def test_short_known_secrets_are_not_searched_for_words() -> None:
    assert redact("a bad answer", {"a"}) == "a bad answer"


@given(st.text(max_size=300))
def test_redacting_twice_changes_nothing_and_text_is_capped(text: str) -> None:
    once = redact(text * 10)
    assert redact(once) == once
    assert len(once) <= MAX_SHOWN_TEXT


def test_long_text_is_cut_with_an_ellipsis() -> None:
    cut = redact("x" * 5000)
    assert len(cut) == MAX_SHOWN_TEXT
    assert cut.endswith(ELLIPSIS)
    assert redact("x" * 5000, limit=None) == "x" * 5000


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"https://sync:{SECRET}@tracker.example.test", "credentials"),
        (f"https://{SECRET}@tracker.example.test", "credentials"),
        (f"https://tracker.example.test/?private_token={SECRET}", "(private_token)"),
        (f"https://tracker.example.test/?a=1&access_token={SECRET}", "(access_token)"),
        (f"https://tracker.example.test/?key={SECRET}", "(key)"),
        ("https://tracker.example.test/?page=2", "query string"),
        ("https://tracker.example.test/#frag", "fragment"),
        ("ftp://tracker.example.test/", "http:// or https://"),
        ("socks5://proxy.example.test:1080", "http:// or https://"),
        ("tracker.example.test", "http:// or https://"),
        ("https://", "host"),
        ("https://tracker.example.test:99999/", "port"),
        ("https://tracker example.test/", "spaces"),
        ("https://[::1/", "not a URL"),
        ("https://example.test/" + "a" * 3000, "longer than"),
    ],
)
def test_urls_that_carry_or_hide_credentials_are_refused(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)) as refused:
        checked_url(url, credentials="'user' and 'token'")
    assert SECRET not in str(refused.value)


def test_plain_urls_pass_and_stored_ones_are_shown_without_credentials() -> None:
    for url in ("https://jira.example.test", "http://127.0.0.1:8080/jira/", "https://h/api/v3"):
        assert checked_url(url, credentials="x") == url
    assert without_credentials(f"https://u:{SECRET}@h.test/a?token=x#y") == "https://h.test/a"


# --- at the edge: the shared tracker client ----------------------------------------------------


def echoing(status: int) -> httpx.MockTransport:
    """A tracker that answers ``status`` with the request's headers, as text and JSON."""

    def handler(request: httpx.Request) -> httpx.Response:
        headers = dict(request.headers)
        said = " ".join(f"{k}={v}" for k, v in headers.items())
        return httpx.Response(
            status,
            json={"message": f"echo {said}", "errors": {"auth": json.dumps(headers)}},
        )

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
@pytest.mark.parametrize(
    "auth",
    [
        BearerAuth(SECRET),
        HeaderAuth("PRIVATE-TOKEN", SECRET),
        HeaderAuth("X-Custom", SECRET),  # a header the patterns do not know: known value
        BasicAuth("sync", SECRET),
    ],
    ids=["bearer", "gitlab", "custom", "basic"],
)
def test_the_edge_takes_its_own_credentials_out_of_every_error(
    status: int, auth: httpx.Auth
) -> None:
    client = RestClient(
        "https://tracker.example.test", auth, vendor="Tracker", transport=echoing(status)
    )
    with pytest.raises(IssueSyncError) as raised:
        client.get("x")
    basic = base64.b64encode(f"sync:{SECRET}".encode()).decode()
    for text in (str(raised.value), raised.value.describe(), repr(raised.value.args)):
        assert SECRET not in text
        assert basic not in text
    assert "Tracker" in raised.value.message


def test_githubs_own_words_on_a_refused_token_are_redacted_too() -> None:
    client = GitHubClient(
        "https://api.github.example.test",
        BearerAuth(SECRET),
        transport=echoing(401),
    )
    with pytest.raises(AuthenticationError) as raised:
        client.get("user")
    assert "GitHub says: echo" in raised.value.message
    assert SECRET not in raised.value.describe()


def test_a_proxy_that_refuses_its_login_is_an_authentication_error_naming_its_fields() -> None:
    proxy = ProxySettings("http://proxy.example.test:3128", "relay", SECRET)
    client = RestClient(
        "http://tracker.example.test",
        None,
        vendor="Tracker",
        transport=httpx.MockTransport(lambda _: httpx.Response(407, text=f"no {SECRET}")),
    )
    client.proxy = proxy  # a transport (the test's) replaces the proxy: set it for the message
    with pytest.raises(AuthenticationError, match=r"proxy\.username and proxy\.password"):
        client.get("x")


def test_a_proxy_uri_with_credentials_is_refused_when_the_client_is_made() -> None:
    with pytest.raises(IssueSyncError, match="credentials") as raised:
        RestClient(
            "http://tracker.example.test",
            None,
            vendor="Tracker",
            proxy=ProxySettings(f"http://relay:{SECRET}@proxy.example.test", None, None),
        )
    assert SECRET not in raised.value.describe()
    assert SECRET not in repr(ProxySettings("http://p.test", "relay", SECRET))


def test_the_log_filter_redacts_messages_arguments_and_tracebacks() -> None:
    record = logging.LogRecord(
        "issuesync.test", logging.ERROR, __file__, 1, "sent %s", ("Bearer ghp_abc123def",), None
    )
    try:
        raise RuntimeError("password=hunter2")  # noqa: TRY301 - a traceback to format
    except RuntimeError:
        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "ghp_abc123def" not in formatted
    assert "hunter2" not in formatted
    assert "sent Bearer ***" in formatted
