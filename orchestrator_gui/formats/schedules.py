"""Lossless reader and editor for ``.roo/schedules.json`` (Roo Scheduler).

Round-trip contract (docs/formats.md §1.6): the extension writes
``JSON.stringify({schedules}, null, 2)``, so for a file in that layout a
re-serialisation reproduces its bytes exactly (we check this on every load,
and keep the final-newline state). Changing an existing value splices only
that value's bytes; structural edits (adding or removing a schedule or a
key) re-serialise, which for such a file changes only the affected lines.
A file in another layout is edited by value splicing only; structural edits
are refused rather than reformatting the user's file. A file that is not in
the roo-scheduler schema at all (§1.7) is read-only.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from orchestrator_gui.formats.fileio import TextFile, atomic_write, decode_text, read_bytes
from orchestrator_gui.formats.jsonpos import JNode, LineIndex, duplicate_keys, parse_json, stringify
from orchestrator_gui.formats.nextrun import DAY_KEYS, iso_ms, to_ms

# Re-exported: the value rules live in schedule_values (for size), callers import them from here too.
from orchestrator_gui.formats.schedule_values import (  # noqa: F401
    BOOL_KEYS,
    UI_KEY_ORDER,
    coerce_value,
    range_problems,
    validate_values,
)
from orchestrator_gui.problems import FormatError, Problem, ReadOnlyError

#: Fields a user edits in the form; changing one bumps ``updatedAt`` (UI behaviour).
DEFINITION_KEYS = frozenset({
    "name", "mode", "modeDisplayName", "taskInstructions", "scheduleType", "timeInterval", "timeUnit",
    "selectedDays", "startDate", "startHour", "startMinute", "expirationDate", "expirationHour",
    "expirationMinute", "requireActivity", "taskInteraction", "inactivityDelay",
})
#: Fields written by the scheduler itself; never bump ``updatedAt``.
RUNTIME_KEYS = frozenset({"lastExecutionTime", "lastSkippedTime", "lastTaskId", "nextExecutionTime", "active"})


class Schedule(BaseModel):
    """Validated, typed view of one schedule (values exactly as stored: strings stay strings).

    ``line`` is where the schedule's object starts; ``raw`` is the full
    ordered object including unknown keys.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = ""
    mode: str = ""
    task_instructions: str = Field("", alias="taskInstructions")
    schedule_type: str = Field("", alias="scheduleType")
    time_interval: str | None = Field(None, alias="timeInterval")
    time_unit: str | None = Field(None, alias="timeUnit")
    selected_days: dict[str, bool] | None = Field(None, alias="selectedDays")
    start_date: str | None = Field(None, alias="startDate")
    start_hour: str | None = Field(None, alias="startHour")
    start_minute: str | None = Field(None, alias="startMinute")
    expiration_date: str | None = Field(None, alias="expirationDate")
    expiration_hour: str | None = Field(None, alias="expirationHour")
    expiration_minute: str | None = Field(None, alias="expirationMinute")
    require_activity: bool = Field(False, alias="requireActivity")
    active: bool = True
    task_interaction: str = Field("wait", alias="taskInteraction")
    inactivity_delay: str | None = Field(None, alias="inactivityDelay")
    last_execution_time: str | None = Field(None, alias="lastExecutionTime")
    last_skipped_time: str | None = Field(None, alias="lastSkippedTime")
    last_task_id: str | None = Field(None, alias="lastTaskId")
    next_execution_time: str | None = Field(None, alias="nextExecutionTime")
    mode_display_name: str | None = Field(None, alias="modeDisplayName")
    created_at: str | None = Field(None, alias="createdAt")
    updated_at: str | None = Field(None, alias="updatedAt")
    line: int = 0
    raw: dict[str, Any] = Field(default_factory=dict)


def _view(raw: dict[str, Any], line: int) -> Schedule:
    """Build the typed view, leaving badly-typed values out (they are reported by :func:`validate`)."""
    data: dict[str, Any] = {"line": line, "raw": raw}
    for key, value in raw.items():
        if key in _VIEW_KEYS:
            if key in BOOL_KEYS and isinstance(value, bool):
                data[key] = value
            elif key == "selectedDays" and isinstance(value, dict):
                data[key] = {k: bool(v) for k, v in value.items()}
            elif key not in BOOL_KEYS and key != "selectedDays" and isinstance(value, str):
                data[key] = value
    data.setdefault("id", str(raw.get("id", "")))
    return Schedule.model_validate(data)


_ALIASES = {f.alias for f in Schedule.model_fields.values() if f.alias}
#: Keys :func:`_view` copies (looked up once: ``Schedule.model_fields`` is slow to access per key).
_VIEW_KEYS = frozenset(Schedule.model_fields) | _ALIASES


class ScheduleDocument(TextFile):
    """An open ``schedules.json``.

    Attributes
    ----------
    schedules : list of Schedule
        Typed views, in file order (empty for a foreign file).
    foreign : bool
        True when the file is not in the roo-scheduler schema; it is then read-only.
    canonical : bool
        True when the file is byte-identical to the extension's serialisation,
        so structural edits can safely re-serialise it (computed on first use:
        listing and value edits do not need it).
    """

    def __init__(self, path: str | os.PathLike[str], data: bytes) -> None:
        super().__init__(path, data)
        self._parse()

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails: after a value splice (see _splice_values) the
        # state _parse() derives from the bytes is derived again on first use.
        if name in _PARSED and self.__dict__.pop("_stale", False):
            self._parse()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ------------------------------------------------------------------ parsing
    def _parse(self) -> None:
        text, _ = decode_text(self.data, self.name, allow_bom=False)
        self.text = text
        self.root = parse_json(text, self.name)
        self.final_newline = text.endswith("\n")
        self._canonical: bool | None = None
        self.lines = LineIndex(text)
        self.foreign_reason = _foreign_reason(self.root)
        self.foreign = self.foreign_reason is not None
        self._nodes: list[JNode] = [] if self.foreign else list(self.root.get("schedules").items)
        self._schedules: list[Schedule] | None = None

    @property
    def schedules(self) -> list[Schedule]:
        """Typed views of the schedules, in file order (empty for a foreign file).

        Made on first use: the views of a 14 MB file are 28 MB, and the re-parse after an edit
        needs none of them (they would be held at its peak, with both versions of the bytes).
        """
        if self._schedules is None:
            self._schedules = [_view(n.to_python(), self.lines.line(n.start)) for n in self._nodes]
        return self._schedules

    @property
    def canonical(self) -> bool:
        """Whether the file is byte-identical to the extension's serialisation (see the class notes)."""
        if self._canonical is None:
            self._canonical = stringify(self.root.to_python()) + ("\n" if self.final_newline else "") == self.text
        return self._canonical

    def _reload_from(self, data: bytes) -> None:
        old = self.data
        self.data = data
        # Let the old tree go before the new one is built (a big file would be held twice);
        # a failed parse parses the old bytes again below.
        self.root, self._nodes, self._schedules = None, [], None  # type: ignore[assignment]
        self.text = self.lines = None  # type: ignore[assignment]  # _parse() sets both again
        try:
            self._parse()
        except FormatError:
            self.data = old
            self._parse()
            raise

    # ------------------------------------------------------------------ queries
    def find(self, schedule_id: str) -> int:
        """Index of the first schedule with ``id`` (the extension uses ``findIndex``)."""
        for i, s in enumerate(self.schedules):
            if s.id == schedule_id:
                return i
        raise FormatError(self.name, f"no schedule with id {schedule_id!r}")

    def get(self, schedule_id: str) -> Schedule:
        """Return the schedule with ``schedule_id``."""
        return self.schedules[self.find(schedule_id)]

    def problems(self) -> list[Problem]:
        """Validation findings (docs/formats.md §1.6 rule 7); nothing is changed."""
        if self.foreign:
            return [Problem(file=self.name, line=1, severity="warning",
                            message=f"not a Roo Scheduler file ({self.foreign_reason}); shown read-only")]
        out: list[Problem] = []
        for key, pos in duplicate_keys(self.root):
            out.append(Problem(file=self.name, line=self.lines.line(pos), severity="warning",
                               message=f"duplicate key {key!r}: JavaScript keeps the last one"))
        seen: dict[str, int] = {}
        for node, sched in zip(self._nodes, self.schedules):
            out.extend(validate(node, self.text, self.name, lines=self.lines))
            if sched.id in seen:
                out.append(Problem(file=self.name, line=sched.line, severity="error",
                                   message=f"duplicate schedule id {sched.id!r} (first at line {seen[sched.id]}); "
                                           "the extension only ever finds the first"))
            seen.setdefault(sched.id, sched.line)
        return out

    # ------------------------------------------------------------------ edits
    def _require_editable(self) -> None:
        if self.foreign:
            raise ReadOnlyError(self.name, f"not a Roo Scheduler file ({self.foreign_reason}); it is read-only")

    def _require_canonical(self, what: str) -> None:
        if not self.canonical:
            raise ReadOnlyError(
                self.name,
                f"cannot {what}: the file is not laid out the way Roo Scheduler writes it, and "
                "re-serialising would reformat it. Edit existing values only, or let Roo rewrite it first",
            )

    def set_values(self, schedule_id: str, updates: dict[str, Any], *, now: datetime | None = None,
                   touch_updated: bool | None = None) -> None:
        """Set fields of one schedule, changing only their bytes.

        Parameters
        ----------
        schedule_id : str
            Which schedule.
        updates : dict
            New values, already of the right JSON type (see :func:`coerce_value`).
            ``None`` removes the key (the extension does this for ``nextExecutionTime``).
        now : datetime, optional
            Time used for ``updatedAt``.
        touch_updated : bool, optional
            Bump ``updatedAt``; by default only when a definition field changes.
        """
        self._require_editable()
        idx = self.find(schedule_id)
        node = self._nodes[idx]
        current = node.to_python()
        changes = {k: v for k, v in updates.items()
                   if current.get(k, _MISSING) != v and not (v is None and k not in current)}
        if touch_updated is None:
            touch_updated = any(k in DEFINITION_KEYS for k in changes)
        if changes and touch_updated:
            changes["updatedAt"] = iso_ms(to_ms(now or datetime.now(UTC)))
        if not changes:
            return
        existing = {k for k, _, _ in node.members}
        if all(k in existing and v is not None for k, v in changes.items()):
            # A duplicate key gets the change on every occurrence, like the JS object would.
            spans = [(v.start, v.end, changes[k]) for k, _, v in node.members if k in changes]
            del node  # its lazily decoded values hold the old text: not kept through the re-parse
            self._splice_values(spans)
            return
        self._require_canonical("add or remove keys")
        new = dict(current)
        for k, v in changes.items():
            if v is None:
                new.pop(k, None)
            else:
                new[k] = v  # existing keys keep their place, new ones go last (JS spread)
        self._replace_schedule(idx, new)

    def _splice_values(self, spans: list[tuple[int, int, Any]]) -> None:
        """Replace the text at each ``(start, end)`` by the JSON of its value.

        Spliced as bytes, from views of the file's bytes: slicing and concatenating the text made
        three transient copies of a 14 MB file on top of everything parsed (40 MB of its peak).
        """
        text, raw = self.text, memoryview(self.data)  # data is text in UTF-8 (no BOM: refused on load)
        ascii_only = text.isascii()  # O(1): then character and byte offsets agree

        def at(offset: int) -> int:
            return offset if ascii_only else len(text[:offset].encode("utf-8"))

        pieces: list[Any] = []
        prev = 0
        for start, end, value in sorted(spans):
            pieces += [raw[prev:at(start)], _inline(value, text, start).encode("utf-8")]
            prev = at(end)
        pieces.append(raw[prev:])
        data = b"".join(pieces)
        del pieces, raw
        # JSON values went where JSON values were, so the text is well-formed JSON of the same shape
        # (the values were checked by the caller). Parsing it again waits until something reads the
        # document: a one-shot edit never does, and that re-parse, with both versions of a big file
        # in memory, was the peak memory of `schedules set`.
        for name in _PARSED:
            self.__dict__.pop(name, None)
        self.data = data
        self._stale = True

    def _replace_schedule(self, idx: int, new: dict[str, Any] | None) -> None:
        obj = self.root.to_python()
        if new is None:
            del obj["schedules"][idx]
        else:
            obj["schedules"][idx] = new
        self._commit_text(stringify(obj) + ("\n" if self.final_newline else ""))

    def _commit_text(self, text: str) -> None:
        # A BOM is rejected at load time, so there is never one to keep.
        self._reload_from(text.encode("utf-8"))

    def save(self) -> None:
        """Write the edits atomically; creates ``.roo/schedules.json`` for a new document."""
        if self.original is None:
            atomic_write(self.path, self.data, expected=None, create=True)
            self.original = self.data
            return
        super().save()

    def set_active(self, schedule_id: str, active: bool) -> None:
        """Enable or disable a schedule: one line changes (the ``active`` value)."""
        self.set_values(schedule_id, {"active": bool(active)}, touch_updated=False)

    def add(self, *, name: str, mode: str, instructions: str, interval: str, unit: str,
            now: datetime | None = None, mode_display_name: str | None = None,
            **extra: Any) -> Schedule:
        """Append a new schedule with the UI's key order and defaults (§1.6 rule 4)."""
        self._require_editable()
        self._require_canonical("add a schedule")
        now = now or datetime.now(UTC)
        stamp = iso_ms(to_ms(now))
        new_id = str(to_ms(now))
        while any(s.id == new_id for s in self.schedules):
            new_id = str(int(new_id) + 1)
        sched = new_schedule(new_id, name, mode, instructions, interval, unit, stamp,
                             mode_display_name or mode)
        sched.update(extra)
        problems = validate_values(sched)
        if problems:
            raise FormatError(self.name, "; ".join(problems))
        obj = self.root.to_python()
        obj["schedules"].append(sched)
        self._commit_text(stringify(obj) + ("\n" if self.final_newline else ""))
        return self.schedules[-1]

    def duplicate(self, schedule_id: str, *, now: datetime | None = None) -> Schedule:
        """Copy a schedule under a new id and name, with its run history cleared."""
        src = dict(self.get(schedule_id).raw)
        now = now or datetime.now(UTC)
        extra = {k: v for k, v in src.items() if k not in UI_KEY_ORDER}
        keep = {k: src[k] for k in ("selectedDays", "startDate", "startHour", "startMinute", "expirationDate",
                                    "expirationHour", "expirationMinute", "requireActivity", "active",
                                    "taskInteraction", "inactivityDelay") if k in src}
        return self.add(name=f"{src.get('name', '')} (copy)", mode=src.get("mode", "code"),
                        instructions=src.get("taskInstructions", ""), interval=src.get("timeInterval", "1"),
                        unit=src.get("timeUnit", "hour"), now=now,
                        mode_display_name=src.get("modeDisplayName"), **keep, **extra)

    def remove(self, schedule_id: str) -> None:
        """Delete a schedule."""
        self._require_editable()
        self._require_canonical("remove a schedule")
        self._replace_schedule(self.find(schedule_id), None)


_MISSING = object()
#: What ScheduleDocument._parse() derives from the bytes.
_PARSED = frozenset({"text", "root", "final_newline", "_canonical", "lines", "foreign_reason", "foreign",
                     "_nodes", "_schedules"})


def _inline(value: Any, text: str, start: int) -> str:
    """Serialise ``value`` for splicing at ``start``, indented like its surroundings."""
    out = stringify(value)
    if "\n" in out:
        line_start = text.rfind("\n", 0, start) + 1
        indent = re.match(r"[ \t]*", text[line_start:start]).group()
        out = out.replace("\n", "\n" + indent)
    return out


def new_schedule(new_id: str, name: str, mode: str, instructions: str, interval: str, unit: str,
                 stamp: str, mode_display_name: str) -> dict[str, Any]:
    """A schedule object exactly as the extension's UI creates it (§1.3 defaults and key order)."""
    return {
        "id": new_id, "name": name, "mode": mode, "taskInstructions": instructions,
        "scheduleType": "time", "timeInterval": str(interval), "timeUnit": unit,
        "selectedDays": {d: True for d in DAY_KEYS},
        "startDate": "", "startHour": "", "startMinute": "00",
        "expirationDate": "", "expirationHour": "00", "expirationMinute": "00",
        "requireActivity": False, "active": True, "taskInteraction": "wait", "inactivityDelay": "10",
        "lastExecutionTime": "", "lastSkippedTime": "", "lastTaskId": "", "nextExecutionTime": "",
        "modeDisplayName": mode_display_name, "createdAt": stamp, "updatedAt": stamp,
    }


def validate(node: JNode, text: str, name: str, *, lines: LineIndex | None = None) -> list[Problem]:
    """Validation problems of one schedule node, each at the line of the offending key.

    ``lines`` is the text's :class:`LineIndex` when the caller has one (a document validating all its schedules).
    """
    raw = node.to_python()
    msgs = validate_values(raw)
    if not msgs:
        return []
    lines = lines or LineIndex(text)
    key_lines = {k: lines.line(kpos) for k, kpos, _ in node.members}  # the last of duplicate keys, as before
    start_line = lines.line(node.start)
    out = []
    for msg in msgs:
        key = msg.split(" ", 1)[0]
        out.append(Problem(file=name, line=key_lines.get(key, start_line), severity="error",
                           message=f"schedule {raw.get('name') or raw.get('id')!r}: {msg}"))
    return out


def _foreign_reason(root: JNode) -> str | None:
    """Why the file is not in roo-scheduler format (§1.7), or ``None``."""
    if root.kind != "object":
        return "the top level is not an object"
    arr = root.get("schedules")
    if arr is None or arr.kind != "array":
        return "it has no \"schedules\" array"
    for item in arr.items:
        if item.kind != "object":
            return "a schedule entry is not an object"
        if not any(item.get(k) is not None for k in ("taskInstructions", "mode", "scheduleType")):
            return "its entries have no taskInstructions, mode or scheduleType"
    return None


def load_schedules(path: str | os.PathLike[str]) -> ScheduleDocument:
    """Read and parse a ``schedules.json``; raises :class:`FormatError` with file and line."""
    return ScheduleDocument(path, read_bytes(path))


def empty_schedules(path: str | os.PathLike[str]) -> ScheduleDocument:
    """A document for a workspace with no ``schedules.json`` yet (the extension's starting state)."""
    doc = ScheduleDocument.__new__(ScheduleDocument)
    TextFile.__init__(doc, path, b'{\n  "schedules": []\n}')
    doc.original = None  # type: ignore[assignment]
    doc._parse()
    return doc


def schedules_path(workspace: str | os.PathLike[str]) -> Path:
    """Where Roo Scheduler keeps its file in ``workspace``."""
    return Path(workspace) / ".roo" / "schedules.json"
