"""Credentials taken out of text before issuesync stores or shows it: :func:`redact`.

A tracker (or a proxy on the way) may answer an error with the request it got,
headers and all; that text becomes a route's details, a message's reason, a
conflict, a log line. :func:`redact` replaces with ``***``:

1. the *known* secrets of the connector (its password or token, the proxy
   password, and what is derived from them: the Basic ``base64(user:secret)``,
   their URL-encoded, JSON-escaped and HTML-escaped forms): :func:`credential_forms`;
2. whatever *looks* like a credential, secret known or not:

   - the value of a credential header or field, written as a header
     (``Authorization: Bearer …``), a query or form parameter (``?private_token=…``,
     ``password=…``), a JSON or Python member (``"password": "…"``): the names are
     :data:`CREDENTIAL_NAMES`;
   - a scheme and a credential without a name (``Bearer …``, ``Basic …``,
     ``token …``), when the word after it looks like one (it has a digit, a
     ``_+/=`` or an upper-case letter after a lower-case one: ``Basic
     authentication`` stays as it is);
   - tokens by their published prefixes: GitHub ``ghp_``, ``gho_``, ``ghu_``,
     ``ghs_``, ``ghr_``, ``github_pat_``; GitLab ``glpat-`` and its siblings;
     Atlassian ``ATATT``; issuesync's own ``isy_``; JSON Web Tokens (``eyJ….eyJ….``);
   - the user information of a URL (``https://user:secret@host``) and a
     ``key=``/``sig=`` query parameter;

and keeps at most ``limit`` characters (:data:`MAX_SHOWN_TEXT`, 2,000), ending a
longer text with ``…``. Known secrets shorter than :data:`MIN_SECRET_LENGTH`
characters are not searched for (they would match ordinary words); the
patterns still catch them where they are named.

Pure: no I/O, no state but compiled patterns.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

REDACTED: Final = "***"
MAX_SHOWN_TEXT: Final = 2000
ELLIPSIS: Final = "…"
MIN_SECRET_LENGTH: Final = 4

# Header, parameter and member names whose value is a credential (case-insensitive; "-"
# and "_" are interchangeable where both are in use).
CREDENTIAL_NAMES: Final = (
    "proxy-authorization",
    "authorization",
    "private[-_]token",
    "job[-_]token",
    "x-redmine-api-key",
    "x-api-key",
    "x-auth-token",
    "x-access-token",
    "api[-_]?key",
    "api[-_]?token",
    "access[-_]token",
    "refresh[-_]token",
    "auth[-_]token",
    "id[-_]token",
    "client[-_]secret",
    "set-cookie",
    "cookie",
    "passwd",
    "password",
    "pwd",
    "secret",
    "token",
)

_BARE = r"[^\s\"',;&<>(){}\[\]]+"
# Authorization schemes: "Authorization: Bearer x" is one value of two words.
_SCHEMES = r"(?i:bearer|basic|digest|token|negotiate|ntlm|aws4-hmac-sha256)"
_NAMED = re.compile(
    rf"""(?P<name>(?<![\w-])(?:{"|".join(CREDENTIAL_NAMES)})(?![\w-])["']?)
         (?P<sep>\s*[:=]\s*)
         (?!["']?\*\*\*)                           # not again: redacting twice changes nothing
         (?P<value>"(?:[^"\\\r\n]|\\.)*(?:"|$)  # quoted (to the line's end if cut)
                  |'(?:[^'\\\r\n]|\\.)*(?:'|$)
                  |(?:{_SCHEMES}[ \t]+)?{_BARE})    # bare: a word, after its scheme if any
    """,
    re.IGNORECASE | re.MULTILINE | re.VERBOSE,
)
_WORD = r"[A-Za-z0-9\-._~+/]"
# Looks like a credential: 8 or more token characters with a digit, one of _+/= or an
# upper-case letter after a lower-case one somewhere.
_CREDENTIAL = rf"(?={_WORD}*(?:[0-9_+/=]|[a-z]{_WORD}*[A-Z])){_WORD}{{8,}}=*"
# Case-sensitive but for the scheme's name: the look-ahead tells upper from lower case.
_SCHEME = re.compile(rf"(?<![\w-])(?P<scheme>(?i:bearer|basic|digest|token))\s+{_CREDENTIAL}")
_PREFIXED = re.compile(
    r"(?<![\w-])(?:gh[pousr]_|github_pat_|gl(?:pat|dt|ptt|rt|oas|cbt|imt|ft|soat|agent)-"
    r"|isy_|ATATT)[A-Za-z0-9_\-=]+"
    r"|(?<![\w-])eyJ[A-Za-z0-9_\-]+\.eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"
)
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)[^\s/?#@\"'<>]+@", re.IGNORECASE)
_QUERY_KEY = re.compile(r"(?P<name>[?&;](?:key|sig|signature)=)[^&#\s\"'<>]+", re.IGNORECASE)


def credential_forms(secret: str | None, *, user: str | None = None) -> frozenset[str]:
    """A secret and the forms it travels in: itself and, with a user, ``base64(user:secret)``
    (HTTP Basic). :func:`redact` adds the encoded forms of each."""
    if not secret:
        return frozenset()
    forms = {secret}
    if user is not None:
        forms.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return frozenset(forms)


def redact(text: str, known: Iterable[str] = (), *, limit: int | None = MAX_SHOWN_TEXT) -> str:
    """``text`` without credentials (see the module), at most ``limit`` characters long.

    ``known`` are the secrets that must never show (:func:`credential_forms`);
    ``limit`` None keeps the whole text.
    """
    if text:
        pattern = _known_pattern(frozenset(known))
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        text = _USERINFO.sub(rf"\g<scheme>{REDACTED}@", text)
        text = _NAMED.sub(_named_value, text)
        text = _SCHEME.sub(rf"\g<scheme> {REDACTED}", text)
        text = _PREFIXED.sub(REDACTED, text)
        text = _QUERY_KEY.sub(rf"\g<name>{REDACTED}", text)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS
    return text


def _named_value(found: re.Match[str]) -> str:
    value = found.group("value")
    quote_char = value[0] if value[0] in "\"'" else ""
    closing = quote_char if quote_char and len(value) > 1 and value.endswith(quote_char) else ""
    return f"{found.group('name')}{found.group('sep')}{quote_char}{REDACTED}{closing}"


@functools.lru_cache(maxsize=256)
def _known_pattern(known: frozenset[str]) -> re.Pattern[str] | None:
    forms: set[str] = set()
    for secret in known:
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        forms |= {
            secret,
            quote(secret, safe=""),
            quote_plus(secret),
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
            html.escape(secret),
        }
    if not forms:
        return None
    # Longest first: a secret that contains another is replaced whole.
    return re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)))
