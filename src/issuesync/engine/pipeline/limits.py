"""What the incoming route writes, fitted into the receiving tracker's limits and filters.

A text longer than the tracker takes (``Capabilities.limits.text_chars``: Jira's 32,767
characters, GitHub's 65,536, GitLab's 1,000,000) would be refused, and the tracker's
refusal would park the issue. Instead it is cut, as the last step before the write, with
a visible note at its end, and its full text is attached to the issue as a file
(``<partner's key>-description.txt``); a tracker without attachments gets a signed link
to the full text in the note instead (see ``attachment_links.py``). What the tracker
holds then is the cut text: the shadow and the comment's trace record it as written, so
the outgoing route finds nothing changed and never sends the cut text back over the
original. The attached file is traced too (without a partner id), so it is not sent back
either.

An attachment over the tracker's size limit, or one the connector's
``attachment_filter`` leaves out, is skipped with a note in its message and a log line.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from issuesync.domain.message import AttachmentChange, TraceType
from issuesync.domain.replica import FieldValue
from issuesync.engine.pipeline.route import Route
from issuesync.trackers.adapter import Limits

log = logging.getLogger(__name__)

# Fields with limits of their own, which a note would not fit (Jira's summary: 255).
UNCUT_FIELDS: Final = frozenset({"summary"})
# A cut looks back this far for a line break or a space, so that no word is split.
BOUNDARY_WINDOW: Final = 200
TEXT_TYPE: Final = "text/plain"


@dataclass(frozen=True)
class FullText:
    """A text that was cut, to be attached whole: under ``filename``, once per ``key``."""

    filename: str
    text: str
    what: str  # "the description", "comment 10234", for the note


def cut_texts(
    route: Route, fields: Mapping[str, FieldValue], source_key: str
) -> tuple[dict[str, FieldValue], list[FullText]]:
    """``fields`` with each text over the tracker's limit cut, and the full texts to attach."""
    fitted = dict(fields)
    full: list[FullText] = []
    for name, value in fields.items():
        if name in UNCUT_FIELDS or not isinstance(value, str):
            continue
        filename = f"{source_key}-{_safe(name)}.txt"
        text, whole = fit(route, value, filename, f"the {name}")
        if whole is not None:
            fitted[name] = text
            full.append(whole)
    return fitted, full


def cut_comment(
    route: Route, body: str, source_key: str, source_id: str
) -> tuple[str, list[FullText]]:
    """A comment's body cut to the tracker's limit, and its full text to attach (if cut)."""
    filename = f"{source_key}-comment-{_safe(source_id)}.txt"
    text, whole = fit(route, body, filename, f"comment {source_id}")
    return text, [whole] if whole is not None else []


def fits(route: Route, texts: list[str]) -> bool:
    """Whether every text is within the tracker's limit (the batch path takes only those)."""
    limits = route.tracker.capabilities.limits
    return limits.text_chars is None or all(_within(text, _room(limits)) for text in texts)


def fit(route: Route, text: str, filename: str, what: str) -> tuple[str, FullText | None]:
    """``text``, or the part of it the tracker takes with a note saying where the rest is."""
    limits = route.tracker.capabilities.limits
    if limits.text_chars is None or _within(text, _room(limits)):
        return text, None
    if route.tracker.capabilities.attachments:
        note = f"… truncated by issuesync: the full text is attached as {filename}"
    elif route.attachment_links is not None:
        checksum = route.transport.blobs.put(text.encode())
        note = (
            "… truncated by issuesync: the full text is at "
            f"{route.attachment_links.url(checksum, filename)}"
        )
    else:
        note = f"… truncated by issuesync: the full text has {len(text):,} characters"
    tail = f"\n\n{note}"
    head = _head(text, max(_room(limits) - _units(tail), 0))
    return head + tail, FullText(filename, text, what)


# A trace of a sub-object made here that has no twin at the partner's (a full text).
OwnTrace = tuple[TraceType, str, None, str]


def attach_full_texts(
    route: Route, local_key: str, full: list[FullText], key: str, notes: list[str]
) -> list[OwnTrace]:
    """Attach the full texts of what was cut to the issue; returns their traces, which keep
    the outgoing route from sending them to the partner.

    ``key`` is the write's idempotency key: a retry finds the files instead of adding them
    again. A tracker without attachments had a link in the note; ``notes`` (the message's)
    say what was cut either way.
    """
    limit = route.tracker.capabilities.limits.text_chars
    traces: list[OwnTrace] = []
    for whole in full:
        message = (
            f"{whole.what} has more than {limit:,} characters, the limit of {route.tracker.name}"
        )
        if not route.tracker.capabilities.attachments:
            linked = " with a link to the full text" if route.attachment_links else ""
            notes.append(f"{message}: cut{linked}")
            log.info("%s of %s: cut to fit", whole.what, local_key)
            continue
        content = whole.text.encode()
        attachment = route.tracker.add_attachment(
            local_key,
            whole.filename,
            TEXT_TYPE,
            content,
            idempotency_key=f"{key}:full-text:{whole.filename}",
        )
        checksum = attachment.checksum or hashlib.sha256(content).hexdigest()
        traces.append((TraceType.ATTACHMENT, attachment.id, None, checksum))
        notes.append(f"{message}: cut, the full text attached as {whole.filename}")
        log.info("%s of %s: cut to fit, full text attached", whole.what, local_key)
    return traces


def attachment_refusal(route: Route, change: AttachmentChange) -> str | None:
    """Why the partner's attachment is not added here (a note for its message), or None.

    The tracker's own size limit first, then the connector's filter.
    """
    name = change.filename or "attachment"
    most = route.tracker.capabilities.limits.attachment_bytes
    size = change.filesize
    if most is not None and size is not None and size > most:
        reason = f"it has {size:,} bytes, more than {route.tracker.name} takes ({most:,})"
    else:
        refusal = route.connector.configuration.attachment_filter.refusal(
            name, change.mimetype or "application/octet-stream", size
        )
        if refusal is None:
            return None
        reason = refusal
    log.info("attachment %s of %s skipped: %s", name, route.connector.key, reason)
    return f"Attachment {name} not synced: {reason}."


def _room(limits: Limits) -> int:
    """The characters the engine may give the adapter: its limit, less what it adds."""
    total = limits.text_chars or 0
    return max(total - limits.reserved_chars, total // 2)


def _within(text: str, units: int) -> bool:
    # Every character is one or two units: most texts are decided without counting.
    return 2 * len(text) <= units or (len(text) <= units and _units(text) <= units)


def _units(text: str) -> int:
    """A text's length as Jira counts it: UTF-16 code units (an emoji is two); never less
    than Python's count of code points, so a text within it is within either."""
    return len(text.encode("utf-16-le")) // 2


def _head(text: str, units: int) -> str:
    """The longest start of ``text`` within ``units``, ending at a line break or a space
    when one is near."""
    head = text[:units]
    while _units(head) > units:
        head = head[: units - (_units(head) - len(head))]
    cut = max(head.rfind("\n"), head.rfind(" "))
    if cut >= len(head) - BOUNDARY_WINDOW and cut > 0:
        head = head[:cut]
    return head.rstrip()


def _safe(name: str) -> str:
    """A name for a file: letters, digits, dots, dashes."""
    return "".join(ch if ch.isalnum() or ch in ".-_" else "-" for ch in name)
