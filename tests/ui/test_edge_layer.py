"""Progressive full detail: edges and nodes built off-screen in steps, shown as images, restarted on change."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from orchestrator_gui.model import NodeFlag, ThoughtGraph  # noqa: E402
from orchestrator_gui.ui.graph_view import GraphView  # noqa: E402


def random_graph(n: int = 3000, m: int = 15000, seed: int = 4) -> ThoughtGraph:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = (src + rng.integers(1, n - 1, m)) % n
    pairs = np.unique(np.stack([src, dst], 1), axis=0)
    return ThoughtGraph.from_arrays([f"n{i}" for i in range(n)], ["thought"] * n, edge_src=pairs[:, 0],
                                    edge_dst=pairs[:, 1], edge_types=["similar"] * len(pairs), now=0.0)


@pytest.fixture
def big_view(qtbot):
    g = random_graph()
    v = GraphView()
    qtbot.addWidget(v)
    v.resize(640, 480)
    v.set_graph(g, fit=True)
    v.show()
    qtbot.waitExposed(v)
    scene = v.scene
    scene.progressive = True          # whatever the renderer (a GPU would draw directly)
    scene.layer_min_edges = scene.layer_min_nodes = 1000   # images for this small graph too
    for acc in (scene.accumulator, scene.node_accumulator):
        acc.chunk = 1000              # several steps for this graph
        acc.budget_ms = 1.0           # and keep them small
    return v, g


def settle_complete(qtbot, scene, total):
    qtbot.waitUntil(lambda: not scene.moving, timeout=5000)
    qtbot.waitUntil(lambda: scene.stats()["edges_complete"] and scene.stats()["edges_drawn"] == total
                    and scene.stats()["nodes_complete"], timeout=20000)


def test_still_frame_builds_every_edge_in_steps_and_matches_a_direct_full_frame(qtbot, big_view):
    v, g = big_view
    scene = v.scene
    scene.camera.azimuth += 7
    settle_complete(qtbot, scene, g.number_of_edges())
    assert scene.accumulator.steps > 3 and scene.node_accumulator.steps > 1  # built up across loop turns
    assert scene.edge_image.visible and not scene.edges.visible
    assert scene.node_image.visible and not scene.nodes.visible             # the frame is two images
    assert scene.stats()["nodes_drawn"] == g.number_of_nodes()
    shown = v.canvas.native.grabFramebuffer()
    ptr = shown.constBits()
    img = np.frombuffer(ptr, np.uint8).reshape(shown.height(), shown.bytesPerLine() // 4, 4)[:, :shown.width()]
    rgb = img[..., [2, 1, 0]].astype(int)                    # QImage ARGB32 is BGRA in memory
    direct = scene.render()[..., :3].astype(int)             # every edge drawn in one frame
    assert rgb.shape == direct.shape
    close = (np.abs(rgb - direct).max(axis=2) <= 8).mean()
    edge_px = (np.abs(direct - np.asarray(scene.theme.background[:3]) * 255).max(axis=2) > 8).mean()
    assert edge_px > 0.05                                    # the picture is not empty
    # Blending order differs where edges cross (ranked order vs buffer order): nearly equal.
    assert close > 0.97, close


def test_a_change_restarts_the_image_and_it_completes_again(qtbot, big_view):
    v, g = big_view
    scene = v.scene
    scene.camera.azimuth += 7
    settle_complete(qtbot, scene, g.number_of_edges())
    first_key = scene.accumulator.key
    # An edge restyle (a suppressed node fades its edges) must not leave a stale image on screen.
    g.set_flags(["n1", "n2", "n3"], NodeFlag.SUPPRESSED)
    qtbot.waitUntil(lambda: scene.accumulator.key not in (None, first_key), timeout=5000)
    settle_complete(qtbot, scene, g.number_of_edges())
    # While moving the image is not used: the moving subset is drawn directly.
    scene.camera.azimuth += 20
    qtbot.waitUntil(lambda: scene.moving and scene.edges.visible and not scene.edge_image.visible, timeout=3000)
    settle_complete(qtbot, scene, g.number_of_edges())


def test_a_restyle_draws_the_restyled_node_over_the_last_image_until_a_new_one_is_done(qtbot, big_view):
    v, g = big_view
    scene = v.scene
    scene.camera.azimuth += 7
    settle_complete(qtbot, scene, g.number_of_edges())
    before = scene.node_accumulator.front["key"]
    row = g.row_of("n42")
    # An outline that appears (a transform starts on n42) restyles one row. (A hover restyles
    # every row: it dims all but the neighbourhood; see the next test for that path.)
    scene.set_running(["n42"])
    # The next frame keeps the complete image and draws the restyled node over it.
    qtbot.waitUntil(lambda: scene.nodes.visible and scene.nodes.mode == "overlay", timeout=5000)
    assert scene.node_image.visible
    assert row in scene.nodes._subset_idx["overlay"]
    assert scene.stats()["nodes_drawn"] == g.number_of_nodes()
    # Then a new image with the outline in it replaces it, and the overlay goes.
    qtbot.waitUntil(lambda: scene.node_accumulator.front["key"] != before and not scene.nodes.visible, timeout=20000)
    assert scene.node_image.visible


def test_a_node_that_loses_its_outline_is_drawn_directly_not_over_its_old_ring(qtbot, big_view):
    v, g = big_view
    scene = v.scene
    scene.set_hovered("n42")
    scene.camera.azimuth += 7
    settle_complete(qtbot, scene, g.number_of_edges())      # the image has n42 with its hover ring
    assert scene.node_accumulator.front is not None
    scene.set_hovered(None)
    # The overlay could not hide the old ring: every node is drawn directly until the new image.
    qtbot.waitUntil(lambda: scene.nodes.visible and scene.nodes.mode == "still" and not scene.node_image.visible,
                    timeout=5000)
    assert scene.stats()["nodes_drawn"] == g.number_of_nodes()
    qtbot.waitUntil(lambda: scene.node_image.visible and not scene.nodes.visible, timeout=20000)


def test_without_progressive_the_still_frame_draws_edges_directly(qtbot, big_view):
    v, g = big_view
    scene = v.scene
    scene.progressive = False
    scene.set_lod(still_px=None)
    scene.camera.azimuth += 7
    qtbot.waitUntil(lambda: not scene.moving, timeout=5000)
    qtbot.waitUntil(lambda: scene.stats()["edges_drawn"] == g.number_of_edges(), timeout=5000)
    assert scene.edges.visible and not scene.edge_image.visible


def test_hover_dims_the_images_without_restarting_them(qtbot, big_view):
    """A hover draws the neighbourhood over the cached images, dimmed at draw time: no restyle, no restart."""
    v, g = big_view
    scene = v.scene
    scene.camera.azimuth += 7
    settle_complete(qtbot, scene, g.number_of_edges())
    edge_key = scene.accumulator.key
    v.canvas.native.repaint()
    before = v.render_image()
    hub = g.id_of(int(np.argmax(scene.degree())))
    scene.set_hovered(hub)
    v.canvas.native.repaint()
    assert scene.accumulator.key == edge_key        # the edge image is still the one shown
    assert scene.edge_image.visible and scene.edge_image.dim < 1.0
    assert len(scene.highlight.node_rows) > 2   # the hub and its neighbours
    assert scene.highlight_nodes.visible and len(scene.highlight_nodes.buffers) == len(scene.highlight.node_rows)
    after = v.render_image()
    bg = np.asarray(scene.theme.background[:3]) * 255
    lit = np.abs(before[..., :3].astype(float) - bg).sum()
    assert np.abs(after[..., :3].astype(float) - bg).sum() < 0.85 * lit   # the picture as a whole is dimmed
    scene.set_hovered(None)
    v.canvas.native.repaint()
    assert scene.edge_image.dim == 1.0 and not scene.highlight_nodes.visible
    assert scene.accumulator.key == edge_key
