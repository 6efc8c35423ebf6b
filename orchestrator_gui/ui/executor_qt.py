"""The Qt edge of the engine: a ``QThreadPool`` backend whose signals carry plain values.

The engine (``orchestrator_gui.engine``) has no Qt in it. This adapter gives it
a spawn function that wraps each job in a :class:`QRunnable` for a
:class:`QThreadPool`, and turns the engine's events (raised in worker
threads) into Qt signals **emitted on the thread that owns the adapter**
(the GUI thread). So slots connected to :attr:`QtExecutor.started` & co.
may touch widgets and models, and workers never do.

Events are **coalesced** on their way to the GUI thread: workers append them
to a locked deque, and only the first event of a burst posts a wake-up. The
GUI thread then delivers everything queued in one go, at most every
``DRAIN_INTERVAL_MS`` and for at most ``DRAIN_BUDGET_MS`` per turn (the rest
waits for the next turn, so a flood of output never freezes the window).
Why: one queued signal per event (three or more per task) made the GUI
thread take the GIL back from busy workers thousands of times a second, and
each time it may wait up to the switch interval; 100 parallel transforms
then held its events back for over 100 ms.

Signals (all arguments plain ``str`` / ``dict`` / numbers):

``started(task_id: str, kind: str, info: dict)``
    ``info``: ``{"subject_id", "timeout_s", "no_timeout"}``.
``progress(task_id: str, event: str, data: dict)``
    ``event``: ``queued``, ``spawned``, ``output``, ``warning``, ``escalated`` or ``error``.
``finished(task_id: str, result: dict)``
    Every ended task, whatever its status (``RunResult.model_dump(mode="json")``).
``failed(task_id: str, message: str, result: dict)``
    Additionally, for ``failed`` and ``timeout`` results.
``concurrency_changed(text: str, info: dict)``
    What may run at once changed (machine load, a thinker's rate limit, a
    new config): ``text`` is the status bar's "agents 1 of 1, transforms 2
    of 4 — load 3.1 on 2 CPUs", ``info`` :meth:`Concurrency.to_dict`. Checked
    as tasks start and end and every :attr:`QtExecutor.CONCURRENCY_POLL_MS`.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from orchestrator_gui.engine.concurrency import Concurrency
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
    concurrency_changed = Signal(str, dict)
    _wake = Signal()  # worker → main thread hop (queued: the receiver lives on the main thread)

    #: Minimum time between two deliveries of queued events (ms).
    DRAIN_INTERVAL_MS = 10
    #: Longest time one delivery turn may take before it yields to other events (ms).
    DRAIN_BUDGET_MS = 8
    #: How often the allowed concurrency is looked at while nothing starts or ends (ms).
    CONCURRENCY_POLL_MS = 2000

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
        self._events: deque[EngineEvent] = deque()
        self._events_lock = threading.Lock()
        self._wake_pending = False
        self._last_drain = 0.0
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.timeout.connect(self._drain)
        self.engine = Engine(workspace, cfg, spawn=self._spawn, **engine_kwargs)
        self._wake.connect(self._on_wake)
        self._remove_listener = self.engine.add_listener(self._queue_event)
        self._concurrency_text = ""
        self._concurrency_timer = QTimer(self)
        self._concurrency_timer.setInterval(self.CONCURRENCY_POLL_MS)
        self._concurrency_timer.timeout.connect(self.check_concurrency)
        self._concurrency_timer.start()

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

    def concurrency(self) -> Concurrency:
        """What may run at once now, and why (see :mod:`orchestrator_gui.engine.concurrency`)."""
        return self.engine.governor.current()

    @Slot()
    def check_concurrency(self) -> None:
        """Emit :attr:`concurrency_changed` when what may run at once changed (GUI thread)."""
        now = self.concurrency()
        if now.text != self._concurrency_text:
            self._concurrency_text = now.text
            self.concurrency_changed.emit(now.text, now.to_dict())

    def shutdown(self, wait: bool = True, cancel: bool = True) -> None:
        """Shut the engine down (no runner process is left) and wait for the pool.

        Events still queued for the GUI thread are delivered on its next
        turns, as usual (call :meth:`flush` to deliver them now).
        """
        self._concurrency_timer.stop()
        self.engine.shutdown(wait=wait, cancel=cancel)
        if wait:
            self.pool.waitForDone()

    def flush(self) -> None:
        """Deliver every queued event now (on the GUI thread), whatever the budget."""
        self._drain(budget_ms=None)

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

    def _queue_event(self, event: EngineEvent) -> None:
        # Any thread. The engine reports "finished" just before it hands the result to the task's
        # handle: relay it once the handle has it, so a slot of ``finished`` can read
        # ``handle.result(0)`` (it raised TimeoutError now and then under load, losing the transform).
        if event.type == "finished":
            handle = self.engine.handle(event.task_id)
            if handle is not None and not handle.done():
                handle.add_done_callback(lambda _result, e=event: self._enqueue(e))
                return
        self._enqueue(event)

    def _enqueue(self, event: EngineEvent) -> None:
        # Only the first event of a burst wakes the GUI thread.
        with self._events_lock:
            self._events.append(event)
            if self._wake_pending:
                return
            self._wake_pending = True
        if threading.get_ident() == self._owner_thread:
            # Already on the GUI thread (a submit from a slot): deliver on the
            # next turn of the loop, like the events of workers.
            QTimer.singleShot(0, self._on_wake)
        else:
            self._wake.emit()

    @Slot()
    def _on_wake(self) -> None:
        if self._drain_timer.isActive():
            return
        wait_ms = self.DRAIN_INTERVAL_MS - (time.monotonic() - self._last_drain) * 1000.0
        if wait_ms > 0.5:
            self._drain_timer.start(int(wait_ms + 0.5))
        else:
            self._drain()

    @Slot()
    def _drain(self, budget_ms: float | None = DRAIN_BUDGET_MS) -> None:
        # GUI thread: deliver what is queued, within the time budget.
        self._drain_timer.stop()
        t0 = time.monotonic()
        self._last_drain = t0
        end = None if budget_ms is None else t0 + budget_ms / 1000.0
        while True:
            with self._events_lock:
                if not self._events:
                    self._wake_pending = False
                    return
                batch = list(self._events)
                self._events.clear()
            for i, event in enumerate(batch):
                try:
                    self._deliver(event)
                except Exception:  # noqa: BLE001 - a failing slot must not stop later deliveries
                    traceback.print_exc()
                if end is not None and time.monotonic() > end:
                    rest = batch[i + 1:]
                    if rest or self._events:
                        with self._events_lock:
                            self._events.extendleft(reversed(rest))
                        # Still pending: the timer delivers the rest next turn.
                        self._drain_timer.start(self.DRAIN_INTERVAL_MS)
                        return
            if end is not None and time.monotonic() > end:
                with self._events_lock:
                    if not self._events:
                        self._wake_pending = False
                        return
                self._drain_timer.start(self.DRAIN_INTERVAL_MS)
                return

    def _deliver(self, event: EngineEvent) -> None:
        # On the adapter's thread (the GUI thread): re-emit as plain values.
        if event.type in ("started", "finished"):
            self.check_concurrency()  # the engine decided again as the task started or ended
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
