"""Running one agent task: template expansion, the process, its log, its time limit.

A runner command is an **argument list**, never a shell line: the template
``["python", "agent.py", "--file", "{instructions_file}"]`` is expanded
argument by argument in one pass (:func:`expand_template`), so a user's
instructions reach the program byte-exact whatever quotes, ``$()``,
backticks or newlines they contain, and a ``{mode}`` inside the instructions
is not expanded again. A template that puts a placeholder into code a shell
parses (``["sh", "-c", "agent {instructions}"]``) is refused: nothing is
written or started and the run fails with the reason
(:mod:`~orchestrator_gui.engine.runner_shell`).

The process starts in its own session (``start_new_session=True``), so it
leads a process group that holds everything it spawns, and while it runs the
engine process is a child subreaper, so orphans of the run are re-parented to
it (:mod:`~orchestrator_gui.engine.process_tree`). Stopping a run (timeout,
cancel, shutdown) sends SIGTERM to the whole group and to the run's
processes that left it (``setsid``), then SIGKILL to all that is left after
``grace_s``. When the leader exits by itself, leftovers are stopped the same
way: a run ends only when nothing of it is left.

:meth:`ProcessRunner.start` spawns the process in the calling thread and
hands it to the runner's one watcher thread
(:mod:`orchestrator_gui.engine.process_watch`), which waits for all running
processes at once: output is appended raw to the run log
``.orchestrator/runs/<task_id>.log`` and handed to the ``on_event``
callback decoded; time limits, the 80 % warning and cancellation are
applied there. :meth:`ProcessRunner.run` is the blocking form.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator_gui.engine import process_tree
from orchestrator_gui.engine.config import PLACEHOLDERS, RUNS_DIR, EngineConfig
from orchestrator_gui.engine.process_watch import Outcome, ProcessWatcher, Watched, _write_bytes
from orchestrator_gui.engine.runner_shell import find_code_placeholder
from orchestrator_gui.engine.tasks import CancelToken, RunResult, Task, utcnow

#: ``on_event(type, payload)``: ``type`` is ``"spawned"`` ({pid, command}),
#: ``"output"`` ({stream, text}) or ``"warning"`` ({elapsed_s, limit_s}); plain values only.
EventCallback = Callable[[str, dict[str, Any]], None]

_KNOWN = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


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
        # Every run's stdin: one /dev/null descriptor for the runner's life
        # (Popen's DEVNULL opens and closes it on each spawn).
        self._devnull = os.open(os.devnull, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        weakref.finalize(self, os.close, self._devnull).atexit = False  # a run may still be starting
        self._watcher = ProcessWatcher()
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
        """Run an agent task to its end and return what happened (blocks; see :meth:`start`).

        Parameters
        ----------
        task : Task
            A ``schedule`` or ``todo`` task.
        token : CancelToken, optional
            Cancelling it stops the process group (SIGTERM, SIGKILL after grace).
        on_event : callable, optional
            ``on_event(type, payload)``, see :data:`EventCallback`.
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
        box: list[RunResult] = []
        done = threading.Lock()
        done.acquire()

        def finished(result: RunResult) -> None:
            box.append(result)
            done.release()
        self.start(task, finished, token=token, on_event=on_event, timeout_s=timeout_s)
        done.acquire()
        return box[0]

    def start(self, task: Task, on_done: Callable[[RunResult], None], *, token: CancelToken | None = None,
              on_event: EventCallback | None = None, timeout_s: float | None = None) -> None:
        """Start an agent task and return at once; ``on_done(result)`` reports its end.

        The process is spawned in this thread and then watched by the
        runner's :class:`~orchestrator_gui.engine.process_watch.ProcessWatcher`
        thread, which calls ``on_event`` for output and the warning, and
        ``on_done`` at the end. A dry run, or a program that cannot be
        started, calls ``on_done`` in this thread before returning. Parameters
        and result are those of :meth:`run`.
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
        handed_over = False
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
                result = RunResult(**base, status=status, ended_at=utcnow(), duration_s=time.monotonic() - t0,
                                   dry_run=True)
            elif (code := find_code_placeholder(template, PLACEHOLDERS)) is not None:
                # Refused before anything is expanded, written or spawned: the shell (or
                # interpreter) would run whatever the instructions or paths contain.
                error = (f"refused to start the runner: argument {code.index}: "
                         f"{code.message(example=False)} ('orchestrator-gui check' shows the safe form)")
                head.append(f"# finished: failed, {error}")
                _write(log, "\n".join(h for h in head if h is not None) + "\n")
                result = RunResult(**base, status="failed", ended_at=utcnow(), duration_s=time.monotonic() - t0,
                                   command=list(template), error=error)
            else:
                values = self._values(task)
                argv = expand_template(template, values)
                if uses_placeholder(template, "instructions_file"):
                    with open(values["instructions_file"], "wb") as fh:
                        fh.write(task.instructions.encode("utf-8", "surrogatepass"))
                rel = self._config.cwd_for(task.mode)
                cwd = os.path.join(self._root, rel) if rel else self._root
                head += [f"# command: {json.dumps(argv, ensure_ascii=False)}", f"# cwd: {cwd}"]
                _write(log, "\n".join(h for h in head if h is not None) + "\n")
                result = self._spawn(task, argv, cwd, log, token, emit, timeout_s, t0, base, on_done)
                handed_over = result is None
        finally:
            if not handed_over:
                os.close(log)
        if result is not None:
            on_done(result)

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

    def _spawn(self, task: Task, argv: list[str], cwd: str, log: int, token: CancelToken, emit: EventCallback,
               limit: float | None, t0: float, base: dict[str, Any],
               on_done: Callable[[RunResult], None]) -> RunResult | None:
        """Spawn and hand over to the watcher (None), or the result of a run that never started."""
        def failed(error: str) -> RunResult:
            _write(log, f"# finished: failed, {error}\n")
            return RunResult(**base, status="failed", ended_at=utcnow(), duration_s=time.monotonic() - t0,
                             command=argv, error=error)

        if token.cancelled:
            _write(log, "# finished: cancelled before start\n")
            return RunResult(**base, status="cancelled", ended_at=utcnow(), duration_s=time.monotonic() - t0,
                             command=argv)
        # Subreaper from before the spawn (a grandchild may be orphaned at once) to the run's end:
        # orphans of the run are then re-parented to us, where the watcher finds and kills them.
        process_tree.hold_subreaper()
        try:
            try:
                proc = subprocess.Popen(argv, stdin=self._devnull, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, cwd=cwd, env=self._env(task),
                                        start_new_session=True, close_fds=True)
            except BaseException:
                process_tree.release_subreaper()
                raise
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
        process_tree.add_leader(proc.pid)
        emit("spawned", {"pid": proc.pid, "command": list(argv)})

        def ended(out: Outcome) -> None:
            # In the watcher thread.
            try:
                status = out.status or ("completed" if out.exit_code == 0 else "failed")
                duration = time.monotonic() - t0
                tail = out.stderr_tail.decode("utf-8", "replace").lstrip("\ufffd")
                end = "" if out.last_byte in (b"", b"\n") else "\n"
                with contextlib.suppress(OSError):
                    _write(log, f"{end}# finished: {status}, exit {out.exit_code}, {duration:.3f} s\n")
            finally:
                os.close(log)
                process_tree.remove_leader(proc.pid)  # reaped by now (Watched.reap)
                process_tree.release_subreaper()
            on_done(RunResult(**base, status=status, exit_code=out.exit_code, ended_at=utcnow(),
                              duration_s=duration, command=argv, stderr_tail=tail, warned=out.warned))

        watched = Watched(proc, log, token, emit, limit, self._config.timeouts.warn_fraction,
                          self._config.grace_s, self.stderr_tail_bytes, t0, ended, tag=task.task_id)
        try:
            self._watcher.watch(watched)
        except Exception as exc:  # no watcher thread (none left to start): stop the run at once
            watched.reap()
            process_tree.remove_leader(proc.pid)
            process_tree.release_subreaper()
            return failed(f"cannot watch the runner: {exc}")
        return None


def _write(fd: int, text: str) -> None:
    _write_bytes(fd, text.encode("utf-8", "replace"))


__all__ = ["EventCallback", "ProcessRunner", "expand_template", "run_paths", "uses_placeholder"]
