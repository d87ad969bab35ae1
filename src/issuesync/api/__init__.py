"""HTTP surfaces: shared dependencies and error shapes.

Each dialect's routers live with what they serve (the built-in tracker's in
``trackers/local``).
"""
