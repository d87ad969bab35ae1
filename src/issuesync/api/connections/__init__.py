"""SD Elements' dialect (seed 004): tracker connections run by jobs (``/api/v2/connections/``)."""
