"""'Open source line' opens the file at the node's line (GUI review #14: it used to only raise a panel)."""

from __future__ import annotations

from pathlib import Path

from window_helpers import make_window

from orchestrator_gui.model.nodes import NodeKind
from orchestrator_gui.ui.source_view import read_window


def _todo_item(g):
    return next(n for n in g.nodes() if n.kind == NodeKind.TODO and n.source and n.source.file == "TODO.md"
                and n.source.line)


def test_the_inspector_button_shows_the_file_at_the_items_line_and_writes_nothing(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    root = Path(win.session.root)
    node = _todo_item(win.session.graph)
    before = (root / "TODO.md").read_bytes()
    win.view.set_selection([node.id])
    qtbot.waitUntil(lambda: win.inspector.node_id == node.id)
    assert win.inspector.source_btn.isEnabled()
    win.inspector.source_btn.click()
    qtbot.waitUntil(lambda: getattr(win, "_source_view", None) is not None and win._source_view.isVisible())
    view = win._source_view
    expected = before.decode("utf-8").splitlines()[node.source.line - 1]
    assert view.marked_text() == expected
    assert "TODO.md" in view.windowTitle() and f":{node.source.line}" in view.windowTitle()
    assert view.text.isReadOnly()
    assert (root / "TODO.md").read_bytes() == before


def test_a_second_open_replaces_the_first_window(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    items = [n for n in win.session.graph.nodes() if n.kind == NodeKind.TODO and n.source and n.source.line]
    first = win.open_source(items[0].id)
    second = win.open_source(items[1].id)
    qtbot.waitUntil(lambda: not first.isVisible())
    assert second.isVisible()


def test_a_node_without_a_file_opens_nothing(qtbot, tmp_path):
    from orchestrator_gui.model import operations

    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    g = win.session.graph
    committed = g.apply(operations.add_thought(g, "a loose thought", parent=_todo_item(g).id))
    loose = next(e.node.id for e in committed.edits if e.op == "add_node")
    assert g.node(loose).source is None
    assert win.open_source(loose) is None
    assert getattr(win, "_source_view", None) is None


def test_read_window_streams_only_the_lines_around_the_target(tmp_path):
    big = tmp_path / "big.md"
    big.write_text("".join(f"line {i}\n" for i in range(1, 100_001)), encoding="utf-8")
    lines, first = read_window(big, 50_000, context=10)
    assert first == 49_990 and len(lines) == 21
    assert lines[10] == "line 50000"


def test_read_window_past_the_end_shows_the_tail_and_cuts_huge_lines(tmp_path):
    f = tmp_path / "f.md"
    f.write_text("a\n" + "x" * 10_000 + "\nc\n", encoding="utf-8")
    lines, first = read_window(f, 99, context=50)
    assert first == 1 and lines[0] == "a" and lines[-1] == "c"
    assert lines[1].endswith("…") and len(lines[1]) < 3_000
