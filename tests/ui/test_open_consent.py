"""Opening a folder never creates .orchestrator/ in it unasked (issue: the app wrote graph.db everywhere)."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from window_helpers import make_window  # noqa: E402

from orchestrator_gui.demo import BUNDLED_DEMO  # noqa: E402
from orchestrator_gui.ui.open_consent import KEEP, MEMORY  # noqa: E402


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_plain_folder_asks_and_in_memory_writes_nothing(qtbot, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"\xff\xd8")
    win = make_window(qtbot, tmp_path / "app")
    win.prompter.choice = None  # cancel
    assert not win.open_workspace(folder)
    assert win.session is None and _tree(folder) == ["a.jpg"]
    assert "not an agent-loop workspace" in win.prompter.asked[-1][1]
    win.prompter.choice = MEMORY
    assert win.open_workspace(folder)
    assert win.session is not None and win.session.store is None
    win.close_workspace()
    assert _tree(folder) == ["a.jpg"]  # nothing was created, not even .orchestrator/


def test_a_workspace_is_kept_only_when_the_user_says_so(qtbot, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(BUNDLED_DEMO, ws)
    before = _tree(ws)
    win = make_window(qtbot, tmp_path / "app")
    win.prompter.choice = MEMORY
    assert win.open_workspace(ws)
    assert win.session.graph.number_of_nodes() > 50   # the files' graph, built in memory
    assert "in memory" in win.statusBar().currentMessage()
    win.close_workspace()
    assert _tree(ws) == before
    win.prompter.choice = KEEP
    assert win.open_workspace(ws)
    assert (ws / ".orchestrator" / "graph.db").is_file()
    asked = len(win.prompter.asked)
    win.close_workspace()
    assert win.open_workspace(ws)  # set up now: no second question
    assert len(win.prompter.asked) == asked
    win.close()


def test_a_plain_folder_can_become_a_workspace_or_give_way_to_the_demo(qtbot, tmp_path):
    from orchestrator_gui.demo import demo_workspace
    from orchestrator_gui.ui.open_consent import CREATE, DEMO

    folder = tmp_path / "newloop"
    folder.mkdir()
    win = make_window(qtbot, tmp_path / "app")
    win.prompter.choice = DEMO
    assert win.open_workspace(folder)
    assert win.prompter.offered == [CREATE, DEMO, "Open in memory"]
    assert win.session.root == demo_workspace().resolve() or win.session.root == demo_workspace()
    assert _tree(folder) == []  # the demo instead: nothing written in the folder
    win.close_workspace()
    win.prompter.choice = CREATE
    assert win.open_workspace(folder)
    assert {".roo/schedules.json", "TODO.md", "persistent-memory.md", "task_timing.tsv"} <= set(_tree(folder))
    assert (folder / ".orchestrator" / "graph.db").is_file()  # asked for: a workspace, its graph kept
    assert any(n.kind.value == "todo" for n in win.session.graph.nodes())
    win.close()
