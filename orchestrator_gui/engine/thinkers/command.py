"""The command thinker: any local program that reads a JSON request on stdin and writes a JSON answer.

Protocol
--------
The program is started for every call, from an argument list (never a
shell), in its own process group, with the request as UTF-8 JSON on stdin:

.. code-block:: json

    {"op": "generate", "text": "Title\\nbody", "n": 3, "context": {...}}
    {"op": "refine", "text": "...", "feedback": "add: tests", "context": {...}}
    {"op": "aggregate", "texts": ["...", "..."], "context": {...}}
    {"op": "score", "items": ["...", "..."], "context": {...}}

``context`` is :func:`~orchestrator_gui.engine.thinkers.base.context_json`
(node ids, existing texts, neighbours, ``now``, the score arrays, ``extra``).
A ``"temperature"`` key is added when the thinker has one (speculative
variants). The program writes one JSON object on stdout:

=============  =================================================
``generate``   ``{"results": ["text", ...]}`` (at most ``n``)
``refine``     ``{"text": "..."}``
``aggregate``  ``{"text": "..."}``
``score``      ``{"scores": [0.7, ...]}`` (one number per item)
=============  =================================================

plus, optionally, ``"usage": {"prompt_tokens": P, "completion_tokens": C}``.
An answer ``{"error": "message"}`` reports a failure in the program's words.

Failures are :class:`~orchestrator_gui.engine.thinkers.base.BackendError`
with the thinker's name: a non-zero exit (with the tail of stderr), invalid
JSON or a wrong shape on stdout, a missing program, an answer larger than
``max_response_bytes`` (default 8 MB; stdout is read a piece at a time and
the group is killed as soon as it passes the cap). Past ``timeout_s`` the
process group gets SIGTERM, then SIGKILL after ``grace_s``, and
:class:`~orchestrator_gui.engine.thinkers.base.ThinkerTimeout` is raised; a
cancel (``context.extra[CANCEL]``) kills the group at once and raises
:class:`~orchestrator_gui.engine.thinkers.base.ThinkerCancelled`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.thinkers.base import (
    DEFAULT_MAX_RESPONSE_BYTES,
    BackendError,
    BackendResult,
    ThinkerCancelled,
    ThinkerTimeout,
    answer_json,
    cancel_token,
    check_cancelled,
    check_scores,
    check_texts,
    context_json,
    snippet,
    usage_tokens,
)
from orchestrator_gui.model.thinker import ThinkerContext

#: Characters of stderr quoted in the error of a failed call.
STDERR_TAIL = 2000
#: Seconds to wait for the pipes to close after SIGKILL (a descendant that left the group may hold them).
_REAP_S = 5.0
#: Bytes of stderr kept (its tail), whatever the program writes.
_STDERR_KEEP = 64 * 1024
_READ_BYTES = 64 * 1024


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class CommandThinker:
    """A thinker that runs ``command`` once per call (see the module docstring for the protocol).

    Parameters
    ----------
    command : sequence of str
        The argument list, e.g. ``["python", "think.py"]``; the first item names the program.
    name : str
        Names the thinker in errors and as the actor of its transactions.
    timeout_s : float
        Time limit per call.
    env : mapping, optional
        Variables added to the inherited environment.
    cwd : path-like, optional
        Working folder (default: the current one).
    grace_s : float
        Seconds between SIGTERM and SIGKILL at the time limit.
    temperature : float, optional
        Sent as ``"temperature"`` in every request when set.
    max_response_bytes : int
        Largest answer accepted on stdout (default 8 MB).
    """

    def __init__(self, command: Sequence[str], *, name: str = "command", timeout_s: float = 60.0,
                 env: Mapping[str, str] | None = None, cwd: str | os.PathLike[str] | None = None,
                 grace_s: float = 2.0, temperature: float | None = None,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        if not command or not str(command[0]).strip():
            raise ValueError("command must be a non-empty argument list")
        if timeout_s <= 0 or max_response_bytes < 1:
            raise ValueError("timeout_s and max_response_bytes must be positive")
        self.command = [str(a) for a in command]
        self.name = name
        self.timeout_s = float(timeout_s)
        self.env = dict(env or {})
        self.cwd = None if cwd is None else str(cwd)
        self.grace_s = float(grace_s)
        self.temperature = temperature
        self.max_response_bytes = int(max_response_bytes)

    def __repr__(self) -> str:
        return f"CommandThinker({self.command!r}, name={self.name!r})"

    def with_temperature(self, temperature: float) -> CommandThinker:
        """A copy that sends ``temperature`` in its requests (for speculative variants)."""
        other = copy.copy(self)
        other.temperature = float(temperature)
        return other

    # ------------------------------------------------------------ the protocol

    def generate(self, text: str, context: ThinkerContext, n: int) -> BackendResult[list[str]]:
        """Up to ``n`` new thoughts from ``text``: ``{"op": "generate"}`` → ``{"results": [...]}``."""
        answer, result = self.request({"op": "generate", "text": text, "n": n}, context)
        return result(check_texts(self.name, "generate", self._field(answer, "results"), n))

    def refine(self, text: str, feedback: str, context: ThinkerContext) -> BackendResult[str]:
        """``text`` revised by ``feedback``: ``{"op": "refine"}`` → ``{"text": ...}``."""
        answer, result = self.request({"op": "refine", "text": text, "feedback": feedback}, context)
        return result(self._text(answer, "refine"))

    def aggregate(self, texts: Sequence[str], context: ThinkerContext) -> BackendResult[str]:
        """One text merging ``texts``: ``{"op": "aggregate"}`` → ``{"text": ...}``."""
        answer, result = self.request({"op": "aggregate", "texts": list(texts)}, context)
        return result(self._text(answer, "aggregate"))

    def score(self, items: Sequence[str], context: ThinkerContext) -> BackendResult[list[float]]:
        """One score per item: ``{"op": "score"}`` → ``{"scores": [...]}``."""
        answer, result = self.request({"op": "score", "items": list(items)}, context)
        return result(check_scores(self.name, self._field(answer, "scores"), len(items)))

    # ------------------------------------------------------------ the exchange

    def request(self, payload: dict[str, Any], context: ThinkerContext) -> tuple[dict[str, Any], Any]:
        """Run the program on ``payload`` (plus ``context`` and ``temperature``); return its answer object
        and a function that wraps a value into a :class:`BackendResult` with this call's cost."""
        check_cancelled(context, self.name)
        body = {**payload, "context": context_json(context)}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        t0 = time.perf_counter()
        out = self._run(data, context, payload["op"])
        seconds = time.perf_counter() - t0
        try:
            answer = answer_json(out, f"thinker {self.name!r} ({self.command[0]})")
        except UnicodeDecodeError as exc:
            raise BackendError(f"thinker {self.name!r} wrote invalid UTF-8 on stdout (byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            shown = out.decode("utf-8", "replace").strip()
            what = "nothing" if not shown else f"invalid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
            raise BackendError(f"thinker {self.name!r} ({self.command[0]}) wrote {what} on stdout"
                               + (f": {snippet(shown)}" if shown else "")) from None
        if not isinstance(answer, dict):
            raise BackendError(f"thinker {self.name!r} wrote JSON {type(answer).__name__}, not an object")
        if isinstance(answer.get("error"), str):
            raise BackendError(f"thinker {self.name!r} reported an error: {answer['error']}")
        prompt, completion, total = usage_tokens(answer.get("usage"))

        def result(value: Any) -> BackendResult[Any]:
            return BackendResult(value, seconds, total, self.name, prompt, completion)

        return answer, result

    def _field(self, answer: dict[str, Any], key: str) -> Any:
        if key not in answer:
            raise BackendError(f"thinker {self.name!r}: the answer has no {key!r} (keys: {sorted(answer)})")
        return answer[key]

    def _text(self, answer: dict[str, Any], op: str) -> str:
        value = self._field(answer, "text")
        if not isinstance(value, str) or not value.strip():
            raise BackendError(f"thinker {self.name!r}: {op} must give a non-empty \"text\" string")
        return value

    def _run(self, data: bytes, context: ThinkerContext, op: str) -> bytes:
        env = {**os.environ, **self.env} if self.env else None
        try:
            proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=self.cwd, env=env, start_new_session=True,
                                    close_fds=True)
        except FileNotFoundError:
            if self.cwd is not None and not Path(self.cwd).is_dir():
                raise BackendError(f"thinker {self.name!r}: working folder {self.cwd} does not exist") from None
            raise BackendError(f"thinker {self.name!r}: program not found: {self.command[0]}") from None
        except PermissionError:
            raise BackendError(f"thinker {self.name!r}: program is not executable: {self.command[0]}") from None
        except (OSError, ValueError) as exc:
            raise BackendError(f"thinker {self.name!r}: cannot start {self.command[0]}: {exc}") from None
        stopped: list[str] = []  # why the group was killed: "timeout", "cancelled" or "too large"
        lock = threading.Lock()

        def stop(why: str, sig: int = signal.SIGKILL) -> None:
            with lock:
                if proc.returncode is None and not stopped:
                    stopped.append(why)
                    _killpg(proc.pid, sig)

        def cancel() -> None:
            # Runs in the cancelling thread: kill at once, a cancelled answer is not wanted anyway.
            stop("cancelled")

        out = _Reader(proc.stdout, self.max_response_bytes, lambda: stop("too large"))
        err = _Reader(proc.stderr, _STDERR_KEEP, None)
        feeder = threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True)
        token = cancel_token(context)
        if token is not None:
            token.add_callback(cancel)
        try:
            for thread in (feeder, out, err):
                thread.start()
            try:
                proc.wait(timeout=self.timeout_s)
            except subprocess.TimeoutExpired:
                self._stop(proc, stop)
            _join((out, err, feeder))
        finally:
            if token is not None:
                token.remove_callback(cancel)
        why = stopped[0] if stopped else None
        if why == "cancelled":
            raise ThinkerCancelled(f"thinker {self.name!r}: cancelled ({token.reason if token else 'cancelled'})")
        if why == "too large":
            raise BackendError(f"thinker {self.name!r} ({self.command[0]}) wrote more than max_response_bytes = "
                               f"{self.max_response_bytes:,} bytes on stdout (process group killed)")
        if why == "timeout":
            raise ThinkerTimeout(f"thinker {self.name!r} did not answer {op} within {self.timeout_s:g} s "
                                 f"(process group killed)")
        code = proc.returncode
        if code != 0:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
            tail = err.data().decode("utf-8", "replace").strip()[-STDERR_TAIL:]
            raise BackendError(f"thinker {self.name!r} ({self.command[0]}) {how}"
                               + (f"; stderr: {tail}" if tail else " and wrote nothing on stderr"))
        return out.data()

    def _stop(self, proc: subprocess.Popen[bytes], stop: Any) -> None:
        """Past the time limit: SIGTERM to the group, SIGKILL after ``grace_s``."""
        stop("timeout", signal.SIGTERM)
        try:
            proc.wait(timeout=self.grace_s)
        except subprocess.TimeoutExpired:
            _killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class _Reader(threading.Thread):
    """Reads a pipe to its end a piece at a time, keeping at most ``cap`` bytes.

    With ``on_overflow`` the first ``cap`` bytes are kept and ``on_overflow``
    is called once when more arrive (the caller kills the writer); without it
    the last ``cap`` bytes are kept (a tail of stderr). Reading goes on to the
    end either way, so the writer never blocks on a full pipe.
    """

    def __init__(self, stream: Any, cap: int, on_overflow: Any) -> None:
        super().__init__(daemon=True)
        self._fd = stream.fileno()
        self._stream = stream
        self._cap = cap
        self._on_overflow = on_overflow
        self._buf = bytearray()
        self.overflowed = False

    def run(self) -> None:
        try:
            while True:
                chunk = os.read(self._fd, _READ_BYTES)
                if not chunk:
                    return
                if self._on_overflow is None:
                    self._buf += chunk
                    del self._buf[:-self._cap]
                elif not self.overflowed:
                    self._buf += chunk
                    if len(self._buf) > self._cap:
                        self.overflowed = True
                        del self._buf[self._cap:]
                        self._on_overflow()
        except OSError:
            return
        finally:
            # Closed here, by the one thread that reads it, so its descriptor number is never
            # reused under a read still in progress.
            with contextlib.suppress(OSError, ValueError):
                self._stream.close()

    def data(self) -> bytes:
        return bytes(self._buf)


def _feed(stdin: Any, data: bytes) -> None:
    # In its own thread: a program that answers before reading all of a large request must not deadlock us.
    try:
        stdin.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        with contextlib.suppress(OSError, ValueError):
            stdin.close()


def _join(threads: Sequence[threading.Thread]) -> None:
    """Wait for the pipes to reach their end; give up on them after ``_REAP_S``.

    A descendant that left the process group may hold the pipes open after the
    program itself is gone: its readers are then left behind (daemon threads
    that end, and close their pipe, when that descendant does) and the answer
    is what arrived so far.
    """
    end = time.monotonic() + _REAP_S
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))


__all__ = ["STDERR_TAIL", "CommandThinker"]
