"""The Goals panel: each goal with its progress bar, confidence and open questions; a click focuses the view.

The figures are :func:`orchestrator_gui.model.epistemic.goal_report`, the
same as ``orchestrator-gui graph goals``: progress rolled up from the work
that serves the goal, confidence from its evidence, and the questions a
goal without enough evidence raises (shown as the goal's child rows).
Clicking a goal selects it and focuses the 3D view on it and what lies
around it (focus mode, two hops); Esc in the view returns.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QProgressBar, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from orchestrator_gui.model.nodes import Node
from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.theme import display_title

COLUMNS = ["Goal", "Progress", "Conf."]
#: Hops shown around a goal when it is focused from the panel.
FOCUS_DEPTH = 2


class GoalsPanel(Panel):
    """Goals with progress bars, confidence and questions.

    Signals
    -------
    focus_requested(str)
        Focus the 3D view on this goal (the main window calls the view's ``set_focus``).
    """

    focus_requested = Signal(str)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setUniformRowHeights(True)
        # The panel lives in a narrow dock: the title takes what the bar and the figure leave.
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 64), (2, 44)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.tree.setColumnWidth(col, width)
        self.tree.setIndentation(12)
        self.tree.itemClicked.connect(self._on_clicked)
        self.tree.itemActivated.connect(self._on_clicked)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.status)
        self.goals: list[Any] = []
        self._graph: Any = None
        self._debounce = QTimer(self, singleShot=True, interval=800)
        self._debounce.timeout.connect(self.reload)

    def set_session(self, session: Any) -> None:
        if self._graph is not None:
            self._graph.events.changed.disconnect(self._on_graph_changed)
        self._graph = session.graph if session is not None else None
        if self._graph is not None:
            self._graph.events.changed.connect(self._on_graph_changed)
        super().set_session(session)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Stop listening to the graph."""
        self.set_session(None)
        super().closeEvent(event)

    def _on_graph_changed(self, summary: Any) -> None:
        # Progress and evidence change with structure, statuses and edges, not with activation ticks.
        if (summary.nodes_added or summary.nodes_removed or summary.nodes_changed or summary.edges_added
                or summary.edges_removed):
            self._debounce.start()

    def reload(self) -> None:
        from orchestrator_gui.model.epistemic import goal_report

        self.tree.clear()
        self.goals = []
        if self.session is None:
            self.status.setText("")
            return
        with self.ctx.reporter.guard("Reading the goals"):
            self.goals = goal_report(self.session.graph)
        for info in self.goals:
            item = QTreeWidgetItem([display_title(info.title) or info.id, "", f"{info.confidence:.2f}"])
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            linked = f"{info.done_items} of {info.items} linked items done" if info.items else "nothing linked yet"
            item.setToolTip(0, f"{info.kind}: {display_title(info.title)}\n{linked}")
            item.setToolTip(2, f"confidence {info.confidence:.2f}: {info.evidence} supporting, "
                               f"{info.contradictions} contradicting"
                               + (" — unsupported" if info.unsupported else ""))
            self.tree.addTopLevelItem(item)
            bar = QProgressBar()
            bar.setRange(0, 100)
            bar.setValue(round(100 * info.progress))
            bar.setFormat("%p%")
            bar.setMaximumHeight(16)
            bar.setToolTip(linked)
            self.tree.setItemWidget(item, 1, bar)
            for q in info.questions:
                child = QTreeWidgetItem([f"? {q}", "", ""])
                child.setData(0, Qt.ItemDataRole.UserRole, info.id)
                child.setToolTip(0, q)
                item.addChild(child)
            item.setExpanded(bool(info.questions))
        unsupported = sum(1 for g in self.goals if g.unsupported)
        self.status.setText(f"{len(self.goals)} goals" + (f" · {unsupported} without evidence" if unsupported else "")
                            + " · click one to focus the view on it")

    def _on_clicked(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        node_id = item.data(0, Qt.ItemDataRole.UserRole)
        if node_id:
            self.request_node(node_id)
            self.focus_requested.emit(node_id)

    def owns(self, node: Node) -> bool:
        return any(g.id == node.id for g in self.goals)

    def show_node(self, node: Node | None) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if node is not None and item.data(0, Qt.ItemDataRole.UserRole) == node.id:
                self.tree.setCurrentItem(item)
                return
