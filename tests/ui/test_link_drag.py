"""Ctrl + drag from a node onto a goal links them (issue 15: 'drag from a node onto a goal')."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from window_helpers import make_window

CTRL = Qt.KeyboardModifier.ControlModifier


def _pickable(view, kind: str, exclude: set[str] = frozenset()) -> tuple[str, QPoint]:
    """A node of ``kind`` that the pointer can hit at its projected position."""
    g = view.graph
    for n in g.nodes():
        if n.kind.value != kind or n.id in exclude:
            continue
        x, y = view.scene.screen_position(n.id)
        w, h = view.canvas.size
        if 5 < x < w - 5 and 5 < y < h - 5 and view.scene.pick_at(x, y) == n.id:
            return n.id, QPoint(round(x), round(y))
    raise AssertionError(f"no pickable {kind} node on screen")


def _ctrl_drag(qtbot, view, start: QPoint, end: QPoint) -> None:
    w = view.canvas.native
    QTest.mousePress(w, Qt.MouseButton.LeftButton, CTRL, start)
    for t in (0.25, 0.5, 0.75, 1.0):
        qtbot.wait(20)  # vispy drops a move that follows the previous one within 10 ms (app/base.py)
        p = QPointF(start.x() + (end.x() - start.x()) * t, start.y() + (end.y() - start.y()) * t)
        QApplication.sendEvent(w, QMouseEvent(QEvent.Type.MouseMove, p, w.mapToGlobal(p), Qt.MouseButton.NoButton,
                                              Qt.MouseButton.LeftButton, CTRL))
    qtbot.waitUntil(lambda: view._link.line.isVisible())
    assert view._link.line.armed  # over the target: the line says it will link
    QTest.mouseRelease(w, Qt.MouseButton.LeftButton, CTRL, end)


def _serves(g, src: str, dst: str) -> bool:
    return any(e.dst == dst and e.type.value == "serves" for e in g.edges_of(src, "out"))


def test_dropping_an_item_on_a_goal_makes_it_serve_the_goal_in_one_undo_step(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    view, g = win.view, win.session.graph
    qtbot.waitUntil(lambda: not view.scene.animating, timeout=10_000)
    view.scene.fit()
    goal, at_goal = _pickable(view, "schedule")  # a goal kind (model.planning.GOAL_KINDS)
    item, at_item = _pickable(view, "todo", {n for n in g.node_ids() if _serves(g, n, goal)})
    pose = (view.scene.camera.azimuth, view.scene.camera.elevation)
    _ctrl_drag(qtbot, view, at_item, at_goal)
    qtbot.waitUntil(lambda: _serves(g, item, goal))
    assert (view.scene.camera.azimuth, view.scene.camera.elevation) == pose  # the view did not turn
    assert not view._link.line.isVisible()
    win.acts["undo"].trigger()
    assert not _serves(g, item, goal)


def test_dropping_on_another_kind_asks_the_edge_type_and_a_ctrl_click_still_toggles(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    view, g = win.view, win.session.graph
    qtbot.waitUntil(lambda: not view.scene.animating, timeout=10_000)
    view.scene.fit()
    a, at_a = _pickable(view, "todo")
    b, at_b = _pickable(view, "memory")
    win.prompter.choice = "depends_on"
    _ctrl_drag(qtbot, view, at_a, at_b)
    qtbot.waitUntil(lambda: any(e.dst == b and e.type.value == "depends_on" for e in g.edges_of(a, "out")))
    assert win.prompter.asked[-1][0] == "choose"
    g.select([], "replace")
    QTest.mouseClick(view.canvas.native, Qt.MouseButton.LeftButton, CTRL, at_a)
    qtbot.waitUntil(lambda: view.selected_ids() == [a])
