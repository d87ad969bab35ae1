"""Descriptions and comments in the receiver's markup: the incoming route's conversion.

A message says the markup dialect of the texts it carries (``Message.markup``, the
sender's :attr:`Route.markup`). Before the incoming route applies a run of messages,
:func:`translate` converts their rich-text fields and comment bodies to this
connector's dialect, in one batch per sending dialect (``issuesync.markup.convert_many``:
two pandoc processes for the lot). A message without a dialect (written before
messages said it), one in this connector's own dialect, or a connector whose
``markup.convert`` is off, crosses as it is.

No drift, no echo: the shadow keeps each field as the tracker holds it after the
write (read back), so converted text is not taken for a local change and never
sent back. When the partner sends a text that says what the local one says in other
words (a resync, or a round trip A→B→A), :func:`agree_on_meaning` compares their
canonical forms (``issuesync.markup.canonical``) and the field counts as agreed:
nothing is written, nothing bounces.

A conversion that fails never holds an issue: its text crosses as it is (and a text
pandoc cannot read in time crosses verbatim, in a code block).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Final

import structlog

from issuesync.domain.markup import Markup
from issuesync.domain.message import CommentChange, Message
from issuesync.domain.replica import HubIssue, canonical_fields
from issuesync.engine.pipeline.route import Route
from issuesync.errors import IssueSyncError
from issuesync.markup import canonical, convert, convert_many

log = logging.getLogger(__name__)

# The fields that hold rich text (Jira's ids, which are the ids of field mappings).
TEXT_FIELDS: Final = frozenset({"description", "environment"})

Setter = Callable[[str], None]
# A text to convert: the text, where the converted one goes, and the issue it belongs to.
Text = tuple[str, Setter, str]


def dialect_of(message: Message) -> Markup | None:
    """The dialect of the message's texts; None when it does not say (or says one unknown)."""
    if message.markup is None:
        return None
    try:
        return Markup(message.markup)
    except ValueError:
        return None


def converts(route: Route, source: Markup | None) -> bool:
    """Whether text in ``source`` is converted for this route's tracker."""
    if source is None or not route.connector.configuration.markup.convert:
        return False
    # GitHub's and GitLab's Markdown are one format for pandoc: nothing to convert.
    return source.pandoc_format != route.markup.pandoc_format


def translate(route: Route, messages: Iterable[Message]) -> None:
    """Convert, in place, the texts of ``messages`` to this connector's dialect."""
    target = route.markup
    pending: dict[Markup, list[Text]] = {}
    for message in messages:
        source = dialect_of(message)
        if not converts(route, source):
            continue
        assert source is not None
        texts = pending.setdefault(source, [])
        for name in TEXT_FIELDS:
            value = message.changes.get(name)
            if isinstance(value, str) and value.strip():
                texts.append((value, _field_setter(message, name), message.source_issue_key))
        for comment in message.comments:
            if comment.body and comment.body.strip():
                texts.append((comment.body, _body_setter(comment), message.source_issue_key))
        message.markup = target.value  # its texts are ours now (translating twice is a no-op)
    for source, texts in pending.items():
        for (_, put, _), text in zip(texts, _converted(route, texts, source, target), strict=True):
            put(text)


def _field_setter(message: Message, name: str) -> Setter:
    def put(text: str) -> None:
        message.changes[name] = text

    return put


def _body_setter(comment: CommentChange) -> Setter:
    def put(text: str) -> None:
        comment.body = text

    return put


def _converted(route: Route, texts: list[Text], source: Markup, target: Markup) -> list[str]:
    originals = [text for text, _, _ in texts]
    try:
        return convert_many(originals, source, target, mentions=route.mentions)
    except IssueSyncError as exc:
        log.warning("converting %d texts one by one: %s", len(originals), exc.describe())
    converted: list[str] = []
    for text, _, issue in texts:
        # The run's messages are converted together: a text's own line names its issue.
        with structlog.contextvars.bound_contextvars(issue=issue):
            converted.append(_converted_one(route, text, source, target))
    return converted


def _converted_one(route: Route, text: str, source: Markup, target: Markup) -> str:
    try:
        return convert(text, source, target, mentions=route.mentions)
    except IssueSyncError as exc:  # never holds the issue: the text crosses as it is
        log.warning("a text crosses unconverted from %s to %s: %s", source, target, exc.describe())
        return text


def agree_on_meaning(route: Route, message: Message, current: HubIssue) -> None:
    """Take the local text for the partner's where both say the same in other words.

    Run before the incoming plan: the field then counts as agreed (nothing written, the
    shadow keeps the local text), instead of being rewritten with what a round trip
    through the partner's dialect made of it.
    """
    local_values = canonical_fields(current)
    for name in TEXT_FIELDS:
        incoming, local = message.changes.get(name), local_values.get(name)
        if not isinstance(incoming, str) or not isinstance(local, str) or incoming == local:
            continue
        try:
            same = canonical(incoming, route.markup) == canonical(local, route.markup)
        except IssueSyncError:
            continue  # the partner's text is written, as without this
        if same:
            message.changes[name] = local
