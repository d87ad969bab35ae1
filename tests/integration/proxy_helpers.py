"""A real HTTP proxy on loopback for the connector-proxy tests: ``pproxy`` from PyPI.

:class:`LoopbackProxy` runs ``pproxy`` in a process of its own, listening on
127.0.0.1 with a login (``--auth 0``: every request must carry it, pproxy does
not remember a client address). It knows one host name that nothing else here
resolves, :data:`PROXIED_HOST`, as 127.0.0.1, the way a proxy's own DNS knows the
trackers behind it: a tracker at ``http://PROXIED_HOST:<port>`` is reachable
through the proxy only, so a request that reached it went through the proxy. Its
``-v`` log names each connection it opened (``http <client> -> <host>:<port>``).

pproxy installs ``uvloop`` when it can, which cannot start its loop the way pproxy
asks on Python 3.11+: the launcher hides ``uvloop`` and gives pproxy an asyncio loop.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Final, Self

PROXIED_HOST: Final = "tracker.proxied.test"
START_TIMEOUT_S: Final = 20.0

_LAUNCHER = f"""
import asyncio, socket, sys
sys.modules["uvloop"] = None
_resolve = socket.getaddrinfo
def _getaddrinfo(host, *args, **kwargs):
    return _resolve("127.0.0.1" if host == {PROXIED_HOST!r} else host, *args, **kwargs)
socket.getaddrinfo = _getaddrinfo
asyncio.set_event_loop(asyncio.new_event_loop())
from pproxy.server import main
main()
"""


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LoopbackProxy:
    """pproxy on 127.0.0.1 with the login ``username``/``password``; a context manager."""

    def __init__(self, log: Path, *, username: str, password: str) -> None:
        self.port = free_port()
        self.username = username
        self.password = password
        self.log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        """The proxy's address, without its login (that goes in the connector's fields)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start pproxy and wait until it accepts connections."""
        listen = f"http://127.0.0.1:{self.port}#{self.username}:{self.password}"
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(  # noqa: S603 - pproxy, from the dev extras
                [sys.executable, "-u", "-c", _LAUNCHER, "-l", listen, "-v", "--auth", "0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"pproxy stopped at once: {self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pproxy did not listen within {START_TIMEOUT_S}s")

    def connections_to(self, port: int) -> int:
        """How many connections the proxy opened to ``PROXIED_HOST:port`` (its ``-v`` log)."""
        return self.log.read_text(errors="replace").count(f"-> {PROXIED_HOST}:{port}")

    def stop(self) -> None:
        """Stop pproxy and wait for it."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
