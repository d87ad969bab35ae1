"""Helpers for testing issuesync and code built on it; public API, shipped in the package."""
