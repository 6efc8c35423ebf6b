"""Schedules panel: the Roo Scheduler schedules with a live countdown, a full form and safe edits.

Every change goes through the lossless editor
(:class:`~orchestrator_gui.formats.schedules.ScheduleDocument`): a form save
splices only the changed values (plus ``updatedAt``, as the extension's form
does), enable/disable changes one value, add/duplicate/delete re-serialise
the way the extension does. The running VS Code extension keeps schedules in
memory; the panel says so once, after the first save.

A schedule paused by the 3-strike escalation (or by hand in our config)
reads *paused* in the Active column, with the reason and the time in its
tooltip and the status line, and **Resume** clears the pause
(:func:`orchestrator_gui.workspace.pauses.resume`; where a pause is stored
is explained there).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.formats.nextrun import expiration_ms, from_ms, next_execution_ms, to_ms
from orchestrator_gui.formats.schedules import ScheduleDocument, empty_schedules
from orchestrator_gui.formats.timezones import local_zone
from orchestrator_gui.formats.workspace import SCHEDULES
from orchestrator_gui.model.identity import schedule_node_id
from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.panels.form_merge import merge_form_changes
from orchestrator_gui.ui.panels.schedule_form import ScheduleForm, describe_delta
from orchestrator_gui.ui.theme import displayable
from orchestrator_gui.workspace.approvals import resume  # a resumed schedule's next run waits for approval
from orchestrator_gui.workspace.pauses import Pause, PauseWatch

FILE = SCHEDULES.as_posix()
NOTICE_FLAG = "told/reload_window"
RELOAD_NOTICE = ("Saved. Note: a running VS Code Roo Scheduler keeps its schedules in memory and "
                 "only picks up changes made here after “Developer: Reload Window”.")
COLUMNS = ("Name", "Mode", "Active", "Every", "Next run")
#: Who starts a schedule when its countdown ends (GUI review #17: the countdown looked like this app's promise).
WHO_FIRES = ("Started by whichever scheduler runs on this workspace: the Roo Code extension in VS Code, "
             "Tools ▸ Run the loop here, or `orchestrator-gui run`. Nothing fires it while none runs.")
#: Colour of a paused schedule's row.
PAUSED_COLOR = "#e2a03f"


def next_run_at(raw: dict[str, Any], now: datetime, tz) -> datetime | None:
    """When the extension would run ``raw`` next; ``None`` if never (inactive, expired, invalid)."""
    if raw.get("active") is False or raw.get("scheduleType") != "time":
        return None
    try:
        ms = next_execution_ms(raw, to_ms(now), tz)
        exp = expiration_ms(raw, tz)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if ms is None or (exp is not None and ms > exp):
        return None
    return from_ms(ms)



def every(interval: str | None, unit: str | None) -> str:
    """``10 minutes``, ``1 hour``: the interval as people say it (the file's words are singular)."""
    n, u = interval or "?", unit or "?"
    return f"{n} {u}" if n in ("1", "?") or u == "?" else f"{n} {u}s"

class SchedulesPanel(Panel):
    """List of schedules (left) and the form of the selected one (right).

    Parameters
    ----------
    ctx : PanelContext
    run_now : callable, optional
        ``run_now(schedule_id)`` starts the schedule's task through the
        execution engine; without one, "Run now" is disabled with a tooltip.
    """

    FILE = FILE

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None, *, run_now=None) -> None:
        super().__init__(ctx, parent)
        self.doc: ScheduleDocument | None = None
        self.tz = local_zone()
        self._next: dict[str, datetime | None] = {}
        self._run_now = run_now
        self._shown_id: str | None = None
        self.pauses: PauseWatch | None = None
        self.paused: dict[str, Pause] = {}

        self.list = QTreeWidget()
        self.list.setColumnCount(len(COLUMNS))
        self.list.setHeaderLabels(COLUMNS)
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformRowHeights(True)
        self.list.headerItem().setToolTip(4, "When it runs next. " + WHO_FIRES)
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i in range(1, len(COLUMNS)):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemSelectionChanged.connect(self._on_select)

        self.btn_toggle = QPushButton("Disable")
        self.btn_add = QPushButton("Add")
        self.btn_dup = QPushButton("Duplicate")
        self.btn_delete = QPushButton("Delete")
        self.btn_run = QPushButton("Run now")
        self.btn_resume = QPushButton("Resume")
        self.btn_save = QPushButton("Save")
        self.btn_revert = QPushButton("Revert")
        self.btn_save.setDefault(True)
        for b, slot in ((self.btn_toggle, self.toggle_active), (self.btn_add, self.add_schedule),
                        (self.btn_dup, self.duplicate), (self.btn_delete, self.delete),
                        (self.btn_run, self.run_now), (self.btn_resume, self.resume), (self.btn_save, self.save),
                        (self.btn_revert, self.revert)):
            b.clicked.connect(slot)

        self.banner = QFrame()
        self.banner.setProperty("role", "notice")
        lay = QHBoxLayout(self.banner)
        lay.setContentsMargins(8, 4, 4, 4)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        ok = QPushButton("Got it")
        ok.clicked.connect(self.banner.hide)
        lay.addWidget(self.banner_text, 1)
        lay.addWidget(ok)
        self.banner.hide()

        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)

        self.form = ScheduleForm()
        self.form.tz = self.tz
        self.form.edited.connect(self._update_buttons)

        # Two rows of three: in one row the six buttons were cut off in a dock narrower than ~520 px
        # ("uplicat", "un now") -- the default width at 1400-1600 px windows.
        actions = QGridLayout()
        for i, b in enumerate((self.btn_add, self.btn_dup, self.btn_delete, self.btn_toggle, self.btn_run,
                               self.btn_resume)):
            actions.addWidget(b, i // 3, i % 3)
        actions.setColumnStretch(3, 1)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.list, 1)
        lv.addLayout(actions)
        lv.addWidget(self.status)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.form)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.btn_revert)
        save_row.addWidget(self.btn_save)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(scroll, 1)
        rv.addLayout(save_row)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.banner)
        outer.addWidget(split, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.tick)
        self._update_buttons()

    # ------------------------------------------------------------------ loading
    def make_doc(self, path: Path, data: bytes | None) -> ScheduleDocument:
        return empty_schedules(path) if data is None else ScheduleDocument(path, data)

    def set_run_now(self, run_now) -> None:
        """Wire "Run now" to the execution engine (``run_now(schedule_id)``)."""
        self._run_now = run_now
        self._update_buttons()

    def set_session(self, session) -> None:
        self.pauses = PauseWatch(session.root) if session is not None else None
        super().set_session(session)

    def _read_pauses(self) -> None:
        try:
            self.paused = self.pauses.of("schedule") if self.pauses is not None else {}
        except OSError as exc:  # the schedules still show; the reason is in the status bar
            self.ctx.reporter.report(exc, context="Reading the paused schedules")

    def reload(self) -> None:
        keep = self.current_id()
        pending = self.form.changes() if self.form.dirty else {}
        self._read_pauses()
        self.doc = self.read_doc()
        self._fill_modes()
        with QSignalBlocker(self.list):
            self.list.clear()
            for s in self.doc.schedules if self.doc else []:
                item = QTreeWidgetItem([displayable(s.name or s.id), displayable(s.mode_display_name or s.mode),
                                        "", "", ""])
                item.setData(0, Qt.ItemDataRole.UserRole, s.id)
                item.setToolTip(0, f"id {s.id}, line {s.line}")
                self.list.addTopLevelItem(item)
        self._recompute(datetime.now(UTC))
        self.tick()
        target = self._item(keep) if keep else None
        if target is None and self.list.topLevelItemCount():
            target = self.list.topLevelItem(0)
        if target is not None:
            with QSignalBlocker(self.list):
                self.list.setCurrentItem(target)
        self._show_current(pending)
        if self.doc is not None and self.doc.foreign:
            self.status.setText(f"{FILE} is not a Roo Scheduler file ({self.doc.foreign_reason}); shown read-only.")
        elif self.doc is not None:
            self._show_status()
        else:
            self.status.setText("no workspace open" if self.session is None else f"{FILE} cannot be read")
        if self.session is not None and not self.timer.isActive():
            self.timer.start()
        elif self.session is None:
            self.timer.stop()

    def _show_status(self) -> None:
        if self.doc is None or self.doc.foreign:
            return
        problems = self.doc.problems()
        ids = {s.id for s in self.doc.schedules}
        paused = [p for sid, p in self.paused.items() if sid in ids]
        sid = self.current_id()
        current = self.paused.get(sid) if sid else None
        self.status.setText(f"{len(self.doc.schedules)} schedules"
                            + (f" · {len(paused)} paused" if paused else "")
                            + (f" · {len(problems)} problems (see the form)" if problems else "")
                            + (f"\nSelected: {current.describe()}; Resume runs it again" if current else ""))

    def _fill_modes(self) -> None:
        slugs: list[str] = []
        if self.session is not None:
            from orchestrator_gui.formats.roomodes import load_modes

            path = self.session.workspace.roomodes
            if path.exists():
                try:
                    slugs = [m.slug for m in load_modes(path).modes]
                except Exception:  # noqa: BLE001 - a broken .roomodes only loses the suggestions
                    slugs = []
        self.form.set_modes(slugs)

    def _item(self, schedule_id: str) -> QTreeWidgetItem | None:
        for i in range(self.list.topLevelItemCount()):
            it = self.list.topLevelItem(i)
            if it.data(0, Qt.ItemDataRole.UserRole) == schedule_id:
                return it
        return None

    def current_id(self) -> str | None:
        """Id of the selected schedule."""
        it = self.list.currentItem()
        return it.data(0, Qt.ItemDataRole.UserRole) if it is not None else None

    def _current_raw(self) -> dict[str, Any] | None:
        sid = self.current_id()
        if self.doc is None or sid is None:
            return None
        try:
            return dict(self.doc.get(sid).raw)
        except Exception:  # noqa: BLE001 - vanished from the file
            return None

    def _show_current(self, pending: dict[str, Any] | None = None) -> None:
        raw = self._current_raw()
        editable = self.doc is not None and not self.doc.foreign
        base = self.form.base if pending and self._shown_id == self.current_id() else None
        self.form.load(raw, editable=editable)
        self._shown_id = self.current_id()
        if raw is not None and pending:
            # An outside change reloaded the file while the form had unsaved
            # edits: keep them on top of the new values instead of losing them,
            # and keep the version they were made against (Save merges three ways).
            self._restore_pending(pending)
            if base is not None:
                self.form.base = base
        self._update_buttons()
        self._show_status()

    def _restore_pending(self, pending: dict[str, Any]) -> None:
        f = self.form
        for key, value in pending.items():
            w = f.widgets.get(key)
            if key == "selectedDays":
                for d, cb in f.days.items():
                    cb.setChecked(bool(value.get(d)))
            elif hasattr(w, "setChecked"):
                w.setChecked(bool(value))
            elif hasattr(w, "setPlainText"):
                w.setPlainText(value)
            elif hasattr(w, "setCurrentText"):
                w.setCurrentText(value)
            elif hasattr(w, "setText"):
                w.setText(value)
            f._dirty.add(key)
        f.refresh()

    # ------------------------------------------------------------------ countdown
    def _recompute(self, now: datetime) -> None:
        self._next = {}
        for s in self.doc.schedules if self.doc else []:
            self._next.setdefault(s.id, next_run_at(s.raw, now, self.tz))

    def tick(self) -> None:
        """Refresh the countdown column (called every second)."""
        if self.doc is None:
            return
        before = self.paused
        self._read_pauses()  # one stat per file when nothing changed
        if self.paused != before:
            self._show_status()
            self._update_buttons()
        now = datetime.now(UTC)
        if any(t is not None and t <= now for t in self._next.values()):
            self._recompute(now)  # a run time passed: the extension would have re-armed
        if self.form.isVisible() and self.form._raw:
            # The form's "Next five runs" counts down too (it was computed once, then went stale).
            self.form.preview.setText(self.form.preview_text(now))
        for i in range(self.list.topLevelItemCount()):
            it = self.list.topLevelItem(i)
            sid = it.data(0, Qt.ItemDataRole.UserRole)
            try:
                s = self.doc.get(sid)
            except Exception:  # noqa: BLE001
                continue
            pause = self.paused.get(sid)
            it.setText(2, "paused" if pause is not None else ("yes" if s.active else "no"))
            it.setToolTip(2, pause.describe() if pause is not None else "")
            it.setText(3, every(s.time_interval, s.time_unit))
            nxt = self._next.get(sid)
            if nxt is None:
                label = "—" if s.active else "off"
                tip = "never: inactive, expired or invalid"
            else:
                label = describe_delta((nxt - now).total_seconds())
                tip = f"{nxt.astimezone(self.tz):%a %d %b %Y %H:%M:%S} local\n{WHO_FIRES}"
            it.setText(4, label)
            it.setToolTip(4, tip)
            color = QColor(PAUSED_COLOR) if pause is not None else self.palette().color(
                self.palette().ColorRole.PlaceholderText if not s.active else self.palette().ColorRole.Text)
            for c in range(len(COLUMNS)):
                it.setForeground(c, color)

    # ------------------------------------------------------------------ selection
    def _on_select(self) -> None:
        if self.current_id() == self._shown_id:
            return
        if self.form.dirty and not self.ctx.prompter.confirm(
                "Unsaved changes", "Discard the unsaved changes of this schedule?", ok="Discard"):
            old = self._item(self._shown_id) if self._shown_id else None
            if old is not None:
                with QSignalBlocker(self.list):
                    self.list.setCurrentItem(old)
            return
        self._show_current()
        sid = self.current_id()
        if sid is not None and self.session is not None:
            self.request_node(self.session.node_for(FILE, key=f"schedule/{sid}"))

    def show_node(self, node) -> None:
        if node is None or node.source is None or node.source.file != FILE:
            return
        parts = node.source.key.split("/")
        if len(parts) >= 2 and parts[0] == "schedule":
            it = self._item(parts[1])
            if it is not None and it is not self.list.currentItem() and not self.form.dirty:
                self._mirroring = True
                try:
                    self.list.setCurrentItem(it)
                finally:
                    self._mirroring = False

    def select_schedule(self, schedule_id: str) -> bool:
        """Select a schedule by id (tests, the inspector's "open source")."""
        it = self._item(schedule_id)
        if it is not None:
            self.list.setCurrentItem(it)
        return it is not None

    # ------------------------------------------------------------------ actions
    def _update_buttons(self) -> None:
        raw = self._current_raw()
        editable = self.doc is not None and not self.doc.foreign and self.session is not None
        have = raw is not None and editable
        self.btn_toggle.setEnabled(have)
        self.btn_toggle.setText("Enable" if raw is not None and raw.get("active") is False else "Disable")
        self.btn_add.setEnabled(editable)
        self.btn_dup.setEnabled(have)
        self.btn_delete.setEnabled(have)
        blocking, _ = self.form.validation() if raw is not None else ([], [])
        self.btn_save.setEnabled(have and self.form.dirty and not blocking)
        self.btn_revert.setEnabled(have and self.form.dirty)
        self.btn_resume.setEnabled(have and self.current_id() in self.paused)
        self.btn_resume.setToolTip(self.paused[self.current_id()].describe() + " — click to run it again"
                                   if self.current_id() in self.paused else "Only a paused schedule can be resumed")
        self.btn_run.setEnabled(have and self._run_now is not None)
        self.btn_run.setToolTip("Start this schedule's task now" if self._run_now is not None else
                                "Running a schedule needs the execution engine, which is not available here")

    def drop_unsaved(self) -> None:
        self.form.load(None)

    def after_write(self) -> None:
        if not self.ctx.settings.flag(NOTICE_FLAG):
            self.ctx.settings.set_flag(NOTICE_FLAG)
            self.banner_text.setText(RELOAD_NOTICE)
            self.banner.show()

    def save(self) -> bool:
        """Write the form's changed fields (bumping ``updatedAt``); True when written."""
        # The schedule the form shows: a files-changed burst may have cleared the list's current row
        # (the graph's selection decides the highlight) while the form keeps the user's edits.
        sid = self._shown_id or self.current_id()
        changes = self.form.changes()
        if self.doc is None or sid is None or not changes:
            return False
        blocking, _ = self.form.validation()
        if blocking:
            self.ctx.reporter.report("; ".join(blocking), context="Not saved")
            return False
        name = self.form.merged().get("name") or sid
        fresh = self.read_doc()  # the file as it is now: another program may have written the same schedule
        try:
            theirs = dict(fresh.get(sid).raw)
        except Exception:  # noqa: BLE001 - removed meanwhile
            self.ctx.reporter.report(f"schedule {sid} is no longer in {FILE}", context="Not saved")
            return False
        changes = merge_form_changes(self.ctx.prompter, f"schedule “{name}”", self.form.base, changes, theirs)
        if changes is None:
            return False  # cancelled: the form keeps the user's values
        if not changes:
            self.reload()  # theirs kept everywhere: nothing of ours left to write
            return False
        done = self.commit_edit(fresh, lambda d: d.set_values(sid, changes), f"Edit schedule “{name}”")
        if done:
            self.ctx.reporter.info(f"Saved schedule “{name}” ({', '.join(changes)})")
        return bool(done)

    def revert(self) -> None:
        """Drop the form's unsaved changes."""
        self._show_current()

    def toggle_active(self) -> None:
        """Enable or disable the selected schedule (one value changes)."""
        raw = self._current_raw()
        sid = self.current_id()
        if raw is None or sid is None:
            return
        on = raw.get("active") is False
        self.commit_edit(self.doc, lambda d: d.set_active(sid, on),
                         f"{'Enable' if on else 'Disable'} schedule “{raw.get('name') or sid}”")

    def add_schedule(self) -> None:
        """Append a new schedule with the extension's defaults (asks for name and instructions)."""
        if self.doc is None:
            return
        name = self.ctx.prompter.ask_text("New schedule", "Name")
        if not name or not name.strip():
            return
        instructions = self.ctx.prompter.ask_text("New schedule", "Task instructions", multiline=True)
        if not instructions or not instructions.strip():
            return
        mode = self.form.mode.itemText(0) if self.form.mode.count() else "code"
        made = self.commit_edit(self.doc, lambda d: d.add(name=name.strip(), mode=mode, instructions=instructions,
                                                          interval="1", unit="hour"), f"Add schedule “{name}”")
        if made is not None and hasattr(made, "id"):
            self.select_schedule(made.id)

    def duplicate(self) -> None:
        """Copy the selected schedule under a new id (run history cleared)."""
        sid = self.current_id()
        if sid is None:
            return
        made = self.commit_edit(self.doc, lambda d: d.duplicate(sid), "Duplicate schedule")
        if made is not None and hasattr(made, "id"):
            self.select_schedule(made.id)

    def delete(self) -> None:
        """Delete the selected schedule after confirmation."""
        raw = self._current_raw()
        sid = self.current_id()
        if raw is None or sid is None:
            return
        if not self.ctx.prompter.confirm("Delete schedule",
                                         f"Delete the schedule “{raw.get('name') or sid}”? (Edit ▸ Undo restores it.)",
                                         ok="Delete"):
            return
        self.commit_edit(self.doc, lambda d: d.remove(sid), f"Delete schedule “{raw.get('name') or sid}”")

    def run_now(self) -> None:
        """Start the selected schedule's task through the engine."""
        sid = self.current_id()
        if sid is None or self._run_now is None:
            return
        with self.ctx.reporter.guard("Run now"):
            self._run_now(sid)

    def resume(self) -> None:
        """Clear the selected schedule's pause (a ``resumed`` record and ``paused = false``)."""
        sid = self.current_id()
        if sid is None or self.session is None or sid not in self.paused:
            return
        name = (self._current_raw() or {}).get("name") or sid
        with self.ctx.reporter.guard("Resume") as g:
            resume(self.session.root, sid, "schedule", session=self.session.core)
        if not g.failed:
            self.ctx.reporter.info(f"Resumed schedule “{name}”: it runs again when due", 10_000)
        self.reload()

    # ------------------------------------------------------------------ helpers for tests
    def node_of(self, schedule_id: str) -> str:
        """Node id of a schedule (as the migration names it)."""
        return schedule_node_id(schedule_id)
