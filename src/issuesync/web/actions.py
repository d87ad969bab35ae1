"""What the dashboard's buttons do, each through the services the APIs call.

Each runs in one unit of work, off the event loop, after the page handler checked the
session and the form's CSRF token; the rule of who sees what is the APIs'
(:func:`~issuesync.application.access.visible_integration`).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session as OrmSession
from starlette.datastructures import FormData

from issuesync.application import lifecycle
from issuesync.application.access import visible_integration
from issuesync.application.conflicts import settle_conflict
from issuesync.domain.diff import Winner
from issuesync.engine.connectors import connector_rows
from issuesync.engine.transports import queues
from issuesync.errors import InvalidInputError, NotFoundError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import MessageRow
from issuesync.web import views
from issuesync.web.session import Session

MAX_FIELD: Final = 255
MAX_IDS: Final = 1000


def field(form: FormData, name: str, *, required: bool = True) -> str:
    """A form's text field, checked: present (when required) and at most MAX_FIELD long."""
    value = form.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInputError(f"The form lacks '{name}'.")
        return ""
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise InvalidInputError(f"'{name}' must be text of at most {MAX_FIELD} characters.")
    return value


def checks(services: Services, session: Session, key: str) -> views.Checks:
    """The integration's checks against both trackers (:func:`views.checks`)."""
    with services.uow_factory(readonly=True) as uow:
        return views.checks(uow.session, services, session.principal, key)


def advance_tasks(services: Services, session: Session, key: str) -> None:
    """Bring the integration's unfinished lifecycle tasks up to date (a write)."""
    with services.uow_factory() as uow:
        views.advance_tasks(uow.session, session.principal, key)
        uow.commit()


def act(services: Services, session: Session, key: str, action: str, form: FormData) -> str:
    """Carry out one of the integration page's buttons; what happened, in a sentence."""
    actor = session.principal.name
    with services.uow_factory() as uow:
        row = visible_integration(uow.session, session.principal, key)
        if action in ("start", "stop"):
            request = lifecycle.request_start if action == "start" else lifecycle.request_stop
            task = request(uow.session, row.key, actor)
            uow.commit()
            return f"{task.message} (task {task.id})"
        if action in ("retry", "discard"):
            messages = chosen(uow.session, row.id, form)
            move = queues.retry if action == "retry" else queues.discard
            count = move(messages, now_ms())
            uow.commit()
            done = "queued again" if action == "retry" else "discarded"
            return f"{count} message(s) {done}."
        if action == "settle":
            message_id = number(field(form, "message"))
            keep = field(form, "keep")
            if keep not in ("local", "remote"):
                raise InvalidInputError("Pick a side: 'local' or 'remote'.")
            count = settle_conflict(uow.session, row, message_id, Winner(keep))
            uow.commit()
            side = "this side's" if keep == "local" else "the other side's"
            return (
                f"{count} field(s) of message {message_id} settled with {side} value; "
                "the message is applied again."
            )
    raise NotFoundError(f"The dashboard has no action '{action}'.")


def number(text: str) -> int:
    """A message id from a form field (400 for anything else)."""
    if not text.isdigit() or len(text) > 18:  # noqa: PLR2004 - fits a BIGINT
        raise InvalidInputError(f"'{text}' is not a message id.")
    return int(text)


def chosen(session: OrmSession, integration_id: int, form: FormData) -> list[MessageRow]:
    """The messages a retry or discard button names: ids of the integration's connectors."""
    ids = [number(v) for v in form.getlist("id") if isinstance(v, str)][:MAX_IDS]
    if not ids:
        raise InvalidInputError("Choose the messages first.")
    connectors = {row.id for row in connector_rows(session, integration_id)}
    rows = [session.get(MessageRow, i) for i in dict.fromkeys(ids)]
    found = [row for row in rows if row is not None and row.connector_id in connectors]
    if len(found) != len(set(ids)):
        raise InvalidInputError(
            "A chosen message is not one of this integration's; reload the page."
        )
    return found
