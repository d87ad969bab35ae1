"""``python -m issuesync`` runs the command line."""

from __future__ import annotations

from issuesync.cli import main

main()
