"""HTTP surfaces: shared dependencies and error shapes; the dialects' routers live with their owners."""
