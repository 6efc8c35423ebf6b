"""The API server inside another process's event loop (the desktop app's Tools ▸ Local API).

The desktop face (``ui``) must not import this package (faces are siblings),
so the app (``app.py``, above both) hands it :func:`start_local_server` as a
plain callable: given a :class:`~orchestrator_gui.workspace.live.LiveWorkspace`
it serves it on a thread and returns a :class:`LocalServer` handle that the
window can stop without knowing uvicorn.
"""

from __future__ import annotations

from typing import Any

from orchestrator_gui.api.app import create_app
from orchestrator_gui.api.security import load_token
from orchestrator_gui.api.server import ApiServer

#: The port tried first (the next free one is used when it is taken).
PORT = 8377


class LocalServer:
    """A running in-process server: where it listens, where its token comes from, and how to stop it.

    Stopping is in two steps so that a GUI thread can keep serving the
    requests that wait for it while the server winds down:
    :meth:`begin_stop`, then :meth:`wait` in short slices.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:PORT``.
    token_source : str
        Where the bearer token was read from (a file path or the environment variable), never the token.
    """

    def __init__(self, server: ApiServer, token_source: str) -> None:
        self._server = server
        self.url = server.url
        self.token_source = token_source

    def begin_stop(self) -> None:
        """Ask the server to stop (open connections are closed)."""
        self._server.server.should_exit = True

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the server thread to end; returns whether it has."""
        thread = self._server._thread
        if thread is None:
            return True
        thread.join(max(0.0, timeout))
        return not thread.is_alive()


def start_local_server(live: Any, port: int = PORT) -> LocalServer:
    """Serve ``live`` (REST, ``/events``, MCP at ``/mcp``) on 127.0.0.1 from a thread of this process.

    Parameters
    ----------
    live : LiveWorkspace
        Whose owner thread runs every request (the app's GUI thread).
    port : int
        Tried first; when it is taken, any free port.

    Raises
    ------
    TokenError
        The per-user token cannot be read or made.
    RuntimeError
        The server did not start.
    """
    token, source = load_token()
    app = create_app(live, token)
    try:
        server = ApiServer(app, "127.0.0.1", port)
    except OSError:  # taken (another app, a `serve`): any free port
        server = ApiServer(app, "127.0.0.1", 0)
    return LocalServer(server.start(), source)


__all__ = ["PORT", "LocalServer", "start_local_server"]
