"""The main window on the demo under Xvfb: opening, picking, transforms with undo, live file updates, screenshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from window_helpers import graph_content, make_window

from orchestrator_gui.demo import BUNDLED_DEMO
from orchestrator_gui.formats.todo import load_todo
from orchestrator_gui.migration import build_graph
from orchestrator_gui.ui.settings import AppSettings

LEFT = Qt.MouseButton.LeftButton


def test_open_demo_fills_view_and_every_panel(window):
    g = window.session.graph
    expected = build_graph(BUNDLED_DEMO)
    assert g.number_of_nodes() == expected.number_of_nodes() == 123
    assert g.number_of_edges() == expected.number_of_edges()
    assert window.schedules.list.topLevelItemCount() == 4
    todo = load_todo(window.session.workspace.todo)
    assert len(window.todo.visible_items()) == len(todo.items)
    assert window.memory.table.model.rowCount() == 36
    assert window.runs.table.model.rowCount() == 22
    assert "demo" in window.windowTitle()
    assert window.counts_label.text().startswith("123 nodes · 223 edges")
    # the package's copy is never the one opened
    assert Path(window.session.root) != BUNDLED_DEMO


def _front_node(view, kind=None):
    """A node whose own disc is what a click at its centre picks."""
    g = view.graph
    w, h = view.canvas.size
    for nid in g.node_ids():
        if kind and g.node(nid).kind.value != kind:
            continue
        x, y = view.scene.screen_position(nid)
        if 30 < x < w - 30 and 30 < y < h - 30 and view.scene.pick_at(x, y) == nid:
            return nid
    pytest.fail("no unobstructed node on screen")


def test_click_on_a_node_shows_it_in_the_inspector_and_its_panel(window, qtbot):
    view = window.view
    qtbot.waitUntil(lambda: view.canvas.size == (view.canvas.native.width(), view.canvas.native.height()))
    view.fit()
    view.scene.flush()
    nid = _front_node(view, kind="todo")
    pos = view.canvas_position(nid)
    qtbot.mouseClick(view.canvas.native, LEFT, pos=pos)
    qtbot.waitUntil(lambda: window.inspector.node_id == nid)
    node = window.session.graph.node(nid)
    from orchestrator_gui.ui.theme import display_title

    assert window.inspector.title.text() == display_title(node.title)  # as the view's label reads it
    assert window.selected_ids() == [nid]
    # the TODO panel mirrors the selection (same source line), without selecting anything else in the graph
    row = window.todo.tree.currentItem()
    assert row is not None and int(row.text(2)) == node.source.line
    assert window.selected_ids() == [nid]


def test_panel_selection_selects_and_flies_to_the_node(window, qtbot):
    g = window.session.graph
    sched = window.schedules.doc.schedules[2]
    window.docks["Schedules"].raise_()
    window.schedules.select_schedule(sched.id)
    nid = window.schedules.node_of(sched.id)
    qtbot.waitUntil(lambda: window.selected_ids() == [nid])
    assert window.inspector.node_id == nid
    assert g.node(nid).kind.value == "schedule"


def test_generate_from_the_context_menu_then_undo_restores_the_graph_exactly(window, qtbot):
    g = window.session.graph
    nid = next(n.id for n in g.nodes() if n.kind.value == "todo")
    window.select_node(nid, fly=False)
    before = graph_content(g)
    count = g.number_of_nodes()
    menu = window.build_context_menu([nid])
    generate = next(a for a in menu.actions() if a.text() == "Generate")
    assert generate.isEnabled()
    generate.trigger()
    qtbot.waitUntil(lambda: g.number_of_nodes() > count, timeout=10_000)
    grown = g.number_of_nodes()
    children = [e.dst for e in g.edges_of(nid, "out") if e.type.value == "parent" and e.dst.startswith(("thought", "question"))]
    assert len(children) == grown - count
    assert window.acts["undo"].isEnabled() and "Generate" in window.acts["undo"].text()
    window.acts["undo"].trigger()
    assert g.number_of_nodes() == count
    assert graph_content(g) == before
    window.acts["redo"].trigger()
    assert g.number_of_nodes() == grown


def test_outside_edit_of_todo_updates_panel_and_graph_within_a_second_keeping_selection(window, qtbot):
    s = window.session
    g = s.graph
    todo_path = s.workspace.todo
    doc = load_todo(todo_path)
    selected = next(i for i in doc.items if i.state == "done")
    target = next(i for i in doc.items if i.state == "open" and i.line > selected.line)
    sel_id = s.node_for("TODO.md", line=selected.line)
    target_id = s.node_for("TODO.md", line=target.line)
    window.todo.select_line(selected.line)
    qtbot.waitUntil(lambda: window.selected_ids() == [sel_id])
    qtbot.waitUntil(lambda: not window.view.scene.animating)  # the fly-to has landed
    camera = window.view.camera_state()
    count = g.number_of_nodes()
    # an agent ticks one item and appends a new one, above nothing we selected
    data = todo_path.read_bytes()
    lines = data.split(b"\n")
    lines[target.line - 1] = lines[target.line - 1].replace(b"[ ]", b"[x]", 1)
    lines.append(b"- [ ] TW-099 Added by an agent")
    started = time.monotonic()
    todo_path.write_bytes(b"\n".join(lines) + (b"" if data.endswith(b"\n") else b""))
    qtbot.waitUntil(lambda: g.node(target_id).status.value == "done" and g.number_of_nodes() == count + 1,
                    timeout=1000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    titles = window.todo.visible_items()
    assert "TW-099 Added by an agent" in titles
    row = window.todo.row_of_line(target.line)
    assert row.checkState(0) == Qt.CheckState.Checked
    # selection and camera survive
    assert window.selected_ids() == [sel_id]
    assert window.todo.current_key()[1] == selected.text
    assert window.inspector.node_id == sel_id
    assert window.view.camera_state() == camera


def _canvas_crop(img: QImage, win) -> np.ndarray:
    canvas = win.view.canvas.native
    at = canvas.mapTo(win, canvas.rect().topLeft())
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return arr[at.y(): at.y() + canvas.height(), at.x(): at.x() + canvas.width(), :3]


def test_window_grab_shows_a_drawn_canvas_and_the_panels(window, qtbot, tmp_path):
    window.prepare_screenshot()
    out = tmp_path / "shot.png"
    assert window.save_screenshot(out)
    img = QImage(str(out))
    assert (img.width(), img.height()) == (window.width(), window.height())
    crop = _canvas_crop(img, window)
    background = np.median(crop.reshape(-1, 3), axis=0)
    drawn = np.abs(crop.astype(int) - background).sum(axis=2) > 60
    assert drawn.mean() > 0.005, "the 3D view is blank"
    assert len(np.unique(crop.reshape(-1, 3), axis=0)) > 50
    for title in ("TODO", "Inspector", "Runs"):
        dock = window.docks[title]
        assert dock.isVisible() and dock.widget().isVisible()
    assert window.inspector.node_id is not None  # the screenshot shows a selected node in use


def test_cli_screenshot_writes_a_png_and_exits_0(qapp, tmp_path):  # QImage needs the app
    out = tmp_path / "app.png"
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, "-m", "orchestrator_gui.cli.main", "--demo", "--screenshot", str(out),
                           "--size", "1200x800"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1200, 800)
    rgb = img.convertToFormat(QImage.Format.Format_RGB888)  # kept: the array below borrows its memory
    arr = np.frombuffer(rgb.constBits(), np.uint8)[: rgb.height() * rgb.bytesPerLine()]
    rows = arr.reshape(rgb.height(), rgb.bytesPerLine())[:, : 3 * rgb.width()]
    assert len(np.unique(rows.reshape(-1, 3)[:: 7], axis=0)) > 100  # a real UI, not a blank window
    # a screenshot leaves the user's layout alone
    settings = AppSettings.at(Path(env["XDG_CONFIG_HOME"]) / "LoopOrchestrator" / "orchestrator-gui.ini")
    assert settings.q.value("window/geometry") is None


def _demo_node(kind: str) -> str:
    g = build_graph(BUNDLED_DEMO)  # node ids come from the files: the same in every copy of the demo
    return next(n.id for n in g.nodes() if n.kind.value == kind)


def test_screenshot_options_select_focus_and_graph_only(qapp, qtbot, tmp_path):
    from orchestrator_gui.app import GuiOptions, OrchestratorApp, ScreenshotError

    nid = _demo_node("todo")
    app = OrchestratorApp(qapp, AppSettings.at(tmp_path / "s.ini"), restore_layout=False)
    win = app.window
    qtbot.addWidget(win)
    options = GuiOptions(demo=True, select=nid, focus=nid, depth=2, graph_only=True)
    assert app.open_initial(options)
    out = tmp_path / "focus.png"
    assert app.screenshot(str(out), (1000, 700), options)
    assert QImage(str(out)).size().toTuple() == (1000, 700)
    assert win.selected_ids() == [nid] and not win.view.scene.animating
    assert all(not d.isVisible() for d in win.docks.values())
    if hasattr(win.view, "focused"):
        assert win.view.focused() == nid and win.view.focus_depth() == 2
    with pytest.raises(ScreenshotError, match="no node 'nope'"):
        app.screenshot(str(out), (1000, 700), GuiOptions(demo=True, select="nope"))
    win.close()


def test_cli_screenshot_of_an_unknown_node_is_an_error_not_a_traceback(tmp_path):
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([sys.executable, "-m", "orchestrator_gui.cli.main", "--demo", "--screenshot",
                           str(tmp_path / "x.png"), "--select", "TODO.md::item/nope"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "error: --select: no node 'TODO.md::item/nope'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_cli_usage_errors_are_readable(tmp_path, capsys):
    from orchestrator_gui.cli.main import main

    assert main(["--size", "big", "--screenshot", str(tmp_path / "x.png")]) == 2
    assert "--size must look like 1600x1000" in capsys.readouterr().err
    shot = ["--demo", "--screenshot", str(tmp_path / "x.png")]
    assert main([*shot, "--focus", "a", "--depth", "4"]) == 2
    assert "--depth must be 1, 2 or 3" in capsys.readouterr().err
    assert main([*shot, "--depth", "2"]) == 2
    assert "--depth only applies with --focus" in capsys.readouterr().err
    assert main(["--demo", "--select", "a"]) == 2
    assert "--select only applies with --screenshot" in capsys.readouterr().err
    assert main(["--demo", "--graph-only"]) == 2
    assert main(["schedulez"]) == 2
    assert "did you mean the command “schedules”" in capsys.readouterr().err
    assert main(["--demo", str(tmp_path)]) == 2


def test_which_command_lines_open_the_gui():
    from orchestrator_gui.cli.cmd_gui import wants_gui

    cmds = ["check", "schedules", "todo", "graph", "demo"]
    assert wants_gui([], cmds, bare=True)              # the console command alone
    assert not wants_gui([], cmds, bare=False)         # main([]) prints usage
    assert wants_gui(["--demo"], cmds, bare=False)
    assert wants_gui(["~/loop"], cmds, bare=False)
    assert wants_gui(["-w", "check"], cmds, bare=False)  # a folder named like a command, given with -w
    assert wants_gui(["--screenshot", "todo", "--demo"], cmds, bare=False)
    assert wants_gui(["--demo", "--screenshot", "x.png", "--focus", "todo", "--depth", "2"], cmds, bare=False)
    assert not wants_gui(["--demo", "check", "--json"], cmds, bare=False)
    assert not wants_gui(["-w", "dir", "todo", "list"], cmds, bare=False)
    assert not wants_gui(["--help"], cmds, bare=False)


def test_settings_persist_theme_recent_and_layout(qtbot, tmp_path):
    settings = AppSettings.at(tmp_path / "s.ini")
    win = make_window(qtbot, tmp_path, settings=settings)
    assert win.open_demo()
    root = str(win.session.root)
    win.set_theme("light")
    win.docks["Memory log"].raise_()
    win.close()
    again = AppSettings.at(tmp_path / "s.ini")
    assert again.theme == "light"
    assert again.recent_workspaces()[0] == root and again.last_workspace() == root
    assert again.camera(root) is not None
    win2 = make_window(qtbot, tmp_path, settings=again)
    assert win2.theme == "light" and not win2.acts["dark"].isChecked()
    win2.set_theme("dark")
    win2.close()


def test_export_graph_in_three_formats(window, tmp_path):
    for fmt in ("json", "graphml", "gexf"):
        path = tmp_path / f"g.{fmt}"
        assert window.export_graph(path, fmt)
        assert path.stat().st_size > 1000
    data = json.loads((tmp_path / "g.json").read_text())
    assert len(data["nodes"]) == window.session.graph.number_of_nodes()


def test_errors_are_messages_not_tracebacks(qtbot, tmp_path, capsys):
    win = make_window(qtbot, tmp_path)
    assert not win.open_workspace(tmp_path / "missing")
    assert "workspace folder does not exist" in win.reporter.last
    assert "missing" in win.statusBar().currentMessage()
    assert "Traceback" not in capsys.readouterr().err
    win.close()


def test_quit_while_a_transform_runs_waits_for_it_cleanly(window, qtbot):
    g = window.session.graph
    nid = next(n.id for n in g.nodes() if n.kind.value == "todo")
    started = []

    def slow():
        started.append(True)
        time.sleep(0.3)  # the transform's own work, still running when the window closes
        from orchestrator_gui.model import operations
        return operations.add_thought(g, "late", parent=nid)

    window.actions_.build("slow", [nid], slow)
    qtbot.waitUntil(lambda: bool(started))
    assert window.cancel_btn.isVisible() and window.busy_label.text() == "slow"
    pool = window.executor.pool
    window.close()
    assert pool.activeThreadCount() == 0
    assert window.session is None


def test_a_running_transform_outlines_its_input_node_until_it_ends(window, qtbot):
    import threading

    from orchestrator_gui.model import operations
    from orchestrator_gui.render import arrays

    g = window.session.graph
    scene = window.view.scene
    nid = next(n.id for n in g.nodes() if n.kind.value == "todo")
    gate = threading.Event()

    def slow():
        assert gate.wait(20)
        return operations.add_thought(g, "after the wait", parent=nid)

    def outline():
        return scene.nodes.buffers.data["a_outline"][g.row_of(nid)]
    window.actions_.build("slow generate", [nid], slow)
    qtbot.waitUntil(lambda: bool(np.allclose(outline(), scene.theme.running)), timeout=5000)
    gate.set()
    qtbot.waitUntil(lambda: not window.cancel_btn.isVisible(), timeout=10000)
    row = np.array([g.row_of(nid)])
    qtbot.waitUntil(lambda: bool(np.allclose(outline(), arrays.node_outlines(g, scene.theme, rows=row)[0])
                                 and not np.allclose(outline(), scene.theme.running)), timeout=5000)
