"""The local API's guard: a per-user token, and an ASGI layer that checks every request before anything runs.

It runs next to a user's files, so every request (HTTP, WebSocket, MCP)
passes :class:`Guard` first:

* **Host**: only the names the server answers to (``127.0.0.1``,
  ``localhost``, ``[::1]``, or the ``--host`` given). A page on
  ``evil.example`` whose name was re-bound to 127.0.0.1 sends its own name
  as ``Host`` and is refused (DNS rebinding).
* **Origin**: a browser request from another origin is refused (CSRF); no
  CORS headers are sent unless origins are configured. Clients that are not
  browsers send no ``Origin``.
* **Token**: ``Authorization: Bearer <token>`` (or the docs page's cookie,
  set by visiting ``/docs?token=…`` once) on every request, compared in
  constant time. The token is generated per user into the settings folder
  (mode 0600); ``ORCHESTRATOR_API_TOKEN`` overrides it.
* **Size**: request bodies above :data:`MAX_BODY` are refused (413), also
  when they come chunked without a length.

Refusals are JSON problem details without internals; the token never
appears in any message.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import stat
import sys
from collections.abc import Iterable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

#: Environment variable that overrides the stored token.
TOKEN_ENV = "ORCHESTRATOR_API_TOKEN"
#: Largest request body accepted (bytes).
MAX_BODY = 1024 * 1024
#: Name of the docs page's cookie.
COOKIE = "orchestrator_api_token"
#: Shortest token accepted from the environment when the server listens beyond this machine.
MIN_REMOTE_TOKEN = 32
#: Host names that mean this machine.
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_TOKEN_FILE = "api-token"


def settings_dir() -> Path:
    """The per-user settings folder (the desktop app's too): ``$XDG_CONFIG_HOME/LoopOrchestrator`` or ``%APPDATA%``."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "LoopOrchestrator"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "LoopOrchestrator"


def token_path() -> Path:
    """Where the generated token is kept."""
    return settings_dir() / _TOKEN_FILE


class TokenError(Exception):
    """The token cannot be read or made; the message says where and why (never the token)."""


def load_token(*, create: bool = True) -> tuple[str, str]:
    """The API token and where it came from (``"environment"`` or the file's path).

    The file is created with mode 0600 (its folder 0700) on first use, and a
    token file that others can read is made private again.

    Raises
    ------
    TokenError
        No token in the environment, and the file cannot be read or written.
    """
    env = os.environ.get(TOKEN_ENV)
    if env:
        if len(env) > 4096 or any(c.isspace() for c in env):
            raise TokenError(f"{TOKEN_ENV} must be one word of at most 4096 characters")
        return env, "environment"
    path = token_path()
    try:
        return _read_token(path), str(path)
    except FileNotFoundError:
        if not create:
            raise TokenError(f"{path}: no token yet (start the server once to make one)") from None
    except OSError as exc:
        raise TokenError(f"{path}: cannot read the token: {exc.strerror or exc}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(token + "\n")
        return token, str(path)
    except FileExistsError:  # another process made it meanwhile: use that one
        return _read_token(path), str(path)
    except OSError as exc:
        raise TokenError(f"{path}: cannot write the token: {exc.strerror or exc}") from None


def _read_token(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise TokenError(f"{path}: not a regular file")
        if st.st_mode & 0o077 and hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # readable by others: made private before it is used
        text = os.read(fd, 8192).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    if not text or any(c.isspace() for c in text):
        raise TokenError(f"{path}: the token file is damaged; delete it and a new token is made")
    return text


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a name or address of this machine only."""
    return host.strip("[]") in LOOPBACK or host.startswith("127.")


def _problem(status: int, title: str, detail: str) -> bytes:
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


class Guard:
    """ASGI middleware applying the checks of the module docstring to ``app``.

    Parameters
    ----------
    app : ASGI app
    token : str
    hosts : iterable of str
        Host names accepted (besides the loopback names when serving on loopback).
    origins : iterable of str
        Browser origins allowed besides the server's own (``http://host:port``).
    max_body : int
    """

    def __init__(self, app: Any, token: str, *, hosts: Iterable[str] = LOOPBACK, origins: Iterable[str] = (),
                 max_body: int = MAX_BODY) -> None:
        self.app = app
        self._token = token.encode()
        self.hosts = {h.strip("[]").lower() for h in hosts}
        self.origins = {o.rstrip("/").lower() for o in origins}
        self.max_body = max_body

    # -- checks -----------------------------------------------------------------------------
    @staticmethod
    def _headers(scope: dict[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in scope.get("headers", ()):
            out.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        return out

    def _host_ok(self, host: str | None) -> bool:
        if not host:
            return False
        try:
            name = urlsplit(f"//{host}").hostname
        except ValueError:
            return False
        return name is not None and name.lower() in self.hosts

    def _origin_ok(self, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        if headers.get("sec-fetch-site") == "cross-site" and origin is None:
            return False
        if origin is None:
            return True
        if origin.rstrip("/").lower() in self.origins:
            return True
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self.hosts \
            and self._host_ok(headers.get("host")) and urlsplit(f"//{headers.get('host')}").port == parts.port

    def _token_ok(self, headers: dict[str, str], scope: dict[str, Any]) -> bool:
        given = None
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            given = value.strip()
        elif "cookie" in headers and headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none"):
            # The docs page's cookie counts only for the page's own requests: a page of another port on
            # this machine is the same *site* (the cookie goes along) but not the same origin.
            try:
                morsel = SimpleCookie(headers["cookie"]).get(COOKIE)
            except Exception:  # noqa: BLE001 - a malformed cookie header is simply no credential
                morsel = None
            given = morsel.value if morsel is not None else None
        return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), self._token)

    def docs_token(self, query: str) -> bool:
        """Whether the query string carries the right ``token=`` (the docs page's first visit)."""
        from urllib.parse import parse_qs

        values = parse_qs(query, max_num_fields=20).get("token", [])
        return bool(values) and hmac.compare_digest(values[0].encode("utf-8", "replace"), self._token)

    # -- ASGI -------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = self._headers(scope)
        if not self._host_ok(headers.get("host")):
            await self._refuse(scope, receive, send, 403, "Forbidden", "this server does not answer to that host name")
            return
        if not self._origin_ok(headers):
            await self._refuse(scope, receive, send, 403, "Forbidden", "requests from other origins are refused")
            return
        query = scope.get("query_string", b"").decode("latin-1")
        if scope["type"] == "http" and scope.get("path") == "/docs" and self.docs_token(query):
            await self._set_cookie(send)
            return
        preflight = (scope["type"] == "http" and scope.get("method") == "OPTIONS" and "origin" in headers
                     and headers["origin"].rstrip("/").lower() in self.origins
                     and "access-control-request-method" in headers)
        if not preflight and not self._token_ok(headers, scope):
            await self._refuse(scope, receive, send, 401, "Unauthorized",
                               "a bearer token is required: Authorization: Bearer <token> "
                               "(orchestrator-gui serve --show-token prints it)")
            return
        if scope["type"] == "http":
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await self._refuse(scope, receive, send, 413, "Content Too Large",
                                   f"request bodies are limited to {self.max_body} bytes")
                return
            await self._limited(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _limited(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run the app with the body counted: past the limit the client gets 413 and the app a disconnect."""
        state = {"seen": 0, "refused": False, "started": False}

        async def counted_receive() -> dict[str, Any]:
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message.get("type") == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > self.max_body:
                    state["refused"] = True
                    if not state["started"]:
                        state["started"] = True
                        await self._refuse(scope, receive, send, 413, "Content Too Large",
                                           f"request bodies are limited to {self.max_body} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if state["refused"]:
                return  # the 413 went out instead
            if message.get("type") == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)

    async def _set_cookie(self, send: Any) -> None:
        cookie = f"{COOKIE}={self._token.decode()}; HttpOnly; SameSite=Strict; Path=/"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", b"/docs"), (b"set-cookie", cookie.encode()),
                                (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any, status: int, title: str,
                      detail: str) -> None:
        if scope["type"] == "websocket":
            # Refused during the handshake: the client sees the HTTP status (websocket.http.response when
            # the server supports it, else a plain close, which clients report as 403).
            if "websocket.http.response" in scope.get("extensions", {}):
                body = _problem(status, title, detail)
                await send({"type": "websocket.http.response.start", "status": status,
                            "headers": [(b"content-type", b"application/problem+json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "websocket.http.response.body", "body": body})
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        body = _problem(status, title, detail)
        headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="orchestrator-gui"'))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


__all__ = ["COOKIE", "Guard", "LOOPBACK", "MAX_BODY", "MIN_REMOTE_TOKEN", "TOKEN_ENV", "TokenError", "is_loopback",
           "load_token", "settings_dir", "token_path"]
