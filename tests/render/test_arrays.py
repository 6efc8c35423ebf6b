"""Model -> array conversion for the 3D view: plain numpy checks, no GL."""

from __future__ import annotations

import numpy as np
import pytest

from orchestrator_gui.model import NodeFlag, ThoughtGraph
from orchestrator_gui.model.nodes import KIND_INDEX, SHELL_RADII, Layer
from orchestrator_gui.render import arrays
from orchestrator_gui.render.theme import DARK, LIGHT, get_theme


def small_graph(**kw) -> ThoughtGraph:
    """Five nodes in a chain a-b-c-d plus an isolated e; kinds differ."""
    ids = ["a", "b", "c", "d", "e"]
    kinds = ["goal", "plan", "task", "todo", "memory"]
    return ThoughtGraph.from_arrays(
        ids, kinds, titles=["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
        edge_src=[0, 1, 2], edge_dst=[1, 2, 3], edge_types=["parent", "depends_on", "mentions"],
        edge_weights=kw.pop("edge_weights", [1.0, 0.5, 0.0]), now=0.0, **kw,
    )


def test_plain_nodes_get_their_kind_colour():
    g = small_graph()
    colors = arrays.node_colors(g, "dark")
    assert colors.shape == (5, 4) and colors.dtype == np.float32
    for row, kind in enumerate(["goal", "plan", "task", "todo", "memory"]):
        np.testing.assert_allclose(colors[row], DARK.kinds[kind], atol=1e-6)


def test_activation_brightens_towards_highlight():
    g = small_graph(activation=[0, 0.5, 1.0, 0, 0])
    base = DARK.kind_table[[KIND_INDEX["plan"], KIND_INDEX["task"]]]
    c = arrays.node_colors(g, DARK)
    assert np.all(c[1, :3] > base[0, :3] - 1e-6) and c[1, :3].sum() > base[0, :3].sum()
    # Full activation moves further than half activation.
    gain_half = (c[1, :3] - base[0, :3]) / (1 - base[0, :3])
    gain_full = (c[2, :3] - base[1, :3]) / (1 - base[1, :3])
    assert np.allclose(gain_half, 0.5 * DARK.activation_gain, atol=1e-5)
    assert np.allclose(gain_full, DARK.activation_gain, atol=1e-5)


def test_suppressed_is_dimmed_or_hidden_and_hidden_flag_always_hides():
    flags = [0, int(NodeFlag.SUPPRESSED), 0, int(NodeFlag.HIDDEN), 0]
    g = small_graph(flags=flags)
    shown = arrays.node_colors(g, "dark", show_suppressed=True)
    assert 0 < shown[1, 3] < 1.0
    bg = np.asarray(DARK.background[:3])
    assert np.linalg.norm(shown[1, :3] - bg) < np.linalg.norm(np.asarray(DARK.kinds["plan"][:3]) - bg)
    assert shown[3, 3] == 0.0
    hidden = arrays.node_colors(g, "dark", show_suppressed=False)
    assert hidden[1, 3] == 0.0 and hidden[0, 3] == 1.0
    sizes = arrays.node_sizes(g, show_suppressed=False)
    assert sizes[1] == 0 and sizes[3] == 0 and sizes[0] > 0


def test_active_region_is_active_nodes_and_neighbours():
    g = small_graph(activation=[0, 0, 0.9, 0, 0])
    pres = arrays.node_presence(g, threshold=0.5)
    # c is active; b (c's parent side) and d (c's child) are its neighbours.
    assert pres.tolist() == pytest.approx([arrays.DIM, 1, 1, 1, arrays.DIM])
    # Nothing reaches the threshold: no dimming at all (the slider never blanks the view).
    assert arrays.node_presence(g, threshold=0.95).tolist() == [1, 1, 1, 1, 1]
    assert arrays.active_mask(g, None) is None


def test_sizes_follow_attention_and_goals_are_larger():
    g = small_graph(attention=[0, 0, 0.0, 0.5, 1.0])
    s = arrays.node_sizes(g, base=10.0)
    assert s[2] == pytest.approx(10.0)  # task, no attention
    assert s[3] == pytest.approx(16.0)  # todo, attention 0.5 -> 1 + 1.2*0.5
    assert s[4] == pytest.approx(22.0)
    assert s[0] > s[1]  # goal vs plan at equal attention


def test_outlines_mark_selected_then_hovered():
    g = small_graph(flags=[int(NodeFlag.SELECTED), 0, 0, 0, 0])
    out = arrays.node_outlines(g, "dark", hovered="c")
    np.testing.assert_allclose(out[0], DARK.selected)
    np.testing.assert_allclose(out[2], DARK.hovered)
    assert (out[[1, 3, 4], 3] == 0).all()
    running = arrays.node_outlines(g, "dark", selected=[], running=["b"])
    np.testing.assert_allclose(running[1], DARK.running)
    # An explicit selection overrides the flags.
    out2 = arrays.node_outlines(g, LIGHT, selected=["d"])
    assert out2[0, 3] == 0 and np.allclose(out2[3], LIGHT.selected)


def test_the_inputs_of_a_running_transform_are_outlined_as_running():
    # graph_actions flags a transform's inputs HIGHLIGHTED while it runs.
    g = small_graph(flags=[0, int(NodeFlag.HIGHLIGHTED), 0, int(NodeFlag.HIGHLIGHTED | NodeFlag.SELECTED), 0])
    out = arrays.node_outlines(g, "dark", hovered="e")
    np.testing.assert_allclose(out[1], DARK.running)
    np.testing.assert_allclose(out[3], DARK.running)     # running shows over selected
    np.testing.assert_allclose(out[4], DARK.hovered)
    assert out[0, 3] == 0 and out[2, 3] == 0
    rows = np.array([3, 0])
    np.testing.assert_allclose(arrays.node_outlines(g, "dark", rows=rows), out[[3, 0]])


def test_edge_segments_join_node_positions_and_alpha_follows_weight():
    g = small_graph()
    pos, col = arrays.edge_segments(g, theme="dark")
    assert pos.shape == (6, 3) and col.shape == (6, 4)
    p = g.positions.astype(np.float32)
    np.testing.assert_allclose(pos[0::2], p[[0, 1, 2]])
    np.testing.assert_allclose(pos[1::2], p[[1, 2, 3]])
    # Both ends of an edge share its colour; alpha scales with weight (0.2 + 0.8 w) of the type alpha.
    assert np.array_equal(col[0::2], col[1::2])
    a = col[0::2, 3] / DARK.edge_table[[0, 1, 3], 3]
    assert a[0] > a[1] > a[2] > 0
    assert a[1] / a[0] == pytest.approx((0.2 + 0.8 * 0.5) / 1.0, rel=1e-5)


def test_edges_to_hidden_nodes_vanish():
    g = small_graph(flags=[0, 0, 0, int(NodeFlag.HIDDEN), 0])
    pres = arrays.node_presence(g)
    col = arrays.edge_colors(g, "dark", presence=pres)
    assert col[2, 3] == 0 and col[0, 3] > 0


def test_lod_keeps_budget_preferring_short_heavy_edges():
    n = 200
    rng = np.random.default_rng(1)
    src = rng.integers(0, n, 3000)
    dst = (src + rng.integers(1, n - 1, 3000)) % n
    pairs = np.unique(np.stack([src, dst], 1), axis=0)
    w = rng.random(len(pairs))
    g = ThoughtGraph.from_arrays([f"n{i}" for i in range(n)], ["thought"] * n, edge_src=pairs[:, 0],
                                 edge_dst=pairs[:, 1], edge_types=["similar"] * len(pairs), edge_weights=w, now=0.0)
    keep = arrays.edge_lod_mask(g, 500, None)
    assert keep.sum() == 500
    ea = g.edge_arrays()
    length = np.linalg.norm(g.positions[ea.src] - g.positions[ea.dst], axis=1)
    score = (w + 1e-3) / (length + 0.05)
    assert score[keep].min() >= score[~keep].max()
    assert arrays.edge_lod_mask(g, 10**6).all()
    pos, _ = arrays.edge_segments(g, lod=500)
    assert len(pos) == 1000


def test_label_candidates_order_and_no_hidden():
    g = small_graph(attention=[0.1, 0.0, 0.9, 0.5, 0.7], flags=[int(NodeFlag.SELECTED), 0, 0, 0, int(NodeFlag.HIDDEN)])
    pres = arrays.node_presence(g)
    labels = arrays.label_candidates(g, top_k=3, hovered="b", presence=pres)
    ids = [i for i, _, _ in labels]
    # hovered, selected, then attention order (c 0.9, d 0.5 -- e is hidden), no duplicates.
    assert ids == ["b", "a", "c", "d"]
    assert labels[0][1] == "Beta"
    np.testing.assert_allclose(labels[2][2], g.positions[2].astype(np.float32))


def test_label_text_is_cut_and_drops_unrenderable_symbols():
    long = "x" * 80
    g = ThoughtGraph.from_arrays(["a", "b"], ["goal", "mode"], titles=[long, "\U0001f3d7\ufe0f Architect"], now=0.0)
    labels = dict((i, t) for i, t, _ in arrays.label_candidates(g, top_k=0, selected=["a", "b"]))
    assert len(labels["a"]) == arrays.LABEL_CHARS and labels["a"].endswith("\u2026")
    assert labels["b"] == "Architect"


def test_top_attention_falls_back_to_degree_when_no_attention():
    g = small_graph()
    ids = [i for i, _, _ in arrays.label_candidates(g, top_k=2)]
    assert ids == ["b", "c"]  # degree 2 each, in row order; e (degree 0) never


def test_shell_meshes_lie_on_their_radii():
    shells = arrays.shell_meshes()
    assert [name for name, _, _ in shells] == ["goal", "navigation", "execution"]
    for name, radius, seg in shells:
        assert radius == SHELL_RADII[Layer(name)]
        assert seg.shape[1] == 3 and len(seg) % 2 == 0
        np.testing.assert_allclose(np.linalg.norm(seg, axis=1), radius, rtol=1e-5)


def test_unknown_theme_is_an_error():
    with pytest.raises(ValueError, match="unknown theme"):
        get_theme("sepia")


def test_base_size_shrinks_with_count():
    sizes = [arrays.base_marker_size(n) for n in (100, 10_000, 100_000, 1_000_000)]
    assert sizes == sorted(sizes, reverse=True)


def test_row_subsets_equal_the_same_rows_of_the_whole_arrays():
    # The scene restyles only the rows a burst touched: those rows must get exactly the whole-array values.
    g = small_graph(activation=[0.2, 0.9, 0.0, 0.4, 1.0], attention=[0.0, 0.5, 1.0, 0.1, 0.3])
    g.set_flags(["c"], NodeFlag.SUPPRESSED)
    g.set_flags(["d"], NodeFlag.HIDDEN)
    g.set_flags(["a", "e"], NodeFlag.SELECTED)
    rows = np.array([4, 0, 2, 3])
    pres = arrays.node_presence(g, show_suppressed=True)
    np.testing.assert_array_equal(arrays.node_presence(g, rows=rows), pres[rows])
    np.testing.assert_array_equal(arrays.node_presence(g, threshold=0.8, rows=rows),
                                  arrays.node_presence(g, threshold=0.8)[rows])
    np.testing.assert_array_equal(arrays.node_colors(g, LIGHT, "c", presence=pres[rows], rows=rows),
                                  arrays.node_colors(g, LIGHT, "c", presence=pres)[rows])
    np.testing.assert_array_equal(arrays.node_outlines(g, DARK, "e", None, ["c"], rows=rows),
                                  arrays.node_outlines(g, DARK, "e", None, ["c"])[rows])
    np.testing.assert_array_equal(arrays.node_sizes(g, presence=pres[rows], rows=rows),
                                  arrays.node_sizes(g, presence=pres)[rows])
    # The selected and hovered rows really differ from the others (the subset is not trivially equal).
    assert arrays.node_outlines(g, DARK, "e", rows=np.array([4]))[0, 3] > 0
    assert arrays.node_outlines(g, DARK, "e", rows=np.array([1]))[0, 3] == 0


def test_an_escalated_node_is_outlined_until_a_person_looks_at_it():
    # A schedule paused after three failures (and a failed run) carry ESCALATED: visible without a click.
    g = small_graph(flags=[int(NodeFlag.ESCALATED), int(NodeFlag.ESCALATED | NodeFlag.SELECTED), 0, 0, 0])
    out = arrays.node_outlines(g, "dark")
    np.testing.assert_allclose(out[0], DARK.escalated)
    np.testing.assert_allclose(out[1], DARK.selected)    # the selection still shows which one is picked
    assert (out[2:, 3] == 0).all()
    np.testing.assert_allclose(arrays.node_outlines(g, "dark", rows=np.array([0]))[0], DARK.escalated)
