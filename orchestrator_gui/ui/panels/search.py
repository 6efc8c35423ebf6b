"""Search panel: find nodes by title, content and tags; pick one to select it and fly there.

Typing searches but never selects: only a click, Enter in the list, or
Enter in the query (the first hit) picks a node. The results that are
selected in the graph are highlighted, however they were selected.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.model.nodes import NodeKind
from orchestrator_gui.model.queries import search
from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.theme import displayable, kind_color

LIMIT = 200


def _dot(color: QColor) -> QIcon:
    pix = QPixmap(10, 10)
    pix.fill(color)
    return QIcon(pix)


class SearchPanel(Panel):
    """Query box, kind filter and the ranked results."""

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.query = QLineEdit()
        self.query.setPlaceholderText("Find nodes (all words must match)…")
        self.query.setClearButtonEnabled(True)
        self.kind = QComboBox()
        self.kind.addItem("All kinds")
        self.kind.addItems([k.value for k in NodeKind])
        self.results = QListWidget()
        self.results.setUniformItemSizes(True)
        self.results.itemClicked.connect(self._pick)
        self.results.itemActivated.connect(self._pick)
        self.count = QLabel()
        self.count.setProperty("role", "muted")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)  # search as you type, once typing pauses
        self._timer.timeout.connect(self.run_search)
        self.query.textChanged.connect(lambda _t: self._timer.start())
        self.query.returnPressed.connect(self._first)
        self.kind.currentIndexChanged.connect(lambda _i: self.run_search())
        top = QHBoxLayout()
        top.addWidget(self.query, 1)
        top.addWidget(self.kind)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.results, 1)
        lay.addWidget(self.count)

    def set_session(self, session) -> None:
        self.session = session
        self.run_search()

    def reload(self) -> None:
        self.run_search()

    def focus_query(self) -> None:
        """Edit ▸ Find."""
        self.query.setFocus()
        self.query.selectAll()

    def run_search(self) -> list[str]:
        """Search now; returns the ids found."""
        self._timer.stop()
        self.results.clear()
        text = self.query.text().strip()
        if self.session is None or not text:
            self.count.setText("")
            return []
        g = self.session.graph
        kind = self.kind.currentText() if self.kind.currentIndex() > 0 else None
        ids = search(g, text, kind=kind, limit=LIMIT)
        for node_id in ids:
            node = g.node(node_id)
            where = f"{node.source.file}:{node.source.line}" if node.source and node.source.line else node.kind.value
            text = f"{displayable(node.title or node_id)}    — {where}"
            item = QListWidgetItem(_dot(kind_color(node.kind.value)), text)
            item.setData(Qt.ItemDataRole.UserRole, node_id)
            item.setToolTip(node.content[:400] if node.content else node.title)
            self.results.addItem(item)
        more = " (first 200)" if len(ids) >= LIMIT else ""
        self.count.setText(f"{len(ids)} found{more}")
        self.mirror_selection([g.node(i) for i in g.selected_ids()])
        return ids

    def owns(self, node) -> bool:
        """Any node can be a result."""
        return True

    def mirror_selection(self, nodes: list) -> None:
        """Highlight the results that are selected in the graph (the last selected one current)."""
        wanted = {n.id for n in nodes}
        primary = nodes[-1].id if nodes else None
        current = None
        with QSignalBlocker(self.results):
            for row in range(self.results.count()):
                item = self.results.item(row)
                node_id = item.data(Qt.ItemDataRole.UserRole)
                item.setSelected(node_id in wanted)
                if node_id == primary:
                    current = item
            index = self.results.indexFromItem(current) if current is not None else QModelIndex()
            self.results.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        if current is not None:
            self.results.scrollToItem(current)

    def _first(self) -> None:
        self.run_search()
        if self.results.count():
            self.results.setCurrentRow(0)
            self._pick(self.results.item(0))

    def _pick(self, item: QListWidgetItem) -> None:
        node_id = item.data(Qt.ItemDataRole.UserRole)
        if node_id:  # also when it is selected already: the view flies back to it
            self.request_node(node_id)
