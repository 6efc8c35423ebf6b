"""``.roo/schedules.json`` use cases: list with next run and pause, get, create, set fields, enable, delete.

The listing computes each schedule's next run as the Roo scheduler would
(:func:`next_run`) and says whether it is paused (the 3-strike escalation, or
by hand: :mod:`orchestrator_gui.workspace.pauses`). Every edit is the
document's own minimal edit (enabling changes one value's bytes), written as
one undo step through :func:`~orchestrator_gui.workspace.file_edits.edit_file`.
Running a schedule now is :meth:`~orchestrator_gui.workspace.runs.Runs.run_now`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from orchestrator_gui.formats.nextrun import expiration_ms, iso_ms, next_execution_ms, to_ms
from orchestrator_gui.formats.schedules import (
    UI_KEY_ORDER,
    Schedule,
    ScheduleDocument,
    empty_schedules,
    validate_values,
)
from orchestrator_gui.formats.workspace import SCHEDULES
from orchestrator_gui.problems import FormatError
from orchestrator_gui.workspace.file_edits import Written, edit_file, etag_of, read_version

#: The file, relative to the workspace.
FILE = SCHEDULES.as_posix()
#: Keys a user may set; ids and timestamps are the extension's business.
SETTABLE = tuple(k for k in UI_KEY_ORDER if k not in ("id", "createdAt", "updatedAt"))
#: Units of a schedule's interval.
UNITS = ("minute", "hour", "day")


def next_run(raw: dict[str, Any], now: datetime, tz: tzinfo) -> str | None:
    """When the extension would run this schedule next; ``None`` if never (inactive, expired, invalid)."""
    if raw.get("active") is False or raw.get("scheduleType") != "time":
        return None
    ms = next_execution_ms(raw, to_ms(now), tz)
    exp = expiration_ms(raw, tz)
    if ms is None or (exp is not None and ms > exp):
        return None
    return iso_ms(ms)


def make_doc(path: Path, data: bytes | None) -> ScheduleDocument:
    """The editable document of ``path`` (the extension's empty file when there is none yet)."""
    return empty_schedules(path) if data is None else ScheduleDocument(path, data)


def _row(s: Schedule, now: datetime, tz: tzinfo, paused: dict[str, Any]) -> dict[str, Any]:
    pause = paused.get(s.id)
    return {"id": s.id, "name": s.name, "mode": s.mode, "active": s.active, "interval": s.time_interval,
            "unit": s.time_unit, "line": s.line, "next_run": next_run(s.raw, now, tz), "paused": pause is not None,
            "pause": pause.to_dict() if pause is not None else None}


def list_schedules(root: str | os.PathLike[str], now: datetime | None = None, tz: tzinfo = UTC
                   ) -> tuple[list[dict[str, Any]], str | None, list[str]]:
    """The schedules with their next run and pause, the file's version, and notes (a foreign file, pauses unread).

    Returns
    -------
    rows : list of dict
        ``{"id", "name", "mode", "active", "interval", "unit", "line", "next_run", "paused", "pause"}``.
    etag : str or None
        ``None`` when the file does not exist.
    notes : list of str
        Problems of a file in a foreign schema, or why pauses could not be read.
    """
    from orchestrator_gui.workspace.pauses import PauseWatch

    path = Path(root) / FILE
    data = read_version(path)
    if data is None:
        return [], None, []
    doc = make_doc(path, data)
    notes = [p.format() for p in doc.problems()] if doc.foreign else []
    watch = PauseWatch(root)
    paused = watch.of("schedule")
    if watch.problem:
        notes.append(f"{watch.problem} (paused flags of the config not shown)")
    now = now or datetime.now(UTC)
    return [_row(s, now, tz, paused) for s in doc.schedules], etag_of(data), notes


def get_schedule(root: str | os.PathLike[str], schedule_id: str, now: datetime | None = None, tz: tzinfo = UTC
                 ) -> tuple[dict[str, Any], str | None]:
    """One schedule: its listing row plus every stored field (``fields``), and the file's version.

    Raises
    ------
    KeyError
        No schedule has that id (or there is no file).
    """
    from orchestrator_gui.workspace.pauses import paused

    path = Path(root) / FILE
    data = read_version(path)
    if data is None:
        raise KeyError(f"no schedule with id {schedule_id!r}: there is no {FILE}")
    doc = make_doc(path, data)
    try:
        s = doc.get(schedule_id)
    except FormatError:
        raise KeyError(f"no schedule with id {schedule_id!r}") from None
    row = _row(s, now or datetime.now(UTC), tz, paused(root, "schedule"))
    return {**row, "fields": dict(s.raw)}, etag_of(data)


def _edit(history: Any, root: str | os.PathLike[str], op: Any, text: str, if_match: str | None) -> Written:
    return edit_file(history, Path(root) / FILE, make_doc, op, text, if_match=if_match)


def set_active(history: Any, root: str | os.PathLike[str], schedule_id: str, active: bool, *,
               if_match: str | None = None) -> Written:
    """Enable or disable a schedule (one value's bytes change)."""
    def op(doc: ScheduleDocument) -> dict[str, Any]:
        doc.set_active(schedule_id, active)
        return {"id": schedule_id, "active": active}

    return _edit(history, root, op, f"{'Enable' if active else 'Disable'} schedule {schedule_id}", if_match)


def set_fields(history: Any, root: str | os.PathLike[str], schedule_id: str, updates: dict[str, Any], *,
               if_match: str | None = None, now: datetime | None = None) -> Written:
    """Set fields of a schedule to JSON values of the types the file stores (numbers as strings).

    Raises
    ------
    ValueError
        A key that is unknown or not settable.
    FormatError
        The schedule would be invalid (at its line); nothing was written.
    """
    bad = [k for k in updates if k not in SETTABLE]
    if bad:
        raise ValueError(f"unknown or read-only key {bad[0][:60]!r}; settable keys: {', '.join(SETTABLE)}")
    if not updates:
        raise ValueError("give at least one field to set")

    def op(doc: ScheduleDocument) -> dict[str, Any]:
        current = doc.get(schedule_id)
        problems = validate_values({**current.raw, **updates})
        if problems:
            raise FormatError(doc.name, "refused, the schedule would be invalid: " + "; ".join(problems),
                              line=current.line)
        doc.set_values(schedule_id, dict(updates), now=now)
        return {"id": schedule_id, "changed": list(updates)}

    return _edit(history, root, op, f"Edit schedule {schedule_id}", if_match)


def add_schedule(history: Any, root: str | os.PathLike[str], *, name: str, mode: str, instructions: str,
                 interval: str, unit: str, if_match: str | None = None, now: datetime | None = None) -> Written:
    """Append a schedule with the extension's defaults, every ``interval`` ``unit`` (creates the file if needed).

    Returns
    -------
    Written
        ``value`` is ``{"id", "name"}``.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit[:20]!r}")

    def op(doc: ScheduleDocument) -> dict[str, Any]:
        sched = doc.add(name=name, mode=mode, instructions=instructions, interval=interval, unit=unit,
                        now=now or datetime.now(UTC))
        return {"id": sched.id, "name": sched.name}

    return _edit(history, root, op, f"Add schedule “{name[:40]}”", if_match)


def remove_schedule(history: Any, root: str | os.PathLike[str], schedule_id: str, *,
                    if_match: str | None = None) -> Written:
    """Delete a schedule."""
    def op(doc: ScheduleDocument) -> dict[str, Any]:
        doc.remove(schedule_id)
        return {"id": schedule_id}

    return _edit(history, root, op, f"Delete schedule {schedule_id}", if_match)


__all__ = ["FILE", "SETTABLE", "UNITS", "add_schedule", "get_schedule", "list_schedules", "make_doc", "next_run",
           "remove_schedule", "set_active", "set_fields"]
