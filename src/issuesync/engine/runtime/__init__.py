"""The runtime: the runner that schedules routes on a worker pool, holds leases, shows presence."""
