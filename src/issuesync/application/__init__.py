"""Integration management, the application service every surface calls: create, update, delete,
lifecycle tasks, configuration conflicts, sync information."""
