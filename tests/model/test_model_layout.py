"""Layout: deterministic, shells by layer, children near parents, similar text close, no overlaps."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator_gui.model import NodeFlag, ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.coords import angular_distance
from orchestrator_gui.model.layout import Placer, compute_layout, min_separation, relayout
from orchestrator_gui.model.nodes import LAYER_INDEX, SHELL_RADII, Layer


def pairwise_min_angle(dirs: np.ndarray) -> float:
    u = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    cos = np.clip(u @ u.T, -1, 1)
    np.fill_diagonal(cos, -1)
    return float(np.arccos(cos.max()))


def shell_dirs(g: ThoughtGraph, layer: Layer) -> np.ndarray:
    return g.positions[g.layer_index == LAYER_INDEX[layer.value]]


def grow(g: ThoughtGraph, count: int, seed: int = 0) -> None:
    """Add a deterministic mix of rooted and unrooted thoughts."""
    rng = np.random.default_rng(seed)
    topics = ["database query index", "garden roses soil", "loop retry backoff", "release notes draft"]
    for i in range(count):
        ids = g.node_ids()
        parent = ids[int(rng.integers(len(ids)))] if ids and rng.random() < 0.6 else None
        kind = ["plan", "todo", "thought", "memory"][int(rng.integers(4))]
        g.apply(ops.add_thought(g, f"{topics[i % 4]} {i}", kind=kind, parent=parent, node_id=f"n{i}", now=float(i)))


def test_placement_is_deterministic():
    a, b = ThoughtGraph(), ThoughtGraph()
    grow(a, 60)
    grow(b, 60)
    assert a.node_ids() == b.node_ids()
    np.testing.assert_array_equal(a.spherical, b.spherical)


def test_adding_nodes_never_moves_existing_ones():
    g = ThoughtGraph()
    grow(g, 10)
    for i in range(10, 50):
        before = {nid: g.spherical[g.row_of(nid)].copy() for nid in g.node_ids()}
        grow_one = ops.add_thought(g, f"extra {i}", parent="n3" if i % 2 else None, node_id=f"x{i}", now=100.0 + i)
        g.apply(grow_one)
        for nid, pos in before.items():
            np.testing.assert_array_equal(g.spherical[g.row_of(nid)], pos)


def test_every_node_sits_on_its_layer_shell():
    g = ThoughtGraph()
    grow(g, 40)
    for node in g.nodes():
        assert node.r == SHELL_RADII[node.layer]


def test_children_near_parent_and_siblings_spread():
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Plan", kind="plan", node_id="p", now=0.0))
    for i in range(8):
        g.apply(ops.add_thought(g, f"step {i}", kind="todo", parent="p", node_id=f"c{i}", now=1.0))
    parent = g.positions[g.row_of("p")]
    kids = g.positions[[g.row_of(f"c{i}") for i in range(8)]]
    assert np.all(angular_distance(kids, parent) < 0.25)
    assert pairwise_min_angle(kids) >= min_separation(9) - 1e-9


def test_no_overlap_even_when_everything_wants_the_same_spot():
    g = ThoughtGraph()
    for i in range(150):
        g.apply(ops.add_thought(g, "the very same text", kind="thought", node_id=f"s{i}", now=0.0))
    assert pairwise_min_angle(shell_dirs(g, Layer.NAVIGATION)) >= min_separation(150) - 1e-9


def test_similar_text_lands_close():
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "database index query performance", kind="memory", node_id="db", now=0.0))
    g.apply(ops.add_thought(g, "garden roses flowers soil", kind="memory", node_id="garden", now=0.0))
    g.apply(ops.add_thought(g, "slow database query", kind="memory", node_id="new", now=1.0))
    new = g.positions[g.row_of("new")]
    assert angular_distance(new, g.positions[g.row_of("db")]) < 0.2
    assert angular_distance(new, g.positions[g.row_of("db")]) < angular_distance(new, g.positions[g.row_of("garden")])


def test_one_placer_keeps_nodes_of_one_transaction_apart():
    g = ThoughtGraph()
    g.apply(ops.add_thought(g, "Plan", kind="plan", node_id="p", now=0.0))
    placer = Placer(g)
    a = placer.place("execution", parent="p")
    b = placer.place("execution", parent="p")
    assert a != b
    assert Placer(g).place("execution", parent="p") == a  # a fresh placer gives the same first spot


def test_relayout_is_deterministic_and_independent_of_row_order():
    g = ThoughtGraph()
    grow(g, 80)
    # The same content in other rows (undo would restore rows exactly, so permute the JSON form instead).
    d = g.to_dict()
    d["nodes"] = d["nodes"][::-1]
    d["edges"] = d["edges"][::-1]
    h = ThoughtGraph.from_dict(d)
    assert h.node_ids() == g.node_ids()[::-1]
    lg, lh = compute_layout(g), compute_layout(h)
    for nid in g.node_ids():
        np.testing.assert_array_equal(lg[g.row_of(nid)], lh[h.row_of(nid)])


def test_relayout_result_obeys_the_rules_and_is_undoable():
    g = ThoughtGraph()
    grow(g, 120, seed=4)
    g.set_flags(["n7"], NodeFlag.PINNED)
    pinned = g.spherical[g.row_of("n7")].copy()
    before = g.to_dict()
    tx = relayout(g, now=5.0)
    assert [e.op for e in tx.edits] == ["move_node"]
    g.apply(tx)
    np.testing.assert_array_equal(g.spherical[g.row_of("n7")], pinned)
    for layer in Layer:
        dirs = shell_dirs(g, layer)
        if len(dirs) > 1:
            assert pairwise_min_angle(dirs) >= min_separation(len(dirs)) - 1e-9
    for node in g.nodes():
        assert node.r == SHELL_RADII[node.layer]
    # Children stay near their parents.
    ea = g.edge_arrays()
    par = ea.type == 0
    d = angular_distance(g.positions[ea.src[par]], g.positions[ea.dst[par]])
    assert np.median(d) < 0.3
    g.undo()
    assert g.to_dict() == before


def test_relayout_puts_similar_roots_together():
    g = ThoughtGraph()
    texts = ["database index query", "database query planner", "garden roses soil", "garden soil compost",
             "music guitar chords", "music chords piano"]
    for i, t in enumerate(texts):
        g.apply(ops.add_thought(g, t, kind="memory", node_id=f"m{i}", now=0.0))
    g.apply(relayout(g))
    pos = g.positions
    pair = [angular_distance(pos[g.row_of(f"m{2 * k}")], pos[g.row_of(f"m{2 * k + 1}")]) for k in range(3)]
    cross = [angular_distance(pos[g.row_of(f"m{a}")], pos[g.row_of(f"m{b}")]) for a, b in ((0, 2), (0, 4), (2, 4))]
    assert max(pair) < min(cross)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_relayout_of_tiny_graphs(n):
    g = ThoughtGraph()
    grow(g, n)
    tx = relayout(g)
    g.apply(tx)
    assert len(g) == n


def test_text_similarity_helpers_agree():
    from orchestrator_gui.model.text import cosine_similarity, hashed_tfidf, tokens

    # Lower-cased words of 2+ letters/digits; stopwords, underscores and single characters dropped.
    assert tokens("The Loop, the loop; a retry_2 x") == ["loop", "loop", "retry"]
    texts = ["database query index", "garden roses", "", "query the database quickly"]
    dense = hashed_tfidf(["slow database query", *texts])
    np.testing.assert_allclose(cosine_similarity("slow database query", texts), dense[1:] @ dense[0])
    sims = cosine_similarity("slow database query", texts)
    assert sims[2] == 0.0 and sims[1] == 0.0
    assert sims[0] > 0.3 and sims[3] > 0.3
    np.testing.assert_allclose(np.linalg.norm(dense[[0, 1, 2, 4]], axis=1), 1.0)
