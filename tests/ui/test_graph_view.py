"""GraphView on the demo graph under Xvfb: real pixels, real clicks, real model updates."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from orchestrator_gui.demo import BUNDLED_DEMO  # noqa: E402
from orchestrator_gui.migration import build_graph  # noqa: E402
from orchestrator_gui.model import NodeFlag, operations  # noqa: E402
from orchestrator_gui.render.theme import DARK, LIGHT  # noqa: E402
from orchestrator_gui.ui.graph_view import GraphView  # noqa: E402

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def demo_graph(tmp_path):
    ws = tmp_path / "demo"
    shutil.copytree(BUNDLED_DEMO, ws)
    return build_graph(ws)


@pytest.fixture
def view(qtbot, demo_graph):
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(900, 700)
    v.set_graph(demo_graph)
    v.show()
    qtbot.waitExposed(v)
    qtbot.waitUntil(lambda: v.canvas.size == (v.canvas.native.width(), v.canvas.native.height()))
    return v


def front_nodes(view, count=5):
    """Ids whose centre is on screen and whose own disc is the one picked there (not covered)."""
    g = view.graph
    w, h = view.canvas.size
    out = []
    for nid in g.node_ids():
        x, y = view.scene.screen_position(nid)
        if 20 < x < w - 20 and 20 < y < h - 20 and view.scene.pick_at(x, y) == nid:
            out.append(nid)
        if len(out) == count:
            break
    assert len(out) == count, "not enough unobstructed nodes on screen"
    return out


def test_demo_renders_non_blank_with_node_colours(view):
    img = view.render_image()
    h, w = img.shape[:2]
    assert (w, h) == tuple(view.canvas.size)
    bg = np.round(np.asarray(DARK.background[:3]) * 255)
    non_bg = np.abs(img[..., :3].astype(int) - bg).sum(-1) > 30
    assert non_bg.mean() > 0.01
    g = view.graph
    # The centre pixel of each unobstructed node shows its kind colour (no shading at the centre),
    # faded towards the background by the depth cue: got = bg + t * (kind - bg) with t in [0.4, 1].
    for nid in front_nodes(view, 6):
        x, y = view.scene.screen_position(nid)
        kind = np.asarray(DARK.kinds[g.node(nid).kind.value][:3]) * 255
        got = img[int(round(y)), int(round(x)), :3].astype(float)
        t = float(np.dot(got - bg, kind - bg) / np.dot(kind - bg, kind - bg))
        assert 0.4 <= t <= 1.02 and np.abs(bg + t * (kind - bg) - got).max() < 12, (nid, got, kind, t)


def test_scene_projection_matches_vispy_transform(view):
    g = view.graph
    tr = view.scene.view.scene.node_transform(view.canvas.scene)
    ref = tr.map(g.positions[:10])
    ref = ref[:, :2] / ref[:, 3:4]
    xy, _ = view.scene.projected()
    np.testing.assert_allclose(xy[:10], ref, atol=1e-3)


def test_click_selects_node_and_ctrl_click_toggles(qtbot, view):
    a, b = front_nodes(view, 2)
    with qtbot.waitSignal(view.node_clicked, timeout=2000) as sig:
        qtbot.mouseClick(view.canvas.native, LEFT, pos=view.canvas_position(a))
    assert sig.args[0] == a
    assert view.selected_ids() == [a]
    with qtbot.waitSignal(view.selection_changed, timeout=2000) as sel:
        qtbot.mouseClick(view.canvas.native, LEFT, Qt.KeyboardModifier.ControlModifier, pos=view.canvas_position(b))
    assert set(sel.args[0]) == {a, b}
    # The outline of the selection reaches the GPU buffer.
    row = view.graph.row_of(b)
    assert view.scene.nodes.buffers.data["a_outline"][row, 3] > 0
    qtbot.mouseClick(view.canvas.native, LEFT, Qt.KeyboardModifier.ControlModifier, pos=view.canvas_position(a))
    assert view.selected_ids() == [b]
    # A click on empty space clears the selection.
    qtbot.mouseClick(view.canvas.native, LEFT, pos=QPoint(3, 3))
    assert view.selected_ids() == []


def test_double_click_right_click_and_hover(qtbot, view):
    a = front_nodes(view, 1)[0]
    pos = view.canvas_position(a)
    with qtbot.waitSignal(view.node_double_clicked, timeout=2000) as sig:
        qtbot.mouseDClick(view.canvas.native, LEFT, pos=pos)
    assert sig.args == [a]
    with qtbot.waitSignal(view.context_menu_requested, timeout=2000) as menu:
        qtbot.mouseClick(view.canvas.native, Qt.MouseButton.RightButton, pos=pos)
    assert menu.args[0] == [a]
    with qtbot.waitSignal(view.hovered, timeout=2000) as hov:
        qtbot.mouseMove(view.canvas.native, QPoint(pos.x() + 1, pos.y()))
    assert hov.args == [a]
    assert view.scene.hovered == a


def test_rubber_band_adds_nodes_inside(qtbot, view):
    w, h = view.canvas.size
    native = view.canvas.native
    shift = Qt.KeyboardModifier.ShiftModifier
    qtbot.mousePress(native, LEFT, shift, QPoint(1, 1))
    qtbot.mouseMove(native, QPoint(w // 2, h // 2))
    qtbot.mouseMove(native, QPoint(w - 2, h - 2))
    qtbot.mouseRelease(native, LEFT, shift, QPoint(w - 2, h - 2))
    xy, _ = view.scene.projected()
    inside = ((xy[:, 0] >= 1) & (xy[:, 0] <= w - 2) & (xy[:, 1] >= 1) & (xy[:, 1] <= h - 2)).sum()
    assert inside > 50
    assert len(view.selected_ids()) == inside


def test_keyboard_arrows_enter_delete(qtbot, view):
    g = view.graph
    hub = max(g.node_ids(), key=lambda i: len(g.edges_of(i)))
    view.set_selection([hub])
    view.canvas.native.setFocus()
    moved = None
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Down):
        view.set_selection([hub])
        qtbot.keyClick(view.canvas.native, key)
        if view.selected_ids() != [hub]:
            moved = view.selected_ids()
            break
    assert moved is not None and len(moved) == 1
    nbrs = {e.dst for e in g.edges_of(hub, "out")} | {e.src for e in g.edges_of(hub, "in")}
    assert moved[0] in nbrs
    with qtbot.waitSignal(view.node_double_clicked, timeout=2000) as act:
        qtbot.keyClick(view.canvas.native, Qt.Key.Key_Return)
    assert act.args == [moved[0]]
    with qtbot.waitSignal(view.delete_requested, timeout=2000) as dele:
        qtbot.keyClick(view.canvas.native, Qt.Key.Key_Delete)
    assert dele.args == [moved]


def test_transaction_updates_buffers_in_one_burst(qtbot, view):
    g = view.graph
    n0, e0 = len(g), g.number_of_edges()
    flushes = view.scene.flushes
    parent = g.node_ids()[0]
    cap = view.scene.nodes.buffers.capacity
    g.apply(operations.add_thought(g, "A new idea", parent=parent, node_id="thought-new", now=1.0))
    qtbot.waitUntil(lambda: view.scene.stats()["nodes"] == n0 + 1)
    st = view.scene.stats()
    assert st["edges"] == e0 + 1 and st["flushes"] == flushes + 1
    # Appended into the spare rows: no reallocation, and the new node is drawn where the model puts it.
    assert view.scene.nodes.buffers.capacity == cap
    np.testing.assert_allclose(view.scene.nodes.buffers.data["a_position"][-1], g.positions[g.row_of("thought-new")])
    seg = view.scene.edges.buffers.data["a_position"][-2:]
    np.testing.assert_allclose(seg, g.positions[[g.row_of(parent), g.row_of("thought-new")]], atol=1e-6)
    # Several transactions in one event-loop turn still cost a single update.
    flushes = view.scene.flushes
    for i in range(5):
        g.apply(operations.add_thought(g, f"burst {i}", parent=parent, now=2.0 + i))
    qtbot.waitUntil(lambda: view.scene.stats()["nodes"] == n0 + 6)
    assert view.scene.flushes == flushes + 1
    # A removal moves rows (swap-remove): the buffers are rebuilt and still match the model row by row.
    g.apply(operations.delete(g, [g.node_ids()[5]], now=9.0))
    qtbot.waitUntil(lambda: view.scene.stats()["nodes"] == n0 + 5)
    np.testing.assert_allclose(view.scene.nodes.buffers.data["a_position"], g.positions, atol=1e-6)
    assert view.scene.stats()["edges"] == g.number_of_edges()
    # Dynamic values patch in place: activation brightens the node in the buffer.
    row = g.row_of(parent)
    before = view.scene.nodes.buffers.data["a_color"][row].copy()
    g.set_activation([1.0], [parent])
    qtbot.waitUntil(lambda: view.scene.nodes.buffers.data["a_color"][row, :3].sum() > before[:3].sum())


def test_growth_animation_ends_at_the_child_position(qtbot, view):
    g = view.graph
    parent = g.node_ids()[3]
    child = "thought-grown"
    g.apply(operations.add_thought(g, "grown", parent=parent, node_id=child, now=1.0))
    view.animate_growth(parent, [child])
    assert view.scene.animating           # it starts with the next buffer update...
    view.scene.flush()                    # ...which flush() applies now
    row = g.row_of(child)
    first = view.scene.nodes.buffers.data["a_position"][row].copy()
    assert np.linalg.norm(first - g.positions[g.row_of(parent)]) < np.linalg.norm(
        g.positions[row] - g.positions[g.row_of(parent)])
    qtbot.waitUntil(lambda: not view.scene.animating, timeout=3000)
    np.testing.assert_allclose(view.scene.nodes.buffers.data["a_position"][row], g.positions[row], atol=1e-6)
    assert not view.scene.animator.running


def test_fly_to_and_camera_state_round_trip(qtbot, view):
    g = view.graph
    target = g.node_ids()[10]
    view.fly_to(target, 0.3)
    qtbot.waitUntil(lambda: not view.scene.animating, timeout=3000)
    np.testing.assert_allclose(view.camera_state()["center"], g.positions[g.row_of(target)], atol=1e-6)
    state = view.camera_state()
    view.reset_camera()
    assert view.camera_state() != state
    view.set_camera_state(state)
    restored = view.camera_state()
    assert restored.pop("center") == pytest.approx(state.pop("center"))
    assert restored == pytest.approx(state)
    with pytest.raises(ValueError):
        view.set_camera_state({"scale_factor": -1})


def test_theme_visibility_and_active_region(qtbot, view):
    g = view.graph
    dark = view.render_image()
    view.set_visibility(shells=False, edges=False, labels=False)
    bare = view.render_image()
    bg = np.round(np.asarray(DARK.background[:3]) * 255)
    ink = lambda img, bg: (np.abs(img[..., :3].astype(int) - bg).sum(-1) > 30).sum()  # noqa: E731
    assert ink(bare, bg) < ink(dark, bg)
    view.set_theme("light")
    light = view.render_image()
    assert np.abs(light[2, 2, :3].astype(int) - np.round(np.asarray(LIGHT.background[:3]) * 255)).max() <= 2
    # Active region: one active node; a node far from it is dimmed in the buffer, the active one is not.
    a = g.node_ids()[0]
    g.set_activation([1.0], [a])
    view.set_activation_threshold(0.5)
    view.scene.flush()
    pres = view.scene._presence
    assert pres[g.row_of(a)] == 1.0 and (pres < 1.0).sum() > len(g) // 2
    view.set_activation_threshold(None)
    assert (view.scene._presence == 1.0).all()
    g.set_flags([a], NodeFlag.SUPPRESSED)
    view.set_visibility(suppressed=False)
    view.scene.flush()
    assert view.scene.nodes.buffers.data["a_size"][g.row_of(a)] == 0
    x, y = view.scene.screen_position(a)
    assert view.scene.pick_at(x, y, radius=0.5) != a


def test_running_transform_outlines_its_node(view):
    g = view.graph
    a = g.node_ids()[2]
    row = g.row_of(a)
    view.set_running([a])
    np.testing.assert_allclose(view.scene.nodes.buffers.data["a_outline"][row], DARK.running)
    view.set_running([])
    assert view.scene.nodes.buffers.data["a_outline"][row, 3] == 0


def test_level_of_detail_while_moving_and_full_detail_when_still(qtbot, monkeypatch):
    from orchestrator_gui.model import ThoughtGraph
    from orchestrator_gui.render import scene_lod

    monkeypatch.setattr(scene_lod, "MOVING_NODES_FLOOR", 0)
    monkeypatch.setattr(scene_lod, "MOVING_EDGE_PX_FLOOR", 0.0)
    n = 3000
    rng = np.random.default_rng(2)
    src = rng.integers(0, n, 12000)
    dst = (src + rng.integers(1, n - 1, 12000)) % n
    pairs = np.unique(np.stack([src, dst], 1), axis=0)
    g = ThoughtGraph.from_arrays([f"n{i}" for i in range(n)], ["thought"] * n, edge_src=pairs[:, 0],
                                 edge_dst=pairs[:, 1], edge_types=["similar"] * len(pairs), now=0.0)
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(800, 600)
    v.set_graph(g, fit=True)
    v.show()
    qtbot.waitExposed(v)
    v.scene.set_lod(moving_px=20_000, moving_nodes=500)
    g.select(["n7"])
    v.scene.camera.azimuth += 10  # a camera change: cheap frames until things settle
    qtbot.waitUntil(lambda: v.scene.stats()["edges_drawn"] < len(pairs), timeout=3000)  # a moving frame
    st = v.scene.stats()
    assert st["moving"]
    assert 0 < st["edges_drawn"] < len(pairs) and st["nodes_drawn"] <= 501
    assert v.scene.nodes._subsets["moving"] is not None
    qtbot.waitUntil(lambda: not v.scene.moving, timeout=3000)
    # Once still, every edge is drawn (under software GL: built up off-screen, then shown).
    qtbot.waitUntil(lambda: v.scene.stats()["edges_drawn"] == len(pairs), timeout=10000)
    assert v.scene.stats()["nodes_drawn"] == n


def test_burst_restyles_only_touched_rows_with_the_full_result(qtbot, view):
    # A burst that changes a few nodes patches only their rows; the buffers must still equal a
    # whole-graph restyle, and the appended node and edge join the moving subsets at once.
    from orchestrator_gui.render import arrays

    g, scene = view.graph, view.scene
    ids = g.node_ids()
    # Moving subsets of one node and one edge (the demo is under the LOD floors, so set them directly).
    one = np.zeros(len(g), bool)
    one[0] = True
    scene.nodes.set_subset("moving", one)
    scene.edges.set_subset("moving", np.eye(1, g.number_of_edges(), dtype=bool)[0])
    uploads = scene.nodes.buffers.uploads
    g.set_activation([1.0, 0.7], [ids[1], ids[4]])
    g.set_flags([ids[2]], NodeFlag.SUPPRESSED)
    g.apply(operations.add_thought(g, "restyled idea", parent=ids[0], node_id="thought-rows", now=1.0))
    scene.flush()
    assert scene.stats()["nodes"] == len(g)
    data = scene.nodes.buffers.data
    pres = arrays.node_presence(g)
    np.testing.assert_array_equal(data["a_color"], arrays.node_colors(g, scene.theme, presence=pres))
    np.testing.assert_array_equal(data["a_size"], arrays.node_sizes(g, presence=pres))
    np.testing.assert_array_equal(data["a_outline"], arrays.node_outlines(g, scene.theme))
    # The suppressed node's edges faded with it.
    ea = g.edge_arrays()
    seg = np.flatnonzero((ea.src == g.row_of(ids[2])) | (ea.dst == g.row_of(ids[2])))
    want = np.repeat(arrays.edge_colors(g, scene.theme, presence=pres, rows=seg), 2, axis=0)
    got = scene.edges.buffers.data["a_color"][np.stack([2 * seg, 2 * seg + 1], 1).ravel()]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert scene.nodes.buffers.uploads > uploads
    scene.nodes.mode = scene.edges.mode = "moving"
    assert scene.nodes.drawn() == 2 and scene.edges.drawn_segments() == 2
    np.testing.assert_array_equal(scene.nodes._subset_idx["moving"], [0, len(g) - 1])
    m = g.number_of_edges()
    np.testing.assert_array_equal(scene.edges._subset_idx["moving"], [0, 1, 2 * m - 2, 2 * m - 1])
