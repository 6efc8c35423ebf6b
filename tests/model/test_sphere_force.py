"""Force-directed layout on the shells: groups, separation, stability, and the neighbour ratio that measures it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from orchestrator_gui.model import ThoughtGraph
from orchestrator_gui.model.coords import fibonacci_sphere, to_spherical
from orchestrator_gui.model.layout import compute_layout, min_separation, neighbour_ratio, relayout
from orchestrator_gui.model.nodes import DEFAULT_LAYER, LAYER_INDEX, SHELL_RADII, NodeKind
from orchestrator_gui.model.shell_placement import separate
from orchestrator_gui.model.sphere_force import Forces, arrange, refine, section_groups


def make_graph(nodes: list[tuple[str, str, np.ndarray]], edges: list[tuple[str, str, str]]) -> ThoughtGraph:
    """A graph of ``(id, kind, direction)`` nodes, each on its kind's default shell, and ``(src, dst, type)`` edges."""
    out = []
    for nid, kind, d in nodes:
        t, p, _ = to_spherical(np.asarray(d, dtype=float))
        out.append({"id": nid, "kind": kind, "title": nid, "theta": float(t), "phi": float(p),
                    "r": SHELL_RADII[DEFAULT_LAYER[NodeKind(kind)]]})
    return ThoughtGraph.from_dict({"format": "orchestrator-gui.thought-graph", "schema_version": 1, "nodes": out,
                                   "edges": [{"src": s, "dst": d, "type": t} for s, d, t in edges]})


def sections_graph(sections: int = 6, items: int = 8, seed: int = 3) -> ThoughtGraph:
    """``sections`` plans with ``items`` TODO items each, a few mentions inside sections, all at random spots."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(sections * (items + 1), 3))
    nodes, edges, k = [], [], 0
    for s in range(sections):
        nodes.append((f"s{s}", "plan", dirs[k]))
        k += 1
        for i in range(items):
            nodes.append((f"s{s}i{i}", "todo", dirs[k]))
            edges.append((f"s{s}", f"s{s}i{i}", "parent"))
            k += 1
        edges.append((f"s{s}i0", f"s{s}i{items - 1}", "mentions"))
    return make_graph(nodes, edges)


def unit(g: ThoughtGraph) -> np.ndarray:
    return g.positions / g.spherical[:, 2:3]


def angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.arccos(np.clip(np.sum(a * b, axis=-1), -1.0, 1.0))


def min_angle(dirs: np.ndarray) -> float:
    dots = np.clip(dirs @ dirs.T, -1.0, 1.0)
    np.fill_diagonal(dots, -1.0)
    return math.acos(dots.max())


# -- the metric ------------------------------------------------------------------------------------
def test_neighbour_ratio_is_about_one_by_chance_and_small_when_linked_nodes_sit_together():
    rng = np.random.default_rng(0)
    spread = fibonacci_sphere(80)
    order = rng.permutation(80)
    edges = [(f"n{order[2 * i]}", f"n{order[2 * i + 1]}", "mentions") for i in range(40)]
    scattered = make_graph([(f"n{i}", "thought", spread[i]) for i in range(80)], edges)
    assert 0.8 < neighbour_ratio(scattered) < 1.2
    # The same pairs 0.01 rad apart: connected nodes far closer than random ones.
    close = {f"n{order[2 * i + 1]}": spread[order[2 * i]] + 0.01 * np.cross(spread[order[2 * i]], [0, 0, 1.0])
             for i in range(40)}
    together = make_graph([(f"n{i}", "thought", close.get(f"n{i}", spread[i])) for i in range(80)], edges)
    assert neighbour_ratio(together) < 0.05
    assert neighbour_ratio(together, seed=0) == neighbour_ratio(together, seed=0)


def test_neighbour_ratio_compares_directions_across_shells_and_needs_edges():
    d = fibonacci_sphere(10)
    # A goal on the inner shell right above its plan on the middle one: same direction, angle 0.
    g = make_graph([(f"g{i}", "goal", d[i]) for i in range(10)] + [(f"p{i}", "plan", d[i]) for i in range(10)],
                   [(f"g{i}", f"p{i}", "parent") for i in range(10)])
    assert neighbour_ratio(g) < 1e-6
    assert math.isnan(neighbour_ratio(make_graph([(f"p{i}", "plan", d[i]) for i in range(10)], [])))
    assert math.isnan(neighbour_ratio(ThoughtGraph()))


# -- groups ----------------------------------------------------------------------------------------
def test_section_groups_follow_the_nearest_section_ancestor():
    #            0 root(section)  1 heading(section)  2 item  3 sub-item  4 loose  5,6 a cycle without a section
    parent = np.array([-1, 0, 1, 2, -1, 6, 5])
    is_section = np.array([True, True, False, False, False, False, False])
    assert section_groups(parent, is_section).tolist() == [0, 1, 1, 1, -1, -1, -1]


def test_the_group_pull_gathers_a_section_without_edges_between_its_items():
    rng = np.random.default_rng(5)
    start = rng.normal(size=(40, 3))
    start /= np.linalg.norm(start, axis=1, keepdims=True)
    layer = np.full(40, 2)
    group = np.repeat(np.arange(4), 10)
    no_edges = np.zeros(0, dtype=np.int64)
    u = refine(start, layer, Forces(no_edges, no_edges, np.zeros(0), group))
    same = group[:, None] == group[None, :]
    ang = np.arccos(np.clip(u @ u.T, -1, 1))
    off = ~np.eye(40, dtype=bool)
    assert ang[same & off].mean() < 0.5 * ang[~same].mean()


# -- relayout --------------------------------------------------------------------------------------
def test_relayout_brings_sections_together_and_still_uses_the_whole_sphere():
    g = sections_graph()
    before = neighbour_ratio(g)
    g.apply(relayout(g))
    assert neighbour_ratio(g) < 0.4 < before
    u = unit(g)
    items = [i for i in g.node_ids() if "i" in i]
    rows = g.rows_of(items)
    sec = np.array([i.split("i")[0] for i in items])
    ang = angles(u[rows][:, None, :], u[rows][None, :, :])
    same = sec[:, None] == sec[None, :]
    off = ~np.eye(len(rows), dtype=bool)
    assert ang[same & off].mean() < 0.4 * ang[~same].mean()
    # The sections spread over the shell instead of huddling on one side.
    assert np.linalg.norm(u[rows].mean(axis=0)) < 0.35


def test_relayout_of_a_settled_layout_barely_moves():
    g = sections_graph(seed=8)
    g.apply(relayout(g))
    first = unit(g).copy()
    tx = relayout(g)
    g.apply(tx)
    moved = angles(first, unit(g))
    assert moved.mean() < 1e-3 and moved.max() < 0.01


def test_relayout_keeps_the_orientation_the_layout_has():
    # The forces do not change when the whole sphere turns, so a settled layout that was turned
    # (another start, an older relayout) must stay as it is, not swing back to some preferred pose.
    g = sections_graph(seed=4)
    g.apply(relayout(g))
    c, s_ = math.cos(1.0), math.sin(1.0)
    turned = unit(g) @ np.array([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]]).T
    h = make_graph([(i, g.node(i).kind.value, turned[g.row_of(i)]) for i in g.node_ids()],
                   [(e.src, e.dst, e.type.value) for e in g.edges()])
    start = unit(h).copy()
    h.apply(relayout(h))
    assert angles(start, unit(h)).mean() < 1e-3


def test_crowded_shell_keeps_the_minimum_separation():
    # 300 items crammed into a cap of 0.05 rad, all under one plan: the hub pulls them together,
    # the repulsion and the final fix-up must still keep every pair apart.
    rng = np.random.default_rng(2)
    cap = np.array([0.0, 0.0, 1.0]) + 0.025 * rng.normal(size=(300, 3))
    g = make_graph([("hub", "plan", [0.0, 0.0, 1.0])] + [(f"t{i}", "todo", cap[i]) for i in range(300)],
                   [("hub", f"t{i}", "parent") for i in range(300)])
    g.apply(relayout(g))
    rows = np.flatnonzero(g.layer_index == LAYER_INDEX["execution"])
    assert min_angle(unit(g)[rows]) >= min_separation(len(rows)) - 1e-9
    assert np.allclose(g.spherical[rows, 2], SHELL_RADII[DEFAULT_LAYER[NodeKind.TODO]])


@pytest.mark.parametrize("n", [1, 2, 5])
def test_tiny_shells_and_isolated_nodes_are_handled(n):
    g = make_graph([(f"p{i}", "plan", d) for i, d in enumerate(fibonacci_sphere(n))], [])
    sph = compute_layout(g)
    assert np.all(np.isfinite(sph)) and sph.shape == (n, 3)


def test_separate_moves_only_free_nodes_and_only_as_needed():
    d = np.array([[1.0, 0.0, 0.0], [math.cos(0.001), math.sin(0.001), 0.0], [0.0, 1.0, 0.0]])
    layer = np.zeros(3, dtype=np.int64)
    fixed = np.array([True, False, False])
    out = separate(d, layer, fixed=fixed)
    np.testing.assert_array_equal(out[0], d[0])
    np.testing.assert_array_equal(out[2], d[2])  # far from everyone: untouched
    assert angles(out[0], out[1]) >= min_separation(3) - 1e-9


def test_arrange_is_deterministic():
    rng = np.random.default_rng(1)
    start = rng.normal(size=(50, 3))
    start /= np.linalg.norm(start, axis=1, keepdims=True)
    src, dst = rng.integers(0, 50, 80), rng.integers(0, 50, 80)
    forces = Forces(src, dst, np.ones(80), np.full(50, -1))
    layer = rng.integers(0, 3, 50)
    np.testing.assert_array_equal(arrange(start, layer, forces), arrange(start, layer, forces))


def test_separate_spreads_even_coincident_nodes():
    # Pushing cannot part nodes at one spot (no direction to push in): the spiral fix-up must.
    d = np.tile([[0.0, 0.6, 0.8]], (50, 1))
    layer = np.full(50, 1)
    out = separate(d, layer)
    assert min_angle(out) >= min_separation(50) - 1e-9
    assert angles(out, d[0]).max() < 20 * min_separation(50)  # and they stay where they were


def test_separate_finds_room_even_when_the_spiral_around_a_node_is_packed(monkeypatch):
    # With no spiral batches at all, every node that must move takes the lattice fallback.
    import orchestrator_gui.model.shell_placement as sp

    monkeypatch.setattr(sp, "RESOLVE_BATCHES", 0)
    d = np.tile([[0.6, 0.0, 0.8]], (40, 1))
    out = separate(d, np.full(40, 2))
    assert min_angle(out) >= min_separation(40) - 1e-9
