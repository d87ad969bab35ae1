"""The built-in tracker: a small real tracker with a Jira-compatible REST API."""
