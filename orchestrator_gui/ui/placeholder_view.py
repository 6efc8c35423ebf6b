"""The central-view factory, with a plain placeholder when the 3D view cannot be loaded.

The real view is :class:`orchestrator_gui.ui.graph_view.GraphView` (vispy).
When vispy or OpenGL is missing the window still works with
:class:`PlaceholderGraphView`: same signals and methods, no drawing beyond a
message, selection kept in the graph's flags like the real one.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlaceholderGraphView(QWidget):
    """Stand-in for ``GraphView`` with the same Qt signals and no-op camera methods."""

    node_clicked = Signal(str, int)
    node_double_clicked = Signal(str)
    selection_changed = Signal(list)
    context_menu_requested = Signal(list, QPoint)
    hovered = Signal(str)
    delete_requested = Signal(list)
    link_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None, reason: str = "") -> None:
        super().__init__(parent)
        self.graph = None
        self.label = QLabel("3D view unavailable" + (f":\n{reason}" if reason else ""))
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setProperty("role", "muted")
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)

    def set_graph(self, graph: Any, *, fit: bool = False) -> None:
        if self.graph is not None:
            self.graph.events.selection_changed.disconnect(self._on_sel)
        self.graph = graph
        if graph is not None:
            graph.events.selection_changed.connect(self._on_sel)

    def _on_sel(self, ids: tuple) -> None:
        self.selection_changed.emit(list(ids))

    def set_selection(self, ids: Any, *, fly: bool = False) -> None:
        if self.graph is not None:
            self.graph.select([i for i in ids if i in self.graph], "replace")

    def selected_ids(self) -> list[str]:
        return list(self.graph.selected_ids()) if self.graph is not None else []

    def camera_state(self) -> dict:
        return {}

    def set_camera_state(self, state: dict) -> None:
        pass

    def set_theme(self, theme: str) -> None:
        pass

    def set_visibility(self, **switches: Any) -> None:
        pass

    def set_activation_threshold(self, threshold: float | None) -> None:
        pass

    def fit(self) -> None:
        pass

    def reset_camera(self) -> None:
        pass

    def fly_to(self, node_id: str, duration_s: float = 0.6) -> None:
        pass

    def animate_growth(self, parent_id: str, child_ids: Any) -> None:
        pass

    def animate_converge(self, input_ids: Any, result_id: str) -> None:
        pass


def make_graph_view(parent: QWidget | None, theme: str = "dark") -> QWidget:
    """The vispy ``GraphView`` if it can be created, else a :class:`PlaceholderGraphView` saying why."""
    try:
        from orchestrator_gui.ui.graph_view import GraphView

        return GraphView(parent, theme=theme)
    except Exception as exc:  # noqa: BLE001 - ImportError, missing OpenGL/fontconfig, ...
        return PlaceholderGraphView(parent, f"{type(exc).__name__}: {exc}")
