"""What the engine runs (:class:`Task`) and what a run produced (:class:`RunResult`).

Three kinds of work share one queue, in this priority order:

* ``schedule``: a Roo schedule fired by the scheduler ("top priority");
* ``todo``: a TODO item run as a task;
* ``transform``: an in-process computation on graph nodes (a Python callable).

``schedule`` and ``todo`` tasks are *agent tasks*: they spawn the configured
runner process and share the ``[limits] agent_tasks`` slots. Transforms run
their callable in a worker thread and use the ``[limits] transforms`` slots.

Every model here holds plain values only (strings, numbers, datetimes), so
results can cross thread boundaries and Qt signals and be dumped to JSON.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TaskKind = Literal["schedule", "todo", "transform"]
RunStatus = Literal["completed", "failed", "timeout", "cancelled"]

#: Queue order: lower runs first.
KIND_PRIORITY: dict[str, int] = {"schedule": 0, "todo": 1, "transform": 2}
#: Which concurrency limit a kind uses (``[limits]`` keys).
RESOURCE_OF: dict[str, str] = {"schedule": "agent_tasks", "todo": "agent_tasks", "transform": "transforms"}
#: Task ids name files under ``.orchestrator/runs/``, so they are kept file-name safe.
TASK_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ISO_LIKE = re.compile(r"^\d{4}-\d\d-\d\dT")


def new_task_id() -> str:
    """Return a fresh task id (a UUID4 string, like the ids Roo gives its tasks)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class CancelToken:
    """A thread-safe cancellation flag that also runs callbacks when set.

    The runner registers a callback that wakes its I/O loop, so a cancel is
    acted on at once, and transforms poll :attr:`cancelled` cooperatively.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.reason: str | None = None

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def cancel(self, reason: str = "cancelled") -> bool:
        """Set the flag and run the callbacks; returns False if it was already set."""
        with self._lock:
            if self._event.is_set():
                return False
            self.reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb()
        return True

    def add_callback(self, cb: Callable[[], None]) -> None:
        """Call ``cb`` on cancel (at once, in this thread, if already cancelled)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(cb)
                return
        cb()

    def remove_callback(self, cb: Callable[[], None]) -> None:
        """Forget a callback registered with :meth:`add_callback` (no error if absent)."""
        with self._lock:
            if cb in self._callbacks:
                self._callbacks.remove(cb)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds passed; return the flag."""
        return self._event.wait(timeout)


class Task(BaseModel):
    """One unit of work for the engine.

    Attributes
    ----------
    kind : {"schedule", "todo", "transform"}
        Decides the queue priority, the concurrency limit and the default timeout.
    task_id : str
        Unique id of this run: names the run log ``.orchestrator/runs/<task_id>.log``
        and is the ``task_id`` of its two ``task_timing.tsv`` rows. Letters,
        digits, ``.``, ``_``, ``-`` (max 128), not an ISO date-time. Default: a UUID4.
    subject_id : str or None
        The schedule id or TODO item id the run belongs to; failures are
        counted per ``(kind, subject_id)``. ``None`` for ad-hoc runs and transforms.
    title : str
        Human description (the ``task`` column of the timing rows, the log header).
    mode : str
        Roo mode slug: picks the ``[modes.<mode>]`` runner override and is the
        ``{mode}`` placeholder and the timing ``mode`` column.
    instructions : str
        Text handed to the runner via ``{instructions}`` / ``{instructions_file}``,
        byte-exact (never interpreted by a shell).
    timeout_s : float or None
        Per-task limit in seconds; ``None`` uses the config (per-schedule
        override, then ``[timeouts]``); ``0`` means no limit.
    no_timeout : bool
        Explicit opt-out of any time limit (shown in the UI).
    inputs, outputs : tuple of str
        Graph node ids a transform reads / writes. A transform waits for every
        pending transform that writes one of its inputs (see :mod:`.queue`).
    after : tuple of str
        Task ids this task must wait for, explicitly (any kind).
    fn : callable or None
        For transforms: ``fn(token: CancelToken) -> Any``, run in a worker
        thread; its return value becomes :attr:`RunResult.value`. Not serialised.
    meta : dict
        Plain values for the caller (e.g. the graph node id); copied to the result.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    kind: TaskKind
    task_id: str = Field(default_factory=new_task_id)
    subject_id: str | None = None
    title: str = ""
    mode: str = "code"
    instructions: str = ""
    timeout_s: float | None = Field(default=None, ge=0)
    no_timeout: bool = False
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    fn: Callable[[CancelToken], Any] | None = Field(default=None, exclude=True, repr=False)
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("task_id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not TASK_ID_RE.match(value):
            raise ValueError("task_id must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
        if _ISO_LIKE.match(value):
            raise ValueError("task_id must not look like an ISO date-time (timing readers would misread the row)")
        return value

    @property
    def is_agent_task(self) -> bool:
        """True for ``schedule`` and ``todo`` tasks (they spawn the runner)."""
        return self.kind != "transform"

    @property
    def priority(self) -> int:
        """Queue priority (lower first): schedule 0, todo 1, transform 2."""
        return KIND_PRIORITY[self.kind]


def schedule_task(schedule_id: str, name: str, mode: str, instructions: str, *,
                  task_id: str | None = None, **extra: Any) -> Task:
    """Build the :class:`Task` for one firing of a Roo schedule."""
    return Task(kind="schedule", task_id=task_id or new_task_id(), subject_id=schedule_id,
                title=name, mode=mode, instructions=instructions, **extra)


def todo_task(item_id: str, text: str, *, mode: str = "code", instructions: str | None = None,
              task_id: str | None = None, **extra: Any) -> Task:
    """Build the :class:`Task` that runs one TODO item (instructions default to its text)."""
    return Task(kind="todo", task_id=task_id or new_task_id(), subject_id=item_id, title=text,
                mode=mode, instructions=text if instructions is None else instructions, **extra)


def transform_task(fn: Callable[[CancelToken], Any], *, inputs: tuple[str, ...] = (),
                   outputs: tuple[str, ...] = (), title: str = "", task_id: str | None = None,
                   **extra: Any) -> Task:
    """Build a transform :class:`Task` around ``fn(token)``."""
    return Task(kind="transform", task_id=task_id or new_task_id(), fn=fn, inputs=tuple(inputs),
                outputs=tuple(outputs), title=title, **extra)


class RunResult(BaseModel):
    """The recorded outcome of one task.

    Attributes
    ----------
    task_id, kind, subject_id, title, mode : as in :class:`Task`.
    status : {"completed", "failed", "timeout", "cancelled"}
        ``timeout`` and ``failed`` count as failures; ``cancelled`` does not.
    exit_code : int or None
        The runner's exit status (negative: killed by that signal, as
        :attr:`subprocess.Popen.returncode`); ``None`` when nothing ran.
    started_at, ended_at : datetime
        UTC wall-clock times.
    duration_s : float
        Monotonic run time in seconds.
    timeout_s : float or None
        The limit that applied (``None``: no limit).
    command : list of str or None
        The expanded argument list (``None`` for transforms).
    log_path : str or None
        The run log, ``.orchestrator/runs/<task_id>.log``.
    stderr_tail : str
        The last few KB of stderr (decoded, replacement characters for bad bytes).
    dry_run : bool
        True when no runner is configured and nothing was spawned.
    error : str or None
        Why a run failed without an exit code (runner not found, exception …).
    warned : bool
        Whether the 80 % time-limit warning fired.
    value : Any
        A transform's return value (not serialised).
    meta : dict
        Copied from the task.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    task_id: str
    kind: TaskKind
    subject_id: str | None = None
    title: str = ""
    mode: str = "code"
    status: RunStatus
    exit_code: int | None = None
    started_at: datetime
    ended_at: datetime
    duration_s: float
    timeout_s: float | None = None
    command: list[str] | None = None
    log_path: str | None = None
    stderr_tail: str = ""
    dry_run: bool = False
    error: str | None = None
    warned: bool = False
    value: Any = Field(default=None, exclude=True, repr=False)
    meta: dict[str, Any] = Field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run completed."""
        return self.status == "completed"

    @property
    def is_failure(self) -> bool:
        """True for ``failed`` and ``timeout`` (what the failure counter counts)."""
        return self.status in ("failed", "timeout")

    def summary(self) -> str:
        """One line for the timing ``result`` column and the UI, e.g. ``failed - exit 2``."""
        if self.dry_run:
            return f"{self.status} - dry run, no runner configured, nothing was started"
        if self.status == "timeout":
            if self.timeout_s is None:
                return "timeout - killed at its time limit"
            return f"timeout - killed after {self.timeout_s:g} s"
        if self.error:
            return f"{self.status} - {self.error}"
        if self.exit_code is not None:
            return f"{self.status} - exit {self.exit_code}"
        return self.status


__all__ = [
    "KIND_PRIORITY",
    "RESOURCE_OF",
    "CancelToken",
    "RunResult",
    "RunStatus",
    "Task",
    "TaskKind",
    "new_task_id",
    "schedule_task",
    "todo_task",
    "transform_task",
    "utcnow",
]
