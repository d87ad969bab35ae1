"""The outgoing route's cursor: a versioned value object, kept as JSON with the connector state."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cursor:
    """Where the next poll starts.

    ``updated_ms`` is the *signpost* of the last completed poll: the tracker's
    clock read before that poll searched. Issues changed while it ran have a
    later update time and are read again by the next poll, which starts a
    look-back window before the signpost, so nothing committed late is skipped;
    the shadow diff makes reading an issue twice harmless.

    ``seen`` (issue key: update time) is what the last polls read within the look-back
    window, kept when a route stops (``save_cursor(…, seen=…)``): a route started again
    (the next job of a connection) passes it to the tracker, which then does not read
    those issues again (a tracker whose search is coarse, Jira's to the minute, would).
    At most :data:`MAX_SEEN` are kept; with more, none (they are read again: harmless).
    """

    VERSION = 1
    MAX_SEEN = 20_000

    updated_ms: int | None = None
    deletions_ms: int | None = None
    seen: dict[str, int] = field(default_factory=dict)

    def dumps(self) -> str:
        """The stored form."""
        data = asdict(self)
        if not self.seen or len(self.seen) > self.MAX_SEEN:
            del data["seen"]
        return json.dumps({"version": self.VERSION, **data})

    @classmethod
    def loads(cls, text: str | None) -> Cursor:
        """Read a stored cursor; an unknown version starts from the beginning (and says so)."""
        if not text:
            return cls()
        data = json.loads(text)
        if data.get("version") != cls.VERSION:
            log.warning("cursor version %s is unknown; the next poll reads every issue", data)
            return cls()
        seen = data.get("seen")
        return cls(
            updated_ms=data.get("updated_ms"),
            deletions_ms=data.get("deletions_ms"),
            seen={str(k): int(v) for k, v in seen.items()} if isinstance(seen, dict) else {},
        )

    def since(self, lookback_ms: int) -> int | None:
        """Where the next search starts: the signpost minus the look-back window."""
        return None if self.updated_ms is None else self.updated_ms - lookback_ms

    def deletions_since(self, lookback_ms: int) -> int | None:
        """Where the next search for deletions starts."""
        return None if self.deletions_ms is None else self.deletions_ms - lookback_ms
