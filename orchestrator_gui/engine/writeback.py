"""Write the scheduler's runtime fields back into ``.roo/schedules.json`` without loss.

The scheduler records what it did in the four fields the Roo Scheduler
extension itself maintains (docs/formats.md §1.5): ``lastExecutionTime``,
``lastSkippedTime``, ``lastTaskId`` and ``nextExecutionTime`` (plus
``active:false`` when a schedule expires). Every write goes through the
lossless editor (:mod:`orchestrator_gui.formats.schedules`), so only those
values' bytes change and ``updatedAt`` is never bumped.

While VS Code is open the extension rewrites this file every minute, so a
write can race it. :class:`~orchestrator_gui.formats.schedules.ScheduleDocument`
refuses to save over a file that changed since it was read
(:class:`ConflictError`); we then re-read the file, re-compute our update
from the fresh content and try again a few times. Nothing is ever clobbered:
after the last failed attempt the write is reported as not done.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator_gui.formats.schedules import load_schedules
from orchestrator_gui.problems import ConflictError, FormatError, ReadOnlyError

#: The keys the scheduler may write (docs/formats.md §1.5); anything else is a definition field.
WRITABLE_KEYS = frozenset({"lastExecutionTime", "lastSkippedTime", "lastTaskId", "nextExecutionTime", "active"})
#: How many times a write is attempted when the file keeps changing under us.
DEFAULT_ATTEMPTS = 5

Updates = Mapping[str, Any]
UpdateFn = Callable[[dict[str, Any]], Updates]


@dataclass
class WriteResult:
    """Outcome of one write-back.

    Attributes
    ----------
    ok : bool
        True when the values are on disk (or nothing needed changing).
    schedule_id : str
    values : dict
        The values written (``None`` = key removed), as applied on the last attempt.
    attempts : int
        Loads tried; more than one means the file changed under us.
    changed : bool
        False when the file already held these values (nothing was written).
    error : str or None
        Why the write was not done (file missing or broken, schedule gone,
        the file kept changing, or a key could not be added to a hand-formatted file).
    note : str or None
        Something the caller should show although the write succeeded (a key
        that could not be removed from a hand-formatted file was emptied instead).
    """

    ok: bool
    schedule_id: str
    values: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    changed: bool = False
    error: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (for ``--json`` summaries)."""
        return {"ok": self.ok, "schedule_id": self.schedule_id, "values": dict(self.values),
                "attempts": self.attempts, "changed": self.changed, "error": self.error, "note": self.note}


def write_runtime_fields(path: str | os.PathLike[str], schedule_id: str, updates: Updates | UpdateFn, *,
                         attempts: int = DEFAULT_ATTEMPTS) -> WriteResult:
    """Write runtime fields of one schedule, retrying when the file changes under us.

    Parameters
    ----------
    path : path-like
        The ``schedules.json`` file.
    schedule_id : str
        Which schedule (the first with that id, as the extension finds it).
    updates : mapping or callable
        The values to set (``None`` removes the key, as the extension's
        ``nextExecutionTime: undefined`` does). A callable receives the
        schedule's current raw object, freshly read on every attempt, and
        returns the values; use it when they depend on the file (the next
        run time depends on ``lastExecutionTime``).
    attempts : int
        Maximum number of read-modify-save cycles.

    Returns
    -------
    WriteResult
        Never raises for file problems; they are reported in ``error``.

    Raises
    ------
    ValueError
        When asked to write a key the scheduler does not own.
    """
    result = WriteResult(ok=False, schedule_id=schedule_id)
    for attempt in range(1, max(1, attempts) + 1):
        result.attempts = attempt
        try:
            doc = load_schedules(path)
            idx = doc.find(schedule_id)
        except FormatError as exc:
            result.error = str(exc)
            return result
        raw = dict(doc.schedules[idx].raw)
        values = dict(updates(raw) if callable(updates) else updates)
        bad = set(values) - WRITABLE_KEYS
        if bad:
            raise ValueError(f"the scheduler does not write {sorted(bad)}; only {sorted(WRITABLE_KEYS)}")
        result.values = values
        try:
            doc.set_values(schedule_id, values, touch_updated=False)
            if not doc.dirty:
                result.ok, result.changed, result.error = True, False, None
                return result
            doc.save()
        except ConflictError as exc:
            # Someone (usually the extension) rewrote the file since we read it: read again.
            result.error = f"{exc} (changed on disk during {attempt} attempt(s))"
            continue
        except ReadOnlyError as exc:
            removals = [k for k, v in values.items() if v is None and k in raw]
            if doc.foreign or not removals:
                result.error = str(exc)
                return result
            # A hand-formatted file cannot lose a key without being re-serialised. An
            # empty string means "no next run" to the extension too, so write that and say so.
            def emptied(current: dict[str, Any]) -> dict[str, Any]:
                fresh = updates(current) if callable(updates) else updates
                return {k: ("" if v is None else v) for k, v in fresh.items()}

            fallback = write_runtime_fields(path, schedule_id, emptied, attempts=attempts)
            fallback.attempts += attempt
            if fallback.ok:
                fallback.note = (f"{', '.join(removals)} emptied instead of removed: the file is not laid out "
                                 "the way Roo Scheduler writes it")
            return fallback
        except FormatError as exc:
            result.error = str(exc)
            return result
        result.ok, result.changed, result.error = True, True, None
        return result
    return result
