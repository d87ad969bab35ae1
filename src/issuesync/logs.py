"""The process's log lines: one event per line, JSON or console, with context, no credentials.

``serve`` and ``worker`` (and each ``--workers N`` process) call :func:`configure_logging`
once; nothing is configured at import. The standard library's records (ours, written with
``logging.getLogger(__name__)``, uvicorn's, SQLAlchemy's, Python's warnings) and
structlog's events go through one handler whose :class:`structlog.stdlib.ProcessorFormatter`
renders them alike:

- ``json`` (production, a log system): one JSON object per line, its first keys
  ``timestamp`` (ISO 8601, UTC), ``level``, ``event`` (the message), ``logger``, then the
  context and the event's own keys (``exception`` holds a traceback, newlines escaped);
- ``console`` (development): the same event as a readable line, colours on a terminal.

The context is bound with :mod:`structlog.contextvars` around the work it concerns, and
every line written meanwhile carries it: ``integration`` and ``connector`` around a
connector's run, ``message_id`` and ``issue`` around one incoming message (and each new
issue of a batch), ``issue`` around the outgoing route's work on one issue, ``connection_id``
and ``job_id`` around a connection's job, ``request_id`` around an HTTP request. An
event's own keys come from structlog's keyword arguments or the standard library's
``extra=``.

No credential reaches a line: the handler keeps :class:`~issuesync.security.RedactingFilter`
(a record's message and traceback) and :func:`redact_event` passes every text of the
rendered event (context and keys included) through
:func:`~issuesync.domain.redaction.redact`.
"""

from __future__ import annotations

import logging
import sys
from typing import Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from issuesync.domain.redaction import redact
from issuesync.security import MAX_LOGGED_TEXT, RedactingFilter

LogFormat = Literal["json", "console"]
FORMATS: Final = ("json", "console")
# The keys every line starts with, in this order; the rest follow as they were bound.
FIRST_KEYS: Final = ("timestamp", "level", "event", "logger")
# Not keys of an event: uvicorn's coloured copy of its message (``extra={"color_message": …}``),
# and what another handler's formatter may have left on a record (``message``, ``asctime``).
_DROPPED: Final = frozenset({"color_message", "message", "asctime"})
# Libraries whose lines below a level are never written, whatever ``ISSUESYNC_LOG_LEVEL``
# says: httpx says every request at INFO (a Redmine polled every few seconds, a relation
# pulled every second) and httpcore traces each step of it at DEBUG (``connect_tcp.started``,
# ``send_request_headers.complete``, … a dozen lines a request, with the headers it read).
# The tracker edge logs its own debug event per request instead (``trackers/http.py``);
# their warnings still show.
QUIETED: Final = {"httpx": logging.WARNING, "httpcore": logging.WARNING}


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """issuesync's own handler on the root logger (one, however often configured)."""


def default_format(stream: TextIO) -> LogFormat:
    """``console`` on a terminal, ``json`` otherwise (a file, a pipe, a service's journal)."""
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


def redact_event(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """Every text of the event without credentials (the message, the context, the
    keys, the formatted traceback), each cut to :data:`MAX_LOGGED_TEXT` characters."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact(value, limit=MAX_LOGGED_TEXT)
        elif not isinstance(value, int | float | bool) and value is not None:
            event_dict[key] = redact(str(value), limit=MAX_LOGGED_TEXT)
    return event_dict


def _ordered(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """The first keys first (a reader finds when, how bad and what at the start)."""
    first = {key: event_dict.pop(key) for key in FIRST_KEYS if key in event_dict}
    for key in _DROPPED:
        event_dict.pop(key, None)
    return {**first, **event_dict}


def _shared() -> list[Processor]:
    """What both kinds of records go through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    ]


def formatter(log_format: LogFormat, *, colors: bool = False) -> logging.Formatter:
    """The formatter of issuesync's handler: one event per line in ``log_format``."""
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=colors, pad_event_to=0)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,  # a text, so that it is redacted
            redact_event,
            _ordered,
            renderer,
        ],
    )


def configure_logging(
    level: str, log_format: LogFormat | None = None, *, stream: TextIO | None = None
) -> logging.Handler:
    """Send the process's log records at ``level`` and above to ``stream`` (stderr), one
    event per line in ``log_format`` (None: :func:`default_format`); returns the handler.

    Configuring again replaces the handler (a test's stream, a worker process's settings).
    """
    stream = stream or sys.stderr
    chosen = log_format or default_format(stream)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream)
    on_terminal = default_format(stream) == "console"
    handler.setFormatter(formatter(chosen, colors=chosen == "console" and on_terminal))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, quiet in QUIETED.items():
        logging.getLogger(name).setLevel(quiet)
    # Python's warnings (SQLAlchemy's, a library's deprecations) are lines of the same format.
    logging.captureWarnings(capture=True)
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return handler
