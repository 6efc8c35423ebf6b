"""The engine: queue → workers → runner, with time tracking, failure counting and events.

:class:`Engine` owns the logic and is independent of how worker threads are
made: it hands each startable task to a ``spawn(job)`` callable. The
headless :class:`ThreadExecutor` spawns on a plain thread pool; the Qt
adapter (``orchestrator_gui.ui.executor_qt``) on a ``QThreadPool``. The
engine itself enforces every limit, so a backend just runs what it gets.

Each agent run: ``started`` timing row → runner (time limit, 80 % warning,
cancel) → finished timing row → run record and failure counter (3-strike
escalation) → ``finished`` event → the handle resolves. A **dry run** (no
runner for the task's mode, or ``dry_run=True``) writes no timing row and no
other workspace file: only its run log and its run record, both under
``.orchestrator/`` (:mod:`.run_records`), so the agents and the Roo extension,
which read ``task_timing.tsv`` and ``schedules.json``, never take a rehearsal
for a run. The 80 % warning is written to the run log (a ``# warning:``
line) and the run records, and sent as a ``warning`` event. Listeners get
:class:`EngineEvent` objects holding plain values only, in engine threads
(pool workers, the process watcher, the timing writer).

A worker thread only starts an agent run: it queues the ``started`` row
(written by the tracker's writer thread) and spawns the process, which the
runner's one watcher thread then follows (output, limits, cancel). When the
process has ended, the watcher queues the finished row and frees the run's
concurrency slot, so the next task starts at once; failure counting, the
``finished`` event, the handle and the run's dependents follow in the writer
thread once the finished row is on disk. So a resolved handle always has
both rows in the file, and a task that runs ``after`` another waits for all
of it. (engine_bench, 2 cores: this took tracked throughput from ~0.5 to
~0.85 of a plain thread pool running the same ``echo``.)

As tasks start, the engine asks its :class:`~.concurrency.ConcurrencyGovernor`
how many may run now: the ``[limits]``, lowered while the machine's load
average is above what its CPUs carry or a thinker is rate-limited (HTTP 429
until its ``Retry-After``), never raised (:mod:`.concurrency`). While that
holds queued tasks back, a timer looks again, so they start when the load
drops even if nothing finishes. :attr:`Engine.concurrency` says what may run
and why, for the status bar.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from orchestrator_gui.engine import process_watch, timetrack
from orchestrator_gui.engine.concurrency import Concurrency, ConcurrencyGovernor, adapt_enabled
from orchestrator_gui.engine.config import EngineConfig, LimitsConfig, load_config
from orchestrator_gui.engine.engine_pauses import PauseControl
from orchestrator_gui.engine.failures import FailureTracker
from orchestrator_gui.engine.handles import TaskHandle
from orchestrator_gui.engine.queue import TaskQueue
from orchestrator_gui.engine.run_records import RunRecords, record_warning, run_record
from orchestrator_gui.engine.runner import ProcessRunner, run_paths
from orchestrator_gui.engine.tasks import RunResult, Task, utcnow
from orchestrator_gui.engine.timetrack import TimeTracker

EventType = Literal["queued", "started", "spawned", "output", "warning", "finished", "escalated", "error"]
Spawn = Callable[[Callable[[], None]], None]


@dataclass(frozen=True)
class EngineEvent:
    """Something happened to a task; every field is a plain value.

    Attributes
    ----------
    type : str
        ``queued``; ``started``; ``spawned`` ({pid, command}); ``output``
        ({stream, text}); ``warning`` ({elapsed_s, limit_s}: 80 % of the time
        limit); ``finished`` (``RunResult.model_dump(mode="json")``);
        ``escalated`` (``Escalation.model_dump(mode="json")``); ``error``
        ({message}: tracking could not be written, the run went on).
    task_id, kind, subject_id : str / str / str or None
        The task concerned.
    data : dict
        The payload described above.
    """

    type: EventType
    task_id: str
    kind: str
    subject_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


#: Engine threads that may start agent runs themselves (see Engine._dispatch).
_SERVICE_THREADS = (process_watch.THREAD_NAME, timetrack.THREAD_NAME)


class EngineClosed(RuntimeError):
    """The engine was shut down; it accepts no more tasks."""


_LIVE: weakref.WeakSet[Engine] = weakref.WeakSet()


def _shutdown_all() -> None:
    for engine in list(_LIVE):
        with contextlib.suppress(Exception):
            engine.shutdown(wait=True, cancel=True)


# Registered with threading (not atexit) so it runs *before* thread pools join
# their workers at interpreter exit: otherwise exit would wait for the runs.
_register = getattr(threading, "_register_atexit", None)
if _register is not None:
    _register(_shutdown_all)
else:  # pragma: no cover
    import atexit

    atexit.register(_shutdown_all)


class Engine(PauseControl):
    """Runs tasks for one workspace, backend-agnostic.

    Parameters
    ----------
    workspace : path-like
        The workspace root.
    config : EngineConfig, optional
        Default: read ``.orchestrator/config.toml`` (defaults when absent).
    spawn : callable
        ``spawn(job)`` runs the zero-argument ``job`` on some worker thread soon.
    dry_run : bool
        Never spawn a runner (every agent run is a recorded dry run).
    track_time : bool
        Write the ``task_timing.tsv`` rows.
    timing_path : path-like, optional
        Another timing file than ``<workspace>/task_timing.tsv``.
    failures : FailureTracker, optional
        Default: one for this workspace with threshold 3; ``track_failures=False`` disables.
    records : RunRecords, optional
        Where every agent run is recorded (default: the failure tracker's, else
        the workspace's ``.orchestrator/runs.jsonl``).
    governor : ConcurrencyGovernor, optional
        Decides, as tasks start, how many may run within ``[limits]`` given the
        machine's load and the thinkers' rate limits (default: one following
        ``[dynamics] adapt_concurrency``/``load_per_cpu``); see :attr:`concurrency`.
    """

    def __init__(self, workspace: str | os.PathLike[str], config: EngineConfig | None = None, *,
                 spawn: Spawn, dry_run: bool = False, track_time: bool = True,
                 timing_path: str | os.PathLike[str] | None = None, track_failures: bool = True,
                 failures: FailureTracker | None = None, records: RunRecords | None = None,
                 governor: ConcurrencyGovernor | None = None) -> None:
        self.workspace = Path(workspace)
        self._config = config if config is not None else load_config(self.workspace)
        self._spawn = spawn
        self.runner = ProcessRunner(self.workspace, self._config, dry_run=dry_run)
        self.timing: TimeTracker | None = None
        if track_time:
            # parse=False: the engine never looks at the written rows (see TimeTracker).
            self.timing = TimeTracker(timing_path, parse=False) if timing_path is not None else \
                TimeTracker.for_workspace(self.workspace, parse=False)
        self.failures: FailureTracker | None = None
        if track_failures:
            self.failures = failures or FailureTracker(self.workspace, records=records)
            self.failures.on_escalate = self._on_escalate
        self.records: RunRecords = (records if records is not None else
                                    self.failures.records if self.failures is not None else
                                    RunRecords.for_workspace(self.workspace))
        # When each item's pause in our config was last set in memory (the config's
        # load time by default): a resume recorded after that supersedes it.
        self._config_time = time.time()
        self._pause_set: dict[tuple[str, str], float] = {}
        self._lock = threading.RLock()
        dyn = self._config.dynamics
        self.governor = governor if governor is not None else ConcurrencyGovernor(
            self._config.limits, adapt=adapt_enabled(dyn.adapt_concurrency), load_per_cpu=dyn.load_per_cpu)
        self._queue = TaskQueue(self._config.limits)
        self._recheck: threading.Timer | None = None  # re-dispatch while load holds tasks back
        self._reduced: tuple[tuple[int, int, int], LimitsConfig] | None = None
        self._handles: dict[str, TaskHandle] = {}
        self._listeners: list[Callable[[EngineEvent], None]] = []
        self._idle = threading.Condition(self._lock)
        self._inline: set[int | None] = set()  # service threads running an _execute inline now
        self._closed = False
        _LIVE.add(self)

    # ------------------------------------------------------------ config

    @property
    def config(self) -> EngineConfig:
        """The config in use."""
        return self._config

    def set_config(self, config: EngineConfig) -> None:
        """Use a new config from now on (limits apply to the next starts)."""
        with self._lock:
            self._config = config
            self.runner.config = config
            self._queue.limits = config.limits
            self.governor.configure(config.limits, adapt=adapt_enabled(config.dynamics.adapt_concurrency),
                                    load_per_cpu=config.dynamics.load_per_cpu)
            self._config_time = time.time()
            self._pause_set.clear()
        self._dispatch()

    def reload_config(self) -> EngineConfig:
        """Re-read ``.orchestrator/config.toml``; raises FormatError and keeps the old one if invalid."""
        self.set_config(load_config(self.workspace))
        return self._config

    # ------------------------------------------------------------ events

    def add_listener(self, fn: Callable[[EngineEvent], None]) -> Callable[[], None]:
        """Call ``fn(event)`` for every event (in worker threads); returns a remover."""
        with self._lock:
            self._listeners = self._listeners + [fn]

        def remove() -> None:
            with self._lock:
                self._listeners = [f for f in self._listeners if f is not fn]
        return remove

    def _emit(self, type_: EventType, task: Task, data: dict[str, Any] | Callable[[], dict[str, Any]] | None = None,
              ) -> None:
        listeners = self._listeners  # copy-on-write list: no lock needed to read
        if not listeners:
            return
        payload = data() if callable(data) else data
        event = EngineEvent(type_, task.task_id, task.kind, task.subject_id, payload or {})
        for fn in listeners:
            try:
                fn(event)
            except Exception:  # a broken listener must not break the run
                traceback.print_exc()

    # ------------------------------------------------------------ submit

    def submit(self, task: Task) -> TaskHandle:
        """Queue one task; returns its handle.

        Raises
        ------
        EngineClosed
            After :meth:`shutdown`.
        ValueError
            A task with that id is pending; a transform without ``fn``.
        DependencyCycleError
            Its dependencies form a cycle.

        Notes
        -----
        The engine runs what it is given: whoever fires schedules checks
        :meth:`is_paused` first.
        """
        return self.submit_batch([task])[0]

    def submit_batch(self, tasks: Sequence[Task]) -> list[TaskHandle]:
        """Queue tasks together (dataflow dependencies inside the batch; see :mod:`.queue`)."""
        for t in tasks:
            if t.kind == "transform" and t.fn is None:
                raise ValueError(f"transform {t.task_id} has no fn")
        with self._lock:
            if self._closed:
                raise EngineClosed("the engine is shut down")
            self._queue.push_batch(tasks)
            handles = [TaskHandle(t) for t in tasks]
            for h in handles:
                self._handles[h.task_id] = h
        for t in tasks:
            self._emit("queued", t)
        self._dispatch()
        return handles

    def handle(self, task_id: str) -> TaskHandle | None:
        """The handle of a pending task (None once it is done)."""
        return self._handles.get(task_id)

    def queued(self) -> list[TaskHandle]:
        """Queued handles, in start order."""
        with self._lock:
            return [self._handles[t.task_id] for t in self._queue.queued()]

    def running(self) -> list[TaskHandle]:
        """Running handles."""
        with self._lock:
            return [self._handles[t.task_id] for t in self._queue.running()]

    def cancel(self, task_id: str, reason: str = "cancelled") -> bool:
        """Cancel a queued task (it never starts) or a running one (its process group is stopped)."""
        with self._lock:
            h = self._handles.get(task_id)
            if h is None:
                return False
            queued = self._queue.remove(task_id) is not None
            if queued:
                del self._handles[task_id]
                h.finished = True
        if not queued:
            return h.cancel(reason)
        h.token.cancel(reason)
        now = utcnow()
        t = h.task
        result = RunResult(task_id=t.task_id, kind=t.kind, subject_id=t.subject_id, title=t.title, mode=t.mode,
                           status="cancelled", started_at=now, ended_at=now, duration_s=0.0,
                           error=f"{reason} before it started", meta=dict(t.meta))
        self._emit("finished", t, lambda: result.model_dump(mode="json"))
        h._resolve(result)
        with self._lock:
            self._idle.notify_all()
        self._dispatch()
        return True

    def cancel_all(self, reason: str = "cancelled") -> int:
        """Cancel every queued and running task; returns how many were asked."""
        with self._lock:
            ids = [t.task_id for t in self._queue.queued()] + [t.task_id for t in self._queue.running()]
        return sum(self.cancel(tid, reason) for tid in ids)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: len(self._queue) == 0, timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def shutdown(self, wait: bool = True, cancel: bool = True) -> None:
        """Stop accepting tasks; cancel queued and running ones (``cancel``); wait for the workers.

        With ``cancel=False`` everything already queued still runs. After a
        ``wait=True`` shutdown no runner process of this engine is left.
        """
        with self._lock:
            self._closed = True
            if self._recheck is not None:
                self._recheck.cancel()
                self._recheck = None
        if cancel:
            self.cancel_all("cancelled: shutting down")
        if wait:
            self.wait_idle()
            if self.timing is not None:
                self.timing.close()
            # Without waiting it stays registered: interpreter exit still stops its runs and
            # writes their rows (the watcher and writer threads are daemons).
            _LIVE.discard(self)

    # ------------------------------------------------------------ running

    @property
    def concurrency(self) -> Concurrency:
        """What may run now and why (the latest decision; see :mod:`.concurrency`)."""
        return self.governor.last

    def _limit_now(self) -> None:
        # Under the lock, as tasks start: the configured limits lowered by load and rate limits.
        allowed = self.governor.current()
        if not allowed.reduced:
            self._queue.limits = self._config.limits
        else:
            key = (allowed.agent_tasks, allowed.transforms, allowed.threads)
            if self._reduced is None or self._reduced[0] != key:
                self._reduced = (key, allowed.effective_limits())  # one model per change, not per start
            self._queue.limits = self._reduced[1]
        if allowed.reduced and self._recheck is None and len(self._queue.queued()) and not self._closed:
            # Nothing may finish soon to dispatch again: look again when the next sample is due.
            self._recheck = threading.Timer(max(self.governor.interval_s, 0.05), self._recheck_now)
            self._recheck.daemon = True
            self._recheck.start()

    def _recheck_now(self) -> None:
        with self._lock:
            self._recheck = None
        self._dispatch()

    def _dispatch(self) -> None:
        starts: list[TaskHandle] = []
        with self._lock:
            self._limit_now()
            while True:
                task = self._queue.pop_ready()
                if task is None:
                    break
                h = self._handles[task.task_id]
                h.state = "running"
                starts.append(h)
        me = threading.current_thread()
        for h in starts:
            if h.task.kind != "transform" and me.name in _SERVICE_THREADS and me.ident not in self._inline:
                # The process watcher or the timing writer freed a slot: start the next agent
                # run right here. Starting one only spawns a process (the watcher follows it),
                # and handing it to a pool thread instead cost ~25 % more CPU per run
                # (thread wake-ups, GIL hand-overs; engine_bench). Not nested: a chain of runs
                # that end at once (dry runs) goes through the pool instead of recursing.
                self._inline.add(me.ident)
                try:
                    self._execute(h)
                finally:
                    self._inline.discard(me.ident)
                continue
            try:
                self._spawn(lambda h=h: self._execute(h))
            except Exception as exc:  # the backend refused (e.g. its pool is shut down)
                self._finish(h, self._error_result(h.task, utcnow(), time.monotonic(), f"cannot start a worker: {exc}"))

    def _error_result(self, t: Task, started: Any, t0: float, error: str) -> RunResult:
        return RunResult(task_id=t.task_id, kind=t.kind, subject_id=t.subject_id, title=t.title, mode=t.mode,
                         status="failed", started_at=started, ended_at=utcnow(), duration_s=time.monotonic() - t0,
                         error=error, meta=dict(t.meta))

    def _execute(self, h: TaskHandle) -> None:
        t = h.task
        started, t0 = utcnow(), time.monotonic()
        h.started_monotonic = h.last_activity = t0
        try:
            h.timeout_s = self._config.timeout_for(t)
            self._emit("started", t, {"timeout_s": h.timeout_s, "no_timeout": h.timeout_s is None})
            if t.kind == "transform":
                result = self._run_transform(h, started, t0)
            else:
                timing = self.timing
                if timing is not None and not self.dry_run_for(t):
                    timing.started(t, started, wait=False, on_done=lambda _row, err: self._tracked(t, err))

                def on_event(kind: str, data: dict[str, Any]) -> None:
                    h.last_activity = time.monotonic()
                    if kind == "warning":
                        self._warned(t, data)
                    self._emit(kind, t, data)  # type: ignore[arg-type]
                # Returns once the process is spawned: the watcher thread (or
                # this one, for a run that never started) calls _run_ended.
                self.runner.start(t, lambda result: self._run_ended(h, result), token=h.token,
                                  on_event=on_event, timeout_s=h.timeout_s)
                return
        except Exception as exc:  # a bug or an I/O error: record it, keep the engine going
            result = self._error_result(t, started, t0, f"internal error: {type(exc).__name__}: {exc}")
            traceback.print_exc()
        self._finish(h, result)

    def _run_ended(self, h: TaskHandle, result: RunResult) -> None:
        # The process is gone: its slot goes to the next task now; the rest
        # follows once the finished row is written (writer thread).
        timing = self.timing
        if timing is None or result.dry_run:  # a dry run has no timing rows (it wrote no started row)
            self._after_tracking(h, result, None)
            return
        with self._lock:
            self._queue.release_slot(h.task_id)
        try:
            timing.finished(h.task, result, wait=False,
                            on_done=lambda _row, err: self._after_tracking(h, result, err))
        except Exception as exc:  # the writer thread could not be started: finish here
            self._after_tracking(h, result, exc)
        self._dispatch()

    def _tracked(self, t: Task, error: BaseException | None) -> None:
        # Writer thread: a row could not be written; the run goes on regardless.
        if error is not None:
            self._emit("error", t, {"message": f"time tracking: {error}"})

    def _after_tracking(self, h: TaskHandle, result: RunResult, error: BaseException | None) -> None:
        # Writer thread, the finished row is on disk (or could not be written).
        try:
            self._tracked(h.task, error)
            self._record_failure(result)
        except Exception:  # a bug or an I/O error: the handle must resolve anyway
            traceback.print_exc()
        self._finish(h, result)

    def _record_failure(self, result: RunResult) -> None:
        # The run record (every agent run, dry or not), then the failure count derived from it.
        if result.kind == "transform":
            return
        entry = run_record(result, dry_reason=self.dry_reason() if result.dry_run else None)
        try:
            if self.failures is not None:
                self.failures.record(result, entry=entry)
            else:
                self.records.append(entry)
        except OSError as exc:
            t = Task(kind=result.kind, task_id=result.task_id, subject_id=result.subject_id)
            self._emit("error", t, {"message": f"run record: {self.records.path}: {exc.strerror or exc}"})

    def _warned(self, t: Task, data: dict[str, Any]) -> None:
        # In the process watcher's thread, the one that writes the run's output to its log.
        try:
            record_warning(self.records, run_paths(self.workspace, t.task_id)[0], t, data,
                           self._config.timeouts.warn_fraction)
        except OSError as exc:  # the warning event still goes out
            self._emit("error", t, {"message": f"time-limit warning not recorded: {exc.strerror or exc}"})

    def _run_transform(self, h: TaskHandle, started: Any, t0: float) -> RunResult:
        # A thread cannot be killed: a transform's time limit ([timeouts]
        # transform_s, 0 = none) cancels its token, and the function is
        # expected to poll ``token.cancelled``.
        t = h.task
        assert t.fn is not None
        status, value, error = "completed", None, None
        timer = None
        if h.timeout_s:
            timer = threading.Timer(h.timeout_s, h.token.cancel, ("timeout",))
            timer.daemon = True
            timer.start()
        try:
            if not h.token.cancelled:
                value = t.fn(h.token)
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            if timer is not None:
                timer.cancel()
        if h.token.cancelled:
            status = "timeout" if h.token.reason == "timeout" else "cancelled"
        return RunResult(task_id=t.task_id, kind=t.kind, subject_id=t.subject_id, title=t.title, mode=t.mode,
                         status=status, started_at=started, ended_at=utcnow(),  # type: ignore[arg-type]
                         duration_s=time.monotonic() - t0, timeout_s=h.timeout_s, error=error, value=value,
                         meta=dict(t.meta))

    def _finish(self, h: TaskHandle, result: RunResult) -> None:
        with self._lock:
            if h.finished:
                return  # reported already (a callback raised on the way out of a run)
            h.finished = True
        try:
            self._emit("finished", h.task, lambda: result.model_dump(mode="json"))
            with self._lock:
                self._queue.done(h.task_id)
                self._handles.pop(h.task_id, None)
            h._resolve(result)
        finally:
            with self._lock:
                self._idle.notify_all()
            self._dispatch()


class ThreadExecutor(Engine):
    """The headless engine: plain threads from a :class:`ThreadPoolExecutor`.

    Parameters are those of :class:`Engine`, without ``spawn``.
    """

    def __init__(self, workspace: str | os.PathLike[str], config: EngineConfig | None = None, **kwargs: Any) -> None:
        cfg = config if config is not None else load_config(workspace)
        # The engine enforces the limits; the pool only needs enough threads
        # (it creates them lazily and reuses idle ones).
        self._pool = ThreadPoolExecutor(max_workers=max(cfg.limits.thread_limit, 32),
                                        thread_name_prefix="orchestrator-engine")
        super().__init__(workspace, cfg, spawn=self._pool.submit, **kwargs)

    def shutdown(self, wait: bool = True, cancel: bool = True) -> None:
        super().shutdown(wait=wait, cancel=cancel)
        self._pool.shutdown(wait=wait)


__all__ = ["Engine", "EngineClosed", "EngineEvent", "TaskHandle", "ThreadExecutor"]
