"""Running one agent task: template expansion, the process, its log, its time limit.

A runner command is an **argument list**, never a shell line: the template
``["python", "agent.py", "--file", "{instructions_file}"]`` is expanded
argument by argument in one pass (:func:`expand_template`), so a user's
instructions reach the program byte-exact whatever quotes, ``$()``,
backticks or newlines they contain, and a ``{mode}`` inside the instructions
is not expanded again.

The process starts in its own session (``start_new_session=True``), so it
leads a process group that holds everything it spawns. Stopping a run
(timeout, cancel, shutdown) sends SIGTERM to the whole group, then SIGKILL
after ``grace_s``. A run's group never outlives the run: when the leader
exits, leftovers get SIGTERM too (and SIGKILL if they keep our pipes open).

One thread does all the waiting: a selector watches stdout, stderr, a
wake-up pipe (for cancel) and a pidfd (for exit), with the next deadline
(warning, limit, SIGKILL) as its timeout. Output is appended raw to the run
log ``.orchestrator/runs/<task_id>.log`` and handed to the ``on_event``
callback decoded.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.config import PLACEHOLDERS, RUNS_DIR, EngineConfig
from orchestrator_gui.engine.tasks import CancelToken, RunResult, Task, utcnow

#: ``on_event(type, payload)``: ``type`` is ``"spawned"`` ({pid, command}),
#: ``"output"`` ({stream, text}) or ``"warning"`` ({elapsed_s, limit_s}); plain values only.
EventCallback = Callable[[str, dict[str, Any]], None]

_KNOWN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")
_READ = 65536


def expand_template(template: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """Expand the known ``{placeholders}`` in each argument, in one pass.

    Parameters
    ----------
    template : sequence of str
        The runner argument list.
    values : mapping
        Text for each placeholder in :data:`~orchestrator_gui.engine.config.PLACEHOLDERS`.

    Returns
    -------
    list of str
        One argument per template item (an argument never splits). Unknown
        ``{names}`` and other braces are kept literally; substituted text is
        never scanned again.
    """
    return [_KNOWN.sub(lambda m: values.get(m.group(1), m.group(0)), arg) for arg in template]


def uses_placeholder(template: Sequence[str], name: str) -> bool:
    """Whether any argument of ``template`` contains ``{name}``."""
    return any("{" + name + "}" in arg for arg in template)


def run_paths(workspace: str | os.PathLike[str], task_id: str) -> tuple[Path, Path]:
    """``(log, instructions file)`` of a run under ``<workspace>/.orchestrator/runs/``."""
    runs = Path(workspace) / RUNS_DIR
    return runs / f"{task_id}.log", runs / f"{task_id}.instructions.md"


class ProcessRunner:
    """Runs agent tasks for one workspace as configured.

    Parameters
    ----------
    workspace : path-like
        The workspace root (``{workspace}``; default working folder; where
        ``.orchestrator/runs/`` is).
    config : EngineConfig
        Runner templates, environment, grace period, warning fraction.
    dry_run : bool
        Never spawn anything, even when a runner is configured.
    stderr_tail_bytes : int
        How much of the end of stderr a :class:`RunResult` keeps.
    """

    def __init__(self, workspace: str | os.PathLike[str], config: EngineConfig, *,
                 dry_run: bool = False, stderr_tail_bytes: int = 4096) -> None:
        self.workspace = Path(workspace)
        # Resolved once: each run needs these strings, and path objects and
        # realpath() calls per run were a large part of the runner's own CPU.
        self._root = str(self.workspace.resolve())
        self._runs = os.path.join(self._root, str(RUNS_DIR))
        self._config = config
        self._env_cache: dict[str, dict[bytes, bytes]] = {}
        self.dry_run = dry_run
        self.stderr_tail_bytes = stderr_tail_bytes

    @property
    def config(self) -> EngineConfig:
        """The config in use (assigning a new one takes effect for the next run)."""
        return self._config

    @config.setter
    def config(self, config: EngineConfig) -> None:
        self._config = config
        self._env_cache = {}

    def template_for(self, task: Task) -> list[str] | None:
        """The runner template for the task's mode, or None (dry run)."""
        return None if self.dry_run else self._config.runner_for(task.mode)

    def command_for(self, task: Task) -> list[str] | None:
        """The expanded argument list the task would run, or None for a dry run."""
        template = self.template_for(task)
        if template is None:
            return None
        return expand_template(template, self._values(task))

    def _values(self, task: Task) -> dict[str, str]:
        return {
            "instructions": task.instructions,
            "instructions_file": os.path.join(self._runs, f"{task.task_id}.instructions.md"),
            "mode": task.mode,
            "task_id": task.task_id,
            "schedule_id": task.subject_id if task.kind == "schedule" and task.subject_id else "",
            "workspace": self._root,
        }

    def run(self, task: Task, *, token: CancelToken | None = None, on_event: EventCallback | None = None,
            timeout_s: float | None = None) -> RunResult:
        """Run an agent task to its end and return what happened.

        Parameters
        ----------
        task : Task
            A ``schedule`` or ``todo`` task.
        token : CancelToken, optional
            Cancelling it stops the process group (SIGTERM, SIGKILL after grace).
        on_event : callable, optional
            ``on_event(type, payload)`` from this thread, see :data:`EventCallback`.
        timeout_s : float or None
            The limit (the caller resolves it with :meth:`EngineConfig.timeout_for`);
            ``None`` = no limit.

        Returns
        -------
        RunResult
            ``completed`` (exit 0), ``failed`` (non-zero exit, or the program
            could not be started: see ``error``), ``timeout`` or ``cancelled``.
            Never raises for a failing program.
        """
        token = token or CancelToken()
        emit = on_event or (lambda _t, _p: None)
        log_path = os.path.join(self._runs, f"{task.task_id}.log")
        started_at, t0 = utcnow(), time.monotonic()
        template = self.template_for(task)
        base = dict(task_id=task.task_id, kind=task.kind, subject_id=task.subject_id, title=task.title,
                    mode=task.mode, started_at=started_at, timeout_s=timeout_s, log_path=log_path,
                    meta=dict(task.meta))
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        try:
            log = os.open(log_path, flags, 0o666)
        except FileNotFoundError:  # first run in this workspace (or the folder was removed)
            os.makedirs(self._runs, exist_ok=True)
            log = os.open(log_path, flags, 0o666)
        try:
            head = [f"# orchestrator-gui run {task.task_id}",
                    f"# kind: {task.kind}  subject: {task.subject_id or '-'}  mode: {task.mode}",
                    f"# title: {task.title}" if task.title else None,
                    f"# started: {started_at.isoformat()}",
                    f"# time limit: {f'{timeout_s:g} s' if timeout_s else 'none'}"]
            if template is None:
                why = ("dry run requested" if self.dry_run else
                       "no runner is configured in .orchestrator/config.toml")
                head.append(f"# DRY RUN: {why}; nothing was started.")
                if task.instructions:
                    head.append("# instructions:")
                    head += ["#   " + ln for ln in task.instructions.splitlines()]
                cancelled = token.cancelled
                status = "cancelled" if cancelled else "completed"
                head.append(f"# finished: {status} (dry run), 0 s")
                _write(log, "\n".join(h for h in head if h is not None) + "\n")
                return RunResult(**base, status=status, ended_at=utcnow(), duration_s=time.monotonic() - t0,
                                 dry_run=True)
            values = self._values(task)
            argv = expand_template(template, values)
            if uses_placeholder(template, "instructions_file"):
                with open(values["instructions_file"], "wb") as fh:
                    fh.write(task.instructions.encode("utf-8", "surrogatepass"))
            rel = self._config.cwd_for(task.mode)
            cwd = os.path.join(self._root, rel) if rel else self._root
            head += [f"# command: {json.dumps(argv, ensure_ascii=False)}", f"# cwd: {cwd}"]
            _write(log, "\n".join(h for h in head if h is not None) + "\n")
            return self._spawn_and_watch(task, argv, cwd, log, token, emit, timeout_s, t0, base)
        finally:
            os.close(log)

    # ----------------------------------------------------------- internals

    def _env(self, task: Task) -> dict[bytes, bytes]:
        # Bytes, built once per mode: Popen would otherwise re-encode every
        # variable of os.environ on every spawn.
        base = self._env_cache.get(task.mode)
        if base is None:
            base = dict(os.environb)
            base.update((os.fsencode(k), os.fsencode(v)) for k, v in self._config.env_for(task.mode).items())
            base[b"ORCHESTRATOR_WORKSPACE"] = os.fsencode(self._root)
            self._env_cache[task.mode] = base
        env = dict(base)
        env[b"ORCHESTRATOR_TASK_ID"] = task.task_id.encode()
        env[b"ORCHESTRATOR_TASK_KIND"] = task.kind.encode()
        env[b"ORCHESTRATOR_MODE"] = os.fsencode(task.mode)
        return env

    def _spawn_and_watch(self, task: Task, argv: list[str], cwd: str, log: int, token: CancelToken,
                         emit: EventCallback, limit: float | None, t0: float, base: dict[str, Any]) -> RunResult:
        def failed(error: str) -> RunResult:
            _write(log, f"# finished: failed, {error}\n")
            return RunResult(**base, status="failed", ended_at=utcnow(), duration_s=time.monotonic() - t0,
                             command=argv, error=error)

        if token.cancelled:
            _write(log, "# finished: cancelled before start\n")
            return RunResult(**base, status="cancelled", ended_at=utcnow(), duration_s=time.monotonic() - t0,
                             command=argv)
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, cwd=cwd, env=self._env(task),
                                    start_new_session=True, close_fds=True)
        except FileNotFoundError:
            if not os.path.isdir(cwd):
                return failed(f"working folder {cwd} does not exist")
            return failed(f"runner program not found: {argv[0]}")
        except PermissionError:
            return failed(f"runner program is not executable: {argv[0]}")
        except ValueError as exc:  # NUL byte in an argument
            return failed(f"cannot pass an argument to the runner: {exc}")
        except OSError as exc:
            hint = " (use {instructions_file} for long instructions)" if exc.errno == 7 else ""
            return failed(f"cannot start the runner: {exc.strerror or exc}{hint}")
        emit("spawned", {"pid": proc.pid, "command": list(argv)})
        watch = _Watch(proc, log, token, emit, limit, self.config.timeouts.warn_fraction,
                       self.config.grace_s, self.stderr_tail_bytes, t0)
        status, warned = watch.run()
        code = proc.returncode
        if status is None:
            status = "completed" if code == 0 else "failed"
        duration = time.monotonic() - t0
        tail = bytes(watch.tail).decode("utf-8", "replace").lstrip("\ufffd")
        end = "" if watch.last_byte in (b"", b"\n") else "\n"
        _write(log, f"{end}# finished: {status}, exit {code}, {duration:.3f} s\n")
        return RunResult(**base, status=status, exit_code=code, ended_at=utcnow(), duration_s=duration,
                         command=argv, stderr_tail=tail, warned=warned)


def _write(fd: int, text: str) -> None:
    _write_bytes(fd, text.encode("utf-8", "replace"))


def _write_bytes(fd: int, data: bytes) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class _Watch:
    """The selector loop of one running process (see the module docstring)."""

    def __init__(self, proc: subprocess.Popen[bytes], log: int, token: CancelToken, emit: EventCallback,
                 limit: float | None, warn_fraction: float, grace: float, tail_bytes: int, t0: float) -> None:
        self.proc, self.log, self.token, self.emit = proc, log, token, emit
        self.limit, self.grace, self.tail_bytes, self.t0 = limit, grace, tail_bytes, t0
        self.deadline = t0 + limit if limit else None
        self.warn_at = t0 + limit * warn_fraction if limit else None
        self.tail = bytearray()
        self.last_byte = b""
        self._wake_lock = threading.Lock()
        self._wake_w: int | None = None

    def _wake(self) -> None:
        # Runs in the cancelling thread; the lock keeps it from writing to a
        # closed (and perhaps reused) descriptor.
        with self._wake_lock:
            if self._wake_w is not None:
                with contextlib.suppress(OSError):
                    os.write(self._wake_w, b"x")

    def run(self) -> tuple[str | None, bool]:
        proc = self.proc
        pgid = proc.pid  # start_new_session: the leader's pid is the group id
        sel = selectors.DefaultSelector()
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        self._wake_w = wake_w
        pidfd: int | None = None
        try:
            pidfd = os.pidfd_open(proc.pid)  # type: ignore[attr-defined]
        except (AttributeError, OSError):
            pidfd = None  # pragma: no cover - not Linux ≥ 5.3: poll instead
        assert proc.stdout is not None and proc.stderr is not None
        streams = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
        decoders = {name: codecs.getincrementaldecoder("utf-8")("replace") for name in streams.values()}
        for fd in streams:
            sel.register(fd, selectors.EVENT_READ)
        sel.register(wake_r, selectors.EVENT_READ)
        if pidfd is not None:
            sel.register(pidfd, selectors.EVENT_READ)
        self.token.add_callback(self._wake)
        status: str | None = None
        warned = False
        exited = False
        term_at: float | None = None   # when SIGTERM went to the group
        killed = False
        abandon_at: float | None = None  # give up on pipes held by an escaped process
        try:
            while streams or not exited:
                now = time.monotonic()
                if self.warn_at is not None and not warned and now >= self.warn_at:
                    warned = True
                    self.emit("warning", {"elapsed_s": now - self.t0, "limit_s": self.limit})
                if status is None and self.deadline is not None and now >= self.deadline:
                    status = "timeout"
                if status is None and self.token.cancelled:
                    status = "cancelled"
                stop = status is not None or (exited and bool(streams))
                if stop and term_at is None:
                    _killpg(pgid, signal.SIGTERM)
                    term_at = now
                if term_at is not None and not killed and now >= term_at + self.grace:
                    _killpg(pgid, signal.SIGKILL)
                    killed = True
                    abandon_at = now + max(self.grace, 1.0)
                if abandon_at is not None and exited and now >= abandon_at:
                    # Something outside the group (it called setsid) keeps our
                    # pipes open; the group itself is dead, so stop reading.
                    break
                waits = [t for t in (None if warned else self.warn_at,
                                     self.deadline if status is None else None,
                                     term_at + self.grace if term_at is not None and not killed else None,
                                     abandon_at)
                         if t is not None]
                timeout = max(0.0, min(waits) - now) if waits else None
                if pidfd is None:
                    timeout = 0.05 if timeout is None else min(timeout, 0.05)
                for key, _ in sel.select(timeout):
                    fd = key.fd
                    if fd == wake_r:
                        with contextlib.suppress(BlockingIOError):
                            os.read(wake_r, 64)
                    elif fd == pidfd:
                        exited = True
                        sel.unregister(pidfd)
                    else:
                        self._read(fd, streams, decoders, sel)
                if pidfd is None and not exited:
                    exited = proc.poll() is not None
        finally:
            self.token.remove_callback(self._wake)
            with self._wake_lock:
                self._wake_w = None
            os.close(wake_r)
            os.close(wake_w)
            sel.close()
            # The leader is exited but not yet reaped, so its pid (the group id)
            # cannot have been reused: whatever is left of the group goes now.
            _killpg(pgid, signal.SIGTERM)
            if not exited:  # an exception above: do not leave the process behind
                _killpg(pgid, signal.SIGKILL)
            proc.wait()
            for f in (proc.stdout, proc.stderr):
                with contextlib.suppress(OSError):
                    f.close()
            if pidfd is not None:
                os.close(pidfd)
        return status, warned

    def _read(self, fd: int, streams: dict[int, str], decoders: dict[str, Any],
              sel: selectors.BaseSelector) -> None:
        data = os.read(fd, _READ)
        name = streams[fd]
        if not data:
            sel.unregister(fd)
            del streams[fd]
            rest = decoders[name].decode(b"", final=True)
            if rest:
                self.emit("output", {"stream": name, "text": rest})
            return
        _write_bytes(self.log, data)
        self.last_byte = data[-1:]
        if name == "stderr":
            self.tail += data
            if len(self.tail) > self.tail_bytes:
                del self.tail[:len(self.tail) - self.tail_bytes]
        text = decoders[name].decode(data)
        if text:
            self.emit("output", {"stream": name, "text": text})


__all__ = ["EventCallback", "ProcessRunner", "expand_template", "run_paths", "uses_placeholder"]
