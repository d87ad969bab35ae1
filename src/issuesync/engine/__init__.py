"""The sync engine: integrations, routes, transports and the work they share."""
