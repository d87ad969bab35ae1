"""The HandlerServer that serves the fakes over HTTP: keep-alive, and Nagle's algorithm off."""

from __future__ import annotations

import socket
import socketserver

import httpx

from issuesync.testing.handler_server import HandlerServer


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"path": request.url.path, "body": request.content.decode()})


def test_accepted_sockets_have_tcp_nodelay() -> None:
    """Each accepted connection sets TCP_NODELAY (the stdlib does it when the handler asks),
    read back from the server's own socket of the connection."""
    seen: list[int] = []
    with HandlerServer(_echo) as served:
        handler_class = served._server.RequestHandlerClass
        assert isinstance(handler_class, type)
        assert issubclass(handler_class, socketserver.StreamRequestHandler)
        original_setup = handler_class.setup

        def setup(self: socketserver.StreamRequestHandler) -> None:
            original_setup(self)
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

        handler_class.setup = setup  # type: ignore[method-assign,assignment]
        with httpx.Client(base_url=served.url) as client:
            for n in range(3):
                answer = client.post(f"/x/{n}", content=b"hi")
                assert answer.json() == {"path": f"/x/{n}", "body": "hi"}
    assert seen == [1]  # one keep-alive connection, Nagle off on it
