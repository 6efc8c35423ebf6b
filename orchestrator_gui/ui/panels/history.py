"""The History panel: the graph's transactions as a timeline, and a slider that previews the graph at any of them.

The timeline lists every journal record, oldest first: who made it (user,
agent, engine, migration), what it did and when. Dragging the slider, or
clicking a row, shows the graph as it was right after that record in the 3D
view, read-only, with a banner over the view ("Previewing history at #N",
*Restore this state*, *Back to now*); the store and the live graph are not
touched. The slider's right end is now: the live graph again.

*Restore this state* commits one ``restore`` transaction (what ``graph
restore`` does), which Edit ▸ Undo undoes like any other change. *Back to
now*, the slider's right end, closing the panel's dock or opening another
workspace return the view to the live graph.

The states come from :class:`~orchestrator_gui.workspace.history_preview.HistoryPreview`
(the application layer): it walks from the state it showed last, so a step of
the slider costs well under a millisecond on a 10k-node graph.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.theme import displayable

COLUMNS = ["#", "Who", "What", "When"]
#: Gap between the banner and the top of the view (pixels).
BANNER_MARGIN = 8
#: Wait this long after a commit before re-reading the journal's new records (a burst reads once).
REFRESH_MS = 300


def when_text(t: float, now: datetime | None = None) -> str:
    """A record's time for the timeline, local: ``HH:MM:SS`` today, ``YYYY-MM-DD HH:MM`` before."""
    try:
        at = datetime.fromtimestamp(t)
    except (OverflowError, OSError, ValueError):
        return "?"
    today = (now or datetime.now()).date()
    return at.strftime("%H:%M:%S") if at.date() == today else at.strftime("%Y-%m-%d %H:%M")


class HistoryBanner(QFrame):
    """"Previewing history at #N — what · [Restore this state] [Back to now]", over the top of the 3D view.

    Signals
    -------
    restore_requested()
    back_requested()
    """

    restore_requested = Signal()
    back_requested = Signal()

    def __init__(self, view: QWidget) -> None:
        super().__init__(view)
        self.setObjectName("history_banner")
        self.setProperty("role", "notice")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.restore = QPushButton("Restore this state", self)
        self.restore.setToolTip("Make the graph what it was here, as one change that Edit ▸ Undo undoes")
        self.restore.clicked.connect(self.restore_requested.emit)
        self.back = QPushButton("Back to now", self)
        self.back.setToolTip("Show the live graph again")
        self.back.clicked.connect(self.back_requested.emit)
        for w in (self.label, self.restore, self.back):
            lay.addWidget(w)
        view.installEventFilter(self)
        self.hide()

    def show_text(self, text: str) -> None:
        """Show the banner with ``text`` (shortened to fit the view)."""
        limit = max(24, (self.parentWidget().width() - 260) // 7)
        self.label.setText(text if len(text) <= limit else text[: limit - 1] + "…")
        self.label.setToolTip(text)
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()

    def place(self) -> None:
        """Centre the banner at the top of the view, beside the legend (or below it when there is no room)."""
        view = self.parentWidget()
        self.adjustSize()
        x, y = max(BANNER_MARGIN, (view.width() - self.width()) // 2), BANNER_MARGIN
        legend = getattr(getattr(view, "overlays", None), "legend", None)
        if legend is not None and legend.isVisible():
            box = legend.geometry()
            x = max(x, box.right() + BANNER_MARGIN)
            if x + self.width() > view.width() - BANNER_MARGIN:
                x, y = max(BANNER_MARGIN, (view.width() - self.width()) // 2), box.bottom() + BANNER_MARGIN
        self.move(x, y)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """Stay centred when the view is resized."""
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self.place()
        return super().eventFilter(watched, event)


class HistoryPanel(Panel):
    """Timeline of the graph's transactions with a slider that previews each state in the 3D view.

    Signals
    -------
    preview_changed(int)
        The record previewed now (0: the live graph is shown).
    restored(object)
        The committed restore transaction.
    """

    preview_changed = Signal(int)
    restored = Signal(object)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.view: Any = None
        self.banner: HistoryBanner | None = None
        self.preview: Any = None
        self._graph: Any = None
        self._dock: QDockWidget | None = None
        #: The record previewed now (0: live).
        self.previewing = 0

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag to see the graph as it was after each change (the right end is now)")
        self.slider.setRange(0, 0)
        self.slider.setPageStep(10)
        self.slider.valueChanged.connect(self._on_slider)
        self.back_step = QToolButton()
        self.back_step.setText("◀")
        self.back_step.setToolTip("One change back")
        self.back_step.clicked.connect(lambda: self.slider.setValue(self.slider.value() - 1))
        self.fwd_step = QToolButton()
        self.fwd_step.setText("▶")
        self.fwd_step.setToolTip("One change forward")
        self.fwd_step.clicked.connect(lambda: self.slider.setValue(self.slider.value() + 1))
        row = QHBoxLayout()
        row.addWidget(self.back_step)
        row.addWidget(self.slider, 1)
        row.addWidget(self.fwd_step)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # #, Who and When as wide as their text: fixed widths left "What" a few letters in a 240 px dock.
        for col in (0, 1, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemClicked.connect(self._on_row)
        self.tree.itemActivated.connect(self._on_row)

        self.restore_button = QPushButton("Restore this state")
        self.restore_button.setToolTip("Make the graph what it was at the previewed change (undoable)")
        self.restore_button.clicked.connect(self.restore_previewed)
        self.now_button = QPushButton("Back to now")
        self.now_button.clicked.connect(self.back_to_now)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.now_button)
        buttons.addStretch(1)

        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(self.tree, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)

        self._refresh = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh.timeout.connect(self.refresh)
        self._update_controls()

    # -- wiring ------------------------------------------------------------------------------
    def set_view(self, view: Any) -> None:
        """Preview in ``view`` (a :class:`~orchestrator_gui.ui.graph_view.GraphView`; one without
        ``show_preview``, the placeholder, only gets the timeline)."""
        self.view = view
        if view is not None and hasattr(view, "show_preview"):
            self.banner = HistoryBanner(view)
            self.banner.restore_requested.connect(self.restore_previewed)
            self.banner.back_requested.connect(self.back_to_now)

    def set_session(self, session: Any) -> None:
        self.back_to_now()
        if self._graph is not None:
            self._graph.events.transaction_committed.disconnect(self._on_committed)
        self._graph = None
        self.preview = None
        store = getattr(session, "store", None) if session is not None else None
        if store is not None:
            from orchestrator_gui.workspace.history_preview import HistoryPreview

            self.preview = HistoryPreview(store)
            self._graph = session.graph
            self._graph.events.transaction_committed.connect(self._on_committed)
        super().set_session(session)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Back to the live graph and stop listening."""
        self.set_session(None)
        super().closeEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Find the dock the panel sits in, so closing it returns the view to now."""
        super().showEvent(event)
        w = self.parentWidget()
        while w is not None and not isinstance(w, QDockWidget):
            w = w.parentWidget()
        if w is not None and w is not self._dock:
            self._dock = w
            w.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        """The dock was closed: back to now, and let the preview's memory go."""
        if watched is self._dock and event.type() == QEvent.Type.Close:
            self.back_to_now()
            if self.preview is not None:
                self.preview.close()
        return super().eventFilter(watched, event)

    def mirror_selection(self, nodes: list) -> None:
        """The timeline lists transactions, not nodes: the graph's selection leaves it as it is."""

    def _on_committed(self, _tx: Any) -> None:
        self._refresh.start()

    # -- the timeline ------------------------------------------------------------------------
    def reload(self) -> None:
        self.tree.clear()
        if self.preview is None:
            self._set_range()
            self._update_controls()
            return
        with self.ctx.reporter.guard("Reading the graph's history"):
            self._add_rows(self.preview.rows)
        self._set_range()
        self._update_controls()

    def refresh(self) -> None:
        """Add the records committed since the timeline was last read (the preview stays where it is)."""
        if self.preview is None or getattr(self.preview.store, "closed", False):
            return  # the workspace is closing
        before = len(self.preview.rows)
        with self.ctx.reporter.guard("Reading the graph's history") as g:
            new = self.preview.refresh()
        if g.failed:
            return
        if len(self.preview.rows) != before + len(new):  # the journal was rewritten: start again
            self.back_to_now()
            self.reload()
            return
        self._add_rows(new)
        self._set_range()
        self._update_controls()

    def _add_rows(self, rows: list) -> None:
        items = []
        for r in rows:
            item = QTreeWidgetItem([str(r.seq), r.who, displayable(r.what), when_text(r.when)])
            item.setData(0, Qt.ItemDataRole.UserRole, r.seq)
            item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            actor = r.actor or "unknown"
            item.setToolTip(1, f"{r.who} ({actor})" if actor != r.who else r.who)
            item.setToolTip(2, f"{displayable(r.what)}\ntransaction {r.tx_id}")
            item.setToolTip(3, datetime.fromtimestamp(r.when).isoformat(sep=" ", timespec="seconds")
                            if 0 < r.when < 1e11 else "")
            items.append(item)
        self.tree.addTopLevelItems(items)
        if items and not self.previewing:
            self.tree.scrollToBottom()

    def _set_range(self) -> None:
        n = len(self.preview.rows) if self.preview is not None else 0
        at_now = not self.previewing
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        if at_now:
            self.slider.setValue(max(n - 1, 0))
        self.slider.blockSignals(False)

    def row_item(self, seq: int) -> QTreeWidgetItem | None:
        """The timeline row of record ``seq`` (``None`` when it is not listed)."""
        try:
            return self.tree.topLevelItem(self.preview.position(seq)) if self.preview is not None else None
        except KeyError:
            return None

    # -- previewing ----------------------------------------------------------------------------
    def _on_row(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        self.slider.setValue(self.tree.indexOfTopLevelItem(item))

    def _on_slider(self, index: int) -> None:
        if self.preview is None or not self.preview.rows:
            return
        if index >= len(self.preview.rows) - 1:
            self.back_to_now()
        else:
            self.preview_at(self.preview.rows[index].seq)

    def preview_at(self, seq: int) -> bool:
        """Show the graph as it was right after record ``seq`` in the view (read-only); False when it failed."""
        if self.preview is None:
            return False
        with self.ctx.reporter.guard(f"Previewing the graph at #{seq}") as g:
            graph = self.preview.show(seq)
        if g.failed:
            return False
        self.previewing = seq
        row = self.preview.row(seq)
        index = self.preview.position(seq)
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        if self.view is not None and hasattr(self.view, "show_preview"):
            self.view.show_preview(graph)
        if self.banner is not None:
            self.banner.show_text(f"Previewing history at #{seq} — {displayable(row.what)}")
        item = self.tree.topLevelItem(index)
        if item is not None:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)
        step = self.preview.last_step
        self.status.setText(f"Previewing #{seq} of {self.preview.last_seq} ({row.who}, {when_text(row.when)}): "
                            f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges · read-only"
                            + (f" · {step.how} {step.records}" if step.records else ""))
        self._update_controls()
        self.preview_changed.emit(seq)
        return True

    def back_to_now(self) -> None:
        """Show the live graph again (the slider's right end)."""
        was = self.previewing
        self.previewing = 0
        if self.view is not None and hasattr(self.view, "show_preview"):
            self.view.show_preview(None)
        if self.banner is not None:
            self.banner.hide()
        self._set_range()
        self.tree.clearSelection()
        self._update_controls()
        if was:
            self.preview_changed.emit(0)

    def restore_previewed(self) -> None:
        """Commit the previewed state as one undoable ``restore`` transaction, then show now."""
        seq = self.previewing
        if not seq or self.session is None:
            return
        from orchestrator_gui.workspace.history_preview import restore

        with self.ctx.reporter.guard(f"Restoring the graph as of #{seq}") as g:
            committed = restore(self.session.core, seq)
        self.back_to_now()
        if g.failed:
            return
        if committed is None:
            self.ctx.reporter.info(f"The graph already is as it was after #{seq}: nothing to restore")
            return
        self.refresh()
        self.ctx.reporter.info(f"Restored the graph as of #{seq} (Edit ▸ Undo takes it back)")
        self.restored.emit(committed)

    def _update_controls(self) -> None:
        has = self.preview is not None and bool(self.preview.rows)
        writable = has and self.session is not None and not getattr(self.session.core, "readonly", False)
        self.slider.setEnabled(has)
        self.back_step.setEnabled(has and self.slider.value() > 0)
        self.fwd_step.setEnabled(has and bool(self.previewing))
        self.restore_button.setEnabled(writable and bool(self.previewing))
        self.now_button.setEnabled(bool(self.previewing))
        if self.banner is not None:
            self.banner.restore.setEnabled(self.restore_button.isEnabled())
        if self.previewing:
            return
        if self.session is None:
            self.status.setText("")
        elif self.preview is None:
            self.status.setText("The graph is held in memory: it has no history to scrub.")
        else:
            self.status.setText(f"Now: {len(self.preview.rows)} changes recorded. Drag the slider or pick a row "
                                "to see the graph as it was; nothing changes until you restore.")
