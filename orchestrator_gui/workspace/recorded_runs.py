"""What the Runs panel adds to ``task_timing.tsv`` from our run records: dry runs and time-limit warnings.

A dry run writes no timing row (the agents read that file), so the panel
learns of it only from ``.orchestrator/runs.jsonl``
(:mod:`orchestrator_gui.engine.run_records`); the same goes for the warning
that a running task passed 80 % of its time limit. :class:`RecordedRuns`
reads the records incrementally and tells when they changed, so a panel can
look every second at the cost of one ``stat``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator_gui.engine.run_records import RunRecords, parse_time
from orchestrator_gui.workspace.run_nodes import warning_text

#: The status word a dry run is shown with (never "completed").
DRY_RUN = "dry run"


@dataclass(frozen=True)
class DryRun:
    """One recorded dry run.

    Attributes
    ----------
    task_id, kind, subject_id, title, mode : str
    started_raw : str
        Its start as recorded (ISO 8601).
    start : float or None
        The same as a Unix time.
    result : str
        ``dry run - nothing was started (no runner is configured …)``.
    """

    task_id: str
    kind: str
    subject_id: str | None
    title: str
    mode: str
    started_raw: str
    start: float | None
    result: str


class RecordedRuns:
    """The dry runs and warnings recorded for one workspace.

    Parameters
    ----------
    root : path-like
        The workspace.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.records = RunRecords.for_workspace(Path(root))
        self._stamp: tuple[int, int, int] | None = None

    def changed(self) -> bool:
        """Whether the records changed since the last call (the first call says True)."""
        try:
            st = os.stat(self.records.path)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        if stamp == self._stamp and self._stamp is not None:
            return False
        self._stamp = stamp
        return True

    def dry_runs(self) -> list[DryRun]:
        """The recorded dry runs, oldest first (the newest few thousand)."""
        out = []
        for tid, rec in self.records.refresh().runs.items():
            if rec.get("dry_run") is not True:
                continue
            raw = rec.get("started_at") if isinstance(rec.get("started_at"), str) else ""
            when = parse_time(raw)
            why = rec.get("dry_reason") if isinstance(rec.get("dry_reason"), str) else ""
            status = rec.get("status")
            head = "dry run - nothing was started" if status == "completed" else f"dry run - {status}"
            out.append(DryRun(task_id=tid, kind=str(rec.get("kind") or ""),
                              subject_id=rec.get("subject_id") if isinstance(rec.get("subject_id"), str) else None,
                              title=str(rec.get("title") or ""), mode=str(rec.get("mode") or ""), started_raw=raw,
                              start=when.timestamp() if when else None,
                              result=f"{head} ({why})" if why else head))
        return out

    def warnings(self) -> dict[str, str]:
        """``task_id -> "80 % of the 60 s time limit used after 48 s"`` for every recorded warning."""
        return {tid: warning_text(rec) for tid, rec in self.records.refresh().warnings.items()}

    @property
    def problems(self) -> list[str]:
        """Lines of the records that could not be read."""
        return list(self.records.problems)


__all__ = ["DRY_RUN", "DryRun", "RecordedRuns"]
