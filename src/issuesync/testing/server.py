"""A real uvicorn server on 127.0.0.1 for tests and benchmarks, stopped by its owner."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_S = 10.0


class LiveServer:
    """Serves an app over real HTTP on a free loopback port, in a background thread.

    The socket is bound when the object is made, so :attr:`url` is known before
    the app is built (and can be its base URL); :meth:`start` serves the app.
    :meth:`stop` stops the server and waits for its thread.
    """

    def __init__(self, *, host: str = "127.0.0.1", tls: tuple[str, str] | None = None) -> None:
        """``tls``: the certificate and key files to serve HTTPS with."""
        self.tls = tls
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def start(self, app: FastAPI) -> None:
        """Serve ``app``; returns once the server accepts connections."""
        # As ``issuesync serve`` by default: the peer's address, never X-Forwarded-For.
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            access_log=False,
            proxy_headers=False,
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        server = self._server = uvicorn.Server(config)
        thread = self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, name="live-server", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                msg = "the test server did not start"
                raise RuntimeError(msg)
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving and wait for the server thread."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=START_TIMEOUT_S)
        self._socket.close()
