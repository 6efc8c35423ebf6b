"""The Next panel: the TODO items to work on now, best first, with why; the first is marked in the 3D view.

The ranking is :func:`orchestrator_gui.workspace.next_work.rank_for_session`,
the one ``orchestrator-gui next`` prints and ``run --todo next`` follows. It
is recomputed after a burst of graph changes (at most twice a second) and
every minute, because schedules come due with the clock alone.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from orchestrator_gui.model.nodes import Node, NodeFlag
from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.theme import display_title

COLUMNS = ["#", "Item", "Line"]
#: How many items the panel lists.
SHOWN = 6
#: Re-rank at least this often (ms): a schedule comes due without any change to the graph.
TICK_MS = 60_000


class NextPanel(Panel):
    """What to work on now: rank, item, reasons and TODO.md line; activating a row selects its node."""

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setUniformRowHeights(True)
        self.tree.setIndentation(10)
        # A narrow dock: the title stretches, and the reasons are the item's child rows (the first expanded).
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col, width in ((0, 40), (2, 44)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.tree.setColumnWidth(col, width)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.itemClicked.connect(self._on_activated)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.status)
        self.ranked: list[Any] = []
        self._marked: str | None = None
        self._graph: Any = None
        # One re-rank per burst of changes, and one a minute for the clock.
        self._debounce = QTimer(self, singleShot=True, interval=500)
        self._debounce.timeout.connect(self.reload)
        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self.reload)
        self.install_selection_sync()

    # -- session -------------------------------------------------------------------------
    def set_session(self, session: Any) -> None:
        if self._graph is not None:
            self._unmark()
            self._graph.events.changed.disconnect(self._on_graph_changed)
        self._graph = session.graph if session is not None else None
        if self._graph is not None:
            self._graph.events.changed.connect(self._on_graph_changed)
            self._tick.start()
        else:
            self._tick.stop()
        super().set_session(session)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Stop listening to the graph (a model never keeps a closed view alive)."""
        self.set_session(None)
        super().closeEvent(event)

    def _on_graph_changed(self, summary: Any) -> None:
        # Our own mark is a flag change: it must not set off another ranking.
        if summary.flags and not (summary.nodes_added or summary.nodes_removed or summary.nodes_changed
                                  or summary.edges_added or summary.edges_removed or summary.activation):
            return
        self._debounce.start()

    def on_files_changed(self, names: list[str]) -> None:
        """Due times, pauses and failures live in the files: re-rank when any of them changes."""
        self._debounce.start()

    # -- ranking -------------------------------------------------------------------------
    def reload(self) -> None:
        from orchestrator_gui.workspace.next_work import rank_for_session

        if self.session is None:
            self.ranked = []
            self.tree.clear()
            self.status.setText("")
            return
        with self.ctx.reporter.guard("Ranking what to do next"):
            # The app keeps activation and attention current itself (its dynamics timer).
            self.ranked = rank_for_session(self.session.core, limit=SHOWN, dynamics=False)
        g = self.session.graph
        self.tree.clear()
        for k, r in enumerate(self.ranked, 1):
            src = g.node(r.node_id).source if r.node_id in g else None
            line = str(src.line) if src is not None and src.line else ""
            item = QTreeWidgetItem([str(k), display_title(r.title), line])
            item.setData(0, Qt.ItemDataRole.UserRole, r.node_id)
            item.setToolTip(1, display_title(r.title) + "\n\n" + "\n".join(r.reasons) + f"\n\nscore {r.score:.2f}")
            for why in r.reasons:
                child = QTreeWidgetItem(["", f"· {why}", ""])
                child.setData(0, Qt.ItemDataRole.UserRole, r.node_id)
                child.setToolTip(1, why)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            item.setExpanded(k == 1)
        self.status.setText("Nothing open to work on." if not self.ranked else
                            "Ranked by due schedules, active goals, activation, attention, dependencies "
                            "and failures (the same order as “orchestrator-gui next”).")
        self._mark(self.ranked[0].node_id if self.ranked else None)

    def _mark(self, node_id: str | None) -> None:
        """Mark the first item in the view (the NEXT outline) and unmark the one before."""
        g = self._graph
        if g is None or node_id == self._marked:
            return
        with g.batch():
            self._unmark()
            if node_id is not None and node_id in g:
                g.set_flags([node_id], NodeFlag.NEXT, True)
                self._marked = node_id

    def _unmark(self) -> None:
        g = self._graph
        if g is not None and self._marked is not None and self._marked in g:
            g.set_flags([self._marked], NodeFlag.NEXT, False)
        self._marked = None

    # -- selection -------------------------------------------------------------------------
    def _on_activated(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        self.request_node(item.data(0, Qt.ItemDataRole.UserRole))

    def owns(self, node: Node) -> bool:
        return any(r.node_id == node.id for r in self.ranked)

    def show_node(self, node: Node | None) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if node is not None and item.data(0, Qt.ItemDataRole.UserRole) == node.id:
                self.tree.setCurrentItem(item)
                return

    def node_at(self, view: Any, index: Any) -> str | None:
        item = self.tree.itemFromIndex(index)
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
