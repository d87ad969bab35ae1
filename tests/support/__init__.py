"""Servers and fixtures that only issuesync's own tests and benchmarks use (not shipped)."""
