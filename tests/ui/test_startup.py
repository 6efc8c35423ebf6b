"""Start-up: a workspace's first graph build runs off the GUI thread, and the GUI's imports stay lean."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from window_helpers import make_window

from orchestrator_gui.demo import BUNDLED_DEMO


def _graph_facts(graph):
    ids = list(graph.node_ids())
    rows = graph.rows_of(ids)
    edges = sorted((e.src, e.dst, str(e.type)) for e in graph.edges())
    return ids, np.asarray(graph.positions)[rows], edges


def test_first_open_builds_the_graph_while_the_window_keeps_running(qtbot, tmp_path):
    built_on, inline = tmp_path / "ws", tmp_path / "inline"
    shutil.copytree(BUNDLED_DEMO, built_on)
    shutil.copytree(BUNDLED_DEMO, inline)
    win = make_window(qtbot, tmp_path / "app")
    threads: list[str] = []
    from orchestrator_gui.workspace import session as session_module

    real_build = session_module.build_graph

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real_build(*args, **kwargs)

    ticks = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    mp = pytest.MonkeyPatch()
    mp.setattr(session_module, "build_graph", spy)
    try:
        assert win.open_workspace(built_on, keep_graph=True)
    finally:
        mp.undo()
        timer.stop()
    # The build ran on a worker, and the GUI thread kept turning its event loop meanwhile
    # (one processEvents call before the build used to be all it got: one tick at most).
    assert threads and threading.main_thread().name not in threads
    assert len(ticks) >= 3
    got, undo_text = _graph_facts(win.session.graph), win.acts["undo"].text()
    # What the user gets is exactly a build on the GUI thread (a config.toml keeps the build there):
    # same nodes, places and links, and the same undo step on offer.
    (inline / ".orchestrator").mkdir()
    (inline / ".orchestrator" / "config.toml").write_text("", encoding="utf-8")
    threads.clear()
    mp.setattr(session_module, "build_graph", spy)
    try:
        assert win.open_workspace(inline, keep_graph=True)
    finally:
        mp.undo()
    assert threads == [threading.main_thread().name]
    want = _graph_facts(win.session.graph)
    assert got[0] == want[0] and len(got[0]) == 123
    np.testing.assert_allclose(got[1], want[1])
    assert got[2] == want[2]
    assert undo_text == win.acts["undo"].text()
    win.close()


def test_a_failed_first_build_is_reported_by_the_open_as_before(qtbot, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, ws)
    (ws / ".roomodes").write_bytes(b"customModes:\n  - slug: [unclosed\n")
    win = make_window(qtbot, tmp_path / "app")
    # The worker's build fails; the GUI thread's open meets the same error and shows it, FILE:LINE first.
    assert not win.open_workspace(ws, keep_graph=True)
    assert win.session is None
    assert ".roomodes:3: error: invalid YAML" in str(win.reporter.last)
    win.close()


def test_the_gui_start_leaves_the_local_api_and_exports_unimported():
    code = ("import json, sys\n"
            "import orchestrator_gui.cli.main, orchestrator_gui.app, orchestrator_gui.ui.main_window\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    loaded = set(json.loads(out.stdout))
    heavy = {"fastapi", "uvicorn", "starlette", "mcp", "networkx", "psycopg", "orchestrator_gui.api"}
    assert not heavy & loaded, f"imported at start-up: {sorted(heavy & loaded)}"


def test_only_a_plain_first_open_is_built_ahead(tmp_path):
    from orchestrator_gui.ui.graph_prebuild import needs_build

    ws = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, ws)
    assert needs_build(ws)
    # A config.toml may point the graph at a fleet's database: that open stays on the GUI thread, as before.
    (ws / ".orchestrator").mkdir()
    (ws / ".orchestrator" / "config.toml").write_text("", encoding="utf-8")
    assert not needs_build(ws)
    assert not needs_build(tmp_path / "missing")
