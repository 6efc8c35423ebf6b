"""A submitted task's handle: its state, its cancel switch and, once it ended, its result."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Literal

from orchestrator_gui.engine.tasks import CancelToken, RunResult, Task


class TaskHandle:
    """A submitted task: its state, its cancel switch and (later) its result."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.token = CancelToken()
        self.state: Literal["queued", "running", "done"] = "queued"
        self.started_monotonic: float | None = None
        self.last_activity: float | None = None  #: monotonic time of the start or of the last output
        self.timeout_s: float | None = None
        self._done = threading.Event()
        self._result: RunResult | None = None
        self.finished = False  #: the engine has reported this task's end (set under the engine's lock)
        self._callbacks: list[Callable[[RunResult], None]] = []
        self._lock = threading.Lock()

    @property
    def task_id(self) -> str:
        return self.task.task_id

    @property
    def idle_s(self) -> float | None:
        """Seconds since the last output (or the start); None when not running."""
        if self.last_activity is None or self.state != "running":
            return None
        return time.monotonic() - self.last_activity

    def done(self) -> bool:
        """Whether the result is there."""
        return self._done.is_set()

    def cancel(self, reason: str = "cancelled") -> bool:
        """Ask for cancellation (a running process group gets SIGTERM, then SIGKILL)."""
        return self.token.cancel(reason)

    def result(self, timeout: float | None = None) -> RunResult:
        """Wait for the result; raises TimeoutError after ``timeout`` seconds."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"task {self.task_id} did not finish within {timeout} s")
        assert self._result is not None
        return self._result

    def add_done_callback(self, fn: Callable[[RunResult], None]) -> None:
        """Call ``fn(result)`` when done (at once if already done).

        It runs in an engine thread (often the timing writer's): it must not
        wait for other tasks or shut the engine down.
        """
        with self._lock:
            if self._result is None:
                self._callbacks.append(fn)
                return
        try:
            fn(self._result)
        except Exception:  # noqa: BLE001 - reported like a callback run by the engine
            traceback.print_exc()

    def _resolve(self, result: RunResult) -> None:
        """Set the result (once: later calls are ignored); a failing callback is reported, not raised."""
        with self._lock:
            if self._result is not None:
                return
            self._result = result
            self.state = "done"
            callbacks, self._callbacks = self._callbacks, []
        self._done.set()
        for fn in callbacks:
            try:
                fn(result)
            except Exception:  # noqa: BLE001 - one caller's bug must not stop the engine's bookkeeping
                traceback.print_exc()


__all__ = ["TaskHandle"]
