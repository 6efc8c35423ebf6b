"""The widgets drawn over the 3D canvas: the legend (top left) and focus mode's bar (bottom left).

:class:`ViewOverlays` owns them, keeps them placed when the view resizes,
refreshes the legend when the kinds in the graph change (once per burst),
and wires the legend's filter and the bar's depth control to the scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSpinBox, QToolButton, QWidget

from orchestrator_gui.model.nodes import EDGE_TYPES, KINDS
from orchestrator_gui.render.focus import FOCUS_DEPTHS
from orchestrator_gui.ui.legend import Legend

#: Gap between an overlay and the canvas edge (pixels).
MARGIN = 8


class FocusBar(QFrame):
    """"Focus: <title> · depth [1-3] · Esc to leave", shown while focus mode is on.

    Signals
    -------
    depth_changed(int)
    leave_requested()
    """

    depth_changed = Signal(int)
    leave_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("focusbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 3, 4, 3)
        self.title = QLabel(self)
        self.depth = QSpinBox(self)
        self.depth.setRange(FOCUS_DEPTHS[0], FOCUS_DEPTHS[-1])
        self.depth.setPrefix("depth ")
        self.depth.setToolTip("Hops shown around the focused node (keys 1-3)")
        self.depth.valueChanged.connect(self.depth_changed.emit)
        leave = QToolButton(self)
        leave.setText("Leave (Esc)")
        leave.clicked.connect(self.leave_requested.emit)
        for w in (QLabel("Focus:", self), self.title, self.depth, leave):
            lay.addWidget(w)
        self.hide()

    def show_focus(self, title: str, depth: int) -> None:
        """Show the bar for the focused node's ``title`` at ``depth`` (without re-announcing the depth)."""
        self.title.setText(title if len(title) <= 48 else title[:47] + "…")
        self.depth.blockSignals(True)
        self.depth.setValue(depth)
        self.depth.blockSignals(False)
        self.adjustSize()
        self.show()
        self.raise_()


class ViewOverlays(QObject):
    """The legend and the focus bar of one :class:`~orchestrator_gui.ui.graph_view.GraphView`.

    Parameters
    ----------
    view : GraphView
    """

    def __init__(self, view: Any) -> None:
        super().__init__(view)
        self.view = view
        self.legend = Legend(view)
        self.legend.filter_changed.connect(lambda kinds: view.scene.set_kind_filter(kinds or None))
        self.focus_bar = FocusBar(view)
        self.focus_bar.depth_changed.connect(lambda d: view.set_focus(view.focused(), d))
        self.focus_bar.leave_requested.connect(lambda: view.set_focus(None))
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(0)
        self._refresh.timeout.connect(self.refresh_legend)
        self._graph: Any = None
        self._kinds: tuple = ()

    def widgets(self) -> list[QWidget]:
        """The overlay widgets, for screenshots (painted over the rendered canvas)."""
        return [self.legend, self.focus_bar]

    def set_graph(self, graph: Any) -> None:
        """Follow ``graph`` (``None``: none) and refresh the legend."""
        if self._graph is not None:
            self._graph.events.changed.disconnect(self._on_changed)
        self._graph = graph
        if graph is not None:
            graph.events.changed.connect(self._on_changed)
        self._kinds = ()
        self.refresh_legend()

    def _on_changed(self, summary: Any) -> None:
        if summary.nodes_added or summary.nodes_removed or summary.edges_added or summary.edges_removed:
            self._refresh.start()

    def refresh_legend(self) -> None:
        """List the kinds and edge types the graph holds, in the scene's theme."""
        g = self._graph
        if g is None or len(g) == 0:
            kinds, edges = (), ()
        else:
            kinds = tuple(KINDS[i].value for i in np.unique(g.kind_index))
            edges = tuple(EDGE_TYPES[i].value for i in np.unique(g.edge_arrays().type)) if g.number_of_edges() else ()
        key = (kinds, edges, self.view.scene.theme.name)
        if key == self._kinds:
            return
        self._kinds = key
        self.legend.set_content(self.view.scene.theme, kinds, edges)
        self.place()

    def set_theme(self) -> None:
        """The scene's theme changed: recolour the legend."""
        self._kinds = ()
        self.refresh_legend()

    def show_focus(self, title: str, depth: int) -> None:
        """Focus mode is on: show the bar."""
        self.focus_bar.show_focus(title, depth)
        self.place()

    def hide_focus(self) -> None:
        """Focus mode is off."""
        self.focus_bar.hide()
        self.reserve()

    def place(self) -> None:
        """Put the legend in the top-left corner and the bar in the bottom-left one; keep labels off both."""
        self.legend.move(MARGIN, MARGIN)
        self.legend.raise_()
        bar = self.focus_bar
        bar.adjustSize()
        bar.move(MARGIN, max(MARGIN, self.view.height() - bar.height() - MARGIN))
        bar.raise_()
        self.reserve()

    def reserve(self) -> None:
        """Tell the scene which canvas boxes the visible overlays cover, so no label hides under them."""
        origin = self.view.canvas.native.mapTo(self.view, QPoint(0, 0))  # overlays are the canvas' siblings
        boxes = []
        for w in self.widgets():
            if w.isVisible():
                at = w.mapTo(self.view, QPoint(0, 0)) - origin
                boxes.append((at.x(), at.y(), at.x() + w.width(), at.y() + w.height()))
        setter = getattr(self.view.scene, "set_label_reserved", None)
        if setter is not None:
            setter(boxes)
