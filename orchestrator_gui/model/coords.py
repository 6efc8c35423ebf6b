"""Spherical coordinates: the one convention used everywhere in the model.

Convention
----------
A point is ``(theta, phi, r)``:

* ``theta`` -- azimuth in ``[0, 2*pi)``, measured in the xy-plane from the +x
  axis towards +y;
* ``phi`` -- elevation in ``[-pi/2, pi/2]``, measured from the xy-plane towards
  +z (``+pi/2`` is the north pole);
* ``r`` -- radius, strictly positive.

So ``x = r cos(phi) cos(theta)``, ``y = r cos(phi) sin(theta)``,
``z = r sin(phi)``.  At the poles theta is undefined; :func:`to_spherical`
returns ``theta = 0`` there.

Every function is vectorised over ``(N, 3)`` arrays (a single ``(3,)`` point is
accepted too and gives a ``(3,)`` result) and never loops in Python over points.
"""

from __future__ import annotations

import math

import numpy as np

TWO_PI = 2.0 * math.pi
HALF_PI = 0.5 * math.pi
#: Radii below this are rejected: the direction of such a point is numerically meaningless.
MIN_RADIUS = 1e-9
#: The golden angle, used to spread points evenly without knowing how many will follow.
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def _as_points(a: np.ndarray | list | tuple, name: str) -> tuple[np.ndarray, bool]:
    """Return ``a`` as a float64 ``(N, 3)`` array and whether it was a single point."""
    arr = np.asarray(a, dtype=np.float64)
    single = arr.ndim == 1
    if single:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3) or (3,), got {np.shape(a)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr, single


def wrap_theta(theta: np.ndarray | float) -> np.ndarray | float:
    """Wrap azimuths into ``[0, 2*pi)``.

    Parameters
    ----------
    theta : array_like or float
        Any finite angles in radians.

    Returns
    -------
    ndarray or float
        The same angles modulo ``2*pi``.  ``np.mod`` can round a tiny negative
        angle up to exactly ``2*pi``; that value is mapped to ``0`` so the
        half-open interval really holds.
    """
    wrapped = np.mod(theta, TWO_PI)
    wrapped = np.where(wrapped >= TWO_PI, 0.0, wrapped)
    if np.ndim(wrapped) == 0:
        return float(wrapped)
    return wrapped


def to_spherical(xyz: np.ndarray | list | tuple) -> np.ndarray:
    """Convert cartesian points to ``(theta, phi, r)``.

    Parameters
    ----------
    xyz : array_like, shape (N, 3) or (3,)
        Finite cartesian coordinates.

    Returns
    -------
    ndarray, shape (N, 3) or (3,)
        Canonical spherical coordinates (theta in ``[0, 2*pi)``).

    Raises
    ------
    ValueError
        If a point is closer to the origin than :data:`MIN_RADIUS` (its
        direction is undefined) or a value is not finite.
    """
    pts, single = _as_points(xyz, "xyz")
    x, y, z = pts[:, 0], pts[:, 1], pts[:, 2]
    rho = np.hypot(x, y)
    # hypot twice avoids overflow and keeps full precision for tiny components.
    r = np.hypot(rho, z)
    if np.any(r < MIN_RADIUS):
        bad = int(np.flatnonzero(r < MIN_RADIUS)[0])
        raise ValueError(f"point {bad} has radius {r[bad]!r} < {MIN_RADIUS}: direction undefined")
    theta = wrap_theta(np.arctan2(y, x))
    # atan2 on (z, rho) is accurate at the poles, where arcsin(z / r) loses digits.
    phi = np.arctan2(z, rho)
    out = np.column_stack((theta, phi, r))
    return out[0] if single else out


def to_cartesian(sph: np.ndarray | list | tuple) -> np.ndarray:
    """Convert ``(theta, phi, r)`` to cartesian points.

    Parameters
    ----------
    sph : array_like, shape (N, 3) or (3,)
        Spherical coordinates.  Theta may be any finite angle (it is periodic);
        phi must lie in ``[-pi/2, pi/2]`` and r must be at least :data:`MIN_RADIUS`.

    Returns
    -------
    ndarray, shape (N, 3) or (3,)

    Raises
    ------
    ValueError
        For phi outside its range, a radius below :data:`MIN_RADIUS`, or
        non-finite values.
    """
    pts, single = _as_points(sph, "sph")
    theta, phi, r = pts[:, 0], pts[:, 1], pts[:, 2]
    if np.any(r < MIN_RADIUS):
        raise ValueError(f"radius must be >= {MIN_RADIUS}, got {float(r.min())!r}")
    if np.any(np.abs(phi) > HALF_PI):
        raise ValueError("phi (elevation) must lie in [-pi/2, pi/2]")
    cphi = np.cos(phi)
    out = np.column_stack((r * cphi * np.cos(theta), r * cphi * np.sin(theta), r * np.sin(phi)))
    return out[0] if single else out


def check_spherical(theta: float, phi: float, r: float) -> None:
    """Raise ``ValueError`` unless ``(theta, phi, r)`` is canonical.

    Canonical means finite, ``0 <= theta < 2*pi``, ``-pi/2 <= phi <= pi/2`` and
    ``r >= MIN_RADIUS``.  Stored positions are always canonical, so equal points
    serialise to equal numbers.
    """
    if not (math.isfinite(theta) and math.isfinite(phi) and math.isfinite(r)):
        raise ValueError(f"position ({theta}, {phi}, {r}) is not finite")
    if not 0.0 <= theta < TWO_PI:
        raise ValueError(f"theta {theta!r} outside [0, 2*pi)")
    if not -HALF_PI <= phi <= HALF_PI:
        raise ValueError(f"phi {phi!r} outside [-pi/2, pi/2]")
    if r < MIN_RADIUS:
        raise ValueError(f"r {r!r} must be >= {MIN_RADIUS}")


def unit(v: np.ndarray | list | tuple) -> np.ndarray:
    """Return ``v`` scaled to unit length (rows of an ``(N, 3)`` array, or one ``(3,)`` vector).

    Raises
    ------
    ValueError
        If a vector is shorter than :data:`MIN_RADIUS`.
    """
    pts, single = _as_points(v, "v")
    norm = np.linalg.norm(pts, axis=1)
    if np.any(norm < MIN_RADIUS):
        raise ValueError("cannot normalise a zero-length vector")
    out = pts / norm[:, np.newaxis]
    return out[0] if single else out


def angular_distance(a: np.ndarray | list | tuple, b: np.ndarray | list | tuple) -> np.ndarray | float:
    """Great-circle angle (radians, in ``[0, pi]``) between the directions of ``a`` and ``b``.

    Parameters
    ----------
    a, b : array_like, shape (N, 3) or (3,)
        Cartesian vectors; only their directions matter.  Shapes broadcast, so
        one point can be compared with many.

    Returns
    -------
    ndarray or float

    Notes
    -----
    Uses ``atan2(|a x b|, a . b)``, which stays accurate for nearly equal and
    nearly antipodal directions where ``arccos`` of the dot product does not.
    """
    pa, sa = _as_points(a, "a")
    pb, sb = _as_points(b, "b")
    cross = np.linalg.norm(np.cross(pa, pb), axis=1)
    dot = np.einsum("ij,ij->i", *np.broadcast_arrays(pa, pb))
    na = np.linalg.norm(pa, axis=1)
    nb = np.linalg.norm(pb, axis=1)
    if np.any(na < MIN_RADIUS) or np.any(nb < MIN_RADIUS):
        raise ValueError("angular distance of a zero-length vector is undefined")
    out = np.arctan2(cross, dot)
    return float(out[0]) if (sa and sb) else out


def angular_distance_spherical(a: np.ndarray | list | tuple, b: np.ndarray | list | tuple) -> np.ndarray | float:
    """Great-circle angle between points given as ``(theta, phi, r)`` (r is ignored)."""
    pa, sa = _as_points(a, "a")
    pb, sb = _as_points(b, "b")
    ua = to_cartesian(np.column_stack((pa[:, 0], pa[:, 1], np.ones(len(pa)))))
    ub = to_cartesian(np.column_stack((pb[:, 0], pb[:, 1], np.ones(len(pb)))))
    out = angular_distance(ua, ub)
    return float(out[0]) if (sa and sb) else out


def spherical_mean(points: np.ndarray | list | tuple, weights: np.ndarray | list | None = None) -> np.ndarray:
    """Mean direction of several cartesian points, as a unit vector.

    Parameters
    ----------
    points : array_like, shape (N, 3)
        Cartesian points; they are normalised first so each counts by its
        direction only (a far point does not dominate).
    weights : array_like, shape (N,), optional
        Non-negative weights.

    Returns
    -------
    ndarray, shape (3,)
        The normalised weighted sum of unit vectors (the extrinsic mean).

    Raises
    ------
    ValueError
        If there are no points, a weight is negative, or the directions cancel
        out (for example two antipodal points), so no mean direction exists.
    """
    pts, _ = _as_points(points, "points")
    if len(pts) == 0:
        raise ValueError("spherical mean of no points")
    u = unit(pts)
    if u.ndim == 1:
        u = u[np.newaxis, :]
    if weights is None:
        w = np.ones(len(u))
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(u),) or np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError("weights must be finite, non-negative and one per point")
    s = (u * w[:, np.newaxis]).sum(axis=0)
    n = float(np.linalg.norm(s))
    if n < 1e-9 * max(1.0, float(w.sum())):
        raise ValueError("directions cancel out: the spherical mean is undefined")
    return s / n


def tangent_frame(center: np.ndarray | list | tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A deterministic orthonormal frame ``(c, e1, e2)`` at a direction.

    ``c`` is the unit direction; ``e1`` points east (increasing theta) and
    ``e2 = c x e1`` north.  At the poles, where east is undefined, ``e1`` is
    taken as +y so the frame is still deterministic.
    """
    c = unit(center)
    if c.ndim != 1:
        raise ValueError("tangent_frame takes one direction")
    e1 = np.cross((0.0, 0.0, 1.0), c)
    n = float(np.linalg.norm(e1))
    e1 = np.array([0.0, 1.0, 0.0]) if n < 1e-12 else e1 / n
    e2 = np.cross(c, e1)
    return c, e1, e2


def offset_directions(center: np.ndarray | list | tuple, polar: np.ndarray, azimuth: np.ndarray) -> np.ndarray:
    """Unit vectors at angle ``polar`` from ``center``, turned by ``azimuth`` around it.

    Parameters
    ----------
    center : array_like, shape (3,)
        Axis direction.
    polar, azimuth : ndarray, shape (K,)
        Angular distance from the axis and rotation around it (radians).

    Returns
    -------
    ndarray, shape (K, 3)
    """
    c, e1, e2 = tangent_frame(center)
    polar = np.asarray(polar, dtype=np.float64)
    azimuth = np.asarray(azimuth, dtype=np.float64)
    sp = np.sin(polar)
    return (
        np.cos(polar)[:, np.newaxis] * c
        + (sp * np.cos(azimuth))[:, np.newaxis] * e1
        + (sp * np.sin(azimuth))[:, np.newaxis] * e2
    )


def cap_points(center: np.ndarray | list | tuple, count: int, angular_radius: float) -> np.ndarray:
    """``count`` unit vectors spread evenly over a spherical cap (a sunflower pattern).

    Parameters
    ----------
    center : array_like, shape (3,)
        Direction of the cap's centre (for example a parent node's position).
    count : int
        Number of points (``>= 0``).
    angular_radius : float
        Cap radius in radians, in ``(0, pi]``.

    Returns
    -------
    ndarray, shape (count, 3)
        Deterministic: the same arguments always give the same points.  Point
        ``i`` sits at polar angle ``R * sqrt((i + 0.5) / count)`` so each gets an
        equal share of the cap's area, and at azimuth ``i`` golden angles.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    if not 0.0 < angular_radius <= math.pi:
        raise ValueError("angular_radius must lie in (0, pi]")
    i = np.arange(count, dtype=np.float64)
    # Equal-area spacing: the cap area grows like (1 - cos R) ~ R^2 / 2.
    cos_polar = 1.0 - (1.0 - math.cos(angular_radius)) * (i + 0.5) / max(count, 1)
    polar = np.arccos(np.clip(cos_polar, -1.0, 1.0))
    return offset_directions(center, polar, i * GOLDEN_ANGLE)


def spiral_points(center: np.ndarray | list | tuple, start: int, count: int, spacing: float) -> np.ndarray:
    """Points ``start .. start+count-1`` of an open-ended sunflower spiral around ``center``.

    Unlike :func:`cap_points`, point ``i`` does not depend on how many points
    there are, so children added one at a time never shift the earlier ones.
    Point ``i`` sits at polar angle ``spacing * sqrt(i + 1)`` (capped at pi) and
    azimuth ``i`` golden angles; neighbours end up roughly ``spacing`` apart.
    """
    if start < 0 or count < 0:
        raise ValueError("start and count must be >= 0")
    if spacing <= 0:
        raise ValueError("spacing must be > 0")
    i = np.arange(start, start + count, dtype=np.float64)
    polar = np.minimum(spacing * np.sqrt(i + 1.0), math.pi)
    return offset_directions(center, polar, i * GOLDEN_ANGLE)


def fibonacci_sphere(count: int) -> np.ndarray:
    """``count`` unit vectors spread evenly over the whole sphere (Fibonacci lattice)."""
    if count < 0:
        raise ValueError("count must be >= 0")
    i = np.arange(count, dtype=np.float64)
    z = 1.0 - 2.0 * (i + 0.5) / max(count, 1)
    rho = np.sqrt(np.clip(1.0 - z * z, 0.0, 1.0))
    az = i * GOLDEN_ANGLE
    return np.column_stack((rho * np.cos(az), rho * np.sin(az), z))


def sequence_direction(index: int | np.ndarray) -> np.ndarray:
    """Direction number ``index`` of an open-ended low-discrepancy sequence on the sphere.

    Any prefix of the sequence is spread fairly evenly, so the k-th unrelated
    node can be given direction ``k`` without knowing how many will follow.
    Uses the R2 sequence (plastic-number constants) mapped area-preservingly.
    """
    k = np.asarray(index, dtype=np.float64)
    g = 1.32471795724474602596  # plastic number
    u = np.mod(0.5 + k / g, 1.0)
    v = np.mod(0.5 + k / (g * g), 1.0)
    z = 1.0 - 2.0 * v
    rho = np.sqrt(np.clip(1.0 - z * z, 0.0, 1.0))
    az = TWO_PI * u
    out = np.stack((rho * np.cos(az), rho * np.sin(az), z), axis=-1)
    return out
