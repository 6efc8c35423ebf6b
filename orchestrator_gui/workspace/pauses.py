"""Paused schedules and TODO items: which, why and since when, and resuming them (CLI, app, graph).

Where the pause is stored (see :mod:`orchestrator_gui.engine.failures`):

* the flag: ``paused = true`` under ``[schedules."<id>"]`` (``[todos."<key>"]``)
  in ``.orchestrator/config.toml``, our own file (docs/formats.md §8), never a
  field of ``.roo/schedules.json`` (the Roo extension drops keys it does not
  know, and its ``active`` flag is the user's);
* why and since when: the open ``escalated`` record in ``.orchestrator/runs.jsonl``
  (the 3-strike escalation writes both). A pause set by hand in the config
  has no record: its reason says so and its time is unknown.

An item is paused while either says so. :func:`resume` clears both (a
``resumed`` record, which also restarts the failure count, and
``paused = false``), whether an engine is running or not: a running engine
sees the resume in the records (:meth:`~orchestrator_gui.engine.executor.Engine.is_paused`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator_gui.engine.config import config_path
from orchestrator_gui.engine.failures import FailureTracker, paused_in_config
from orchestrator_gui.engine.run_records import RunRecords, parse_time

#: The reason shown for a pause that was set by hand in the config.
BY_HAND = "paused in .orchestrator/config.toml"


@dataclass(frozen=True)
class Pause:
    """One paused item.

    Attributes
    ----------
    kind : {"schedule", "todo"}
    subject_id : str
    reason : str
        ``failed 3 times in a row (last: exit 1)``, or :data:`BY_HAND`.
    since : datetime or None
        When it was paused (UTC); None when set by hand.
    by : {"escalation", "config"}
    task_id : str or None
        The run that made it escalate.
    """

    kind: str
    subject_id: str
    reason: str
    since: datetime | None
    by: str
    task_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``schedules list --json``)."""
        return {"reason": self.reason, "since": self.since.isoformat() if self.since else None, "by": self.by,
                "task_id": self.task_id}

    def describe(self) -> str:
        """One line: ``paused since 2026-03-02 09:00 UTC: failed 3 times in a row (last: exit 1)``."""
        when = f" since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else ""
        return f"paused{when}: {self.reason}"


class PauseWatch:
    """The paused items of one workspace, re-read only when the config or the records changed.

    Parameters
    ----------
    root : path-like
        The workspace.
    records : RunRecords, optional
        Shared run records (default: the workspace's).
    """

    def __init__(self, root: str | os.PathLike[str], records: RunRecords | None = None) -> None:
        self.root = Path(root)
        self.records = records if records is not None else RunRecords.for_workspace(self.root)
        self._stamp: tuple[Any, ...] | None = None
        self._cache: dict[tuple[str, str], Pause] = {}
        #: What kept the config's flags from being read (``FILE: error: …``), or None.
        self.problem: str | None = None

    def _stamps(self) -> tuple[Any, ...]:
        out: list[Any] = []
        for p in (config_path(self.root), self.records.path):
            try:
                st = os.stat(p)
                out.append((st.st_ino, st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return tuple(out)

    def all(self) -> dict[tuple[str, str], Pause]:
        """Every paused item, keyed by ``(kind, subject_id)``."""
        stamp = self._stamps()
        if stamp == self._stamp:
            return dict(self._cache)
        state = self.records.refresh()
        out: dict[tuple[str, str], Pause] = {}
        self.problem = None
        for kind in ("schedule", "todo"):
            flagged, problem = paused_in_config(config_path(self.root), kind)
            self.problem = self.problem or problem
            for sid in flagged:
                out[(kind, sid)] = Pause(kind, sid, BY_HAND, None, "config")
        for (kind, sid), rec in state.escalations.items():
            out[(kind, sid)] = Pause(kind, sid, str(rec.get("reason") or "escalated"), parse_time(rec.get("time")),
                                     "escalation", rec.get("task_id") if isinstance(rec.get("task_id"), str) else None)
        self._stamp, self._cache = stamp, out
        return dict(out)

    def of(self, kind: str = "schedule") -> dict[str, Pause]:
        """The paused items of one kind, by id."""
        return {sid: p for (k, sid), p in self.all().items() if k == kind}


def paused(root: str | os.PathLike[str], kind: str = "schedule") -> dict[str, Pause]:
    """The paused schedules (or TODO items) of the workspace at ``root``, by id."""
    return PauseWatch(root).of(kind)


def resume(root: str | os.PathLike[str], subject_id: str, kind: str = "schedule", *, engine: Any = None,
           session: Any = None) -> bool:
    """Clear an item's pause: a ``resumed`` record (its failure count restarts) and ``paused = false``.

    Parameters
    ----------
    root : path-like
        The workspace.
    subject_id, kind : str
        The schedule id (or TODO item key).
    engine : Engine, optional
        The engine running here: its config in use is cleared too.
    session : Session, optional
        Its graph's node for the item loses the paused mark.

    Returns
    -------
    bool
        False when the item was not paused (nothing was written).

    Raises
    ------
    FormatError
        Our config cannot be edited (it does not parse, or keeps changing).
    OSError
        The run records cannot be written.
    """
    if engine is not None:
        changed = engine.clear_escalation(subject_id, kind)
    else:
        changed = FailureTracker(root).clear_escalation(subject_id, kind)
    if session is not None:
        from orchestrator_gui.workspace.run_nodes import GraphSync

        sync = GraphSync.for_session(session)
        sync.mark_paused(kind, subject_id, None)
    return changed


__all__ = ["BY_HAND", "Pause", "PauseWatch", "paused", "resume"]
