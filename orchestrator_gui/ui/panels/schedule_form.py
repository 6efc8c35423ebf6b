"""The form of one Roo Scheduler schedule: every field, inline validation, next-run preview.

The form tracks which keys the user touched (:meth:`ScheduleForm.changes`),
so saving writes exactly those values and nothing else: a key the file
lacks stays absent, ``""`` stays ``""``, and values keep their JSON types
(numbers as strings, as the extension writes them). Validation is
:func:`orchestrator_gui.formats.schedules.validate_values` on the schedule
as it would be saved; messages are shown under the form and the offending
fields get a red frame. Problems already in the file but in untouched
fields are shown as warnings and do not block saving other fields.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.formats.nextrun import DAY_KEYS, upcoming_runs
from orchestrator_gui.formats.schedules import validate_values

BUILTIN_MODES = ("code", "architect", "ask", "debug", "orchestrator")
UNITS = ("minute", "hour", "day")
INTERACTIONS = ("wait", "interrupt", "skip")
#: Keys shown read-only (written by the extension or set once).
INFO_KEYS = ("id", "lastExecutionTime", "lastSkippedTime", "lastTaskId", "nextExecutionTime", "createdAt", "updatedAt")
#: What the extension assumes for a missing key; setting that value on a missing key is no change.
_ABSENT_DEFAULTS: dict[str, Any] = {"active": True, "requireActivity": False, "taskInteraction": "wait"}
#: How the form names each key of the file in its messages (GUI review #27: raw JSON keys read as jargon).
FIELD_LABELS = {
    "name": "Name", "mode": "Mode", "modeDisplayName": "Mode label", "taskInstructions": "Instructions",
    "scheduleType": "Type", "timeInterval": "Interval", "timeUnit": "Unit", "selectedDays": "Days",
    "startDate": "Start date", "startHour": "Start hour", "startMinute": "Start minute",
    "expirationDate": "Expiry date", "expirationHour": "Expiry hour", "expirationMinute": "Expiry minute",
    "active": "Active", "requireActivity": "Only if there was activity", "taskInteraction": "When busy",
    "inactivityDelay": "Inactivity delay",
}


_KEY_WORD = re.compile(r"\b(" + "|".join(sorted(FIELD_LABELS, key=len, reverse=True)) + r")\b")


def field_message(message: str) -> str:
    """A validation message in the form's words: each file key becomes the label of its field."""
    def label(match: re.Match[str]) -> str:
        text = FIELD_LABELS[match.group(1)]
        return text if match.start() == 0 else text[0].lower() + text[1:]

    return _KEY_WORD.sub(label, message)


_DAY_LABELS = {"sun": "Su", "mon": "Mo", "tue": "Tu", "wed": "We", "thu": "Th", "fri": "Fr", "sat": "Sa"}


def describe_delta(seconds: float) -> str:
    """``"in 4m 12s"``, ``"in 2h 05m"``, ``"in 3d 4h"``, or ``"due now"``."""
    s = int(seconds)
    if s <= 0:
        return "due now"
    d, rem = divmod(s, 86_400)
    h, rem = divmod(rem, 3_600)
    m, sec = divmod(rem, 60)
    if d:
        return f"in {d}d {h}h"
    if h:
        return f"in {h}h {m:02d}m"
    if m:
        return f"in {m}m {sec:02d}s"
    return f"in {sec}s"


def _line(placeholder: str = "", width: int | None = None) -> QLineEdit:
    w = QLineEdit()
    w.setPlaceholderText(placeholder)
    if width:
        w.setMaximumWidth(width)
    return w


class ScheduleForm(QWidget):
    """Editor of one schedule object.

    Signals
    -------
    edited()
        A field changed (the panel enables Save/Revert).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._raw: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._loading = True  # filling the combo boxes below must not count as edits
        self.tz: tzinfo = UTC
        self.widgets: dict[str, QWidget] = {}

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)

        self.name = self._reg("name", _line("required"))
        form.addRow("Name", self.name)

        self.mode = self._reg("mode", QComboBox())
        self.mode.setEditable(True)
        self.mode_display = self._reg("modeDisplayName", _line("label Roo shows (optional)"))
        row = QHBoxLayout()
        row.addWidget(self.mode, 1)
        row.addWidget(self.mode_display, 1)
        form.addRow("Mode", row)

        self.instructions = self._reg("taskInstructions", QPlainTextEdit())
        self.instructions.setPlaceholderText("prompt sent as the first message of the new task (required)")
        self.instructions.setMinimumHeight(70)
        self.instructions.setMaximumHeight(130)
        form.addRow("Instructions", self.instructions)

        self.schedule_type = self._reg("scheduleType", QComboBox())
        self.schedule_type.setEditable(True)
        self.schedule_type.addItem("time")
        self.interval = self._reg("timeInterval", _line("e.g. 10", 70))
        self.unit = self._reg("timeUnit", QComboBox())
        self.unit.addItems(UNITS)
        row = QHBoxLayout()
        row.addWidget(QLabel("every"))
        row.addWidget(self.interval)
        row.addWidget(self.unit)
        row.addWidget(QLabel("type"))
        row.addWidget(self.schedule_type)
        row.addStretch(1)
        form.addRow("Interval", row)

        self.days: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        for d in DAY_KEYS:
            cb = QCheckBox(_DAY_LABELS[d])
            cb.toggled.connect(lambda _=False: self._touch("selectedDays"))
            self.days[d] = cb
            row.addWidget(cb)
        row.addStretch(1)
        days_box = QWidget()
        days_box.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        self.widgets["selectedDays"] = days_box
        form.addRow("Days", days_box)

        for prefix, label in (("start", "Starts"), ("expiration", "Expires")):
            date = self._reg(f"{prefix}Date", _line("YYYY-MM-DD", 110))
            hour = self._reg(f"{prefix}Hour", _line("HH", 44))
            minute = self._reg(f"{prefix}Minute", _line("MM", 44))
            row = QHBoxLayout()
            row.addWidget(date)
            row.addWidget(QLabel("at"))
            row.addWidget(hour)
            row.addWidget(QLabel(":"))
            row.addWidget(minute)
            row.addWidget(QLabel("local time" if prefix == "start" else "(empty date: never)"))
            row.addStretch(1)
            form.addRow(label, row)

        self.active = self._reg("active", QCheckBox("Active"))
        self.require_activity = self._reg("requireActivity", QCheckBox("Only if there was activity since the last run"))
        row = QHBoxLayout()
        row.addWidget(self.active)
        row.addWidget(self.require_activity)
        row.addStretch(1)
        form.addRow("", row)

        self.interaction = self._reg("taskInteraction", QComboBox())
        self.interaction.addItems(INTERACTIONS)
        self.delay = self._reg("inactivityDelay", _line("minutes", 60))
        row = QHBoxLayout()
        row.addWidget(self.interaction)
        row.addWidget(QLabel("if busy; wait for"))
        row.addWidget(self.delay)
        row.addWidget(QLabel("min of inactivity"))
        row.addStretch(1)
        form.addRow("When busy", row)

        self.info = QLabel()
        self.info.setProperty("role", "muted")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setWordWrap(True)

        self.problems = QLabel()
        self.problems.setProperty("role", "error")
        self.problems.setWordWrap(True)
        self.problems.hide()

        self.preview = QLabel()
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview.setWordWrap(True)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(form)
        outer.addWidget(self.problems)
        grid = QGridLayout()
        head = QLabel("Next five runs")
        head.setProperty("role", "muted")
        grid.addWidget(head, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.preview, 0, 1)
        grid.setColumnStretch(1, 1)
        outer.addLayout(grid)
        outer.addWidget(self.info)
        self.setEnabled(False)
        self._loading = False

    # ------------------------------------------------------------------ wiring
    def _reg(self, key: str, widget: QWidget) -> Any:
        self.widgets[key] = widget
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(lambda _t, k=key: self._touch(k))
        elif isinstance(widget, QPlainTextEdit):
            widget.textChanged.connect(lambda k=key: self._touch(k))
        elif isinstance(widget, QComboBox):
            widget.currentTextChanged.connect(lambda _t, k=key: self._touch(k))
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(lambda _b, k=key: self._touch(k))
        return widget

    def _touch(self, key: str) -> None:
        if self._loading:
            return
        self._dirty.add(key)
        self.refresh()
        self.edited.emit()

    def set_modes(self, slugs: list[str]) -> None:
        """Offer these mode slugs (custom modes first, then the built-ins)."""
        current = self.mode.currentText()
        self._loading = True
        self.mode.clear()
        self.mode.addItems(list(dict.fromkeys([*slugs, *BUILTIN_MODES])))
        self.mode.setCurrentText(current)
        self._loading = False

    # ------------------------------------------------------------------ load / read
    def load(self, raw: dict[str, Any] | None, *, editable: bool = True) -> None:
        """Show schedule ``raw`` (``None`` clears the form); forgets unsaved changes."""
        self._loading = True
        self._raw = dict(raw or {})
        #: The schedule as the user's edit started from it: the base of the three-way merge on save
        #: (a reload while the form has unsaved changes keeps it; see SchedulesPanel).
        self.base = dict(self._raw)
        self._dirty.clear()
        r = self._raw

        def text(key: str) -> str:
            v = r.get(key)
            return "" if v is None else v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)

        self.name.setText(text("name"))
        self.mode.setCurrentText(text("mode"))
        self.mode_display.setText(text("modeDisplayName"))
        self.instructions.setPlainText(text("taskInstructions"))
        self.schedule_type.setCurrentText(text("scheduleType") or "time")
        self.interval.setText(text("timeInterval"))
        for combo, key in ((self.unit, "timeUnit"), (self.interaction, "taskInteraction")):
            value = text(key) or ("hour" if key == "timeUnit" else "wait")
            if combo.findText(value) < 0:  # show an invalid value as-is rather than "fixing" it
                combo.addItem(value)
            combo.setCurrentText(value)
        days = r.get("selectedDays") if isinstance(r.get("selectedDays"), dict) else {}
        for d, cb in self.days.items():
            cb.setChecked(bool(days.get(d, True)))
        for prefix in ("start", "expiration"):
            for part in ("Date", "Hour", "Minute"):
                self.widgets[f"{prefix}{part}"].setText(text(f"{prefix}{part}"))
        self.active.setChecked(r.get("active") is not False)  # missing means true (extension rule)
        self.require_activity.setChecked(r.get("requireActivity") is True)
        self.delay.setText(text("inactivityDelay"))
        shown = [f"{k}: {text(k) or '—'}" for k in INFO_KEYS if k in r]
        extra = [k for k in r if k not in self.widgets and k not in INFO_KEYS]
        if extra:
            shown.append("other keys kept as they are: " + ", ".join(extra))
        self.info.setText("   ".join(shown))
        self._loading = False
        self.setEnabled(raw is not None)
        for w in self.widgets.values():
            if isinstance(w, (QLineEdit, QPlainTextEdit)):
                w.setReadOnly(not editable)
            elif w is not self.widgets["selectedDays"]:
                w.setEnabled(editable)
        for cb in self.days.values():
            cb.setEnabled(editable)
        self.refresh()

    def _value(self, key: str) -> Any:
        if key == "selectedDays":
            return {d: self.days[d].isChecked() for d in DAY_KEYS}
        w = self.widgets[key]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        if isinstance(w, QComboBox):
            return w.currentText()
        return w.text()

    def changes(self) -> dict[str, Any]:
        """The values the user changed, as they will be written (only keys that really differ)."""
        out = {}
        for key in sorted(self._dirty):
            value = self._value(key)
            if key in ("timeInterval", "inactivityDelay") and value.strip().isdigit():
                value = str(int(value.strip()))  # the extension writes String(parseInt(v))
            if key not in self._raw and value in ("", _ABSENT_DEFAULTS.get(key, "")):
                continue  # touched and put back: a missing key stays missing
            if self._raw.get(key, None) != value:
                out[key] = value
        return out

    def merged(self) -> dict[str, Any]:
        """The schedule as it would be saved."""
        return {**self._raw, **self.changes()}

    @property
    def dirty(self) -> bool:
        """True when saving would change something."""
        return bool(self.changes())

    # ------------------------------------------------------------------ validation and preview
    def validation(self) -> tuple[list[str], list[str]]:
        """``(blocking, existing)``: problems in changed fields, and problems already in the file elsewhere."""
        changed = set(self.changes())
        blocking, existing = [], []
        for msg in validate_values(self.merged()):
            key = msg.split(" ", 1)[0]
            (blocking if key in changed or key not in self._raw else existing).append(msg)
        return blocking, existing

    def refresh(self, now: datetime | None = None) -> None:
        """Update validation marks and the next-runs preview."""
        if not self._raw:
            self.problems.hide()
            self.preview.setText("")
            return
        blocking, existing = self.validation()
        bad_keys = {m.split(" ", 1)[0] for m in blocking + existing}
        for key, w in self.widgets.items():
            flag = "true" if key in bad_keys else "false"
            if w.property("invalid") != flag:
                w.setProperty("invalid", flag)
                w.style().unpolish(w)
                w.style().polish(w)
        lines = ([f"✖ {field_message(m)}" for m in blocking]
                 + [f"⚠ {field_message(m)} (already in the file)" for m in existing])
        self.problems.setText("\n".join(lines))
        self.problems.setVisible(bool(lines))
        self.preview.setText(self.preview_text(now))

    def preview_text(self, now: datetime | None = None) -> str:
        """The next five run times in local time, one per line."""
        merged = self.merged()
        now = now or datetime.now(UTC)
        if merged.get("active") is False:
            return "inactive: never runs until enabled"
        if merged.get("scheduleType", "time") != "time":
            return "never runs (only \"time\" schedules are run by the extension)"
        try:
            runs = upcoming_runs(merged, now, self.tz, 5)
        except (ValueError, ZeroDivisionError, OverflowError):
            runs = []
        if not runs:
            return "no run can be computed (check interval, unit, days and dates)"
        return "\n".join(
            f"{r.astimezone(self.tz):%a %d %b %Y %H:%M}   ({describe_delta((r - now).total_seconds())})" for r in runs)
