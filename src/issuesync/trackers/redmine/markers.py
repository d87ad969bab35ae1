"""Invisible idempotency markers: what the ``redmine`` adapter writes into its creations.

Redmine has no idempotency keys and no entity properties. The adapter appends a
*marker* to what it creates (an issue's description, a note, an attachment's
description): a fingerprint of the idempotency key in zero-width characters,
which Redmine stores and shows as nothing. Reading strips it again, so replicas
never carry it; a retry after a crash finds the creation by its marker.

A marker is ``U+2063`` + 96 bits of ``sha256(key)`` as ``U+200B`` (0) and
``U+200C`` (1) + ``U+2063``.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

FRAME: Final = "\u2063"  # INVISIBLE SEPARATOR
ZERO: Final = "\u200b"  # ZERO WIDTH SPACE
ONE: Final = "\u200c"  # ZERO WIDTH NON-JOINER
BITS: Final = 96
_MARKER = re.compile(f"(?:\r?\n)?{FRAME}[{ZERO}{ONE}]{{{BITS}}}{FRAME}")


def marker(key: str) -> str:
    """The invisible marker of an idempotency key."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[: BITS // 8], "big")
    bits = format(digest, f"0{BITS}b")
    return FRAME + "".join(ONE if bit == "1" else ZERO for bit in bits) + FRAME


def mark(text: str | None, key: str) -> str:
    """``text`` with ``key``'s marker appended (on a line of its own when there is text)."""
    return f"{text}\n{marker(key)}" if text else marker(key)


def markers_in(text: object) -> list[str]:
    """The markers ``text`` carries (as :func:`marker` writes them), in order."""
    if not isinstance(text, str):
        return []
    return [found.lstrip("\r\n") for found in _MARKER.findall(text)]


def strip(text: object) -> str:
    """``text`` without its markers, with ``\n`` line ends ("" for no text).

    Redmine stores the line ends of what it is sent as ``\r\n``; replicas compare
    texts across trackers, so they get them back as sent.
    """
    return _MARKER.sub("", text).replace("\r\n", "\n") if isinstance(text, str) else ""
