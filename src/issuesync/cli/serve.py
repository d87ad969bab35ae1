"""``issuesync serve``'s socket and server: the port is taken before anything else starts,
and the command says it serves only once it does.

The socket is bound here, not by uvicorn, so that a port in use is one line naming the
setting to change (uvicorn logs ``[Errno 98]`` and exits), and so that nothing is built
or migrated for a server that cannot listen. uvicorn then serves on that socket: one
process (:class:`AnnouncingServer`, which calls back once it listens), or ``--workers N``
processes under uvicorn's supervisor, which all accept on it.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.supervisors import Multiprocess

from issuesync.errors import ConfigurationError

if TYPE_CHECKING:
    from fastapi import FastAPI

# What `issuesync serve --workers N` runs in each process (it reads the same environment).
APP_FACTORY = "issuesync.app:app_from_environment"
BACKLOG = 2048  # uvicorn's default


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` (bound as uvicorn binds one for its workers).

    A port in use, one that needs privileges, or an address this machine does not
    have is a :class:`ConfigurationError` naming the setting to change.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # As uvicorn does: a restarted server may bind while the last one's connections close.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(bind_failure(host, port, exc)) from exc
    # Listening from now on: a client that connects before the app is ready (the workers of
    # `--workers N` still starting) waits in the backlog instead of being refused.
    sock.listen(BACKLOG)
    sock.set_inheritable(True)  # the workers of `--workers N` accept on it
    return sock


def bind_failure(host: str, port: int, exc: OSError) -> str:
    """What a failed bind means, in one line naming the setting to change."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use; set ISSUESYNC_PORT or stop the other process"
    if exc.errno == errno.EACCES:
        return f"port {port} needs privileges; set ISSUESYNC_PORT to a port above 1023"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on '{host}': not an address of this machine; set ISSUESYNC_HOST"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, calling ``on_listening`` once the app has started and the
    socket accepts connections (after uvicorn's "Application startup complete")."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then announce."""
        await super().startup(sockets)
        if self.started:
            self._on_listening()


def run_server(
    application: FastAPI | str,
    sock: socket.socket,
    *,
    workers: int,
    log_level: str,
    trusted_proxies: list[str],
    on_listening: Callable[[], None],
) -> None:
    """Serve on ``sock`` until SIGINT or SIGTERM.

    One worker serves ``application`` and calls ``on_listening`` once it has started.
    Several each build theirs with the factory ``application`` names (:data:`APP_FACTORY`);
    ``on_listening`` is then called as they start, the socket listening already
    (connections wait in its backlog until a worker takes them).
    """
    config = uvicorn.Config(
        application,
        factory=isinstance(application, str),
        workers=workers,
        log_level=log_level,
        backlog=BACKLOG,
        access_log=False,
        # uvicorn's records go to the root logger, so they are lines of the process's one
        # format (``logs.configure_logging``), not of uvicorn's own handlers.
        log_config=None,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
    )
    # Ctrl-C ends the server as uvicorn.run ends it: quietly, with exit code 0 (uvicorn
    # raises the SIGINT it caught again once it has shut down).
    with contextlib.suppress(KeyboardInterrupt):
        if workers == 1:
            AnnouncingServer(config, on_listening).run([sock])
            return
        on_listening()
        Multiprocess(config, sockets=[sock]).run()
