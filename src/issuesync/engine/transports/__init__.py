"""Transports and queues: how messages and blobs travel between the two sides (vm, file)."""
