"""Every integration with its status as JSON text, for the status board (``../board.py``).

Monitoring asks for every integration every few seconds, and all but the status blocks
change only when someone edits an integration. So each integration is rendered once per
version, the ``modified_ms`` of the integration and of its two connectors (the version the
engine itself follows to restart a changed connector), and kept in a bounded,
process-local cache; only the status blocks are rendered each time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from issuesync.api.backbone.documents.integrations import integration_body
from issuesync.api.backbone.documents.status import status_body
from issuesync.application.monitoring import Statuses, integration_view
from issuesync.store.base import now_ms
from issuesync.store.sync import IntegrationRow


@dataclass(frozen=True)
class IntegrationText:
    """One integration rendered for the list and for its status route, as JSON text."""

    id: int
    key: str
    document: bytes  # as in ``GET /integrations``: with its status block
    status: bytes  # ``GET /integrations/{key}/status``
    projects: tuple[tuple[str, str], ...]  # (system, project key) of each connector


def integration_texts(
    session: Session,
    rows: Sequence[IntegrationRow],
    *,
    now: int | None = None,
    trouble: str = "",
) -> list[IntegrationText]:
    """Integrations with their status as JSON text, in three queries however many there are
    (and one more per integration whose rendering is not cached)."""
    statuses = Statuses.load(session, [row.id for row in rows], errors=True)
    at = now_ms() if now is None else now
    texts: list[IntegrationText] = []
    for row in rows:
        key = ("integration", row.id, row.modified_ms, *statuses.versions.get(row.id, []))
        head, connectors = _rendered(key, functools.partial(_render_static, session, row))
        first_id, second_id = statuses.pair(row.id)
        status = _dumps(status_body(statuses.status(row, at), trouble))
        texts.append(
            IntegrationText(
                id=row.id,
                key=row.key,
                document=b"".join((b"{", head, b',"status":', status, connectors, b"}")),
                status=status,
                projects=(statuses.projects[first_id], statuses.projects[second_id]),
            )
        )
    return texts


def _dumps(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


Static = tuple[bytes, bytes]  # the head's fields, and ',"firstConnector":…,"secondConnector":…'
_RENDERED: dict[tuple[object, ...], Static] = {}
_RENDERED_MAX = 4096


def _rendered(key: tuple[object, ...], render: Callable[[], Static]) -> Static:
    """A rendering remembered by the versions of what it shows (bounded, per process)."""
    found = _RENDERED.get(key)
    if found is None:
        found = render()
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[key] = found
    return found


def _render_static(session: Session, row: IntegrationRow) -> Static:
    body = integration_body(integration_view(session, row))
    head = {k: v for k, v in body.items() if k not in ("firstConnector", "secondConnector")}
    connectors = (
        b',"firstConnector":'
        + _dumps(body["firstConnector"])
        + b',"secondConnector":'
        + _dumps(body["secondConnector"])
    )
    return _dumps(head)[1:-1], connectors
