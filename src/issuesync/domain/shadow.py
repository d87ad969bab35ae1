"""The shadow: the last state both sides agreed on, per linked issue (see the glossary).

The engine diffs against it three ways (shadow, local, incoming) to send only
real changes, never to echo a change back, and to find conflicts. The sync
ledger keeps it, as the text :meth:`Shadow.to_text` makes, with the issue's
sync information.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from issuesync.domain.replica import FieldValue


@dataclass
class Shadow:
    """The last state both sides agreed on, for one linked issue, in this side's terms.

    ``fields`` holds canonical values of the local fields that are synchronized
    (and ``status``); ``sent`` holds, per field, the ``sequenceId`` of the last
    message that carried it to the partner, and ``sent_at`` that message's
    ``issueUpdated``: the time both sides compare when two changes of the field
    cross, so that both pick the same winner.
    """

    fields: dict[str, FieldValue]
    sent: dict[str, int]
    sent_at: dict[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def empty(cls) -> Shadow:
        """The shadow of an issue never synchronized."""
        return cls({}, {})

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Shadow:
        """From its stored JSON."""
        if not data:
            return cls.empty()
        return cls(
            dict(data.get("fields", {})),
            dict(data.get("sent", {})),
            dict(data.get("sentAt", {})),  # absent in shadows stored before it existed
        )

    def dump(self) -> dict[str, Any]:
        """To its stored JSON."""
        return {"fields": self.fields, "sent": self.sent, "sentAt": self.sent_at}

    def knows(self, field: str) -> bool:
        """Whether the field has an agreed value."""
        return field in self.fields

    def changed(self, field: str, value: FieldValue) -> bool:
        """Whether ``value`` differs from the agreed one (an unknown field always differs)."""
        return field not in self.fields or self.fields[field] != value

    @classmethod
    def from_text(cls, text: str | None) -> Shadow:
        """From the text :meth:`to_text` made (an empty shadow for none)."""
        return cls.load(json.loads(text)) if text else cls.empty()

    def to_text(self) -> str:
        """As the sync information keeps it: compact JSON with sorted keys."""
        return json.dumps(self.dump(), separators=(",", ":"), sort_keys=True)
