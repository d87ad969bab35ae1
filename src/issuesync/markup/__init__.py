"""Rich text across markup dialects: pandoc reads and writes, ``domain.markup`` rules.

This package is where conversion meets a process: pandoc (shipped inside the
``pypandoc-binary`` wheel) runs as a subprocess, which the domain may not do
(docs/architecture.md: the domain is pure). The rules it applies between reading
and writing, and the canonical form, are pure and live in ``domain/markup.py``.
It sits above the store and below the trackers in the layers, so that both an
adapter (Jira Cloud's ADF) and the engine may convert.
"""

from __future__ import annotations

from issuesync.domain.markup import Markup
from issuesync.markup.batch import convert_many
from issuesync.markup.pandoc import canonical, convert, pandoc_version

__all__ = ["Markup", "canonical", "convert", "convert_many", "pandoc_version"]
