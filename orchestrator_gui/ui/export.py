"""Screenshots and graph exports of the main window (File ▸ Export, ``--screenshot``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QFileDialog

if TYPE_CHECKING:
    from orchestrator_gui.ui.main_window import MainWindow

GRAPH_FORMATS = {"json": "json", "graphml": "graphml", "gexf": "gexf"}


def prepare_screenshot(win: MainWindow) -> None:
    """Fit the view and select the most active open TODO item (or the most active node)."""
    if win.session is None:
        return
    g = win.session.graph
    win.view.fit()
    n = g.number_of_nodes()
    if g.selected_ids() or not n:
        return
    ids = g.ids_of(np.arange(n))
    score = np.asarray(g.activation, dtype=float) + 10.0 * np.asarray(g.attention, dtype=float)
    wanted = np.array([g.node(i).kind.value == "todo" and g.node(i).status.value == "open" for i in ids])
    if wanted.any():
        score = np.where(wanted, score, -np.inf)
    win.view.set_selection([ids[int(np.argmax(score))]], fly=False)


def grab_window(win: MainWindow) -> QPixmap:
    """The whole window as a pixmap, the 3D view painted from a full-detail off-screen frame.

    ``QWidget.grab`` of a window holding an OpenGL widget may show a stale or
    empty canvas on software GL, so the canvas area is overdrawn with a frame
    rendered by the scene itself.
    """
    pix = win.grab()
    render = getattr(win.view, "render_image", None)
    canvas = getattr(getattr(win.view, "canvas", None), "native", None)
    if render is None or canvas is None or win.session is None or not canvas.isVisible():
        return pix
    try:
        frame = np.ascontiguousarray(render())
    except Exception as exc:  # noqa: BLE001 - keep the plain grab
        win.reporter.report(exc, context="Rendering the 3D view")
        return pix
    h, w = frame.shape[:2]
    img = QImage(frame.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
    ratio = pix.devicePixelRatio()
    size = canvas.size()
    target = (round(size.width() * ratio), round(size.height() * ratio))
    if (w, h) != target:
        img = img.scaled(*target)
    at = canvas.mapTo(win, QPoint(0, 0))
    painter = QPainter(pix)
    painter.drawImage(at, img)
    # The legend and the focus bar sit over the canvas: paint them again over the rendered frame.
    overlays = getattr(getattr(win.view, "overlays", None), "widgets", lambda: [])()
    for w in overlays:
        if w.isVisible():
            painter.drawPixmap(w.mapTo(win, QPoint(0, 0)), w.grab())
    painter.end()
    return pix


def save_screenshot(win: MainWindow, path: str | os.PathLike[str]) -> bool:
    """Write the window as a PNG; False (reported) when it cannot be written."""
    ok = grab_window(win).save(str(path), "PNG")
    if not ok:
        win.reporter.report(f"cannot write {path}", context="Export screenshot")
    return ok


def screenshot_dialog(win: MainWindow) -> None:
    """File ▸ Export Screenshot."""
    path, _ = QFileDialog.getSaveFileName(win, "Export screenshot", "orchestrator.png", "PNG image (*.png)")
    if path and save_screenshot(win, path):
        win.reporter.info(f"Screenshot saved to {path}")


def export_graph(win: MainWindow, path: str | os.PathLike[str], fmt: str) -> bool:
    """Export the open graph as JSON, GraphML or GEXF; False (reported) on failure."""
    from orchestrator_gui.store import export_graph as _export

    if win.session is None:
        return False
    with win.reporter.guard(f"Exporting {fmt}", dialog=True) as guard:
        _export(win.session.graph, path, fmt)
    if not guard.failed:
        win.reporter.info(f"Exported the graph to {path}")
    return not guard.failed


def graph_dialog(win: MainWindow, fmt: str) -> None:
    """File ▸ Export Graph ▸ <format>."""
    ext = GRAPH_FORMATS[fmt]
    path, _ = QFileDialog.getSaveFileName(win, f"Export graph as {fmt}", f"graph.{ext}", f"*.{ext}")
    if path:
        export_graph(win, path, fmt)
