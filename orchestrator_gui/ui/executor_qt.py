"""The Qt edge of the engine: a ``QThreadPool`` backend whose signals carry plain values.

The engine (``orchestrator_gui.engine``) has no Qt in it. This adapter gives it
a spawn function that wraps each job in a :class:`QRunnable` for a
:class:`QThreadPool`, and turns the engine's events (raised in worker
threads) into Qt signals **emitted on the thread that owns the adapter**
(the GUI thread): workers only emit a private queued signal; the adapter's
slot, on the main thread, emits the public ones. So slots connected to
:attr:`QtExecutor.started` & co. may touch widgets and models, and workers
never do.

Signals (all arguments plain ``str`` / ``dict`` / numbers):

``started(task_id: str, kind: str, info: dict)``
    ``info``: ``{"subject_id", "timeout_s", "no_timeout"}``.
``progress(task_id: str, event: str, data: dict)``
    ``event``: ``queued``, ``spawned``, ``output``, ``warning``, ``escalated`` or ``error``.
``finished(task_id: str, result: dict)``
    Every ended task, whatever its status (``RunResult.model_dump(mode="json")``).
``failed(task_id: str, message: str, result: dict)``
    Additionally, for ``failed`` and ``timeout`` results.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from orchestrator_gui.engine.config import EngineConfig, load_config
from orchestrator_gui.engine.executor import Engine, EngineEvent, TaskHandle
from orchestrator_gui.engine.tasks import Task


class _Job(QRunnable):
    """One engine job on the pool (auto-deleted by Qt after ``run``)."""

    def __init__(self, job: Callable[[], None]) -> None:
        super().__init__()
        self._job = job
        self.setAutoDelete(True)

    def run(self) -> None:  # noqa: D102 - Qt API
        self._job()


class QtExecutor(QObject):
    """Runs an :class:`Engine` on a ``QThreadPool`` and reports through signals.

    Parameters
    ----------
    workspace : path-like
        The workspace root.
    config : EngineConfig, optional
        Default: read ``.orchestrator/config.toml``.
    pool : QThreadPool, optional
        Default: a private pool sized for the engine's global limit.
    parent : QObject, optional
    **engine_kwargs
        Passed to :class:`Engine` (``dry_run``, ``track_time``, ``timing_path``, …).

    Create it on the GUI thread.
    """

    started = Signal(str, str, dict)
    progress = Signal(str, str, dict)
    finished = Signal(str, dict)
    failed = Signal(str, str, dict)
    _event = Signal(object)  # worker → main thread hop (queued: the receiver lives on the main thread)

    def __init__(self, workspace: str | os.PathLike[str], config: EngineConfig | None = None, *,
                 pool: QThreadPool | None = None, parent: QObject | None = None, **engine_kwargs: Any) -> None:
        super().__init__(parent)
        cfg = config if config is not None else load_config(workspace)
        self.pool = pool if pool is not None else QThreadPool(self)
        # The engine enforces the limits; the pool must never be the bottleneck.
        self.pool.setMaxThreadCount(max(self.pool.maxThreadCount(), cfg.limits.thread_limit + 1))
        self._owner_thread = threading.get_ident()
        self._start_lock = threading.Lock()
        self._to_start: deque[Callable[[], None]] = deque()
        self._launcher_pending = False
        self.engine = Engine(workspace, cfg, spawn=self._spawn, **engine_kwargs)
        self._event.connect(self._deliver)
        self._remove_listener = self.engine.add_listener(self._event.emit)

    # ------------------------------------------------------------ API

    def submit(self, task: Task) -> TaskHandle:
        """Queue a task on the engine; see :meth:`Engine.submit`."""
        return self.engine.submit(task)

    def submit_batch(self, tasks: list[Task]) -> list[TaskHandle]:
        """Queue tasks together; see :meth:`Engine.submit_batch`."""
        return self.engine.submit_batch(tasks)

    def cancel(self, task_id: str) -> bool:
        """Cancel a queued or running task."""
        return self.engine.cancel(task_id)

    def shutdown(self, wait: bool = True, cancel: bool = True) -> None:
        """Shut the engine down (no runner process is left) and wait for the pool."""
        self.engine.shutdown(wait=wait, cancel=cancel)
        if wait:
            self.pool.waitForDone()

    # ------------------------------------------------------------ internals

    def _spawn(self, job: Callable[[], None]) -> None:
        if threading.get_ident() != self._owner_thread:
            self.pool.start(_Job(job))
            return
        # On the GUI thread (a submit from a slot): hand the starts over to a
        # pool thread. Each QThreadPool.start lets go of the GIL, and every
        # job already started is a thread that wants it back: starting a wave
        # of 100 jobs here kept the GUI thread 50-130 ms from its events.
        with self._start_lock:
            self._to_start.append(job)
            if self._launcher_pending:
                return
            self._launcher_pending = True
        self.pool.start(_Job(self._launch))

    def _launch(self) -> None:
        # In a pool thread: start the jobs queued by the GUI thread, in order.
        while True:
            with self._start_lock:
                if not self._to_start:
                    self._launcher_pending = False
                    return
                job = self._to_start.popleft()
            self.pool.start(_Job(job))

    @Slot(object)
    def _deliver(self, event: EngineEvent) -> None:
        # On the adapter's thread (the GUI thread): re-emit as plain values.
        if event.type == "started":
            self.started.emit(event.task_id, event.kind, {"subject_id": event.subject_id, **event.data})
        elif event.type == "finished":
            data = dict(event.data)
            self.finished.emit(event.task_id, data)
            if data.get("status") in ("failed", "timeout"):
                message = data.get("error") or (f"timeout after {data.get('timeout_s')} s"
                                                if data.get("status") == "timeout"
                                                else f"exit {data.get('exit_code')}")
                self.failed.emit(event.task_id, str(message), data)
        else:
            self.progress.emit(event.task_id, event.type, dict(event.data))


__all__ = ["QtExecutor"]
