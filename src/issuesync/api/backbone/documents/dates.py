"""Backbone's two ways of writing a moment (both in the server's local time)."""

from __future__ import annotations

import datetime as dt


def backbone_date(ms: int) -> str:
    """Epoch milliseconds as Backbone writes dates: ``2017-05-17T08:01:37+0200``, local time."""
    return (
        dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
    )


def task_timestamp(ms: int) -> str:
    """The seeds' ``startTimestamp``: ``Apr 25, 2019 -- 07:17 AM`` (server's local time)."""
    return dt.datetime.fromtimestamp(ms / 1000).astimezone().strftime("%b %d, %Y -- %I:%M %p")
