"""The Backbone dialect: K15t Backbone Issue Sync's management REST API (seeds 000-002).

``routers`` serves it (FastAPI); ``documents`` holds its bodies and answers' JSON, free of
the web framework, for the routers and the CLI alike. Importing this package loads neither.
"""
