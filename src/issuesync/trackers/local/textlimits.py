"""How long text in the built-in tracker may be: Jira's limits, refused in Jira's words.

- ``summary``: :data:`SUMMARY_LIMIT` (255) characters, as in Jira (the column is as wide);
- every other text a user or the sync engine writes (an issue's description, comments,
  however they arrive, work-log comments, text custom fields, and the descriptions of
  projects, components, versions and custom fields): ``ISSUESYNC_TEXT_FIELD_LIMIT``
  characters, by default :data:`DEFAULT_TEXT_LIMIT`, Jira's own default of
  ``jira.text.field.character.limit``.

Longer text is refused, never cut: ``{"errors": {"description": "The entered text is too
long. It exceeds the allowed limit of 32767 characters."}}``, which is Jira's answer. The
sync engine's writes meet the same check, so a value too long for this tracker parks its
issue with that reason.
"""

from __future__ import annotations

from typing import Final

from issuesync.errors import InvalidInputError

SUMMARY_LIMIT: Final = 255
DEFAULT_TEXT_LIMIT: Final = 32_767


def too_long(limit: int) -> str:
    """Jira's message for text over ``limit`` characters."""
    return f"The entered text is too long. It exceeds the allowed limit of {limit} characters."


def check_length(text: str, field: str, limit: int) -> str:
    """``text``, when it has at most ``limit`` characters; else Jira's 400 for ``field``."""
    if len(text) > limit:
        raise InvalidInputError(
            f"The text of '{field}' is too long.", field_errors={field: too_long(limit)}
        )
    return text
