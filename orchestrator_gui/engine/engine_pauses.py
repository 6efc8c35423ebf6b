"""The engine's pauses and dry runs: which items are paused, clearing a pause, and which runs are rehearsals.

Kept apart from :mod:`.executor` for size; :class:`PauseControl` is a mixin
of :class:`~orchestrator_gui.engine.executor.Engine` and uses its config,
runner, failure tracker, lock and event emitter.

A pause has two sources (see :mod:`.failures`): ``paused = true`` in our
config and an open escalation in the run records. The config in use is a
snapshot (read at start, or given in code); a ``resumed`` record written
after it was taken (``schedules resume`` in another process, the Schedules
panel) supersedes its flag, so nobody has to restart the engine.
"""

from __future__ import annotations

import time
from typing import Any

from orchestrator_gui.engine.config import SubjectConfig
from orchestrator_gui.engine.failures import Escalation
from orchestrator_gui.engine.tasks import Task


class PauseControl:
    """Mixin: pauses and dry runs of an engine (attributes set by ``Engine.__init__``)."""

    _config: Any
    _lock: Any
    _handles: dict[str, Any]
    failures: Any
    runner: Any
    #: When the config in use was taken (a resume recorded later supersedes its pauses).
    _config_time: float
    #: When each item's pause was last set in the config in use.
    _pause_set: dict[tuple[str, str], float]

    def _emit(self, type_: Any, task: Task, data: Any = None) -> None:  # pragma: no cover - Engine's
        raise NotImplementedError

    def is_paused(self, kind: str, subject_id: str | None) -> bool:
        """Paused in our config, or escalated (in any process) and not resumed.

        The config in use is a snapshot; a resume recorded in the run records
        after it was loaded (``schedules resume`` in another process, the
        Schedules panel) supersedes its ``paused = true``.
        """
        if not subject_id:
            return False
        if self.failures is not None and self.failures.is_escalated(kind, subject_id):
            return True
        if not self._config.is_paused(kind, subject_id):
            return False
        resumed = self.failures.resumed_at(kind, subject_id) if self.failures is not None else None
        since = self._pause_set.get((kind, subject_id), self._config_time)
        return resumed is None or resumed.timestamp() < since

    def clear_escalation(self, subject_id: str, kind: str = "schedule") -> bool:
        """Clear an item's pause: a ``resumed`` record, ``paused = false`` in the file and in the config in use."""
        if self.failures is None:
            return False
        changed = self.failures.clear_escalation(subject_id, kind)
        self._set_paused(kind, subject_id, False)
        return changed

    # ------------------------------------------------------------ dry runs

    def dry_run_for(self, task: Task) -> bool:
        """Whether ``task`` would be a dry run (nothing started, no workspace file written)."""
        return task.kind != "transform" and self.runner.template_for(task) is None

    @property
    def always_dry(self) -> bool:
        """True when every agent run is a dry run (``dry_run=True``, or no runner for any mode)."""
        cfg = self._config
        return self.runner.dry_run or (cfg.runner is None and not any(m.runner for m in cfg.modes.values()))

    def dry_reason(self) -> str:
        """Why runs are dry, for logs and messages."""
        return ("dry run requested" if self.runner.dry_run
                else "no runner is configured in .orchestrator/config.toml")

    def _set_paused(self, kind: str, subject_id: str, paused: bool) -> None:
        # The same change the tracker wrote to the file, applied to the config
        # in use (which may not come from the file: re-reading it would drop
        # settings given in code).
        with self._lock:
            cfg = self._config
            field = "schedules" if kind == "schedule" else "todos"
            table = dict(getattr(cfg, field))
            current = table.get(subject_id)
            if current is not None and current.paused == paused:
                return
            table[subject_id] = (current or SubjectConfig()).model_copy(update={"paused": paused})
            self._config = cfg.model_copy(update={field: table})
            self.runner.config = self._config
            self._pause_set[(kind, subject_id)] = time.time()

    def _on_escalate(self, esc: Escalation) -> None:
        if esc.paused:
            self._set_paused(esc.kind, esc.subject_id, True)
        h = self._handles.get(esc.task_id)
        task = h.task if h is not None else Task(kind=esc.kind, task_id=esc.task_id, subject_id=esc.subject_id)
        self._emit("escalated", task, esc.model_dump(mode="json"))


__all__ = ["PauseControl"]
