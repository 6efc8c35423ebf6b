"""Spherical coordinate convention: property-based round trips and the edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from orchestrator_gui.model.coords import (
    HALF_PI,
    MIN_RADIUS,
    TWO_PI,
    angular_distance,
    angular_distance_spherical,
    cap_points,
    check_spherical,
    fibonacci_sphere,
    sequence_direction,
    spherical_mean,
    spiral_points,
    tangent_frame,
    to_cartesian,
    to_spherical,
    wrap_theta,
)

coord = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
points = arrays(np.float64, st.tuples(st.integers(1, 20), st.just(3)), elements=coord)
sph_points = st.tuples(
    st.floats(0, TWO_PI, exclude_max=True),
    st.floats(-HALF_PI, HALF_PI),
    st.floats(1e-3, 1e3),
)


@settings(max_examples=300)
@given(points)
def test_cartesian_round_trip_within_1e9(xyz):
    r = np.linalg.norm(xyz, axis=1)
    assume(np.all(r > 1e-6))
    back = to_cartesian(to_spherical(xyz))
    err = np.linalg.norm(back - xyz, axis=1)
    assert np.all(err <= 1e-9 * np.maximum(1.0, r))


@settings(max_examples=300)
@given(sph_points)
def test_spherical_round_trip_within_1e9(p):
    theta, phi, r = p
    back = to_spherical(to_cartesian(p))
    check_spherical(*back)  # canonical output
    assert back[2] == pytest.approx(r, rel=1e-12)
    assert abs(back[1] - phi) <= 1e-9
    if math.cos(phi) > 1e-6:  # theta is meaningless at the poles
        d = abs(back[0] - theta)
        assert min(d, TWO_PI - d) <= 1e-9 / math.cos(phi)


@given(points)
def test_spherical_output_is_canonical(xyz):
    assume(np.all(np.linalg.norm(xyz, axis=1) > 1e-6))
    sph = to_spherical(xyz)
    assert np.all((sph[:, 0] >= 0) & (sph[:, 0] < TWO_PI))
    assert np.all(np.abs(sph[:, 1]) <= HALF_PI)
    assert np.all(sph[:, 2] > 0)


def test_convention_axes():
    np.testing.assert_allclose(to_spherical([1, 0, 0]), [0, 0, 1])
    np.testing.assert_allclose(to_spherical([0, 2, 0]), [HALF_PI, 0, 2])
    np.testing.assert_allclose(to_spherical([-1, 0, 0]), [math.pi, 0, 1])
    np.testing.assert_allclose(to_spherical([0, -1, 0]), [1.5 * math.pi, 0, 1])
    np.testing.assert_allclose(to_cartesian([HALF_PI, 0, 1]), [0, 1, 0], atol=1e-15)


def test_poles():
    north = to_spherical([0, 0, 5])
    south = to_spherical([0, 0, -5])
    assert tuple(north) == (0.0, HALF_PI, 5.0)
    assert tuple(south) == (0.0, -HALF_PI, 5.0)
    # Any theta at a pole lands on the pole.
    for theta in (0.0, 1.0, 4.0):
        np.testing.assert_allclose(to_cartesian([theta, HALF_PI, 2]), [0, 0, 2], atol=1e-15)


def test_theta_wraps_into_half_open_interval():
    assert wrap_theta(-1e-17) == 0.0  # np.mod would give exactly 2*pi
    assert wrap_theta(TWO_PI) == 0.0
    assert wrap_theta(-HALF_PI) == pytest.approx(1.5 * math.pi)
    assert wrap_theta(5 * math.pi) == pytest.approx(math.pi)
    # A point just below the +x axis has theta just below 2*pi, never 2*pi itself.
    t = to_spherical([1.0, -1e-300, 0.0])[0]
    assert 0.0 <= t < TWO_PI


def test_r_to_zero_rejected():
    with pytest.raises(ValueError, match="radius"):
        to_spherical([0, 0, 0])
    with pytest.raises(ValueError, match="radius"):
        to_spherical([[1, 0, 0], [1e-12, 0, 0]])
    with pytest.raises(ValueError):
        to_cartesian([0, 0, 0])
    with pytest.raises(ValueError):
        to_cartesian([0, 0, -1])
    with pytest.raises(ValueError):
        check_spherical(0.0, 0.0, MIN_RADIUS / 2)


def test_invalid_input_rejected():
    with pytest.raises(ValueError, match="shape"):
        to_spherical([[1, 2]])
    with pytest.raises(ValueError, match="NaN"):
        to_spherical([np.nan, 0, 1])
    with pytest.raises(ValueError, match="phi"):
        to_cartesian([0, 2.0, 1])
    with pytest.raises(ValueError, match="theta"):
        check_spherical(TWO_PI, 0, 1)


def test_vectorised_shapes():
    xyz = np.random.default_rng(0).normal(size=(100, 3))
    assert to_spherical(xyz).shape == (100, 3)
    assert to_spherical(xyz[0]).shape == (3,)
    assert to_cartesian(to_spherical(xyz)).shape == (100, 3)


@given(points, points)
def test_angular_distance_is_a_metric_angle(a, b):
    assume(np.all(np.linalg.norm(a, axis=1) > 1e-3))
    assume(np.all(np.linalg.norm(b[:1], axis=1) > 1e-3))
    d = angular_distance(a, b[:1])
    assert np.all((d >= 0) & (d <= math.pi))
    np.testing.assert_allclose(angular_distance(b[:1], a), d, atol=1e-12)
    np.testing.assert_allclose(angular_distance(a, a), 0, atol=1e-7)


def test_angular_distance_known_values():
    assert angular_distance([1, 0, 0], [0, 1, 0]) == pytest.approx(HALF_PI)
    assert angular_distance([1, 0, 0], [-3, 0, 0]) == pytest.approx(math.pi)
    assert angular_distance([0, 0, 1], [1, 0, 1]) == pytest.approx(math.pi / 4)
    # Tiny angles stay accurate (arccos of the dot product would give 0 here).
    assert angular_distance([1, 0, 0], [1, 1e-9, 0]) == pytest.approx(1e-9, rel=1e-6)
    # Across the theta seam: 0.1 and 2*pi - 0.1 on the equator are 0.2 apart.
    assert angular_distance_spherical([0.1, 0, 1], [TWO_PI - 0.1, 0, 7]) == pytest.approx(0.2)


def test_spherical_mean():
    m = spherical_mean([[1, 0, 0], [0, 1, 0]])
    np.testing.assert_allclose(m, [math.sqrt(0.5), math.sqrt(0.5), 0])
    # Radius does not count, only direction.
    np.testing.assert_allclose(spherical_mean([[100, 0, 0], [0, 1, 0]]), m)
    np.testing.assert_allclose(spherical_mean([[1, 0, 0], [0, 1, 0]], weights=[1, 0]), [1, 0, 0], atol=1e-15)
    with pytest.raises(ValueError, match="cancel"):
        spherical_mean([[1, 0, 0], [-1, 0, 0]])
    with pytest.raises(ValueError):
        spherical_mean(np.zeros((0, 3)))


def test_tangent_frame_is_orthonormal_everywhere_including_poles():
    for c in ([1, 0, 0], [0, 0, 1], [0, 0, -1], [1, 2, 3]):
        u, e1, e2 = tangent_frame(c)
        m = np.vstack([u, e1, e2])
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)


@pytest.mark.parametrize("center", [[1, 0, 0], [0, 0, 1], [0.3, -0.2, -0.9]])
def test_cap_points_are_deterministic_inside_the_cap_and_spread(center):
    pts = cap_points(center, 12, 0.3)
    assert pts.shape == (12, 3)
    np.testing.assert_array_equal(pts, cap_points(center, 12, 0.3))
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 1.0)
    assert np.all(angular_distance(pts, center) <= 0.3 + 1e-12)
    d = angular_distance(pts[:, None, :].repeat(12, 1).reshape(-1, 3), np.tile(pts, (12, 1))).reshape(12, 12)
    d[np.eye(12, dtype=bool)] = np.inf
    assert d.min() > 0.05  # siblings spread out


def test_spiral_points_do_not_depend_on_how_many_follow():
    a = spiral_points([0, 1, 0], 0, 5, 0.1)
    b = spiral_points([0, 1, 0], 0, 50, 0.1)
    np.testing.assert_array_equal(a, b[:5])
    np.testing.assert_array_equal(spiral_points([0, 1, 0], 3, 2, 0.1), b[3:5])


def test_whole_sphere_sequences():
    f = fibonacci_sphere(500)
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0)
    np.testing.assert_allclose(f.mean(axis=0), 0, atol=0.01)
    s = sequence_direction(np.arange(500))
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 1.0)
    np.testing.assert_allclose(s.mean(axis=0), 0, atol=0.05)
