"""Neighbourhood highlight, focus mode and the legend, on the demo graph under Xvfb (real pixels and clicks)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("vispy")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QToolTip  # noqa: E402

from orchestrator_gui.render.theme import DARK  # noqa: E402


@pytest.fixture
def view(demo_view):
    v = demo_view(1000, 760)
    v.set_legend_visible(False)  # keep the pixels under test clear of the overlay
    return v


def _point_at(qtbot, view, x: float, y: float, done) -> None:
    """Move the pointer to ``(x, y)`` until ``done()``: a move can be swallowed while the window is
    still settling, so it is sent again (alternating by a pixel, as an identical move is no move)."""
    step = [0]

    def moved() -> bool:
        step[0] ^= 1
        qtbot.mouseMove(view.canvas.native, QPoint(round(x) + step[0], round(y)))
        return bool(done())
    qtbot.waitUntil(moved, timeout=10000)


def _undirected(g):
    und = nx.Graph()
    und.add_nodes_from(g.node_ids())
    und.add_edges_from((e.src, e.dst) for e in g.edges())
    return und


def _visible_front(view, clear_px: float = 14.0):
    """On-screen ids with no other node centre within ``clear_px`` (so their centre pixel is their own)."""
    w, h = view.canvas.size
    ids = view.graph.node_ids()
    xy = np.array([view.scene.screen_position(n) for n in ids])
    out = []
    for k, nid in enumerate(ids):
        x, y = xy[k]
        d = np.hypot(*(xy - xy[k]).T)
        d[k] = np.inf
        if 20 < x < w - 20 and 20 < y < h - 20 and d.min() > clear_px and view.scene.pick_at(x, y) == nid:
            out.append(nid)
    return out


def _brightness(img, view, nid):
    x, y = view.scene.screen_position(nid)
    bg = np.asarray(DARK.background[:3]) * 255
    return float(np.abs(img[int(round(y)), int(round(x)), :3].astype(float) - bg).sum())


def test_hovering_a_node_dims_everything_but_its_neighbourhood(qtbot, view):
    g = view.graph
    und = _undirected(g)
    front = _visible_front(view)
    hub = max(front, key=lambda n: sum(1 for m in und[n] if m in front))
    near = [m for m in und[hub] if m in front]
    far = [m for m in front if m != hub and m not in und[hub]][:8]
    assert near and far
    view.set_visibility(labels=False)  # the hovered node's label would cover nodes beside it
    QToolTip.hideText()  # a tooltip left by an earlier test would take the pointer's events
    _point_at(qtbot, view, 3, 3, lambda: view.scene.hovered is None)  # the pointer starts off every node
    before = view.render_image()
    x, y = view.scene.screen_position(hub)
    _point_at(qtbot, view, x, y, lambda: view.scene.hovered == hub)
    after = view.render_image()
    for nid in far:  # outside: faded towards the background
        assert _brightness(after, view, nid) < 0.8 * _brightness(before, view, nid), nid
    for nid in near:  # the neighbours keep their colour
        assert _brightness(after, view, nid) >= 0.9 * _brightness(before, view, nid), nid
    # The highlight follows the pointer: off the nodes, nothing is dimmed any more.
    _point_at(qtbot, view, 3, 3, lambda: view.scene.hovered is None)
    assert view.scene.focus.context is None


def test_a_selection_keeps_its_highlight(qtbot, view):
    g = view.graph
    und = _undirected(g)
    front = _visible_front(view)
    nid = max(front, key=lambda n: sum(1 for m in und[n] if m in front))
    far = [m for m in front if m != nid and m not in und[nid]][:8]
    view.set_visibility(labels=False)
    QToolTip.hideText()
    _point_at(qtbot, view, 3, 3, lambda: view.scene.hovered is None)
    before = view.render_image()
    view.set_selection([nid])
    qtbot.waitUntil(lambda: view.scene.focus.context is not None)
    # The bright overlay holds exactly the neighbourhood, and its edges are those between its nodes.
    shown = set(g.ids_of(view.scene.highlight.node_rows))
    assert shown == set(und[nid]) | {nid}
    ea = g.edge_arrays()
    rows = view.scene.highlight.edge_rows
    assert all(g.id_of(int(ea.src[r])) in shown and g.id_of(int(ea.dst[r])) in shown for r in rows)
    after = view.render_image()  # the pointer is off every node: the selection alone keeps the dimming
    for other in far:
        assert _brightness(after, view, other) < 0.8 * _brightness(before, view, other), other
    view.set_selection([])
    qtbot.waitUntil(lambda: view.scene.focus.context is None)
    assert not view.scene.highlight_nodes.visible


def test_focus_mode_shows_exactly_the_k_hop_set_and_escape_returns(qtbot, view):
    g = view.graph
    und = _undirected(g)
    nid = max(g.node_ids(), key=lambda n: und.degree[n])
    pose = view.scene.camera.get_pose()
    view.set_selection([nid])
    view.canvas.native.setFocus()
    qtbot.keyClick(view.canvas.native, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: view.focused() == nid)
    for depth in (1, 2, 3):
        if depth > 1:
            qtbot.keyClick(view.canvas.native, getattr(Qt.Key, f"Key_{depth}"))
            qtbot.waitUntil(lambda d=depth: view.focus_depth() == d)
        shown = set(g.ids_of(np.flatnonzero(view.scene._presence > 0)))
        assert shown == set(nx.single_source_shortest_path_length(und, nid, cutoff=depth)), depth
        assert view.overlays.focus_bar.isVisible() and view.overlays.focus_bar.depth.value() == depth
    # the transition is animated: the camera flies (it is not at the fitted pose at once)
    qtbot.waitUntil(lambda: not view.scene.animator.running, timeout=5000)
    qtbot.keyClick(view.canvas.native, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.focused() is None)
    assert (view.scene._presence > 0).all() or set(np.flatnonzero(view.scene._presence == 0)) == set()
    qtbot.waitUntil(lambda: not view.scene.animator.running, timeout=5000)
    assert np.allclose(view.scene.camera.get_pose()["center"], pose["center"], atol=1e-3)
    assert not view.overlays.focus_bar.isVisible()


def test_clicking_a_legend_kind_shows_only_that_kind(qtbot, view):
    g = view.graph
    view.set_visibility(labels=False)
    others = [n for n in _visible_front(view) if g.node(n).kind.value != "todo"][:6]
    assert others
    before = view.render_image()
    shown_before = {n: _brightness(before, view, n) for n in others}
    view.set_legend_visible(True)
    legend = view.overlays.legend
    assert {"todo", "plan", "schedule"} <= set(legend.rows)
    row = legend.rows["todo"]
    qtbot.mouseClick(row, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.scene.focus.kinds == frozenset({"todo"}))
    shown = set(g.ids_of(np.flatnonzero(view.scene._presence > 0)))
    assert shown == {n.id for n in g.nodes() if n.kind.value == "todo"}
    img = view.render_image()
    for nid in others:  # hidden: the background (and perhaps a faint link) shows where they were
        assert _brightness(img, view, nid) < 0.3 * shown_before[nid], nid
    qtbot.mouseClick(row, Qt.MouseButton.LeftButton)  # again: every kind
    qtbot.waitUntil(lambda: view.scene.focus.kinds is None)
    assert (view.scene._presence > 0).all()

