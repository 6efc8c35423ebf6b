"""Attention: personalised PageRank on the sparse matrix agrees with networkx.pagerank to within 1e-6."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from orchestrator_gui.model import NodeFlag, ThoughtGraph
from orchestrator_gui.model import operations as ops
from orchestrator_gui.model.arrays import pack_key
from orchestrator_gui.model.attention import (
    attention_scores,
    link_matrix,
    pagerank,
    top_attention,
    update_attention,
)


def random_graph(seed: int, n: int = 120, m: int = 400, zero_weights: bool = False) -> ThoughtGraph:
    """Random typed multigraph: parallel edges of different types, isolated and dangling nodes."""
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n - 10, m), rng.integers(0, n, m)  # the last 10 rows never have out-edges
    types = rng.integers(0, 8, m)
    ok = src != dst
    src, dst, types = src[ok], dst[ok], types[ok]
    _, first = np.unique(pack_key(src, dst, types), return_index=True)
    weights = rng.random(len(first)) * 3
    if zero_weights:
        weights[: len(weights) // 5] = 0.0
    return ThoughtGraph.from_arrays(
        [f"n{i}" for i in range(n)], ["thought"] * n, edge_src=src[first], edge_dst=dst[first],
        edge_types=types[first], edge_weights=weights, now=0.0,
    )


def as_dict(g: ThoughtGraph, scores: np.ndarray) -> dict[str, float]:
    return dict(zip(g.node_ids(), scores.tolist(), strict=True))


def assert_close(g: ThoughtGraph, ours: np.ndarray, ref: dict[str, float]) -> None:
    assert set(ref) == set(g.node_ids())
    diff = max(abs(ref[i] - v) for i, v in as_dict(g, ours).items())
    assert diff < 1e-6
    assert ours.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_personalised_pagerank_matches_networkx(seed: int):
    g = random_graph(seed, zero_weights=seed % 2 == 1)
    nxg = g.to_networkx()
    A = link_matrix(g)
    dangling = np.flatnonzero(np.asarray(A.sum(axis=1)).ravel() == 0)
    assert len(dangling) >= 10  # the test really covers dangling nodes
    rng = np.random.default_rng(100 + seed)
    pers = {f"n{i}": float(rng.random()) for i in rng.choice(len(g), 15, replace=False)}
    ref = nx.pagerank(nxg, personalization=pers, weight="weight")
    assert_close(g, attention_scores(g, pers), ref)
    seeds = np.zeros(len(g))
    seeds[g.rows_of(pers)] = list(pers.values())
    assert_close(g, attention_scores(g, seeds), ref)


@pytest.mark.parametrize("seed", range(3))
def test_zero_or_no_personalization_is_plain_pagerank(seed: int):
    g = random_graph(seed)
    ref = nx.pagerank(g.to_networkx(), weight="weight")
    assert_close(g, attention_scores(g), ref)
    assert_close(g, attention_scores(g, np.zeros(len(g))), ref)
    assert_close(g, attention_scores(g, {}), ref)


def test_alpha_dangling_and_nstart_like_networkx():
    g = random_graph(7)
    nxg = g.to_networkx()
    pers = {"n3": 1.0, "n50": 2.0}
    dang = {"n0": 1.0, "n119": 3.0}
    start = {f"n{i}": 1.0 + i for i in range(len(g))}
    ref = nx.pagerank(nxg, alpha=0.6, personalization=pers, dangling=dang, nstart=start, weight="weight")
    vec = lambda d: np.array([d.get(i, 0.0) for i in g.node_ids()])  # noqa: E731
    ours = pagerank(link_matrix(g), vec(pers), alpha=0.6, dangling=vec(dang), nstart=vec(start))
    assert_close(g, ours, ref)


def test_tight_tolerance_agrees_to_machine_precision():
    g = random_graph(11)
    ref = nx.pagerank(g.to_networkx(), personalization={"n1": 1.0}, tol=1e-13, max_iter=1000, weight="weight")
    info: dict = {}
    ours = attention_scores(g, {"n1": 1.0}, tol=1e-13, max_iter=1000, info=info)
    assert info["converged"] and info["iterations"] > 20
    assert max(abs(ref[i] - v) for i, v in as_dict(g, ours).items()) < 1e-12


def test_update_attention_is_seeded_by_active_nodes_and_writes_the_mirror():
    g = random_graph(3)
    g.set_activation(np.linspace(0.0, 2.0, len(g)))
    active = ["n5", "n40", "n90"]
    g.set_flags(active, NodeFlag.ACTIVE)
    scores = update_attention(g)
    ref = nx.pagerank(g.to_networkx(), personalization={i: float(g.state(i).activation) for i in active})
    assert_close(g, scores, ref)
    assert np.array_equal(g.attention, scores)
    # Nothing active: plain PageRank.
    g.set_flags(None, NodeFlag.ACTIVE, on=False)
    assert_close(g, update_attention(g), nx.pagerank(g.to_networkx()))


def test_cached_matrix_follows_structural_changes():
    g = random_graph(5)
    attention_scores(g)
    g.apply(ops.link(g, "n119", "n0", "mentions", weight=5.0))
    g.apply(ops.delete(g, "n7"))
    assert_close(g, attention_scores(g, {"n0": 1.0}), nx.pagerank(g.to_networkx(), personalization={"n0": 1.0}))


def test_non_convergence_is_reported_not_raised():
    g = random_graph(2)
    info: dict = {}
    scores = attention_scores(g, tol=1e-15, max_iter=3, info=info)
    assert info == {"iterations": 3, "converged": False, "error": info["error"]} and info["error"] > 0
    assert scores.sum() == pytest.approx(1.0)
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(g.to_networkx(), tol=1e-15, max_iter=3)


def test_top_attention_and_edge_cases():
    g = random_graph(4)
    scores = update_attention(g, {"n9": 1.0})
    top = top_attention(g, 5)
    assert top[0][0] == "n9"
    assert [s for _, s in top] == sorted(scores, reverse=True)[:5]
    assert top_attention(g, 0) == []
    assert len(top_attention(g, 10_000)) == len(g)
    assert attention_scores(ThoughtGraph()).shape == (0,)
    with pytest.raises(ValueError):
        attention_scores(g, -np.ones(len(g)))
