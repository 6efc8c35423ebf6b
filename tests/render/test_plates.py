"""Label plate geometry: one padded quad (two triangles) per label rectangle."""

from __future__ import annotations

import numpy as np

from orchestrator_gui.render.plates import plate_vertices


def test_each_rect_gets_four_padded_corners_and_two_triangles():
    verts, faces = plate_vertices(np.array([[10, 20, 50, 30], [0, 0, 5, 5]]), (2.0, 1.0))
    assert verts.shape == (8, 2) and faces.shape == (4, 3)
    assert verts[:4].tolist() == [[8, 19], [52, 19], [52, 31], [8, 31]]
    assert faces.tolist() == [[0, 1, 2], [0, 2, 3], [4, 5, 6], [4, 6, 7]]
    # The triangles of a plate cover exactly its quad: their areas add up to the padded rect.
    tri = verts[faces[:2]]
    area = sum(0.5 * abs(np.cross(t[1] - t[0], t[2] - t[0])) for t in tri)
    assert area == (44 * 12)


def test_no_rects_no_plates():
    verts, faces = plate_vertices(np.zeros((0, 4)), (2.0, 1.0))
    assert verts.shape == (0, 2) and faces.shape == (0, 3)
