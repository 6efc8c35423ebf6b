"""Screen-space picking: projection against vispy's own transforms, depth rule, rectangles (no GL)."""

from __future__ import annotations

import numpy as np
import pytest
from vispy.util import transforms as T
from vispy.visuals.transforms import ChainTransform, MatrixTransform, STTransform

from orchestrator_gui.render.picking import pick, pick_rect, project


def camera_chain() -> ChainTransform:
    """scene -> canvas like vispy's turntable: rotate, push back, perspective, NDC -> 800x600 pixels."""
    view = MatrixTransform()
    view.matrix = T.rotate(30, (0, 0, 1)) @ T.rotate(-60, (1, 0, 0)) @ T.translate((0, 0, -10))
    proj = MatrixTransform()
    proj.matrix = T.perspective(45.0, 800 / 600, 1.0, 100.0)
    ndc_to_px = STTransform(scale=(400, -300, 1), translate=(400, 300, 0))
    # ChainTransform lists the last-applied transform first.
    return ChainTransform([ndc_to_px, proj, view])


POINTS = np.array([[0, 0, 0], [1, 2, 3], [-2.5, 0.5, -1], [3, -3, 0.2]], dtype=np.float64)


def test_projection_matches_vispy_transform_chain():
    chain = camera_chain()
    mvp = chain.map(np.eye(4))
    xy, depth = project(POINTS, mvp)
    ref = chain.map(POINTS)
    ref = ref[:, :3] / ref[:, 3:4]
    np.testing.assert_allclose(xy, ref[:, :2], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(depth, ref[:, 2], rtol=1e-9, atol=1e-9)
    # The scene origin sits at the centre of the 800x600 canvas.
    np.testing.assert_allclose(xy[0], [400, 300], atol=1e-6)


def test_viewport_form_flips_y_like_the_canvas():
    chain = camera_chain()
    to_clip = ChainTransform(chain.transforms[1:]).map(np.eye(4))
    a, _ = project(POINTS, to_clip, viewport=(0, 0, 800, 600))
    b, _ = project(POINTS, chain.map(np.eye(4)))
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_nearer_points_have_smaller_depth_and_behind_camera_is_excluded():
    chain = camera_chain()
    mvp = chain.map(np.eye(4))
    eye_dir = np.linalg.inv(chain.transforms[2].matrix)[3, :3]  # camera position in scene coords
    near = eye_dir * 0.5  # halfway between origin and camera, on the view axis
    far = -eye_dir * 0.5
    behind = eye_dir * 1.5
    xy, depth = project(np.array([near, far, behind]), mvp)
    np.testing.assert_allclose(xy[0], xy[1], atol=1e-6)  # same pixel
    assert depth[0] < depth[1]
    assert np.isnan(xy[2]).all() and depth[2] == np.inf


def test_pick_prefers_nearest_in_depth_among_covering_discs():
    xy = np.array([[100.0, 100.0], [102.0, 100.0], [300.0, 300.0]])
    depth = np.array([0.5, 0.2, 0.1])
    sizes = np.array([10.0, 10.0, 10.0])
    # Cursor at (100, 100) is covered by both discs 0 and 1: the nearer (1) wins though 0 is closer on screen.
    assert pick(xy, depth, 100, 100, sizes=sizes) == 1
    # Invisible rows are never picked.
    assert pick(xy, depth, 100, 100, sizes=sizes, visible=np.array([True, False, True])) == 0
    # Outside every disc but within the radius: nearest in depth among those within reach.
    assert pick(xy, depth, 100, 108, radius=9, sizes=np.array([2.0, 2.0, 2.0])) == 1
    assert pick(xy, depth, 200, 200, radius=6, sizes=sizes) is None
    assert pick(np.zeros((0, 2)), np.zeros(0), 1, 1) is None


def test_pick_ignores_points_behind_camera():
    xy = np.array([[np.nan, np.nan], [50.0, 50.0]])
    depth = np.array([np.inf, 0.9])
    assert pick(xy, depth, 50, 50) == 1


def test_pick_rect_any_corner_order():
    xy = np.array([[10.0, 10.0], [50.0, 60.0], [100.0, 20.0], [np.nan, np.nan]])
    assert pick_rect(xy, 0, 0, 60, 70).tolist() == [0, 1]
    assert pick_rect(xy, 60, 70, 0, 0).tolist() == [0, 1]
    assert pick_rect(xy, 0, 0, 200, 200, visible=np.array([True, False, True, True])).tolist() == [0, 2]


@pytest.mark.parametrize("n", [100_000])
def test_pick_at_100k_is_vectorised(n):
    # Correctness at scale (timing is reported by benchmarks/render_bench.py, not asserted here).
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(n, 3))
    mvp = camera_chain().map(np.eye(4))
    xy, depth = project(pts, mvp)
    target = int(np.nanargmin(depth))
    assert pick(xy, depth, *xy[target], radius=3) == target


def test_declutter_keeps_forced_then_non_overlapping():
    from orchestrator_gui.render.labels import declutter

    xy = np.array([[100.0, 100.0], [105.0, 102.0], [100.0, 200.0], [np.nan, np.nan], [104.0, 99.0]])
    texts = ["alpha", "beta", "gamma", "hidden", "forced"]
    keep = declutter(xy, texts, forced=[False, False, False, False, True])
    # 'forced' claims its box first, so 'alpha' and 'beta' (overlapping it) drop; 'gamma' is clear.
    assert keep.tolist() == [False, False, True, False, True]
    assert declutter(xy[:2], texts[:2]).tolist() == [True, False]
