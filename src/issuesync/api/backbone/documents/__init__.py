"""Backbone's documents: its request bodies, its answers' JSON, its dates and field names.

Pure pydantic and rendering, no web framework: the routers (``api/backbone/*``) and the
CLI's ``integration`` and ``syncinfo`` commands (which read and print the same documents)
both use them. Each module translates between Backbone's camelCase shapes (seeds 000-002)
and the core's neutral models (``domain/``), and calls the application services with those.
"""
