"""The OpenAI-compatible HTTP thinker: chat completions from a local or remote server.

Each call is one ``POST {base_url}/chat/completions`` with ``model``,
``messages`` and ``temperature`` (and ``max_tokens`` when set), made with
:mod:`urllib.request` only. The answer's ``choices[0].message.content`` is
parsed by :mod:`.prompts`; its ``usage`` gives the token counts.

Servers
-------
Any server that speaks the OpenAI chat-completions API:

================  ==========================================  =====================
server            ``base_url``                                key
================  ==========================================  =====================
Ollama            ``http://127.0.0.1:11434/v1``               none needed
llama.cpp server  ``http://127.0.0.1:8080/v1``                ``--api-key`` if set
vLLM, LM Studio   ``http://127.0.0.1:8000/v1``, ``:1234/v1``   if configured
OpenAI            ``https://api.openai.com/v1``               ``OPENAI_API_KEY``
================  ==========================================  =====================

The API key is read, at each call, from the environment variable named by
``api_key_env`` and sent as ``Authorization: Bearer …``; it is never stored
in the config. Without ``api_key_env`` no ``Authorization`` header is sent.

Only ever the configured URL
----------------------------
Proxy variables (``HTTP_PROXY`` …) are ignored and redirects are not
followed (a redirect is reported as an error naming where it pointed), so
requests, and the key, go to ``base_url``'s host and nowhere else.

Limits
------
``timeout_s`` is a deadline for the whole call: connecting, sending, the
headers, every byte of the body and the retries with their waits all fit in
it. A watchdog shuts the socket down when it passes, so a server that trickles
a byte a second cannot keep a call alive (a per-read socket timeout would
never fire). The body is read in pieces and refused past ``max_response_bytes``
(default 8 MB), before it is all in memory. Every error message has the API key
and any ``Authorization``/``Bearer`` value replaced by ``[redacted]``, because
servers echo them and messages quote the server.

Retries
-------
HTTP 429 and 5xx answers, refused or dropped connections and timeouts are
retried up to ``retries`` times, while the deadline leaves time. The wait before retry ``i`` (0-based) is the
server's ``Retry-After`` (seconds or an HTTP date) when given, else
``min(backoff_s * 2**i, max_backoff_s)``; a ``Retry-After`` longer than
``max_retry_after_s`` fails at once with a clear error. A 429 is also noted
in the rate-limit register (``rate_limits``, default
:data:`~orchestrator_gui.engine.concurrency.RATE_LIMITS`): until its
``Retry-After`` (30 s when absent) the engine starts one transform at a time
(:mod:`orchestrator_gui.engine.concurrency`). Other HTTP errors
(400, 401, 404 …) fail at once, quoting the server's error message. A cancel
(``context.extra[CANCEL]``) shuts the socket down, so even a request in
flight stops at once.
"""

from __future__ import annotations

import copy
import email.utils
import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from orchestrator_gui.engine.concurrency import RATE_LIMITS, RateLimits
from orchestrator_gui.engine.tasks import CancelToken
from orchestrator_gui.engine.thinkers import prompts
from orchestrator_gui.engine.thinkers.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    BackendError,
    BackendResult,
    ThinkerCancelled,
    ThinkerTimeout,
    answer_json,
    cancel_token,
    check_cancelled,
    redact,
    snippet,
    usage_tokens,
)
from orchestrator_gui.formats.limits import json_limit_error
from orchestrator_gui.model.thinker import ThinkerContext

#: Status codes worth retrying.
RETRY_STATUS = frozenset({408, 429}) | frozenset(range(500, 600))
#: Bytes of an error answer's body that are read to quote the server's message.
ERROR_BODY_BYTES = 64 * 1024
_READ_BYTES = 64 * 1024


class _Retry(Exception):
    """A failure worth retrying, with the server's Retry-After (seconds) if it sent one."""

    def __init__(self, message: str, retry_after: float | None = None, timeout: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.timeout = timeout


def _connection_factory(cls: type[http.client.HTTPConnection], sink: list[http.client.HTTPConnection],
                        sockets: list[socket.socket]):
    def make(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        conn = cls(host, **kwargs)
        sink.append(conn)
        connect = conn.connect

        def connect_and_keep() -> None:
            connect()
            # urllib drops conn.sock once the headers are in; the response still reads from this
            # socket, so keep it: a cancel or the deadline must be able to shut it down mid-body.
            sockets.append(conn.sock)

        conn.connect = connect_and_keep  # type: ignore[method-assign]
        return conn
    return make


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, sink: list[http.client.HTTPConnection], sockets: list[socket.socket]) -> None:
        super().__init__()
        self._sink = sink
        self._sockets = sockets

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_connection_factory(http.client.HTTPConnection, self._sink, self._sockets), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, sink: list[http.client.HTTPConnection], sockets: list[socket.socket]) -> None:
        super().__init__()
        self._sink = sink
        self._sockets = sockets

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_connection_factory(http.client.HTTPSConnection, self._sink, self._sockets), req,
                            context=self._context)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx then surfaces as an HTTPError


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds or an HTTP date); ``None`` if absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(when.timestamp() - current, 0.0)


def _error_message(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    if json_limit_error(text) is not None:
        return snippet(text)  # not a JSON error object we could read safely: quote its start
    try:
        data = json.loads(text)
    except ValueError:
        return snippet(text) if text else ""
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return err["message"]
    if isinstance(err, str):
        return err
    return snippet(text)


class HttpThinker:
    """A thinker backed by an OpenAI-compatible chat-completions endpoint (see the module docstring).

    Parameters
    ----------
    base_url : str
        e.g. ``http://127.0.0.1:11434/v1``; requests go to ``{base_url}/chat/completions``.
    model : str
        The model name the server knows.
    name : str
        Names the thinker in errors and as the actor of its transactions.
    api_key_env : str, optional
        Name of the environment variable holding the API key.
    temperature : float
        Sampling temperature for generate, refine and aggregate.
    score_temperature : float
        Temperature for score (0: as repeatable as the server allows).
    max_tokens : int, optional
        Sent as ``max_tokens`` when set.
    timeout_s : float
        Deadline of a whole call, all attempts included (see "Limits").
    retries : int
        Extra attempts after a retryable failure.
    max_response_bytes : int
        Largest answer body accepted (default 8 MB).
    backoff_s, max_backoff_s, max_retry_after_s : float
        The waits between attempts (see "Retries").
    environ : mapping, optional
        Where ``api_key_env`` is looked up (default :data:`os.environ`, read at each call).
    sleep : callable, optional
        ``sleep(seconds)`` used for the waits instead of a cancellable wait (for tests).
    rate_limits : RateLimits, optional
        Where an HTTP 429 is noted (default: the process's
        :data:`~orchestrator_gui.engine.concurrency.RATE_LIMITS`).
    """

    def __init__(self, base_url: str, model: str, *, name: str = "http", api_key_env: str | None = None,
                 temperature: float = 0.7, score_temperature: float = 0.0, max_tokens: int | None = None,
                 timeout_s: float = 60.0, retries: int = 3, backoff_s: float = 0.5, max_backoff_s: float = 8.0,
                 max_retry_after_s: float = 60.0, environ: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] | None = None,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES, rate_limits: RateLimits | None = None) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, not {base_url!r}")
        if timeout_s <= 0 or retries < 0 or max_response_bytes < 1:
            raise ValueError("timeout_s and max_response_bytes must be positive and retries not negative")
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.model = model
        self.name = name
        self.api_key_env = api_key_env
        self.temperature = float(temperature)
        self.score_temperature = float(score_temperature)
        self.max_tokens = max_tokens
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.max_retry_after_s = float(max_retry_after_s)
        self._environ = environ
        self._sleep = sleep
        self.max_response_bytes = int(max_response_bytes)
        self.rate_limits = rate_limits if rate_limits is not None else RATE_LIMITS

    def __repr__(self) -> str:
        return f"HttpThinker({self.url!r}, model={self.model!r}, name={self.name!r})"

    def with_temperature(self, temperature: float) -> HttpThinker:
        """A copy sampling at ``temperature`` (for speculative variants)."""
        other = copy.copy(self)
        other.temperature = float(temperature)
        return other

    # ------------------------------------------------------------ the protocol

    def generate(self, text: str, context: ThinkerContext, n: int) -> BackendResult[list[str]]:
        """Up to ``n`` new thoughts: asks for ``n`` numbered lines and parses them."""
        content, result = self.chat(prompts.generate_messages(text, context, n), context)
        return result(prompts.parse_lines(self.name, content, n, context.existing))

    def refine(self, text: str, feedback: str, context: ThinkerContext) -> BackendResult[str]:
        """``text`` rewritten according to ``feedback``."""
        content, result = self.chat(prompts.refine_messages(text, feedback, context), context)
        return result(prompts.parse_text(self.name, "refine", content))

    def aggregate(self, texts: Sequence[str], context: ThinkerContext) -> BackendResult[str]:
        """One thought merging ``texts``."""
        content, result = self.chat(prompts.aggregate_messages(texts, context), context)
        return result(prompts.parse_text(self.name, "aggregate", content))

    def score(self, items: Sequence[str], context: ThinkerContext) -> BackendResult[list[float]]:
        """One score in ``[0, 1]`` per item (numbers outside are clamped)."""
        content, result = self.chat(prompts.score_messages(items, context), context,
                                    temperature=self.score_temperature)
        return result(prompts.parse_scores(self.name, content, len(items)))

    # ------------------------------------------------------------ the exchange

    def api_key(self) -> str | None:
        """The key from ``api_key_env`` (``None`` without one); a :class:`BackendError` when the variable is unset."""
        if self.api_key_env is None:
            return None
        env = os.environ if self._environ is None else self._environ
        key = env.get(self.api_key_env)
        if not key:
            raise BackendError(f"thinker {self.name!r}: the environment variable {self.api_key_env} "
                               "(api_key_env) is not set")
        return key

    def chat(self, messages: list[dict[str, str]], context: ThinkerContext, *,
             temperature: float | None = None) -> tuple[str, Callable[[Any], BackendResult[Any]]]:
        """POST ``messages``; return the answer's content and a function that wraps a value into a
        :class:`BackendResult` with this call's cost (time over all attempts, tokens).

        Raises
        ------
        BackendError
            With the API key and ``Authorization``/``Bearer`` values redacted from the message.
        """
        key: str | None = None
        try:
            key = self.api_key()
            return self._chat(messages, context, temperature, key)
        except BackendError as exc:
            clean = redact(str(exc), (key,))
            if clean == str(exc):
                raise
            raise type(exc)(clean) from None

    def _chat(self, messages: list[dict[str, str]], context: ThinkerContext, temperature: float | None,
              key: str | None) -> tuple[str, Callable[[Any], BackendResult[Any]]]:
        check_cancelled(context, self.name)
        token = cancel_token(context)
        body: dict[str, Any] = {"model": self.model, "messages": messages,
                                "temperature": self.temperature if temperature is None else temperature}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "orchestrator-gui-thinker"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        t0 = time.perf_counter()
        deadline = time.monotonic() + self.timeout_s
        attempts = 0
        while True:
            attempts += 1
            try:
                answer = self._post(data, headers, token, deadline)
                break
            except _Retry as exc:
                tries = f" after {attempts} attempts" if attempts > 1 else ""
                cls = ThinkerTimeout if exc.timeout else BackendError
                if attempts > self.retries:
                    raise cls(f"thinker {self.name!r}: {exc}{tries}") from None
                delay = exc.retry_after
                if delay is not None and delay > self.max_retry_after_s:
                    raise BackendError(f"thinker {self.name!r}: {exc}; the server asks to wait {delay:g} s, "
                                       f"more than max_retry_after_s = {self.max_retry_after_s:g}") from None
                if delay is None:
                    delay = min(self.backoff_s * 2 ** (attempts - 1), self.max_backoff_s)
                if self._sleep is None and time.monotonic() + delay >= deadline:
                    raise ThinkerTimeout(f"thinker {self.name!r}: {exc}{tries}; no time left for another "
                                         f"attempt within timeout_s = {self.timeout_s:g} s") from None
                self._wait(delay, token)
        seconds = time.perf_counter() - t0
        content, usage = self._content(answer)
        prompt, completion, total = usage_tokens(usage)

        def result(value: Any) -> BackendResult[Any]:
            return BackendResult(value, seconds, total, self.name, prompt, completion, attempts)

        return content, result

    def _wait(self, delay: float, token: CancelToken | None) -> None:
        if self._sleep is not None:
            self._sleep(delay)
        elif token is not None:
            token.wait(delay)
        else:
            time.sleep(delay)
        if token is not None and token.cancelled:
            raise ThinkerCancelled(f"thinker {self.name!r}: cancelled ({token.reason})")

    def _post(self, data: bytes, headers: dict[str, str], token: CancelToken | None, deadline: float) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Retry(f"no answer from {self.url} within {self.timeout_s:g} s", timeout=True)
        conns: list[http.client.HTTPConnection] = []
        sockets: list[socket.socket] = []
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect(), _HTTP(conns, sockets),
                                             _HTTPS(conns, sockets))
        expired = threading.Event()

        def shut() -> None:
            for sock in list(sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read in the calling thread
                except OSError:
                    pass

        def expire() -> None:
            expired.set()
            shut()

        # The watchdog enforces the deadline on the whole exchange; socket timeouts bound single reads only.
        watchdog = threading.Timer(remaining, expire)
        watchdog.daemon = True
        if token is not None:
            token.add_callback(shut)
        watchdog.start()
        try:
            req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with opener.open(req, timeout=remaining) as resp:
                    raw = self._read_body(resp)
            except urllib.error.HTTPError as exc:
                self._raise_for(exc, expired)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                if token is not None and token.cancelled:
                    raise ThinkerCancelled(f"thinker {self.name!r}: cancelled ({token.reason})") from None
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                if expired.is_set() or isinstance(reason, TimeoutError | socket.timeout):
                    raise _Retry(f"no answer from {self.url} within {self.timeout_s:g} s", timeout=True) from None
                raise _Retry(f"cannot reach {self.url}: {reason or type(exc).__name__}") from None
        finally:
            watchdog.cancel()
            if token is not None:
                token.remove_callback(shut)
            for conn in conns:
                conn.close()
            for sock in sockets:
                sock.close()
        if token is not None and token.cancelled:
            raise ThinkerCancelled(f"thinker {self.name!r}: cancelled ({token.reason})")
        if expired.is_set():
            raise _Retry(f"no complete answer from {self.url} within {self.timeout_s:g} s", timeout=True)
        try:
            return answer_json(raw, f"thinker {self.name!r}")
        except BackendError:
            raise  # a broken limit: its own message
        except (UnicodeDecodeError, ValueError):
            raise BackendError(f"thinker {self.name!r}: {self.url} answered with invalid JSON "
                               f"{snippet(raw[:1000].decode('utf-8', 'replace'))}") from None

    def _read_body(self, resp: http.client.HTTPResponse) -> bytes:
        """The body, read a piece at a time and refused past ``max_response_bytes``."""
        cap = self.max_response_bytes
        length = resp.headers.get("Content-Length") if resp.headers else None
        if length is not None and length.strip().isdigit() and int(length) > cap:
            raise BackendError(f"thinker {self.name!r}: {self.url} announced an answer of {int(length):,} bytes, "
                               f"more than max_response_bytes = {cap:,}; nothing was read")
        body = bytearray()
        while True:
            chunk = resp.read1(_READ_BYTES)  # one system call at most, so the deadline is checked often
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > cap:
                raise BackendError(f"thinker {self.name!r}: {self.url} sent more than max_response_bytes = "
                                   f"{cap:,} bytes; the answer was dropped")

    def _raise_for(self, exc: urllib.error.HTTPError, expired: threading.Event) -> None:
        try:
            body = exc.read(ERROR_BODY_BYTES)  # enough to quote the message; never the whole of a huge body
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            exc.close()
        if expired.is_set():
            raise _Retry(f"no complete answer from {self.url} within {self.timeout_s:g} s", timeout=True)
        code = exc.code
        detail = _error_message(body)
        what = f"{self.url} answered HTTP {code}" + (f": {detail}" if detail else "")
        if code in RETRY_STATUS:
            retry_after = retry_after_seconds(exc.headers.get("Retry-After") if exc.headers else None)
            if code == 429:
                # The engine starts fewer transforms until then (engine/concurrency.py).
                self.rate_limits.note(self.name, retry_after)
            raise _Retry(what, retry_after)
        if 300 <= code < 400:
            where = exc.headers.get("Location") if exc.headers else None
            raise BackendError(f"thinker {self.name!r}: {self.url} redirects to {where or '?'} (HTTP {code}); "
                               "redirects are not followed: set base_url to the final address")
        hint = ""
        if code in (401, 403):
            hint = (f" (check the key in ${self.api_key_env})" if self.api_key_env
                    else " (the server wants a key: set api_key_env to the variable that holds it)")
        raise BackendError(f"thinker {self.name!r}: {what}{hint}")

    def _content(self, answer: Any) -> tuple[str, Any]:
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            shown = snippet(json.dumps(answer)[:400])
            raise BackendError(f"thinker {self.name!r}: the answer has no choices[0].message.content text: {shown}")
        return content, answer.get("usage")


__all__ = ["RETRY_STATUS", "HttpThinker", "retry_after_seconds"]
