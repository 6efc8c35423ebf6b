"""The growth animation stays correct while the graph keeps growing under it (GraphView under Xvfb).

A transform that lands while another one's children are still growing
changes the graph at once, but reaches the GPU buffers only with the next
flush; an animation frame in between once indexed the buffers with the
graph's new rows (``IndexError: index 143 is out of bounds``).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from orchestrator_gui.model import operations  # noqa: E402


@pytest.fixture
def view(demo_view):
    v = demo_view(800, 600)
    return v


def _grow(graph, parent: str, title: str) -> list[str]:
    committed = graph.apply(operations.add_thought(graph, title, parent=parent))
    return [e.node.id for e in committed.edits if e.op == "add_node"]


def test_nodes_added_while_children_grow_end_where_the_graph_has_them(view, qtbot, capfd):
    g, scene = view.graph, view.scene
    parents = [n.id for n in g.nodes() if n.kind.value == "todo"][:6]
    kids = _grow(g, parents[0], "first child")
    scene.flush()
    view.animate_growth(parents[0], kids)
    assert scene.animating
    capfd.readouterr()
    for i, parent in enumerate(parents[1:]):
        # another transform lands mid-growth; a frame comes before the buffers have its rows
        more = _grow(g, parent, f"child {i}")
        scene._frame(scene.animator.clock())
        assert len(scene._pos) < len(g)  # not uploaded yet: the frame left the buffers alone
        view.animate_growth(parent, more)  # starts once they are
    qtbot.waitUntil(lambda: not scene.animating, timeout=5000)
    assert len(scene._pos) == len(g) == scene.nodes.buffers.n
    assert np.allclose(scene._pos, g.positions)
    assert np.allclose(scene.nodes.buffers.data["a_position"][: len(g)], g.positions)
    # every edge's vertices sit on its nodes
    ea = g.edge_arrays()
    verts = scene.edges.buffers.data["a_position"][: 2 * g.number_of_edges()]
    assert np.allclose(verts[0::2], g.positions[ea.src]) and np.allclose(verts[1::2], g.positions[ea.dst])
    err = capfd.readouterr().err
    assert "Error" not in err and "Traceback" not in err, err


def test_a_relayout_glides_to_the_new_places_and_its_undo_glides_back(qtbot, tmp_path):
    from window_helpers import make_window

    win = make_window(qtbot, tmp_path)
    assert win.open_demo()
    g, scene = win.session.graph, win.view.scene
    # A fresh build is already settled (a relayout would move nothing): push a few nodes out of place.
    from orchestrator_gui.model import operations

    ids = g.node_ids()[::12]
    sph = g.spherical[g.rows_of(ids)]
    win.session.core.apply(operations.move(g, {i: (float(t) + 1.3, float(p)) for i, (t, p, _r) in zip(ids, sph)}))
    qtbot.waitUntil(lambda: not scene.animating and np.allclose(scene._pos, g.positions, atol=1e-5), timeout=10000)
    before = g.positions.copy()
    win.actions_.relayout()
    qtbot.waitUntil(lambda: scene.animating, timeout=10000)  # the Relayout transaction landed and animates
    after = g.positions.copy()
    moved = np.flatnonzero(np.linalg.norm(after - before, axis=1) > 1e-3)
    assert len(moved)
    # Mid-flight, drawn positions lie between the old and the new places, not at the new ones.
    qtbot.waitUntil(lambda: np.linalg.norm(scene._pos[moved] - after[moved], axis=1).max() > 1e-3
                    and np.linalg.norm(scene._pos[moved] - before[moved], axis=1).max() > 1e-3, timeout=5000)
    qtbot.waitUntil(lambda: not scene.animating, timeout=10000)
    assert np.allclose(scene._pos, after, atol=1e-5)
    win.acts["undo"].trigger()
    assert np.allclose(g.positions, before, atol=1e-6)
    qtbot.waitUntil(lambda: scene.animating, timeout=5000)
    qtbot.waitUntil(lambda: not scene.animating, timeout=10000)
    assert np.allclose(scene._pos, before, atol=1e-5)
    win.close()
