"""How a tracker client proves who it is, to the tracker and to a proxy; which URLs it takes.

- the auth objects of the remote adapters (:class:`BearerAuth`, :class:`HeaderAuth`,
  :class:`BasicAuth`), each knowing its secret in the forms it travels in
  (``secrets``, for :func:`~issuesync.domain.redaction.redact`);
- a connector's proxy, :class:`ProxySettings`, as ``httpx`` takes it
  (:func:`httpx_proxy`, with the proxy's own login);
- :func:`checked_base_url`: a tracker's base URL as
  :func:`~issuesync.domain.urls.checked_url` allows it.

Nothing here prints a secret: ``repr`` shows ``***``.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

import httpx

from issuesync.domain.redaction import credential_forms
from issuesync.domain.urls import checked_url
from issuesync.errors import ConfigurationError


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``: personal access tokens of Jira DC, GitHub, GitLab."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"
        self.secrets = credential_forms(token)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header to every request."""
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


class HeaderAuth(httpx.Auth):
    """A secret in a header of its own (``PRIVATE-TOKEN``, ``X-Redmine-API-Key``)."""

    def __init__(self, header: str, secret: str) -> None:
        self._name = header
        self._secret = secret
        self.secrets = credential_forms(secret)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header to every request."""
        request.headers[self._name] = self._secret
        yield request

    def __repr__(self) -> str:
        return f"HeaderAuth(header={self._name!r}, secret=***)"


class BasicAuth(httpx.BasicAuth):
    """HTTP Basic, knowing its secret's forms (the password, ``base64(user:password)``)."""

    def __init__(self, username: str, password: str) -> None:
        super().__init__(username, password)
        self.secrets = credential_forms(password, user=username)

    def __repr__(self) -> str:
        return "BasicAuth(password=***)"


def auth_secrets(auth: httpx.Auth | None) -> frozenset[str]:
    """What an auth object of this module sends that must never show (empty for others)."""
    found: object = getattr(auth, "secrets", None)
    return found if isinstance(found, frozenset) else frozenset()


@dataclass(frozen=True)
class ProxySettings:
    """A connector's HTTP proxy, its password included: for the adapter's client only."""

    uri: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def secrets(self) -> frozenset[str]:
        """The proxy's password in the forms it travels in (``Proxy-Authorization``)."""
        return credential_forms(self.password, user=self.username or "")


def checked_base_url(base_url: str, vendor: str, *, hint: str = "") -> httpx.URL:
    """A connector's base URL, refused as :func:`~issuesync.domain.urls.checked_url` says:
    not http(s), no host, credentials, a query.

    Raises:
        ConfigurationError: naming what is wrong (never the credentials).
    """
    try:
        checked_url(base_url, credentials="the connector's user and password or token")
        return httpx.URL(base_url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise ConfigurationError(f"The {vendor} base URL is not valid: {exc}{hint}.") from None


def httpx_proxy(proxy: ProxySettings | None) -> httpx.Proxy | None:
    """The proxy as ``httpx`` takes it, with its login; refused as a base URL is.

    Raises:
        ConfigurationError: the proxy's URI is not a plain http(s) URL.
    """
    if proxy is None:
        return None
    try:
        checked_url(proxy.uri, credentials="proxy.username and proxy.password")
        login = (proxy.username or "", proxy.password or "")
        return httpx.Proxy(proxy.uri, auth=login if any(login) else None)
    except (ValueError, httpx.InvalidURL) as exc:
        raise ConfigurationError(f"The proxy URI is not valid: {exc}.") from None
