"""Node inspector: everything about the selected node, with its text editable (as a refinement).

Shows title, kind/layer/status, content, metadata, tags, edges (click one to
jump to the node at its other end), version history, activation, attention,
score, confidence and provenance (source file and line, creating operation).
Editing the text and pressing *Apply* performs a refine whose result is the
typed text: in place for graph-only thoughts, as a new derived node for
nodes that mirror a workspace file (the file stays the source of truth).
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from orchestrator_gui.ui.panels.base import Panel, PanelContext
from orchestrator_gui.ui.theme import KIND_COLORS, display_title


def _when(t: float | None) -> str:
    if not t:
        return "—"
    return _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def _text_of(title: str, content: str) -> str:
    return f"{title}\n{content}" if content else title


class InspectorPanel(Panel):
    """Details of one node.

    Signals
    -------
    refine_requested(str, str)
        Node id and the edited text (the window performs the refine).
    open_source(str)
        Node id whose source line should be shown in its panel.
    """

    refine_requested = Signal(str, str)
    open_source = Signal(str)

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.node_id: str | None = None
        self._loaded = ""  # the node's text as last shown

        self.title = QLabel("Nothing selected")
        self.title.setProperty("role", "title")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.badges = QLabel()
        self.badges.setTextFormat(Qt.TextFormat.RichText)
        self.badges.setWordWrap(True)

        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("title on the first line, then the content")
        self.text.setMinimumHeight(90)
        self.text.textChanged.connect(self._on_text)
        self.apply_btn = QPushButton("Apply")
        self.apply_btn.clicked.connect(self._apply)
        self.revert_btn = QPushButton("Revert")
        self.revert_btn.clicked.connect(lambda: self.show_node(self._node()))
        self.source_btn = QPushButton("Open source line")
        self.source_btn.clicked.connect(lambda: self.node_id and self.open_source.emit(self.node_id))

        self.values = QFormLayout()
        self.values.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._labels: dict[str, QLabel] = {}
        for key in ("Activation", "Attention", "Score", "Confidence", "Created", "Updated", "Accessed",
                    "Source", "Provenance", "Tags", "Id"):
            lab = QLabel("—")
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._labels[key] = lab
            self.values.addRow(key, lab)

        self.edges = QTreeWidget()
        self.edges.setHeaderLabels(["Edge", "Node", "Weight"])
        self.edges.setRootIsDecorated(False)
        self.edges.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.edges.setMinimumHeight(100)
        self.edges.itemActivated.connect(self._jump)
        self.edges.itemClicked.connect(self._jump)

        self.meta = QTreeWidget()
        self.meta.setHeaderLabels(["Metadata", "Value"])
        self.meta.setMinimumHeight(80)
        self.history = QTreeWidget()
        self.history.setHeaderLabels(["Replaced", "By", "Title"])
        self.history.setRootIsDecorated(False)
        self.history.setMinimumHeight(60)

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.title)
        lay.addWidget(self.badges)
        lay.addWidget(self.text)
        # Two rows: in one, the three buttons set a minimum width wider than the dock at 1400 px,
        # and the panel grew a horizontal scroll bar with "Apply a…" cut off.
        row = QHBoxLayout()
        row.addWidget(self.source_btn)
        row.addStretch(1)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.revert_btn)
        row.addWidget(self.apply_btn)
        lay.addLayout(row)
        lay.addLayout(self.values)
        for head, widget in (("Edges (click to jump)", self.edges), ("Metadata", self.meta),
                             ("Version history", self.history)):
            h = QLabel(head)
            h.setProperty("role", "muted")
            lay.addWidget(h)
            lay.addWidget(widget)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.show_node(None)

    # ------------------------------------------------------------------ showing
    def set_session(self, session: Any) -> None:
        self.session = session
        self.show_node(None)

    def reload(self) -> None:
        """Show the node again after a file change, keeping text the user typed and has not applied."""
        typed = self.text.toPlainText() if self._editing() else None
        node = self._node()
        if typed is None:
            self.show_node(node)
            return
        if node is None:  # gone from the graph: the typed text stays, to be copied; nothing to apply it to
            self.apply_btn.setEnabled(False)
            self.ctx.reporter.info("The node you were editing is gone; your text is still in the Inspector")
            return
        changed = _text_of(node.title, node.content) != self._loaded
        self.show_node(node)
        self.text.setPlainText(typed)  # textChanged re-enables Apply/Revert
        if changed:
            self.ctx.reporter.info("The node changed on disk while you were editing; your text is kept "
                                   "(Revert shows the new one)")

    def _node(self):
        g = self.session.graph if self.session is not None else None
        return g.node(self.node_id) if g is not None and self.node_id and self.node_id in g else None

    def refresh_if_changed(self, ids: Any) -> None:
        """Re-show the node when it is among ``ids`` (unless the user is editing its text)."""
        if self.node_id and self.node_id in ids and not self._editing():
            self.show_node(self._node())

    def _editing(self) -> bool:
        # Compared with the text as shown when loaded, not as the node is now: a change on disk
        # must not turn the user's untouched text into an "edit", nor hide a real one.
        if self.node_id is None or self.text.toPlainText() == self._loaded:
            return False
        node = self._node()  # the typed text is the node's own now (just applied): nothing pending
        return node is None or self.text.toPlainText() != _text_of(node.title, node.content)

    def show_node(self, node) -> None:
        self.node_id = node.id if node is not None else None
        self.edges.clear()
        self.meta.clear()
        self.history.clear()
        has = node is not None
        for w in (self.text, self.apply_btn, self.revert_btn):
            w.setEnabled(has)
        if not has:
            self.title.setText("Nothing selected")
            self.badges.setText("<span>Click a node in the view, or pick an item in a panel.</span>")
            self.text.blockSignals(True)
            self.text.setPlainText("")
            self.text.blockSignals(False)
            self.source_btn.setEnabled(False)
            for lab in self._labels.values():
                lab.setText("—")
            return
        g = self.session.graph
        st = g.state(node.id)
        self.title.setText(display_title(node.title) or node.id)  # the title as the view's label reads
        color = KIND_COLORS.get(node.kind.value, "#9e9e9e")
        self.badges.setText(
            f"<span style='color:{color}'>●</span> <b>{node.kind.value}</b> · {node.layer.value} shell · "
            f"{node.status.value}" + (" · <i>pruned</i>" if "pruned" in node.metadata else ""))
        self._loaded = _text_of(node.title, node.content)
        self.text.blockSignals(True)
        self.text.setPlainText(self._loaded)
        self.text.blockSignals(False)
        self.apply_btn.setEnabled(False)
        self.revert_btn.setEnabled(False)
        L = self._labels
        L["Activation"].setText(f"{st.activation:.3f}")
        L["Attention"].setText(f"{st.attention:.4f}")
        L["Score"].setText(f"{node.score:.3f}")
        L["Confidence"].setText(f"{node.confidence:.2f}")
        L["Created"].setText(_when(node.created))
        L["Updated"].setText(_when(node.updated))
        L["Accessed"].setText(f"{node.access_count}× · last {_when(node.last_activated)}")
        if node.source is not None:
            src = node.source
            L["Source"].setText(f"{src.file}" + (f":{src.line}" if src.line else "") + f"  ({src.key})")
        else:
            L["Source"].setText("graph only")
        self.source_btn.setEnabled(node.source is not None)
        # Say what Apply does (GUI review #12: a file-backed node's "refinement" became a separate,
        # unselected node and the item looked unchanged, as if nothing had been applied).
        if node.source is not None:
            self.apply_btn.setText("Add as New Thought")
            self.apply_btn.setToolTip(f"{node.source.file} stays as it is (edit the item in its panel): "
                                      "the text becomes a new thought derived from this node, and is selected")
        else:
            self.apply_btn.setText("Apply")
            self.apply_btn.setToolTip("Refine this node in place with the text (undoable)")
        prov = node.metadata.get("provenance") if isinstance(node.metadata.get("provenance"), dict) else None
        if prov:
            k = len(prov.get("from", []))
            L["Provenance"].setText(f"{prov.get('operation', '?')} by {prov.get('actor', '?')}"
                                    f" from {k} node{'' if k == 1 else 's'}")
        else:
            # A file-backed node mirrors its file, whoever wrote the line (an agent, the app, a person).
            L["Provenance"].setText(f"mirrors {node.source.file}" if node.source else "created by hand")
        L["Tags"].setText(", ".join(node.tags) or "—")
        L["Id"].setText(node.id)
        for e in g.edges_of(node.id, "both"):
            out = e.src == node.id
            other = e.dst if out else e.src
            title = g.node(other).title if other in g else other
            it = QTreeWidgetItem([f"{'→' if out else '←'} {e.type.value}", display_title(title) or other,
                                  f"{e.weight:g}"])
            it.setData(0, Qt.ItemDataRole.UserRole, other)
            it.setToolTip(1, other)
            self.edges.addTopLevelItem(it)
        for key, value in node.metadata.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            self.meta.addTopLevelItem(QTreeWidgetItem([key, text]))
        for v in reversed(node.history):
            self.history.addTopLevelItem(QTreeWidgetItem([_when(v.time), v.actor, display_title(v.title)]))

    # ------------------------------------------------------------------ actions
    def _on_text(self) -> None:
        editing = self._editing()
        self.apply_btn.setEnabled(editing and bool(self.text.toPlainText().strip()))
        self.revert_btn.setEnabled(editing)

    def _apply(self) -> None:
        if self.node_id and self._editing():
            self.refine_requested.emit(self.node_id, self.text.toPlainText())

    def _jump(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        target = item.data(0, Qt.ItemDataRole.UserRole)
        if target:
            self.node_requested.emit(target)

    def edge_targets(self) -> list[str]:
        """Ids listed in the edges table (tests)."""
        return [self.edges.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
                for i in range(self.edges.topLevelItemCount())]
