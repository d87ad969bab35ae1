"""A mapping that keeps only its newest entries: what adapters remember between calls."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(OrderedDict[K, V]):
    """An ``OrderedDict`` of at most ``size`` entries: setting one makes it the newest,
    and the oldest are dropped beyond ``size``.

    Adapters remember what they made with which idempotency key, and which issues'
    comments they have read; a long-running engine must not remember without end.
    """

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
