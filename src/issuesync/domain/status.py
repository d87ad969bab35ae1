"""What runs: an integration's wanted state and each connector's routes, dialect-neutral.

The engines write their readings in the store (``connector_states``); the application reads
them into these values (``application/monitoring.py``) and each dialect renders them
(Backbone's status: seed 002, ``api/backbone/documents/status.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

RouteStatus = Literal["STARTED", "STOPPED"]
ProcessingStatus = Literal["IDLE", "PROCESSING"]
STARTED: Final = "STARTED"
STOPPED: Final = "STOPPED"
IDLE: Final = "IDLE"
PROCESSING: Final = "PROCESSING"


@dataclass(frozen=True)
class ConnectorStatus:
    """One connector's routes as of a moment.

    ``start_ms`` is when the engine holding the connector took it up (None unless its
    routes run); ``online``: whether the tracker answered the engine's last call;
    ``reconnecting``: it did not, and the running routes keep trying it; ``external``:
    the route that exchanges messages with the partner; ``incoming_details`` and
    ``outgoing_details``: what the routes last said (redacted); ``issues_in_error``:
    issues with a received message in ``error``.
    """

    connector_key: str
    start_ms: int | None
    online: bool
    reconnecting: bool
    incoming: RouteStatus
    incoming_processing: ProcessingStatus
    incoming_details: str
    outgoing: RouteStatus
    outgoing_processing: ProcessingStatus
    outgoing_details: str
    external: RouteStatus
    issues_in_error: int


@dataclass(frozen=True)
class IntegrationStatus:
    """Whether the integration is wanted running, and its connectors' routes."""

    running: bool
    first: ConnectorStatus
    second: ConnectorStatus
