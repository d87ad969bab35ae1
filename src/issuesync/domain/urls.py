"""The one check of every URL issuesync is given to reach a server: :func:`checked_url`.

A tracker's base URL (``connection.application.baseUrl``), a proxy
(``proxy.proxyUri``) and issuesync's own public URL (``ISSUESYNC_BASE_URL``)
must be ``http`` or ``https`` with a host, and carry nothing secret. Refused,
each with a message that never repeats the secret:

- user information (``https://user:secret@host``, ``https://token@host``): the
  credentials have fields of their own, encrypted at rest and never shown;
- any query string or fragment: a base URL is a prefix that paths are added
  to, so a query there is never sent as written, and it is where tokens hide
  (``?private_token=``, ``?access_token=``, ``?key=``, ...: named as such);
- other schemes (``ftp:``, ``file:``, ``javascript:``, ``socks5:``), no host,
  a port that is not one, spaces or control characters, more than
  :data:`MAX_URL_LENGTH` characters.

A link a person follows (a remote issue link's URL, its icons): :func:`checked_link`,
``http`` or ``https`` with a host, a query allowed, nothing that runs (``javascript:``,
``data:``) and no other scheme.

Pure: ``urllib.parse`` only.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import SplitResult, parse_qsl, urlsplit

MAX_URL_LENGTH: Final = 2048
SCHEMES: Final = frozenset({"http", "https"})
# Query parameters that carry a credential by name (any other query is refused as well).
CREDENTIAL_PARAMETERS: Final = re.compile(
    r"^(?:private[-_]?token|access[-_]?token|job[-_]?token|api[-_]?key|apikey|key|token|"
    r"auth|auth[-_]?token|password|passwd|pwd|secret|client[-_]?secret|sig|signature)$",
    re.IGNORECASE,
)
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


def checked_url(url: str, *, credentials: str) -> str:
    """``url`` when it is a plain ``http(s)://host[:port][/path]``; else ValueError.

    ``credentials`` names the fields to use instead of credentials in the URL
    (``"'user' and 'password' or 'token'"``). The message never contains the URL's
    user information or query.

    Raises:
        ValueError: saying what is wrong and what to write instead.
    """
    parts = _split(url)
    if parts.scheme.lower() not in SCHEMES:
        scheme = f"'{parts.scheme}'" if parts.scheme else "no scheme"
        raise ValueError(
            f"must start with http:// or https:// (it has {scheme}), like https://tracker.example.com"
        )
    if "@" in parts.netloc:
        raise ValueError(
            f"must not carry credentials (user:password@ before the host): give them in "
            f"{credentials} instead, which are stored encrypted and never shown"
        )
    if not parts.hostname:
        raise ValueError("must name a host, like https://tracker.example.com")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    if parts.query or url.rstrip().endswith("?"):
        names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
        secret = sorted({n for n in names if CREDENTIAL_PARAMETERS.match(n)})
        if secret:
            raise ValueError(
                f"must not carry credentials in its query ({', '.join(secret)}): give them in "
                f"{credentials} instead, which are stored encrypted and never shown"
            )
        raise ValueError("must not have a query string (?…): give the address paths start from")
    if parts.fragment or "#" in url:
        raise ValueError("must not have a fragment (#…): give the address paths start from")
    return url


def checked_link(url: str) -> str:
    """``url`` when it is an ``http(s)://host/...`` link, query and fragment allowed; else
    ValueError saying what is wrong.

    Raises:
        ValueError: the URL is too long, holds spaces or control characters, has another
            scheme (``javascript:``, ``data:``, ``file:``, ...) or names no host.
    """
    parts = _split(url)
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError("must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("must name a host, like https://tracker.example.com/issue/1")
    return url


def without_credentials(url: str) -> str:
    """``url`` as it may be shown: without user information, query or fragment.

    For URLs stored before :func:`checked_url` refused them.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not a URL)"
    host = parts.netloc.rpartition("@")[2]
    return SplitResult(parts.scheme, host, parts.path, "", "").geturl()


def _split(url: str) -> SplitResult:
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"is longer than {MAX_URL_LENGTH} characters")
    if _UNSAFE.search(url):
        raise ValueError("must not contain spaces or control characters")
    try:
        return urlsplit(url)
    except ValueError:
        raise ValueError("is not a URL (like https://tracker.example.com)") from None
