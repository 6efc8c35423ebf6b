"""Running the API: uvicorn in the foreground (``serve``) or on a thread (the desktop app, tests, benchmarks).

:class:`ApiServer` binds the socket itself before uvicorn starts, so the port
is known (and taken) at once, also when port 0 asks for any free one; the
server answers to the loopback names, plus the host it was asked to listen
on when that is another interface.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from typing import Any

from orchestrator_gui.api.security import LOOPBACK, MIN_REMOTE_TOKEN, is_loopback

#: Seconds to wait for the server to start or stop.
START_TIMEOUT_S = 30.0


def _ignore(_sig: int, _frame: Any) -> None:
    """A signal uvicorn raises again after its graceful shutdown: already handled."""


class RemoteRefused(Exception):
    """Listening beyond this machine was refused (no strong token)."""


def check_host(host: str, token: str) -> list[str]:
    """Warnings for serving on ``host``; raises :class:`RemoteRefused` when it must not start.

    Another host than loopback exposes the workspace to the network: the
    server starts only with a token of at least :data:`MIN_REMOTE_TOKEN`
    characters, and warns.
    """
    if is_loopback(host):
        return []
    if not token or len(token) < MIN_REMOTE_TOKEN:
        raise RemoteRefused(f"refusing to listen on {host} without a token of at least {MIN_REMOTE_TOKEN} "
                            "characters (the generated one has 43): anyone on the network could reach it")
    return [f"warning: listening on {host}: every machine that can reach it may try the API; "
            "the token is the only thing that keeps them out (use it over a trusted network only)"]


def allowed_hosts(host: str) -> tuple[str, ...]:
    """The host names a server listening on ``host`` answers to."""
    return LOOPBACK if is_loopback(host) else (*LOOPBACK, host.strip("[]"))


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: a free port)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on connections of sockets that say they are TCP;
    # with proto 0 every response waited ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ApiServer:
    """uvicorn serving ``app`` on an already bound socket.

    Parameters
    ----------
    app : ASGI app
    host : str
    port : int
        0 picks a free port (see :attr:`port`).
    sock : socket, optional
        A socket :func:`bind` made already (then ``port`` is not used).
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None) -> None:
        import uvicorn

        self.host = host
        self.sock = sock if sock is not None else bind(host, port)
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False,
                                ws_max_size=1024 * 1024, timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C, SIGTERM), then return normally.

        uvicorn shuts down gracefully on those signals and then raises them
        again for the handlers it found; in the main thread those are no-ops
        set here, so the caller still closes the workspace after a SIGTERM.
        """
        main = threading.current_thread() is threading.main_thread()
        previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def start(self) -> ApiServer:
        """Serve on a thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self.run, name="orchestrator-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving (open connections are closed) and wait for the thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(START_TIMEOUT_S)
            self._thread = None


__all__ = ["ApiServer", "RemoteRefused", "START_TIMEOUT_S", "allowed_hosts", "bind", "check_host"]
