"""issuesync keeps issues in two issue-tracker projects in step."""

from __future__ import annotations

__version__ = "0.1.0"
