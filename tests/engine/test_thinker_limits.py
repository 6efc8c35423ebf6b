"""Thinker limits (issue 13): answer size caps read incrementally, a deadline for the whole call,
clean errors for hostile answers, and no API key in any message.

The servers are real sockets on 127.0.0.1 and the programs real processes.
"""

from __future__ import annotations

import json
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator_gui.engine.config import load_config
from orchestrator_gui.engine.thinkers import BackendError, CommandThinker, HttpThinker, ThinkerTimeout, make_thinker
from orchestrator_gui.engine.thinkers.base import DEFAULT_MAX_RESPONSE_BYTES
from orchestrator_gui.model.thinker import ThinkerContext
from orchestrator_gui.problems import FormatError

KEY = "sk-live-4f9a0c7e1b2d3c4e5f60718293a4b5c6"
CTX = ThinkerContext(node_ids=("n",), now=1.0)


class RawServer:
    """A TCP server on 127.0.0.1 whose handler gets the socket once the request's headers and body are in.

    ``sent`` counts the bytes the handler managed to write before the client went away.
    """

    def __init__(self, handler: Callable[[socket.socket, RawServer], None]) -> None:
        self.handler = handler
        self.stop = threading.Event()
        self.sent = 0
        self.requests = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            self.requests += 1
            try:
                self.handler(conn, self)
            except OSError:
                pass  # the client hung up: what the size and deadline tests expect

    def send(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        self.sent += len(data)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def serve():
    servers: list[RawServer] = []

    def make(handler: Callable[[socket.socket, RawServer], None]) -> RawServer:
        server = RawServer(handler)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def headers(length: int | None = None, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    else:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def completion(content: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()


def http(server: RawServer, **kwargs) -> HttpThinker:
    return HttpThinker(server.base_url, "tiny", name="llm", api_key_env="KEY", environ={"KEY": KEY}, **kwargs)


# -- the deadline --------------------------------------------------------------------------------------
def test_a_server_trickling_a_byte_a_second_cannot_keep_a_call_past_its_timeout(serve):
    body = completion("1. Alpha")

    def trickle(conn: socket.socket, server: RawServer) -> None:
        server.send(conn, headers(len(body)))
        for i in range(len(body)):
            if server.stop.wait(1.0):  # the server's own pace: one byte a second
                return
            server.send(conn, body[i:i + 1])

    server = serve(trickle)
    started = time.monotonic()
    with pytest.raises(ThinkerTimeout, match=r"within 3 s"):
        http(server, timeout_s=3).generate("x", CTX, 1)  # default retries=3: the deadline covers them too
    elapsed = time.monotonic() - started
    assert elapsed < 4.0, elapsed
    assert server.requests == 1


def test_the_deadline_covers_headers_that_trickle_too(serve):
    def slow_headers(conn: socket.socket, server: RawServer) -> None:
        for byte in headers(10):
            if server.stop.wait(0.1):
                return
            server.send(conn, bytes([byte]))

    server = serve(slow_headers)
    started = time.monotonic()
    with pytest.raises(ThinkerTimeout):
        http(server, timeout_s=0.5, retries=0).generate("x", CTX, 1)
    assert time.monotonic() - started < 1.5


# -- the size cap ------------------------------------------------------------------------------------------
def test_an_announced_answer_over_the_cap_is_refused_before_reading(serve):
    def huge(conn: socket.socket, server: RawServer) -> None:
        server.send(conn, headers(1024**3))
        server.send(conn, b"[" * 65536)

    server = serve(huge)
    with pytest.raises(BackendError, match=r"announced an answer of 1,073,741,824 bytes, more than "
                                           r"max_response_bytes = 8,388,608"):
        http(server).generate("x", CTX, 1)


def test_an_endless_answer_is_cut_at_the_configured_cap(serve, tmp_path):
    def endless(conn: socket.socket, server: RawServer) -> None:
        server.send(conn, headers(None))  # no length: the body runs until the connection closes
        block = b"x" * 65536
        while not server.stop.is_set() and server.sent < 512 * 1024**2:
            server.send(conn, block)

    server = serve(endless)
    cfg = tmp_path / ".orchestrator" / "config.toml"
    cfg.parent.mkdir()
    cfg.write_text(textwrap.dedent(f"""\
        [thinkers]
        default = "llm"
        max_response_bytes = 1048576
        [thinkers.backends.llm]
        type = "http"
        base_url = "{server.base_url}"
        model = "tiny"
        """))
    thinker = make_thinker(load_config(tmp_path), workspace=tmp_path)
    assert thinker.max_response_bytes == 1024**2
    with pytest.raises(BackendError, match=r"sent more than max_response_bytes = 1,048,576 bytes"):
        thinker.generate("x", CTX, 1)
    # read incrementally: the server could only push the cap plus what the socket buffers held
    assert server.sent < 64 * 1024**2


def test_the_cap_has_a_documented_range(tmp_path):
    assert DEFAULT_MAX_RESPONSE_BYTES == 8 * 1024**2
    cfg = tmp_path / ".orchestrator" / "config.toml"
    cfg.parent.mkdir()
    for value in ("0", "1023", str(1024**3 + 1)):
        cfg.write_text(f"[thinkers]\nmax_response_bytes = {value}\n")
        with pytest.raises(FormatError) as exc:
            load_config(tmp_path)
        assert exc.value.line == 2 and "max_response_bytes" in exc.value.message
    cfg.write_text("[thinkers.backends.x]\ntype = \"command\"\ncommand = [\"x\"]\ntimeout_s = 1e300\n")
    with pytest.raises(FormatError, match="timeout_s"):
        load_config(tmp_path)


# -- hostile answers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, fragment", [
    (b"[" * 100_000, "nesting is deeper than 128 levels"),
    (b'{"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": ' + b"7" * 5000 + b"}}",
     "4300 digits"),
    (b'{"choices": [{"message": {"content": "a\\ud800b"}}]}', "surrogate"),
])
def test_hostile_http_answers_are_clean_errors(serve, body, fragment):
    server = serve(lambda conn, srv: srv.send(conn, headers(len(body)) + body))
    with pytest.raises(BackendError, match=fragment):
        http(server).generate("x", CTX, 1)


# -- the key never shows --------------------------------------------------------------------------------
@pytest.mark.parametrize("status, body", [
    ("401 Unauthorized", json.dumps({"error": {"message": f"invalid key: Bearer {KEY}"}}).encode()),
    ("400 Bad Request", f"bad request; headers were Authorization: Bearer {KEY}".encode()),
    ("403 Forbidden", json.dumps({"error": f"key {KEY} is revoked"}).encode()),
    ("500 Internal Server Error", json.dumps({"error": {"message": f"upstream said authorization={KEY}"}}).encode()),
    ("200 OK", json.dumps({"echo": {"headers": {"Authorization": f"Bearer {KEY}"}}}).encode()),
])
def test_error_messages_never_show_the_key_or_an_authorization_value(serve, status, body):
    server = serve(lambda conn, srv: srv.send(conn, headers(len(body), status) + body))
    with pytest.raises(BackendError) as exc:
        http(server, retries=0).generate("x", CTX, 1)
    message = str(exc.value)
    assert KEY not in message and KEY[:12] not in message, message
    assert "[redacted]" in message, message


# -- the command thinker ---------------------------------------------------------------------------------
def program(tmp_path: Path, source: str) -> list[str]:
    path = tmp_path / "think.py"
    path.write_text(textwrap.dedent(source))
    return [sys.executable, str(path)]


def test_a_command_printing_without_end_is_killed_at_the_cap(tmp_path):
    command = program(tmp_path, """\
        import sys
        sys.stdin.buffer.read()
        block = b"x" * 65536
        while True:
            sys.stdout.buffer.write(block)
        """)
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"wrote more than max_response_bytes = 1,048,576 bytes on stdout"):
        CommandThinker(command, name="tool", timeout_s=30, max_response_bytes=1024**2).generate("x", CTX, 1)
    assert time.monotonic() - started < 10  # killed when it passed the cap, long before its time limit


@pytest.mark.parametrize("answer, fragment", [
    ("[" * 100_000, "nesting is deeper than 128 levels"),
    ('{"results": [' + "9" * 5000 + "]}", "4300 digits"),
    ('{"results": [1e999]}', "float range"),
])
def test_hostile_command_answers_are_clean_errors(tmp_path, answer, fragment):
    (tmp_path / "answer.txt").write_text(answer)
    command = program(tmp_path, f"""\
        import sys
        sys.stdin.buffer.read()
        sys.stdout.write(open({str(tmp_path / "answer.txt")!r}).read())
        """)
    with pytest.raises(BackendError, match=fragment):
        CommandThinker(command, name="tool", timeout_s=30).generate("x", CTX, 1)


def test_a_command_answer_just_under_the_cap_is_read_whole(tmp_path):
    command = program(tmp_path, """\
        import json, sys
        sys.stdin.buffer.read()
        text = "y" * 200_000
        sys.stdout.write(json.dumps({"results": [text]}))
        """)
    result = CommandThinker(command, name="tool", timeout_s=30, max_response_bytes=300_000).generate("x", CTX, 1)
    assert result.value == ["y" * 200_000]
