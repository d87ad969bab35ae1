"""A fake tracker's ``httpx.MockTransport`` handler, served over real HTTP on 127.0.0.1.

The fakes in this package (``fake_github``, ``fake_gitlab``, ...) are handlers:
``handler(request: httpx.Request) -> httpx.Response``. An adapter under test
takes one directly as ``httpx.MockTransport(handler)``; the engine, which opens
its adapters by base URL, reaches the same fake through a :class:`HandlerServer`::

    server = HandlerServer(FakeGitHub())
    server.start()
    try:
        ...  # a connector with baseUrl=server.url
    finally:
        server.stop()

Requests are served one thread each (the handler must be thread-safe; the fakes
take a lock). Only loopback addresses are served. Nagle's algorithm is off on
every connection, so a keep-alive request is not held back by a delayed ACK and
timings against a fake measure the fake, not TCP.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final, Self

import httpx

Handler = Callable[[httpx.Request], httpx.Response]

STOP_TIMEOUT_S: Final = 10.0
# Headers the server writes itself, or that no longer describe the (decoded) body.
NOT_COPIED: Final = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)


class HandlerServer:
    """Serves ``handler`` on a free loopback port, in a background thread, until stopped."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self._server = ThreadingHTTPServer((host, 0), _request_handler(handler))
        self._server.daemon_threads = True
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve; the socket already listens, so requests may come at once."""
        thread = self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="handler-server",
            daemon=True,
        )
        thread.start()

    def stop(self) -> None:
        """Stop serving, wait for the thread and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=STOP_TIMEOUT_S)
        self._server.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _request_handler(handler: Handler) -> type[BaseHTTPRequestHandler]:
    class _Serve(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # TCP_NODELAY on each accepted socket: the headers and the body go out in two
        # writes, and with Nagle's algorithm the body waits for the client's delayed
        # ACK (~40 ms on Linux) on every keep-alive request after the first.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("Host") or "127.0.0.1"
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=list(self.headers.items()),
                content=body,
            )
            response = handler(request)
            content = response.read()
            self.send_response(response.status_code)
            for name, value in response.headers.multi_items():
                if name.lower() not in NOT_COPIED:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
            """Quiet: tests read the handler's own counts, not an access log."""

    return _Serve
