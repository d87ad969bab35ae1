"""The ``http`` transport: two issuesync nodes exchange sync events over the node API."""
