"""Pure parts of the neighbourhood highlight: which edges are lit and which vertices they own."""

from __future__ import annotations

import numpy as np

from orchestrator_gui.render.highlight import edge_rows_within, segment_vertices


def test_only_edges_with_both_ends_in_the_mask_are_lit():
    src = np.array([0, 1, 2, 3, 0])
    dst = np.array([1, 2, 3, 0, 2])
    mask = np.array([True, True, True, False])
    assert edge_rows_within(src, dst, mask).tolist() == [0, 1, 4]
    assert edge_rows_within(np.empty(0, np.int64), np.empty(0, np.int64), mask).tolist() == []


def test_segment_vertices_are_the_two_ends_of_each_edge():
    assert segment_vertices(np.array([0, 3])).tolist() == [0, 1, 6, 7]
    assert segment_vertices(np.empty(0, np.int64)).tolist() == []

