"""The 3D view's legend: what the colours, outlines, lines and shells mean, as a compact overlay.

It sits in a corner of the canvas and lists node kinds (their colours),
how status and state are drawn (outline, brightness, dimming), edge types
(their line colours) and the three shells. Clicking a kind filters the view
to that kind (Ctrl-click adds kinds; clicking the only one again shows all).
Only kinds and edge types present in the graph are listed, so the legend
stays short.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from orchestrator_gui.model.nodes import EDGE_TYPES, KINDS
from orchestrator_gui.render.arrays import SHELL_NAMES
from orchestrator_gui.render.theme import Theme

#: How the state of a node is drawn (the legend's second block).
STATES = (
    ("outline", "outline: selected · hovered · running · orange: failed or paused · green: next to do"),
    ("bright", "bright = active · large = attention"),
    ("dim", "faded = suppressed or out of focus"),
)
#: Entries per row in the kinds and links blocks.
COLUMNS = 2


def _css(rgba: Iterable[float], alpha: float | None = None) -> str:
    r, g, b, a = (float(v) for v in rgba)
    c = QColor.fromRgbF(r, g, b, a if alpha is None else alpha)
    return f"rgba({c.red()}, {c.green()}, {c.blue()}, {c.alpha()})"


class _KindRow(QLabel):
    """A clickable kind entry."""

    clicked = Signal(str, bool)

    def __init__(self, kind: str, parent: QWidget) -> None:
        super().__init__(kind, parent)
        self.kind = kind
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(f"Show only {kind} nodes (Ctrl-click: add; click again: show all)")

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.kind, bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))
            event.accept()
            return
        super().mousePressEvent(event)


class Legend(QFrame):
    """The overlay legend.

    Signals
    -------
    filter_changed(list)
        The kinds to show (empty: all).
    """

    filter_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(8, 6, 8, 6)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(1)
        self.rows: dict[str, _KindRow] = {}
        self.selected: set[str] = set()
        self._theme: Theme | None = None
        self._kinds: list[str] = []
        self._edges: list[str] = []

    # -- content -------------------------------------------------------------------------------
    def set_content(self, theme: Theme, kinds: Iterable[str] | None = None, edges: Iterable[str] | None = None
                    ) -> None:
        """Show ``kinds`` and ``edges`` (names; default: all) in ``theme``'s colours."""
        self._theme = theme
        self._kinds = [k.value for k in KINDS if kinds is None or k.value in set(kinds)]
        self._edges = [t.value for t in EDGE_TYPES if edges is None or t.value in set(edges)]
        self.selected &= set(self._kinds)
        self._build()

    def _clear(self) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows.clear()

    def _heading(self, text: str, row: int) -> None:
        lab = QLabel(f"<b>{text}</b>", self)
        self._grid.addWidget(lab, row, 0, 1, 2 * COLUMNS)

    def _swatch(self, css: str, row: int, col: int = 0, *, line: bool = False) -> None:
        sw = QLabel(self)
        sw.setFixedSize(14, 3 if line else 10)
        sw.setStyleSheet(f"background: {css}; border-radius: {1 if line else 5}px;")
        self._grid.addWidget(sw, row, 2 * col, Qt.AlignmentFlag.AlignVCenter)

    def _build(self) -> None:
        th = self._theme
        if th is None:
            return
        self._clear()
        fg = _css(th.label)
        self.setStyleSheet(f"#legend {{ background: {_css(th.background, 0.86)}; "
                           f"border: 1px solid {_css(th.shell, 0.6)};"
                           f" border-radius: 4px; }} #legend QLabel {{ color: {fg}; font-size: 10px; }}")
        r = 0
        self._heading("Nodes (click to filter)", r)
        r += 1
        for i, kind in enumerate(self._kinds):
            row_i, col = r + i // COLUMNS, i % COLUMNS
            self._swatch(_css(th.kinds[kind]), row_i, col)
            row = _KindRow(kind, self)
            row.clicked.connect(self._on_kind)
            self._grid.addWidget(row, row_i, 2 * col + 1)
            self.rows[kind] = row
        r += -(-len(self._kinds) // COLUMNS)
        if self._edges:
            self._heading("Links", r)
            r += 1
            for i, et in enumerate(self._edges):
                row_i, col = r + i // COLUMNS, i % COLUMNS
                self._swatch(_css(th.edges[et], 1.0), row_i, col, line=True)
                self._grid.addWidget(QLabel(et.replace("_", " "), self), row_i, 2 * col + 1)
            r += -(-len(self._edges) // COLUMNS)
        for _key, text in STATES:
            self._grid.addWidget(QLabel(text, self), r, 0, 1, 2 * COLUMNS)
            r += 1
        names = list(SHELL_NAMES.values())
        self._grid.addWidget(QLabel(f"shells: {names[0]} · {names[1]} · {names[2]}", self), r, 0, 1, 2 * COLUMNS)
        self._mark()
        # Children added to a widget that is already shown stay hidden until shown themselves, and
        # hidden widgets take no room: the running app's legend was an empty 36x14 box (screenshot
        # mode builds it before the window is shown, so it never saw this).
        for i in range(self._grid.count()):
            w = self._grid.itemAt(i).widget()
            if w is not None:
                w.show()
        self._grid.activate()
        self.resize(self.sizeHint())

    # -- the kind filter -----------------------------------------------------------------------
    def _on_kind(self, kind: str, add: bool) -> None:
        if add:
            self.selected ^= {kind}
        else:
            self.selected = set() if self.selected == {kind} else {kind}
        self._mark()
        self.filter_changed.emit(sorted(self.selected))

    def set_filter(self, kinds: Iterable[str]) -> None:
        """Show these kinds as the filter (as if clicked) and announce it."""
        self.selected = set(kinds) & set(self._kinds)
        self._mark()
        self.filter_changed.emit(sorted(self.selected))

    def _mark(self) -> None:
        for kind, row in self.rows.items():
            on = not self.selected or kind in self.selected
            font = row.font()
            font.setBold(kind in self.selected)
            row.setFont(font)
            row.setEnabled(on)
