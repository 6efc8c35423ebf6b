"""Time tracking: every agent run writes a ``started`` row and a finished row to ``task_timing.tsv``.

Both rows share the run's ``task_id`` (the origin's "pair" convention,
FORMATS.md §4.4) and carry the priority ``schedule`` or ``todo``. The writing
is :func:`orchestrator_gui.formats.timing.append_row`: append-only, one
``write`` per row, under an exclusive ``flock``, so agents and other
processes appending to the same file at the same time never interleave.
Transforms are not runs of the agent loop and write no rows.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from orchestrator_gui.engine.tasks import RunResult, Task
from orchestrator_gui.formats.timing import NewTimingRow, TimingRow, append_row
from orchestrator_gui.formats.workspace import TIMING


class TimeTracker:
    """Appends the two rows of each run to one timing file.

    Parameters
    ----------
    path : path-like
        The ``task_timing.tsv`` file (created with the 9-column header if missing).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @classmethod
    def for_workspace(cls, root: str | os.PathLike[str]) -> "TimeTracker":
        """The tracker writing ``<root>/task_timing.tsv``."""
        return cls(Path(root) / TIMING)

    def started(self, task: Task, start: datetime) -> TimingRow | None:
        """Append the ``started`` row of ``task``; None for transforms.

        Raises
        ------
        FormatError
            The file cannot be appended to (UTF-16 file, permissions, …).
        """
        if task.kind == "transform":
            return None
        return append_row(self.path, NewTimingRow(
            timestamp=start, mode=task.mode, task_id=task.task_id, start_time=start,
            task=task.title or task.instructions[:200], result="started", priority=task.kind))

    def finished(self, task: Task, result: RunResult) -> TimingRow | None:
        """Append the finished row: ``completed``/``failed``/``timeout``/``cancelled`` ``- details``.

        The duration is the run's measured (monotonic) time, in whole seconds.
        """
        if task.kind == "transform":
            return None
        return append_row(self.path, NewTimingRow(
            timestamp=result.ended_at, mode=task.mode, task_id=task.task_id, start_time=result.started_at,
            end_time=result.ended_at, duration_s=int(result.duration_s),
            task=task.title or task.instructions[:200], result=result.summary(), priority=task.kind))


__all__ = ["TimeTracker"]
