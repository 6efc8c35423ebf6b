"""The Runs panel's *Pending approval* section and its per-item "Ask before running" switch.

Lists the runs that wait for the user (``.orchestrator/approvals.json``, see
:mod:`orchestrator_gui.workspace.approvals`) with their instructions, mode and
reasons; **Approve** starts the selected one at the loop's next turn, **Skip**
writes Roo's skip fields, **Edit & approve** runs the edited text once
(``schedules.json`` keeps its own). The section hides itself when nothing
waits. The file is looked at every :data:`POLL_MS` (one ``stat``), because the
scheduler that adds entries may be another process (``orchestrator-gui run``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.engine.approvals import Approval, approvals_path
from orchestrator_gui.ui.theme import displayable
from orchestrator_gui.workspace import approvals as desk

#: How often ``approvals.json`` is looked at.
POLL_MS = 1000


class PendingApprovalsBox(QWidget):
    """Pending approvals with Approve / Skip / Edit & approve, and the "Ask before running" switch.

    Signals
    -------
    approved(str)
        An approval id was approved: the window turns its loop so the run starts now.
    changed()
        The list changed (the status bar recounts).
    """

    approved = Signal(str)
    changed = Signal()

    def __init__(self, reporter: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reporter = reporter
        self.root: Path | None = None
        self.entries: list[Approval] = []
        self._stamp: tuple[int, int] | None = None
        self._subject: tuple[str, str] | None = None
        self.graph: Any = None
        self._flagged: list[str] = []  # nodes outlined as waiting (the view's "needs a person" outline)
        self.title = QLabel()
        self.title.setProperty("role", "heading")
        self.list = QListWidget()
        self.list.setMaximumHeight(110)
        self.list.currentRowChanged.connect(self._on_current)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("Instructions of the selected run; edit them, then Edit & approve")
        self.editor.setMaximumHeight(90)
        self.editor.textChanged.connect(self._enable)
        self.approve_button = QPushButton("Approve")
        self.approve_button.setToolTip("Start it with its own instructions (at the loop's next turn)")
        self.approve_button.clicked.connect(lambda: self._approve(edited=False))
        self.edit_button = QPushButton("Edit && approve")
        self.edit_button.setToolTip("Run the edited text once; .roo/schedules.json keeps its instructions")
        self.edit_button.clicked.connect(lambda: self._approve(edited=True))
        self.skip_button = QPushButton("Skip")
        self.skip_button.setToolTip("Do not run it; a schedule gets lastSkippedTime and its next run, as in Roo")
        self.skip_button.clicked.connect(self._skip)
        self.ask = QCheckBox("Ask before running")
        self.ask.setToolTip("Runs of the selected schedule or TODO item wait here for approval "
                            "(approve = true in .orchestrator/config.toml)")
        self.ask.setEnabled(False)
        self.ask.toggled.connect(self._on_ask)
        buttons = QHBoxLayout()
        for w in (self.approve_button, self.edit_button, self.skip_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        self.pending_area = QWidget()
        inner = QVBoxLayout(self.pending_area)
        inner.setContentsMargins(0, 0, 0, 0)
        for w in (self.title, self.list, self.editor):
            inner.addWidget(w)
        inner.addLayout(buttons)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.pending_area)
        lay.addWidget(self.ask)
        self.pending_area.setVisible(False)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.refresh)
        self._enable()

    # -- workspace ----------------------------------------------------------------------------------
    def set_root(self, root: str | os.PathLike[str] | None, graph: Any = None) -> None:
        """Follow the workspace at ``root`` (None: none open); ``graph``'s nodes of waiting runs get outlined."""
        self.root = Path(root) if root is not None else None
        self.graph, self._flagged = graph, []
        self._stamp = None
        self.set_subject(None)
        if self.root is None:
            self._poll.stop()
            self._show([])
        else:
            self._poll.start()
            self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Re-read ``approvals.json`` when it changed (or ``force``); a bad file is reported, the list kept."""
        if self.root is None:
            return
        try:
            st = approvals_path(self.root).stat()
            stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self._stamp and not force:
            return
        self._stamp = stamp
        try:
            entries = desk.pending(self.root)
        except Exception as exc:  # noqa: BLE001 - shown in the status bar; the last good list stays
            self.reporter.report(exc, context="Reading the runs that wait for approval")
            return
        self._show(entries)

    def _show(self, entries: list[Approval]) -> None:
        keep = self.current()
        self.entries = entries
        self.list.blockSignals(True)
        self.list.clear()
        for a in entries:
            state = " · approved, starts at the next turn" if a.state == "approved" else ""
            item = QListWidgetItem(displayable(f"{a.name} ({a.kind} · {a.mode}){state} — {'; '.join(a.reasons)}"))
            item.setData(Qt.ItemDataRole.UserRole, a.id)
            item.setToolTip(displayable(a.runs_instructions[:2000]))
            self.list.addItem(item)
        self.list.blockSignals(False)
        waiting = sum(a.state == "pending" for a in entries)
        self.title.setText(f"Pending approval ({waiting})")
        self.pending_area.setVisible(bool(entries))
        ids = [a.id for a in entries]
        row = ids.index(keep.id) if keep is not None and keep.id in ids else (0 if entries else -1)
        self.list.setCurrentRow(row)
        self._on_current(row)
        if self.graph is not None:
            with self.graph.batch():
                self._flagged = desk.flag_nodes(self.graph, {(a.kind, a.subject_id): a for a in entries},
                                                self._flagged)
        self.changed.emit()

    def status_text(self) -> str:
        """The status bar's words: ``"2 runs wait for approval"``, or "" when none waits."""
        n = sum(a.state == "pending" for a in self.entries)
        return f"{n} run{'s' if n != 1 else ''} wait{'s' if n == 1 else ''} for approval" if n else ""

    def current(self) -> Approval | None:
        """The selected entry."""
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def select(self, approval_id: str) -> bool:
        """Select the entry with ``approval_id`` (tests, the status bar's click); False when absent."""
        for i, a in enumerate(self.entries):
            if a.id == approval_id:
                self.list.setCurrentRow(i)
                return True
        return False

    def _on_current(self, _row: int) -> None:
        a = self.current()
        self.editor.blockSignals(True)
        self.editor.setPlainText(a.runs_instructions if a is not None else "")
        self.editor.blockSignals(False)
        self._enable()

    def _enable(self) -> None:
        a = self.current()
        waiting = a is not None and a.state == "pending"
        self.approve_button.setEnabled(waiting)
        self.skip_button.setEnabled(a is not None)
        self.edit_button.setEnabled(waiting and self.editor.toPlainText().strip() != ""
                                    and self.editor.toPlainText() != (a.instructions if a else ""))

    # -- actions ------------------------------------------------------------------------------------
    def _approve(self, *, edited: bool) -> None:
        a = self.current()
        if a is None or self.root is None:
            return
        try:
            desk.approve(self.root, a.id, self.editor.toPlainText() if edited else None)
        except Exception as exc:  # noqa: BLE001 - the user sees why; nothing was written
            self.reporter.report(exc, context="Not approved")
            return
        self.refresh(force=True)
        self.approved.emit(a.id)

    def _skip(self) -> None:
        a = self.current()
        if a is None or self.root is None:
            return
        try:
            desk.skip(self.root, a.id)
        except Exception as exc:  # noqa: BLE001 - the user sees why; the entry stays
            self.reporter.report(exc, context="Not skipped")
            return
        self.refresh(force=True)

    # -- the per-item switch ----------------------------------------------------------------------------
    def set_subject(self, subject: tuple[str, str] | None, title: str = "") -> None:
        """The schedule or TODO item the "Ask before running" box is about (the selected node), or None."""
        self._subject = subject
        on = False
        if subject is not None and self.root is not None:
            try:
                on = desk.asks_approval(self.root, *subject)
            except Exception as exc:  # noqa: BLE001 - a bad config is reported; the box stays off
                self.reporter.report(exc, context="Reading .orchestrator/config.toml")
                subject = None
        self.ask.blockSignals(True)
        self.ask.setChecked(on)
        self.ask.blockSignals(False)
        self.ask.setEnabled(subject is not None)
        self.ask.setText(f"Ask before running “{displayable(title)}”" if subject is not None and title
                         else "Ask before running")

    def _on_ask(self, on: bool) -> None:
        if self._subject is None or self.root is None:
            return
        try:
            desk.set_approve(self.root, *self._subject, on)
        except Exception as exc:  # noqa: BLE001 - reported; the box shows what the file says
            self.reporter.report(exc, context="Not changed")
            self.set_subject(self._subject)


__all__ = ["POLL_MS", "PendingApprovalsBox"]
