"""Level-of-detail rankings, budgets and the adaptive detail controller (no GL)."""

from __future__ import annotations

import numpy as np

from orchestrator_gui.render.lod import DetailController, EdgeRanking, NodeRanking, pixels_per_unit


def chain_positions(n: int) -> np.ndarray:
    return np.column_stack([np.arange(n, dtype=float), np.zeros(n), np.zeros(n)])


def test_edge_ranking_prefers_heavy_short_and_fits_the_budget():
    pos = chain_positions(10)
    src = np.array([0, 0, 0, 5])
    dst = np.array([1, 9, 2, 6])  # lengths 1, 9, 2, 1
    weight = np.array([1.0, 1.0, 1.0, 0.1])
    r = EdgeRanking(src, dst, weight, pos)
    assert r.order.tolist() == [0, 2, 1, 3]  # scores 0.95, 0.49, 0.11 (long but heavy), 0.096 (light)
    assert r.total_length == 13
    # Budget in pixels: 10 px/unit, no set-up charge: 10 fits edge 0 only; 30 fits 0 and 2.
    assert r.count_within(10, 10.0, 0.0) == 1
    assert r.count_within(30, 10.0, 0.0) == 2
    # With a set-up charge of 20 px per edge, 30 px fits only the first.
    assert r.count_within(30, 10.0, 20.0) == 1
    assert r.mask(None) is None and r.mask(1e9, 10.0) is None
    assert r.mask(30, 10.0, 0.0).tolist() == [True, False, True, False]


def test_node_ranking_keeps_top_always_and_new_rows():
    r = NodeRanking(np.array([0.1, 0.9, 0.5, 0.0]))
    keep = r.mask(2, always=np.array([3]), total=6)
    assert keep.tolist() == [False, True, True, True, True, True]
    assert r.mask(4) is None and r.mask(None) is None


def test_detail_controller_converges_towards_target():
    c = DetailController(target_ms=30.0)
    # Pretend frame time is 10 ms fixed + 200 ms * detail.
    changes = 0
    for _ in range(40):
        changes += c.update(10.0 + 200.0 * c.detail)
    assert abs((10.0 + 200.0 * c.detail) - 30.0) < 6.0
    assert changes >= 2
    # Fast frames bring the detail back up to (and not beyond) 1.
    for _ in range(40):
        c.update(5.0)
    assert c.detail == 1.0
    assert c.update(float("nan")) is False


def test_pixels_per_unit():
    assert pixels_per_unit((800, 600), 6.0) == 100.0
