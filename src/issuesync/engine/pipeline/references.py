"""References to synchronized issues in received texts, rewritten to their twins here.

One step of the incoming route, on the texts of a batch of received messages (summary,
description, environment, comments), after they are converted to this tracker's markup:
"see PA-12" becomes "see #5" where PA-12's twin is issue 5 here. What it needs of the
sync information (the twins of the keys the texts name) is read in one query for the
batch. A connector turns it off with ``rewriteReferences: false``. The rules (what is a
reference, what is code) are in ``domain/references.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from issuesync.domain.message import ChangeAction, Message
from issuesync.domain.references import KEYS, NUMBERS, references, rewrite, style_of
from issuesync.engine.pipeline.ledger import SyncLedger
from issuesync.engine.pipeline.route import Route

# The fields whose text may name issues. Not a custom field: one may hold a key on purpose.
TEXT_FIELDS = ("summary", "description", "environment")


def rewrite_references(route: Route, ledger: SyncLedger, messages: Iterable[Message]) -> None:
    """Rewrite, in place, the references of the messages' texts to issues with twins here."""
    if not route.connector.configuration.rewrite_references:
        return
    target = style_of(route.tracker.name)
    if target is None:
        return
    partner = route.connector.partner_system
    known = style_of(partner or "")
    # The other node's tracker (a distributed integration) is not known here: either style.
    sources = (known,) if known is not None else (KEYS, NUMBERS)
    dialects = (partner, route.tracker.name)
    batch = list(messages)
    keys = {
        key
        for message in batch
        for text in _texts(message)
        for source in sources
        for key in references(text, source, *dialects)
    }
    if not keys:
        return
    ledger.load(remote_keys=sorted(keys), traces=False)

    def twin_of(key: str) -> str | None:
        link = ledger.link_by_remote(key) if key in keys else None
        return link.local_issue_key if link is not None else None

    def rewritten(text: str) -> str:
        for source in sources:
            text = rewrite(text, source, target, twin_of, *dialects)
        return text

    for message in batch:
        for name in TEXT_FIELDS:
            value = message.changes.get(name)
            if isinstance(value, str):
                message.changes[name] = rewritten(value)
        for comment in message.comments:
            if comment.body and comment.action is not ChangeAction.DELETE:
                comment.body = rewritten(comment.body)


def _texts(message: Message) -> Iterator[str]:
    for name in TEXT_FIELDS:
        value = message.changes.get(name)
        if isinstance(value, str):
            yield value
    for comment in message.comments:
        if comment.body and comment.action is not ChangeAction.DELETE:
            yield comment.body
