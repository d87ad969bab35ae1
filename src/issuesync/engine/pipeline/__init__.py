"""The sync pipeline: outgoing and incoming routes, batches, sub-objects and the diff they apply."""
