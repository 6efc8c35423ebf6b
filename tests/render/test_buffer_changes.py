"""Which rows the GPU buffers changed since a given upload (what the node image overlays)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("vispy")

from orchestrator_gui.render.visuals import NodesVisual  # noqa: E402


def make(n: int = 50) -> NodesVisual:
    v = NodesVisual()
    v.set_data(np.zeros((n, 3)), np.ones((n, 4)), np.zeros((n, 4)), np.ones(n))
    return v


def test_rows_touched_since_an_upload_are_exactly_the_patched_and_appended_ones():
    v = make()
    b = v.buffers
    mark = b.uploads
    assert b.touched_since(mark).tolist() == []
    v.patch("color", np.array([7, 3]), np.zeros((2, 4)))
    colors = b.data["a_color"].copy()
    colors[[10, 40]] = 0.5
    v.patch("color", None, colors)                    # a whole-buffer restyle: only the changed rows count
    v.append(np.zeros((2, 3)), np.ones((2, 4)), np.zeros((2, 4)), np.ones(2))
    assert b.touched_since(mark).tolist() == [3, 7, 10, 40, 50, 51]
    later = b.uploads
    v.patch("size", np.array([5]), np.array([2.0]))
    assert b.touched_since(later).tolist() == [5]


def test_a_rebuild_or_a_forgotten_past_means_unknown():
    v = make()
    b = v.buffers
    mark = b.uploads
    v.set_data(np.zeros((3, 3)), np.ones((3, 4)), np.zeros((3, 4)), np.ones(3))
    assert b.touched_since(mark) is None
    mark = b.uploads
    for i in range(b.CHANGE_LOG + 50):                # more records than kept: merged, still exact
        v.patch("size", np.array([i % 3]), np.array([float(i)]))
    assert b.touched_since(mark).tolist() == [0, 1, 2]
    assert b.touched_since(0) is None                 # from before the rebuild: unknown
