"""Room for the graph and one selection: the default layout, graph only, Reset Layout, panels that mirror the graph.

Every window here is built, sized and shown the way the app does it (the
default layout is sized when the window is first shown), with private
settings and the user's demo copy.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemView
from window_helpers import ScriptedPrompter

from orchestrator_gui.ui.graph_actions import merge_transactions, plural
from orchestrator_gui.ui.main_window import MainWindow
from orchestrator_gui.ui.settings import AppSettings

LEFT = Qt.MouseButton.LeftButton


def open_window(qtbot, tmp_path, size=(1400, 900), settings=None) -> MainWindow:
    """A window shown at ``size`` on the demo (the layout sized for that size, as at a first start)."""
    win = MainWindow(settings or AppSettings.at(tmp_path / "settings.ini"))
    qtbot.addWidget(win)
    prompter = ScriptedPrompter()
    win.prompter = win.actions_.prompter = prompter
    for p in win.panels:
        p.ctx.prompter = prompter
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_demo()
    canvas = win.view.canvas
    qtbot.waitUntil(lambda: canvas.size == (canvas.native.width(), canvas.native.height()))
    return win


@pytest.fixture
def win(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path)
    yield w
    w.close()


def canvas_fraction(win: MainWindow) -> float:
    c = win.view.canvas.native
    return c.width() * c.height() / (win.width() * win.height())


def highlighted(view: QAbstractItemView) -> set[int]:
    """Rows (of the view's model) that are highlighted."""
    return {i.row() for i in view.selectionModel().selectedIndexes()}


def landed(win: MainWindow) -> bool:
    return not win.view.scene.animating


# ---------------------------------------------------------------------------------------------- room
@pytest.mark.parametrize(("size", "least"), [((1600, 1000), 0.55), ((1280, 800), 0.45)])
def test_the_canvas_holds_most_of_the_window_by_default(qtbot, tmp_path, size, least):
    w = open_window(qtbot, tmp_path, size)
    assert (w.width(), w.height()) == size
    assert canvas_fraction(w) >= least, canvas_fraction(w)
    # the Inspector and Search are seen together (not tabs of one dock), and every panel has a visible dock
    inspector, search = w.docks["Inspector"], w.docks["Search"]
    assert not w.tabifiedDockWidgets(inspector) and inspector not in w.tabifiedDockWidgets(search)
    assert not inspector.visibleRegion().isEmpty() and not search.visibleRegion().isEmpty()
    assert all(d.isVisible() and not d.isFloating() for d in w.docks.values())
    assert not w.docks["TODO"].visibleRegion().isEmpty() and not w.docks["Runs"].visibleRegion().isEmpty()
    w.close()


def test_the_window_works_at_800x600(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path, (1280, 800))
    w.resize(800, 600)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == (800, 600))
    assert w.minimumSizeHint().width() <= 800 and w.minimumSizeHint().height() <= 600
    canvas = w.view.canvas.native
    qtbot.waitUntil(lambda: canvas.width() >= 200 and canvas.height() >= 150)
    for title, dock in w.docks.items():
        if not dock.visibleRegion().isEmpty():  # the docks in front fit inside the window
            assert dock.geometry().right() < 800 and dock.geometry().bottom() < 600, title
            assert dock.width() >= 100 and dock.height() >= 80, title
    w.close()


def test_graph_only_hides_every_dock_and_brings_them_back_as_they_were(win, qtbot):
    act = win.acts["graph_only"]
    assert act.shortcut() == QKeySequence("F11") and act in win.menuBar().actions()[2].menu().actions()
    win.docks["Memory log"].raise_()
    qtbot.waitUntil(lambda: not win.docks["Memory log"].visibleRegion().isEmpty())
    before = {t: (d.isVisible(), d.geometry()) for t, d in win.docks.items()}
    act.trigger()
    assert act.isChecked() and all(not d.isVisible() for d in win.docks.values())
    qtbot.waitUntil(lambda: canvas_fraction(win) > 0.85)
    act.trigger()
    assert not act.isChecked()
    qtbot.waitUntil(lambda: {t: (d.isVisible(), d.geometry()) for t, d in win.docks.items()} == before)
    assert not win.docks["Memory log"].visibleRegion().isEmpty()  # the same tab in front
    # showing one panel (Edit ▸ Find) while the graph is alone brings all of them back
    act.trigger()
    win.acts["find"].trigger()
    assert not act.isChecked() and all(d.isVisible() for d in win.docks.values())


def test_quitting_in_graph_only_remembers_the_panels(qtbot, tmp_path):
    settings = AppSettings.at(tmp_path / "s.ini")
    w = open_window(qtbot, tmp_path, settings=settings)
    w.acts["graph_only"].trigger()
    w.close()
    again = open_window(qtbot, tmp_path, settings=AppSettings.at(tmp_path / "s.ini"))
    assert all(d.isVisible() for d in again.docks.values())
    again.close()


def test_reset_layout_puts_the_docks_back_at_once(qtbot, tmp_path):
    settings = AppSettings.at(tmp_path / "s.ini")
    w = open_window(qtbot, tmp_path, settings=settings)
    w.docks["TODO"].setFloating(True)
    w.docks["Search"].close()
    w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, w.docks["Inspector"])
    w.settings.save_window(w)
    w.acts["reset_layout"].trigger()
    # at once: no restart needed
    assert not w.docks["TODO"].isFloating() and w.docks["Search"].isVisible()
    assert w.dockWidgetArea(w.docks["Inspector"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert not w.tabifiedDockWidgets(w.docks["Inspector"])
    assert settings.q.value("window/state") is None
    qtbot.waitUntil(lambda: canvas_fraction(w) > 0.45)
    w.close()
    # and quitting keeps the default it now shows
    again = open_window(qtbot, tmp_path, settings=AppSettings.at(tmp_path / "s.ini"))
    assert again.dockWidgetArea(again.docks["Inspector"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert not again.docks["TODO"].isFloating()
    again.close()


# ---------------------------------------------------------------------------------------------- selection
def test_panel_highlights_always_equal_the_graph_selection(win, qtbot):
    s, g = win.session, win.session.graph
    item = next(i for i in win.todo.doc.items if i.state == "open")
    todo_id = s.node_for("TODO.md", line=item.line)
    win.todo.select_line(item.line)
    qtbot.waitUntil(lambda: win.selected_ids() == [todo_id])
    assert highlighted(win.todo.tree)
    # nothing selected (a click on empty canvas): no row anywhere stays highlighted
    g.select([], "replace")
    for view in (win.todo.tree, win.runs.table.view, win.memory.table.view, win.schedules.list):
        assert not highlighted(view), view
    # a run selected in the view: only the Runs row is highlighted
    run = next(n for n in g.nodes() if n.source is not None and n.source.file == "task_timing.tsv")
    win.view.set_selection([run.id])
    assert win.runs.table.current_key() == run.source.key[4:]
    assert len(highlighted(win.runs.table.view)) == 1
    assert not highlighted(win.todo.tree) and not highlighted(win.memory.table.view)
    # several selected: every selected row of a panel is highlighted
    runs = [n.id for n in g.nodes() if n.source is not None and n.source.file == "task_timing.tsv"][:3]
    win.view.set_selection(runs)
    assert len(highlighted(win.runs.table.view)) == 3
    # the TODO row can be picked again after the selection was cleared elsewhere
    win.todo.select_line(item.line)
    qtbot.waitUntil(lambda: win.selected_ids() == [todo_id])
    assert not highlighted(win.runs.table.view)


def _row_point(view: QAbstractItemView, index) -> QPoint:
    view.scrollTo(index)
    return view.visualRect(index).center()


def test_clicking_the_highlighted_row_flies_there_again(win, qtbot):
    g = win.session.graph
    table = win.memory.table
    win.docks["Memory log"].raise_()
    qtbot.waitUntil(lambda: table.view.isVisible())
    index = table.proxy.index(2, 0)
    qtbot.mouseClick(table.view.viewport(), LEFT, pos=_row_point(table.view, index))
    qtbot.waitUntil(lambda: len(win.selected_ids()) == 1)
    nid = win.selected_ids()[0]
    qtbot.waitUntil(lambda: landed(win))
    win.view.reset_camera()  # the user looks elsewhere
    away = win.view.camera_state()["center"]
    qtbot.mouseClick(table.view.viewport(), LEFT, pos=_row_point(table.view, index))
    qtbot.waitUntil(lambda: landed(win) and win.view.camera_state()["center"] != away)
    assert win.selected_ids() == [nid]
    assert np.allclose(win.view.camera_state()["center"], g.positions[g.row_of(nid)], atol=1e-4)
    # the same in a panel whose own selection logic ignores a click on the schedule its form shows
    sched = win.schedules
    win.docks["Schedules"].raise_()
    qtbot.waitUntil(lambda: sched.list.isVisible())
    first = sched.list.model().index(1, 0)
    qtbot.mouseClick(sched.list.viewport(), LEFT, pos=_row_point(sched.list, first))
    qtbot.waitUntil(lambda: len(win.selected_ids()) == 1 and win.selected_ids()[0] != nid)
    sid = win.selected_ids()[0]
    g.select([], "replace")  # cleared in the view: the row is no longer highlighted
    assert not highlighted(sched.list)
    qtbot.mouseClick(sched.list.viewport(), LEFT, pos=_row_point(sched.list, first))
    qtbot.waitUntil(lambda: win.selected_ids() == [sid])


def test_filters_and_searches_never_change_the_selection_or_move_the_camera(win, qtbot):
    s = win.session
    table = win.runs.table
    win.docks["Runs"].raise_()
    table.view.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    target = table.proxy.index(0, 0).siblingAtColumn(2).data()
    table.select_key(target)
    nid = s.node_for("task_timing.tsv", key=f"run/{target}")
    qtbot.waitUntil(lambda: win.selected_ids() == [nid])
    qtbot.waitUntil(lambda: landed(win))
    camera = win.view.camera_state()

    def unchanged() -> None:
        assert win.selected_ids() == [nid]
        assert win.inspector.node_id == nid
        assert not win.view.scene.animating and win.view.camera_state() == camera

    # a keystroke that filters the selected row out, then one that brings others back
    table.search.setFocus()
    qtbot.keyClicks(table.search, "zzz-no-such-run")
    assert table.visible_count() == 0
    unchanged()
    table.search.clear()
    unchanged()
    assert table.current_key() == target and len(highlighted(table.view)) == 1  # highlighted again
    for text in ("amplitude", "implementer", "ab"):
        table.search.setText(text)
        unchanged()
    table.search.clear()
    table.choice.setCurrentText("failed")
    unchanged()
    table.choice.setCurrentIndex(0)
    # the memory log's filter, the TODO search and the Search panel
    qtbot.keyClicks(win.memory.table.search, "parser")
    qtbot.keyClicks(win.todo.search, "parser")
    win.todo.filter.setCurrentText("Done")
    qtbot.keyClicks(win.search.query, "parser windows")
    win.search.run_search()
    unchanged()
    assert win.search.results.count() > 0


def test_transform_actions_follow_the_selection_like_the_context_menu(win):
    g = win.session.graph
    win.view.set_selection([])
    for key in ("generate", "refine", "aggregate", "score", "prune", "link", "delete_nodes"):
        assert not win.acts[key].isEnabled(), key
    assert win.acts["relayout"].isEnabled()
    nid = next(n.id for n in g.nodes() if n.kind.value == "todo")
    win.view.set_selection([nid])
    assert win.acts["generate"].isEnabled() and win.acts["refine"].isEnabled()
    assert not win.acts["aggregate"].isEnabled()
    two = [n.id for n in g.nodes() if n.kind.value == "todo"][:2]
    win.view.set_selection(two)
    assert win.acts["aggregate"].isEnabled() and not win.acts["refine"].isEnabled()
    menu = {a.text(): a.isEnabled() for a in win.build_context_menu(two).actions() if a.text()}
    assert menu["Aggregate"] and not menu["Refine…"]


def test_small_wording_and_state_fixes(win, qtbot):
    assert plural(1, "node") == "1 node" and plural(3, "node") == "3 nodes"
    # the theme button says which theme is on (a checked tool button looks unchecked in the dark style)
    win.set_theme("light")
    assert win.acts["dark"].iconText() == "Theme: Light" and not win.acts["dark"].isChecked()
    win.set_theme("dark")
    assert win.acts["dark"].iconText() == "Theme: Dark" and win.acts["dark"].isChecked()
    # a long undo text is shortened in the menu (so the shortcut column keeps its room), in full as tooltip
    from orchestrator_gui.model import operations

    g = win.session.graph
    parent = next(n.id for n in g.nodes() if n.kind.value == "plan")
    long = "An extremely long thought title " * 6
    tx = operations.add_thought(g, long, parent=parent)
    win.actions_.apply(tx.model_copy(update={"description": long}))
    text = win.acts["undo"].text()
    assert text.startswith("&Undo ") and "…" in text and len(text) < len(long)
    assert long.strip() in win.acts["undo"].toolTip()


# ---------------------------------------------------------------------------------------------- one transform, one step
def test_generate_on_24_selected_nodes_is_one_undo_step_and_prints_nothing(win, qtbot, capfd):
    g = win.session.graph
    capfd.readouterr()
    ids = [n.id for n in g.nodes() if n.kind.value in ("todo", "plan", "memory")][:24]
    assert len(ids) == 24
    win.view.set_selection(ids)
    history = win.session.undo.history
    count, steps = g.number_of_nodes(), len(history.undo_steps)
    win.acts["generate"].trigger()
    qtbot.waitUntil(lambda: g.number_of_nodes() > count, timeout=30_000)
    grown = g.number_of_nodes()
    qtbot.waitUntil(lambda: landed(win) and not win.cancel_btn.isVisible(), timeout=10_000)
    assert grown - count >= 24  # every parent got children, in one go
    parents = {e.src for nid in g.node_ids()[count:] for e in g.edges_of(nid, "in") if e.type.value == "parent"}
    assert parents == set(ids)
    # the scene shows every node where the graph has it once the growth has ended
    scene = win.view.scene
    assert len(scene._pos) == len(g) and np.allclose(scene._pos, g.positions)
    # the children's provenance names the one transaction the journal holds
    undo_text = win.session.undo.undo_text
    assert "24" in undo_text and "Generate" in undo_text
    assert len(history.undo_steps) == steps + 1
    win.acts["undo"].trigger()
    assert g.number_of_nodes() == count
    win.acts["redo"].trigger()
    assert g.number_of_nodes() == grown
    qtbot.waitUntil(lambda: landed(win))
    err = capfd.readouterr().err
    assert "Error" not in err and "Traceback" not in err, err


def test_merged_parts_name_the_merged_transaction(win):
    from orchestrator_gui.model import transforms as tf

    g = win.session.graph
    a, b = [n.id for n in g.nodes() if n.kind.value == "todo"][:2]
    parts = [tf.generate(g, a, 2), tf.generate(g, b, 2)]
    tx = merge_transactions("generate", parts, params={"node_ids": [a, b]}, description="Generate 4 from 2 nodes")
    assert len(tx.edits) == sum(len(p.edits) for p in parts)
    assert [p["node_id"] for p in tx.provenance.params["parts"]] == [a, b]
    for e in tx.edits:
        if e.op == "add_node":
            assert e.node.metadata["provenance"]["tx"] == tx.id
        elif e.edge.type.value == "derived_from":
            assert e.edge.metadata["tx"] == tx.id
    committed = win.actions_.apply(tx)
    assert committed is not None and win.session.undo.undo_text == "Generate 4 from 2 nodes"


def test_expand_of_several_nodes_is_one_undo_step(win):
    g = win.session.graph
    history = win.session.undo.history
    plans = [n.id for n in g.nodes() if n.kind.value == "plan" and any(
        e.type.value == "parent" for e in g.edges_of(n.id, "out"))][:2]
    assert len(plans) == 2
    before = {n.id: n.metadata for n in g.nodes()}
    win.actions_.prune(plans)
    pruned = {n.id: n.metadata for n in g.nodes()}
    steps = len(history.undo_steps)
    win.actions_.expand(plans)  # (one may lie in the other's branch: re-opened by the first, then skipped)
    assert len(history.undo_steps) == steps + 1 and history.undo_text.startswith("Expand ")
    assert {n.id: n.metadata for n in g.nodes()} == before
    win.acts["undo"].trigger()
    assert {n.id: n.metadata for n in g.nodes()} == pruned


def test_generate_without_an_engine_builds_one_transaction_inline(win, qtbot):
    g = win.session.graph
    ids = [n.id for n in g.nodes() if n.kind.value == "todo"][:3]
    executor = win.actions_._executor
    win.actions_.set_executor(None)
    try:
        count = g.number_of_nodes()
        steps = len(win.session.undo.history.undo_steps)
        win.actions_.generate(ids)
        assert g.number_of_nodes() > count + 2
        assert len(win.session.undo.history.undo_steps) == steps + 1
    finally:
        win.actions_.set_executor(executor)
    qtbot.waitUntil(lambda: landed(win))
