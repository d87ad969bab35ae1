"""The node API's client: one node's requests to its partner, each with a fresh token.

Errors are translated here, at the edge, into the one tree: the partner cannot
be reached or fails (5xx) → :class:`TrackerOfflineError` (the route backs off and
shows it offline); the seed's 400 "Connection … not found" → :class:`PartnerGoneError`;
a refused token or any other refusal → :class:`ConfigurationError` with what the
partner said.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from typing import Any, Final

import httpx

from issuesync.domain.relation import API_PREFIX
from issuesync.engine.transports.nodes import tokens
from issuesync.errors import ConfigurationError, PartnerGoneError, TrackerOfflineError

TIMEOUT_S: Final = 20.0
NUDGE_TIMEOUT_S: Final = 2.0
MAX_ANSWER_BYTES: Final = 256 * 1024 * 1024  # a page of sync events, with their replicas
_SHOWN_CHARS: Final = 300


@dataclass(frozen=True)
class Partner:
    """What a node needs to call its partner about one relation (the secret in clear)."""

    relation: str
    node: str  # this node (iss)
    partner_node: str
    url: str
    secret: str
    ca_bundle: str | None = None


def client_for(url: str, ca_bundle: str | None, timeout: float = TIMEOUT_S) -> httpx.Client:
    """An httpx client for a partner at ``url``: certificates verified (against
    ``ca_bundle`` when one is given), no redirects followed, no proxy from the environment."""
    return httpx.Client(
        base_url=url.rstrip("/"),
        verify=_verification(ca_bundle),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


def _verification(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """Certificates checked against ``ca_bundle`` (a PEM file), else the system's."""
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"The CA bundle {ca_bundle} cannot be read as PEM certificates: {exc}"
        ) from exc


class NodeClient:
    """Calls the partner node of one relation."""

    def __init__(self, partner: Partner, client: httpx.Client | None = None) -> None:
        self.partner = partner
        self.http = client or client_for(partner.url, partner.ca_bundle)

    def close(self) -> None:
        """Close the connections."""
        self.http.close()

    def _headers(self) -> dict[str, str]:
        token = tokens.issue(
            self.partner.secret,
            issuer=self.partner.node,
            audience=self.partner.relation,
            now_s=int(time.time()),
        )
        return {"Authorization": f"Bearer {token}"}

    def _path(self, tail: str) -> str:
        return f"{API_PREFIX}/relations/{self.partner.relation}/{tail}"

    def get(self, tail: str, params: dict[str, Any] | None = None) -> Any:  # noqa: ANN401 - JSON
        """GET a route of the relation; its JSON."""
        response = self._send("GET", tail, params=params)
        return _json(response)

    def post(self, tail: str, body: object, *, timeout: float | None = None) -> Any:  # noqa: ANN401
        """POST JSON to a route of the relation; its JSON (None for no content)."""
        response = self._send("POST", tail, json=body, timeout=timeout)
        return _json(response) if response.content else None

    def blob(self, checksum: str, size: int) -> bytes:
        """The content of a blob the partner offers, at most ``size`` bytes."""
        try:
            with self.http.stream(
                "GET", self._path(f"blobs/{checksum}"), headers=self._headers()
            ) as response:
                if response.status_code != httpx.codes.OK:
                    response.read()
                    _refusal(self.partner, response)
                content = bytearray()
                for chunk in response.iter_bytes():
                    content.extend(chunk)
                    if len(content) > size:
                        break
                return bytes(content)
        except httpx.TransportError as exc:
            raise _offline(self.partner, exc) from exc

    def _send(self, method: str, tail: str, **options: Any) -> httpx.Response:  # noqa: ANN401
        timeout = options.pop("timeout", None)
        try:
            response = self.http.request(
                method,
                self._path(tail),
                headers=self._headers(),
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                **options,
            )
        except httpx.TransportError as exc:
            raise _offline(self.partner, exc) from exc
        if response.status_code >= httpx.codes.BAD_REQUEST:
            _refusal(self.partner, response)
        return response


def _offline(partner: Partner, exc: Exception) -> TrackerOfflineError:
    what = exc.__class__.__name__
    detail = str(exc)[:_SHOWN_CHARS] or what
    return TrackerOfflineError(
        f"The partner node of relation {partner.relation} ({partner.url}) cannot be "
        f"reached: {detail}"
    )


def _refusal(partner: Partner, response: httpx.Response) -> None:
    status = response.status_code
    text = response.text[:_SHOWN_CHARS].strip()
    if status >= httpx.codes.INTERNAL_SERVER_ERROR or status == httpx.codes.TOO_MANY_REQUESTS:
        raise TrackerOfflineError(
            f"The partner node of relation {partner.relation} answered {status}: {text}"
        )
    if status == httpx.codes.BAD_REQUEST and "not found" in text and "Connection" in text:
        raise PartnerGoneError(text)
    if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        raise ConfigurationError(
            f"The partner node of relation {partner.relation} refused this node's token "
            f"({status}: {text}). Pair the nodes again if the relation was re-created."
        )
    raise ConfigurationError(
        f"The partner node of relation {partner.relation} refused a request ({status}: {text})"
    )


def _json(response: httpx.Response) -> Any:  # noqa: ANN401 - JSON
    if len(response.content) > MAX_ANSWER_BYTES:
        raise ConfigurationError("The partner node's answer is too large.")
    try:
        return response.json()
    except ValueError as exc:
        raise ConfigurationError(
            f"The partner node's answer is not JSON: {response.text[:_SHOWN_CHARS]}"
        ) from exc
