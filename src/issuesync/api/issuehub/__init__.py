"""Exalate's node API (seed 003), served under ``/rest/issuehub/2.4``: ``docs/issuehub.md``."""
