"""The History panel on the demo under Xvfb: timeline rows, a slider that previews read-only, restore and undo."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QKeySequence  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402
from window_helpers import graph_content, make_window  # noqa: E402

from orchestrator_gui.model import operations as ops  # noqa: E402
from orchestrator_gui.store import same_content  # noqa: E402
from orchestrator_gui.ui.panels.base import PanelContext  # noqa: E402
from orchestrator_gui.ui.panels.history import HistoryPanel, when_text  # noqa: E402
from orchestrator_gui.workspace.history_preview import actor_group  # noqa: E402

LEFT = Qt.MouseButton.LeftButton


def _window_with_history(qtbot, tmp_path):
    """The demo in the main window, five more changes (one by an agent), and a History dock beside the view."""
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    core, g = win.session.core, win.session.graph
    goal = next(n.id for n in g.nodes() if n.kind.value == "plan")
    for i in range(3):
        core.apply(ops.add_thought(g, f"history thought {i}", parent=goal, node_id=f"hist{i}"))
    core.apply(ops.edit(g, "hist1", title="history thought one, reworded"))
    core.apply(ops.add_thought(g, "an agent's idea", parent=goal, node_id="hist-agent", actor="mcp"))
    panel = HistoryPanel(PanelContext(win.reporter, win.prompter, win.settings))
    panel.set_view(win.view)
    # As the main window registers it (see the report): a dock on the right, the panel told the session.
    dock = QDockWidget("History", win)
    dock.setObjectName("dock_history")
    dock.setWidget(panel)
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.show()
    panel.set_session(win.session)
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == len(win.session.store.history()), timeout=5000)
    return win, panel, dock


def _store_files(win) -> dict:
    path = win.session.store.path
    return {p.name: p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if not p.name.endswith("-shm")}


def _drawn(view) -> int:
    """Nodes in the scene's GPU buffers: what the view draws."""
    view.scene.flush()
    return view.scene.nodes.buffers.n


def test_timeline_rows_say_who_did_what_and_when(qtbot, tmp_path):
    win, panel, _dock = _window_with_history(qtbot, tmp_path)
    entries = win.session.store.history()
    rows = [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]
    assert [int(r.text(0)) for r in rows] == [e.seq for e in entries]
    for row, e in zip(rows, entries, strict=True):
        assert row.text(1) == actor_group(e.actor)
        assert e.description in row.text(2)
        assert row.text(3) == when_text(e.time)
    assert rows[0].text(1) == "migration" and "Build from the workspace files" in rows[0].text(2)
    assert rows[-1].text(1) == "agent" and rows[-1].text(2) == 'Add thought "an agent\'s idea"'
    assert rows[-2].text(1) == "user" and rows[-2].text(2) == "Edit 'history thought 1' (title)"
    # The slider's right end is now: nothing is previewed yet.
    assert panel.slider.maximum() == len(rows) - 1 == panel.slider.value()
    assert not win.view.previewing and not panel.banner.isVisible()
    win.close()


def test_dragging_the_slider_previews_the_past_read_only_without_touching_the_store(qtbot, tmp_path):
    win, panel, _dock = _window_with_history(qtbot, tmp_path)
    view, s = win.view, win.session
    live = graph_content(s.graph)
    files, history = _store_files(win), [e.to_dict() for e in s.store.history()]
    n_live = s.graph.number_of_nodes()
    assert _drawn(view) == n_live
    first = panel.preview.rows[0].seq  # the fresh build: the demo without the five changes
    for index in range(panel.slider.maximum() - 1, -1, -1):  # drag from now to the build, one step at a time
        panel.slider.setValue(index)
        seq = panel.preview.rows[index].seq
        want = s.store.graph_at(seq).graph
        assert view.previewing and same_content(view.shown_graph(), want), seq
        assert _drawn(view) == want.number_of_nodes()
        assert panel.banner.isVisible() and panel.banner.label.text().startswith(f"Previewing history at #{seq} — ")
    assert _drawn(view) == n_live - 4  # the view draws the graph without the four added thoughts
    # The keyboard steps the slider too.
    panel.slider.setFocus()
    qtbot.keyClick(panel.slider, Qt.Key.Key_Right)
    assert panel.previewing == panel.preview.rows[1].seq == first + 1
    # Read-only: a click on a node drawn in the preview selects nothing, Delete deletes nothing.
    view.fit()
    view.scene.flush()
    shown = view.shown_graph()
    w, h = view.canvas.size
    before_sel = s.graph.selected_ids()
    nid = next(i for i in shown.node_ids() if i in s.graph and i not in before_sel
               and 20 < view.scene.screen_position(i)[0] < w - 20 and 20 < view.scene.screen_position(i)[1] < h - 20
               and view.scene.pick_at(*view.scene.screen_position(i)) == i)
    qtbot.mouseClick(view.canvas.native, LEFT, pos=view.canvas_position(nid))
    qtbot.keyClick(view.canvas.native, Qt.Key.Key_Delete)
    assert s.graph.selected_ids() == before_sel and shown.selected_ids() == ()
    assert win.inspector.node_id != nid and nid in s.graph
    # A panel picking a node meanwhile selects it in the live graph only; the preview stays as it was.
    win.select_node(nid)
    assert s.graph.selected_ids() == (nid,) and shown.selected_ids() == () and view.shown_graph() is shown
    # Nothing was written: the store's bytes and journal, and the live graph, are as they were.
    assert _store_files(win) == files
    assert [e.to_dict() for e in s.store.history()] == history
    assert graph_content(s.graph) == live and view.graph is s.graph
    # Back to now: the live graph is drawn again.
    qtbot.mouseClick(panel.banner.back, LEFT)
    assert not view.previewing and view.scene.graph is s.graph and _drawn(view) == n_live
    assert not panel.banner.isVisible() and panel.slider.value() == panel.slider.maximum()
    win.close()


def test_restore_commits_one_restore_transaction_that_ctrl_z_undoes(qtbot, tmp_path):
    win, panel, _dock = _window_with_history(qtbot, tmp_path)
    s = win.session
    live = graph_content(s.graph)
    # The state with the first added thought only.
    index = next(i for i, r in enumerate(panel.preview.rows) if r.what == "Add thought 'history thought 0'")
    seq = panel.preview.rows[index].seq
    panel.slider.setValue(index)
    target = s.store.graph_at(seq).graph
    n_records = s.store.last_seq
    qtbot.mouseClick(panel.banner.restore, LEFT)
    assert s.store.last_seq == n_records + 1
    last = s.store.history(1)[0]
    assert last.operation == "restore" and last.params["seq"] == seq
    assert same_content(s.graph, target) and "hist0" in s.graph and "hist1" not in s.graph
    # The view is back on the (restored) live graph, and the timeline lists the restore.
    assert not win.view.previewing and win.view.scene.graph is s.graph
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == n_records + 1, timeout=5000)
    assert panel.tree.topLevelItem(n_records).text(2).startswith(f"Restore to after #{seq}")
    # Edit ▸ Undo, bound to Ctrl+Z, takes it back in one step.
    undo = win.acts["undo"]
    assert undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo) == QKeySequence("Ctrl+Z")
    assert undo.isEnabled() and "Restore to after" in undo.text()
    win.activateWindow()  # a shortcut reaches the active window only
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    win.view.canvas.native.setFocus()
    qtbot.keyClick(win.view.canvas.native, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: graph_content(s.graph) == live, timeout=5000)
    assert s.store.history(1)[0].operation == "undo"
    win.close()


def test_closing_the_dock_returns_the_view_to_now(qtbot, tmp_path):
    win, panel, dock = _window_with_history(qtbot, tmp_path)
    panel.slider.setValue(1)
    assert win.view.previewing
    dock.close()
    assert not win.view.previewing and win.view.scene.graph is win.session.graph
    assert not panel.banner.isVisible()
    win.close()
