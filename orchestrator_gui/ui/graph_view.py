"""GraphView: the Qt widget around the vispy canvas and :class:`~orchestrator_gui.render.scene.GraphScene`.

Mouse
-----
* left click: select the node under the cursor (nothing under it: clear);
  ctrl- or shift-click toggles it in the selection;
* shift + left drag: rubber band, adds the nodes inside to the selection;
* ctrl + left drag from a node onto another: ``link_requested(source, target)``
  (a dashed line follows the pointer; the main window links them);
* left drag rotates, right drag / wheel / pinch zooms, middle drag pans;
* double click: activate (``node_double_clicked``);
* right click: ``context_menu_requested(ids, global QPoint)`` for the
  selection (the clicked node joins it first if it was not in it);
* hover: outline, label and tooltip (the node's title), ``hovered(id)``
  (``""`` when leaving a node).

Keyboard: arrows move the selection to the neighbour lying most in that
screen direction; Enter activates (``node_double_clicked``); Delete asks for
deletion (``delete_requested(ids)`` -- the main window performs it as an
undoable transaction); F focuses the selected (or hovered) node, 1-3 set
the focus depth, Esc leaves focus mode.

Hovering a node, or selecting it, highlights it with its neighbours and the
links between them and dims the rest. *Focus* (F, Alt + double click, the
context menu) shows only the node's k-hop neighbourhood; the legend in the
top-left corner explains the colours and filters by kind when clicked.

The selection lives in the graph's ``SELECTED`` flags, so the panels and the
view share one truth; ``selection_changed`` fires whenever it changes, from
whatever source.

A history preview (:meth:`GraphView.show_preview`, the History panel) draws
a past graph instead of the live one, read-only: clicks, keys, the context
menu, focus and animations do nothing until the live graph is shown again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import QRubberBand, QToolTip, QVBoxLayout, QWidget
from vispy import scene as vscene
from vispy.util import keys

from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.render.scene import GraphScene
from orchestrator_gui.ui.link_drag import LinkDrag, LinkLine
from orchestrator_gui.ui.theme import display_title

#: A press and release closer than this (pixels) is a click, not a drag.
CLICK_SLOP = 4.0
#: Milliseconds the pointer rests on a node before its tooltip shows (Qt's own tooltips wait ~700).
TOOLTIP_DELAY_MS = 400

_MODIFIER_BITS = {
    keys.SHIFT: Qt.KeyboardModifier.ShiftModifier,
    keys.CONTROL: Qt.KeyboardModifier.ControlModifier,
    keys.ALT: Qt.KeyboardModifier.AltModifier,
    keys.META: Qt.KeyboardModifier.MetaModifier,
}
_ARROWS = {"Left": (-1.0, 0.0), "Right": (1.0, 0.0), "Up": (0.0, -1.0), "Down": (0.0, 1.0)}


def qt_modifiers(vispy_modifiers: Iterable[Any]) -> int:
    """vispy modifier keys -> ``Qt.KeyboardModifiers`` as an int."""
    out = 0
    for key in vispy_modifiers:
        bit = _MODIFIER_BITS.get(key)
        if bit is not None:
            out |= bit.value
    return out


class GraphView(QWidget):
    """The 3D graph view widget.

    Signals
    -------
    node_clicked(str, int)
        Node id and ``Qt.KeyboardModifiers`` (int) of a left click on a node.
    node_double_clicked(str)
        Activation request: double click or Enter.
    selection_changed(list)
        Selected ids after any change of the graph's selection.
    context_menu_requested(list, QPoint)
        Ids the menu applies to (may be empty) and the global position.
    hovered(str)
        Id under the cursor, ``""`` when none.
    delete_requested(list)
        Delete pressed with these ids selected.
    focus_changed(str, int)
        Focus mode's node and depth (``""`` when it was left).
    """

    node_clicked = Signal(str, int)
    node_double_clicked = Signal(str)
    selection_changed = Signal(list)
    context_menu_requested = Signal(list, QPoint)
    hovered = Signal(str)
    delete_requested = Signal(list)
    focus_changed = Signal(str, int)
    link_requested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None, *, theme: str = "dark") -> None:
        super().__init__(parent)
        self.canvas = vscene.SceneCanvas(app="pyside6", keys=None, show=False, parent=self, size=(800, 600))
        self.scene = GraphScene(self.canvas, theme=theme)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas.native)
        self.canvas.native.setMinimumSize(QSize(200, 150))
        self.canvas.native.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas.native.setMouseTracking(True)
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, self.canvas.native)
        self._link = LinkDrag(LinkLine(self.canvas.native))
        self._press: tuple[np.ndarray, tuple[int, ...], int] | None = None
        # The hovered node's tooltip waits like any tooltip: shown at once it would add a window
        # composition to the very frame that must show the highlight (and its label says it already).
        self._tip_timer = QTimer(self)
        self._tip_timer.setSingleShot(True)
        self._tip_timer.setInterval(TOOLTIP_DELAY_MS)
        self._tip_timer.timeout.connect(self._show_tip)
        self._tip: tuple[QPoint, str] | None = None
        self._banding = False
        self._graph: ThoughtGraph | None = None
        #: The past graph drawn read-only instead of the live one (the History panel's preview), or None.
        self._preview: ThoughtGraph | None = None
        ev = self.canvas.events
        # Frame timing for the adaptive level of detail: from the start of the draw to the swap.
        self._frame_t0 = 0.0
        ev.draw.connect(self._on_draw_start, position="first")
        self.canvas.native.frameSwapped.connect(self._on_frame_swapped)
        ev.mouse_press.connect(self._on_press)
        ev.mouse_move.connect(self._on_move)
        ev.mouse_release.connect(self._on_release)
        ev.mouse_double_click.connect(self._on_double_click)
        ev.key_press.connect(self._on_key)
        from orchestrator_gui.ui.view_overlays import ViewOverlays

        self.overlays = ViewOverlays(self)
        #: Depth a new focus starts with (1-3).
        self.focus_depth_default = 1

    # -- graph and forwarding ----------------------------------------------------------------
    @property
    def graph(self) -> ThoughtGraph | None:
        """The graph shown."""
        return self._graph

    def set_graph(self, graph: ThoughtGraph | None, *, fit: bool = False) -> None:
        """Show ``graph`` (keeps the camera unless ``fit``); ends a history preview."""
        self._preview = None
        if self._graph is not None:
            self._graph.events.selection_changed.disconnect(self._on_graph_selection)
        self._graph = graph
        self.scene.set_graph(graph)
        self.overlays.set_graph(graph)
        self.overlays.hide_focus()
        if graph is not None:
            graph.events.selection_changed.connect(self._on_graph_selection)
        if fit:
            self.scene.fit()

    # -- history preview (read-only) -----------------------------------------------------------
    @property
    def previewing(self) -> bool:
        """True while a past graph is drawn instead of the live one (:meth:`show_preview`)."""
        return self._preview is not None

    def shown_graph(self) -> ThoughtGraph | None:
        """The graph drawn now: the preview while previewing, else :attr:`graph`."""
        return self._preview if self._preview is not None else self._graph

    def show_preview(self, graph: ThoughtGraph | None) -> None:
        """Draw ``graph`` read-only in place of the live graph (a history preview); ``None`` draws the live one again.

        The live graph stays :attr:`graph`, so panels, actions and the selection
        keep working on it. While previewing, clicks, keys, the context menu,
        focus and animations do nothing in the view and a selection request
        only selects in the live graph; the camera still moves and hovering
        still names a node. A preview changed in place redraws by itself (the
        scene follows its change bursts); pass another object to switch.
        """
        if graph is self._preview:
            return
        was_focused = self.focused() is not None
        self._preview = graph
        shown = self.shown_graph()
        self.scene.set_graph(shown)  # drops hover and focus: their ids belong to the graph drawn before
        self.overlays.set_graph(shown)  # the legend lists what is drawn
        self._tip = None
        self._tip_timer.stop()
        if was_focused:
            self.overlays.hide_focus()
            self.focus_changed.emit("", 0)

    def _on_graph_selection(self, ids: tuple) -> None:
        self.selection_changed.emit(list(ids))

    def selected_ids(self) -> list[str]:
        """Ids selected now (graph order)."""
        return list(self._graph.selected_ids()) if self._graph is not None else []

    def set_selection(self, ids: Iterable[str], *, fly: bool = False) -> None:
        """Replace the selection; ``fly`` animates the camera to the first id."""
        ids = list(ids)
        if self._preview is not None:  # read-only view: the live graph's selection still follows
            if self._graph is not None:
                self._graph.select([i for i in ids if i in self._graph], "replace")
            return
        self.scene.set_selection(ids)
        if fly and ids and self._graph is not None and ids[0] in self._graph:
            self.scene.fly_to(ids[0])

    def set_running(self, ids: Iterable[str]) -> None:
        """Mark the nodes a running transform works on (outlined until cleared with ``[]``)."""
        self.scene.set_running(ids)

    def set_theme(self, theme: str) -> None:
        """``"dark"`` or ``"light"``."""
        self.scene.set_theme(theme)
        self.overlays.set_theme()

    # -- focus mode and the legend ---------------------------------------------------------------
    def set_focus(self, node_id: str | None, depth: int = 1) -> None:
        """Show only ``node_id`` and its ``depth``-hop neighbourhood (1-3), animated; ``None`` leaves focus mode.

        Raises
        ------
        KeyError
            Unknown node.
        ValueError
            ``depth`` outside 1-3.
        """
        if self._preview is not None:
            return
        self.scene.set_focus(node_id, depth)
        if node_id is None:
            self.overlays.hide_focus()
            self.focus_changed.emit("", 0)
            return
        self.overlays.show_focus(display_title(self._graph.node(node_id).title) or node_id, depth)
        self.focus_changed.emit(node_id, int(depth))

    def focused(self) -> str | None:
        """The node focus mode shows, or ``None``."""
        target = self.scene.focus.target
        return target[0] if target is not None else None

    def focus_depth(self) -> int:
        """Focus mode's depth, or the depth the next focus starts with (View ▸ Focus Depth)."""
        target = self.scene.focus.target
        return target[1] if target is not None else self.focus_depth_default

    def set_legend_visible(self, on: bool) -> None:
        """Show or hide the legend overlay."""
        self.overlays.legend.setVisible(bool(on))
        self.overlays.reserve()

    def set_kind_filter(self, kinds: Iterable[str] | None) -> None:
        """Show only these node kinds (as the legend's click does); ``None`` shows all."""
        self.overlays.legend.set_filter(kinds or ())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.overlays.place()

    def set_label_density(self, factor: float) -> None:
        """How many node labels to try: ``factor`` times the default, 0.25-4 (:meth:`GraphScene.set_label_density`)."""
        self.scene.set_label_density(factor)

    def label_density(self) -> float:
        """The current label density factor (1 by default)."""
        return self.scene.label_density

    def set_visibility(self, **switches: bool | None) -> None:
        """Forwarded to :meth:`GraphScene.set_visibility` (shells, edges, labels, suppressed)."""
        self.scene.set_visibility(**switches)

    def set_activation_threshold(self, threshold: float | None) -> None:
        """Active-region threshold (``None``: off)."""
        self.scene.set_activation_threshold(threshold)

    def fit(self) -> None:
        """Fit every visible node in view."""
        self.scene.fit()

    def reset_camera(self) -> None:
        """Default camera pose."""
        self.scene.reset_camera()

    def fly_to(self, node_id: str, duration_s: float = 0.6) -> None:
        """Animated flight to a node."""
        if self._preview is not None and node_id not in self._preview:
            return
        self.scene.fly_to(node_id, duration_s)

    def camera_state(self) -> dict[str, Any]:
        """Camera pose for settings."""
        return self.scene.camera_state()

    def set_camera_state(self, state: dict[str, Any]) -> None:
        """Restore a camera pose."""
        self.scene.set_camera_state(state)

    def animate_growth(self, parent_id: str, child_ids: Iterable[str]) -> None:
        """New nodes grow out of their parent."""
        if self._preview is not None:
            return
        self.scene.animate_growth(parent_id, child_ids)

    def animate_move(self, ids: Iterable[str], old_spherical: Any) -> None:
        """Moved nodes glide from their old ``(theta, phi, r)`` to where they are now (relayout)."""
        if self._preview is not None:
            return
        self.scene.animate_move(ids, old_spherical)

    def animate_converge(self, input_ids: Iterable[str], result_id: str) -> None:
        """Aggregated inputs converge into their result."""
        if self._preview is not None:
            return
        self.scene.animate_converge(input_ids, result_id)

    def pick_at(self, x: float, y: float) -> str | None:
        """Node id at canvas pixel ``(x, y)``."""
        return self.scene.pick_at(x, y)

    def screen_position(self, node_id: str) -> QPoint:
        """Widget pixel of a node's centre (for tests and tooltips)."""
        x, y = self.scene.screen_position(node_id)
        return self.canvas.native.mapTo(self, QPoint(round(x), round(y)))

    def canvas_position(self, node_id: str) -> QPoint:
        """Pixel of a node's centre in the canvas widget's own coordinates."""
        x, y = self.scene.screen_position(node_id)
        return QPoint(round(x), round(y))

    def render_image(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """One full-detail frame as (H, W, 4) uint8."""
        return self.scene.render(size)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Stop listening to the graph and the timers before the widget goes."""
        self.set_graph(None) if self._graph is not None else None
        self.scene.disconnect()
        self._tip_timer.stop()
        super().closeEvent(event)

    def _on_draw_start(self, event) -> None:
        self._frame_t0 = time.perf_counter()

    def _on_frame_swapped(self) -> None:
        if self._frame_t0:
            self.scene.frame_done((time.perf_counter() - self._frame_t0) * 1000.0)
            self._frame_t0 = 0.0

    # -- mouse -------------------------------------------------------------------------------
    def _on_press(self, event) -> None:
        self._press = (np.asarray(event.pos[:2], dtype=float), tuple(event.buttons or (event.button,)),
                       qt_modifiers(event.modifiers))
        self._banding = False
        ctrl = qt_modifiers(event.modifiers) & Qt.KeyboardModifier.ControlModifier.value
        on_node = self.scene.pick_at(*event.pos[:2]) if ctrl and event.button == 1 and self._preview is None else None
        self._link.begin(on_node)
        self.canvas.native.setFocus()

    def _on_move(self, event) -> None:
        pos = np.asarray(event.pos[:2], dtype=float)
        if self._press is None:
            self._hover(pos)
            return
        start, buttons, mods = self._press
        if self._link.active:
            if self._link.dragging or np.hypot(*(pos - start)) > CLICK_SLOP:
                target = self.scene.pick_at(*pos)
                if target != self.scene.hovered:
                    self.scene.set_hovered(target)
                self._link.move(self.scene.screen_position(self._link.source), tuple(pos), target)
            return
        if 1 in buttons and mods & Qt.KeyboardModifier.ShiftModifier.value and self._preview is None:
            if self._banding or np.hypot(*(pos - start)) > CLICK_SLOP:
                self._banding = True
                self._band.setGeometry(QRect(QPoint(*map(round, start)), QPoint(*map(round, pos))).normalized())
                self._band.show()

    def _hover(self, pos: np.ndarray) -> None:
        node_id = self.scene.pick_at(*pos)
        if node_id == self.scene.hovered:
            return
        self.scene.set_hovered(node_id)
        self.hovered.emit(node_id or "")
        shown = self.shown_graph()
        if node_id is not None and shown is not None and node_id in shown:
            title = display_title(shown.node(node_id).title) or node_id  # as the label reads
            self._tip = (self.canvas.native.mapToGlobal(QPoint(*map(round, pos))), title)
            self._tip_timer.start()
        else:
            self._tip = None
            self._tip_timer.stop()
            QToolTip.hideText()

    def _show_tip(self) -> None:
        if self._tip is not None and self.scene.hovered is not None:
            QToolTip.showText(self._tip[0], self._tip[1], self.canvas.native)

    def _on_release(self, event) -> None:
        if self._press is None:
            return
        start, buttons, mods = self._press
        self._press = None
        if self._preview is not None:  # read-only: a click selects nothing, no context menu
            return
        pos = np.asarray(event.pos[:2], dtype=float)
        if self._link.active:
            dragged = self._link.dragging
            pair = self._link.end(self.scene.pick_at(*pos))
            if dragged:
                if pair is not None:
                    self.link_requested.emit(*pair)
                return
        if self._banding:
            self._banding = False
            self._band.hide()
            ids = self.scene.pick_rect(start[0], start[1], pos[0], pos[1])
            if ids and self._graph is not None:
                self._graph.select(ids, "add")
            return
        if np.hypot(*(pos - start)) > CLICK_SLOP or self._graph is None:
            return  # a drag: the camera had it
        node_id = self.scene.pick_at(*pos)
        if event.button == 1:
            self._click(node_id, mods)
        elif event.button == 2:
            sel = self.selected_ids()
            if node_id is not None and node_id not in sel:
                self._graph.select([node_id], "replace")
                sel = [node_id]
            gp = self.canvas.native.mapToGlobal(QPoint(*map(round, pos)))
            self.context_menu_requested.emit(sel if (node_id is not None or sel) else [], gp)

    def _click(self, node_id: str | None, mods: int) -> None:
        toggle = mods & (Qt.KeyboardModifier.ControlModifier.value | Qt.KeyboardModifier.ShiftModifier.value)
        if node_id is None:
            if not toggle:
                self._graph.select([], "replace")
            return
        self._graph.select([node_id], "toggle" if toggle else "replace")
        self.scene.flush()
        self.node_clicked.emit(node_id, mods)

    def _on_double_click(self, event) -> None:
        node_id = self.scene.pick_at(*event.pos[:2])
        if node_id is None or self._preview is not None:
            return
        if qt_modifiers(event.modifiers) & Qt.KeyboardModifier.AltModifier.value:
            self.set_focus(node_id, self.focus_depth())
            return
        self.node_double_clicked.emit(node_id)

    # -- keyboard ----------------------------------------------------------------------------
    def _on_key(self, event) -> None:
        if self._graph is None or event.key is None or self._preview is not None:
            return
        name = event.key.name
        sel = self.selected_ids()
        if name in _ARROWS and sel:
            target = self.neighbour_in_direction(sel[-1], _ARROWS[name])
            if target is not None:
                self._graph.select([target], "replace")
                self.scene.flush()
        elif name in ("Enter", "Return") and sel:
            self.node_double_clicked.emit(sel[-1])
        elif name == "Delete" and sel:
            self.delete_requested.emit(sel)
        elif name == "F" and (sel or self.scene.hovered):
            self.set_focus(sel[-1] if sel else self.scene.hovered, self.focus_depth())
        elif name in ("1", "2", "3") and self.focused() is not None:
            self.set_focus(self.focused(), int(name))
        elif name == "Escape" and self.focused() is not None:
            self.set_focus(None)

    def neighbour_in_direction(self, node_id: str, direction: tuple[float, float]) -> str | None:
        """The graph neighbour of ``node_id`` whose screen position lies most in ``direction`` (x right, y down)."""
        g = self._graph
        nbrs = {e.dst for e in g.edges_of(node_id, "out")} | {e.src for e in g.edges_of(node_id, "in")}
        nbrs.discard(node_id)
        if not nbrs:
            return None
        xy, _ = self.scene.projected()
        here = xy[g.row_of(node_id)]
        ids = sorted(nbrs)
        delta = xy[g.rows_of(ids)] - here
        dist = np.hypot(delta[:, 0], delta[:, 1])
        cos = (delta @ np.asarray(direction)) / np.where(dist > 0, dist, 1.0)
        ok = np.isfinite(cos) & (cos > 0.3)
        if not ok.any():
            return None
        # Prefer alignment, then nearness: score = cos / (1 + dist/200px).
        score = np.where(ok, cos / (1.0 + dist / 200.0), -np.inf)
        return ids[int(np.argmax(score))]
