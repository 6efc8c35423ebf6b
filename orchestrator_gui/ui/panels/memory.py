"""Memory log panel: the entries of ``persistent-memory.md`` as a sortable, filterable table."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from orchestrator_gui.formats.memory import MemoryDocument
from orchestrator_gui.formats.workspace import MEMORY
from orchestrator_gui.ui.panels.base import FilterTable, Panel, PanelContext
from orchestrator_gui.ui.theme import displayable, plain

FILE = MEMORY.as_posix()
COLUMNS = ["Time", "Mode", "Id", "Summary", "Section", "Line"]


class MemoryPanel(Panel):
    """Table of memory entries (time as written, mode, id, summary, section, line)."""

    FILE = FILE

    def __init__(self, ctx: PanelContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.doc: MemoryDocument | None = None
        self.table = FilterTable(COLUMNS, choice_column=1, choice_label="All modes", stretch_column=3)
        self.table.activated.connect(self._on_activated)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.status)
        for col, width in ((0, 200), (1, 120), (2, 170), (4, 170), (5, 50)):
            self.table.view.setColumnWidth(col, width)

    def make_doc(self, path: Path, data: bytes | None) -> MemoryDocument:
        return MemoryDocument(path, data if data is not None else b"")

    def reload(self) -> None:
        self.doc = self.read_doc() if self.session is not None else None
        rows = []
        for e in self.doc.entries if self.doc else []:
            summary = e.summary or next((b.strip() for b in e.body if b.strip()), "")
            rows.append((e.line, [e.timestamp.timestamp(), e.mode or "", e.id or "", summary.lower(),
                                  e.section or "", e.line],
                         [e.timestamp_raw, e.mode or "", e.id or "", displayable(plain(summary)),
                          displayable(e.section or ""), str(e.line)]))
        self.table.set_rows(rows)
        n = len(rows)
        self.status.setText(f"{n} entries" if self.doc else ("" if self.session is None else f"{FILE} not found"))

    def _on_activated(self, line) -> None:
        if line is not None and self.session is not None:
            self.request_node(self.session.node_for(FILE, line=int(line)))

    def show_node(self, node) -> None:
        self.mirror_selection([node] if node is not None else [])

    def mirror_selection(self, nodes: list) -> None:
        """Highlight the rows of every selected memory entry (the last one current)."""
        mine = [n for n in nodes if self.owns(n) and n.source.line is not None]
        lines = [n.source.line for n in mine]
        self.table.highlight(lines, lines[-1] if lines else None)
        if mine:
            self._remember_rows(mine[-1].id)
