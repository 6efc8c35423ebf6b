"""The Next panel: the ranking ``orchestrator-gui next`` prints, its first item outlined in the view."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from window_helpers import make_window  # noqa: E402

from orchestrator_gui.model.nodes import NodeFlag  # noqa: E402
from orchestrator_gui.render.arrays import node_outlines  # noqa: E402
from orchestrator_gui.workspace.next_work import rank_for_session  # noqa: E402


def _marked(g) -> list[str]:
    return [i for i in g.node_ids() if g.flags[g.row_of(i)] & NodeFlag.NEXT]


def test_the_panel_lists_next_and_marks_the_first_in_the_view(qtbot, tmp_path):
    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    panel, g = win.next_panel, win.session.graph
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() > 0, timeout=10000)
    panel.reload()  # rank now, against the same activation as the line below (the app's dynamics tick)
    expected = [r.node_id for r in rank_for_session(win.session.core, limit=6, dynamics=False)]
    shown = [panel.tree.topLevelItem(i).data(0, 256) for i in range(panel.tree.topLevelItemCount())]
    assert shown == expected  # the same order as the CLI's
    assert _marked(g) == [expected[0]]
    # The view outlines it in the theme's "next" colour.
    scene = win.view.scene
    row = g.row_of(expected[0])
    assert tuple(node_outlines(g, scene.theme)[row]) == pytest.approx(scene.theme.next)
    # Clicking a row selects its node in the graph.
    item = panel.tree.topLevelItem(1)
    panel.tree.itemClicked.emit(item, 1)
    qtbot.waitUntil(lambda: g.selected_ids() == (expected[1],), timeout=5000)

    # The first item is done (an agent ticks it in TODO.md): the ranking moves on, the mark follows.
    src = g.node(expected[0]).source
    path = win.session.root / "TODO.md"
    lines = path.read_bytes().split(b"\n")
    lines[src.line - 1] = lines[src.line - 1].replace(b"- [ ]", b"- [x]", 1)
    path.write_bytes(b"\n".join(lines))
    qtbot.waitUntil(lambda: _marked(g) and _marked(g) != [expected[0]], timeout=10000)
    assert panel.tree.topLevelItem(0).data(0, 256) == _marked(g)[0]
    win.close()
