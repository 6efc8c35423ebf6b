"""Spiral placement on a layer's shell with a spatial hash: the one placer for batches of new nodes.

Workspace builds (:mod:`orchestrator_gui.migration.build`, which reaches this
through :mod:`orchestrator_gui.migration.place`), run nodes the engine adds,
and the final overlap fix-up of the force-directed layout
(:func:`orchestrator_gui.model.sphere_force.separate`) put nodes on a shell
the same way: try a desired direction, else walk an open-ended sunflower
spiral around it (:func:`~orchestrator_gui.model.coords.spiral_points`) until
a spot is at least the shell's minimum separation from every node already
there.  This module holds the pieces they share:

* :func:`min_separation`, the separation rule for a shell of ``count`` nodes;
* :class:`SphereHash`, occupied directions bucketed in a 3-D grid, so "is
  anything within ``sep``?" looks at a few neighbours only;
* :func:`spiral_search`, the batched walk along the spiral;
* :func:`separate`, which moves as little as possible after a whole-graph
  layout so that no two nodes of a shell are closer than the separation;
* :class:`ShellPlanner`, which plans positions for new nodes of a graph one
  after another without moving any existing node.  A fresh build then lets
  the force-directed layout settle its spots; an incremental rebuild keeps
  them, so nothing that exists ever jumps.  Because that layout gathers a
  section's items around its heading, the next slot of the heading's spiral
  lies inside the section's patch.

Why not :class:`orchestrator_gui.model.layout.Placer`
-----------------------------------------------------
``Placer`` (interactive adds) needs a new node's parent to be in the graph
already and compares every candidate with every nearby node, but a rebuild
adds a new TODO heading and its new items in one transaction, and thousands of
nodes at once.  :class:`ShellPlanner` follows the same rules and keeps every
placement cheap:

* every node sits on its layer's shell, at least ``sep`` radians from every
  other node of that shell (``sep`` from :func:`min_separation` for the final
  number of nodes on the shell);
* a child of a parent that already has children in the graph takes the free
  spot nearest the centre of that family (the section's patch once the
  force-directed layout has run); otherwise the next slot of its parent's
  sunflower spiral, so siblings spread around the parent; either way a new
  sibling never needs the old ones to move;
* a node without a parent goes next to the first already-placed node it links
  to (a memory entry near its mode, a run near its TODO item), else to the
  next direction of the model's low-discrepancy sequence;
* a taken slot is skipped by walking further along the spiral, in batches.

Results depend only on the graph and on the order of :meth:`ShellPlanner.place`
calls, never on randomness.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.model.coords import (
    check_spherical,
    fibonacci_sphere,
    sequence_direction,
    spiral_points,
    to_spherical,
)
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, LAYER_INDEX, SHELL_RADII, EdgeType, Layer

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Largest minimum separation between nodes of one shell (radians); dense shells use less.
MAX_SEPARATION = 0.06
#: Fraction of the mean lattice spacing used as minimum separation on dense shells.
DENSITY_FACTOR = 0.5
#: Spiral slots generated (and checked) per batch by :func:`spiral_search`.
BATCH = 64
#: Most batches :class:`ShellPlanner` walks before accepting a close spot.
MAX_BATCHES = 64
#: Rounds of pairwise pushing in :func:`separate` before overlaps are resolved one by one.
PUSH_ROUNDS = 24
#: Spiral batches :func:`separate` searches per node that is still too close after pushing.
RESOLVE_BATCHES = 16
_PARENT = EDGE_TYPE_INDEX[EdgeType.PARENT.value]

Point = Sequence[float]


def _kdtree(points: np.ndarray) -> Any:
    """scipy's cKDTree of ``points``, imported on first use: scipy.spatial costs ~16 MB and ~0.1 s
    at start-up, and most commands (and the app's first frame) never place a node."""
    from scipy.spatial import cKDTree

    return cKDTree(points)


def min_separation(count: int) -> float:
    """Minimum angular distance between nodes on a shell holding ``count`` nodes.

    Parameters
    ----------
    count : int
        Number of nodes the shell will hold (values below 1 count as 1).

    Returns
    -------
    float
        :data:`MAX_SEPARATION` on sparse shells, else :data:`DENSITY_FACTOR`
        times the mean spacing of ``count`` points spread over the sphere.
    """
    return min(MAX_SEPARATION, DENSITY_FACTOR * math.sqrt(4.0 * math.pi / max(count, 1)))


class SphereHash:
    """Occupied unit directions bucketed in a 3-D grid of cell size ``sep``.

    Parameters
    ----------
    sep : float
        Minimum angular separation (radians) that :meth:`free` enforces.

    Notes
    -----
    Two directions less than ``sep`` apart are less than ``sep`` apart as a
    chord too, so only the 27 cells around a point can hold a neighbour: each
    check costs a few dot products whatever the number of nodes.
    """

    def __init__(self, sep: float) -> None:
        self.sep = sep
        self.cos_sep = math.cos(sep)
        self.scale = 1.0 / max(sep, 1e-6)  # guards a zero separation; real shells never get near it
        self.cells: dict[tuple[int, int, int], list[Point]] = defaultdict(list)

    def _cell(self, p: Point) -> tuple[int, int, int]:
        s = self.scale
        return (math.floor(p[0] * s), math.floor(p[1] * s), math.floor(p[2] * s))

    def free(self, p: Point) -> bool:
        """Whether no stored direction is within ``sep`` of the unit vector ``p``."""
        cx, cy, cz = self._cell(p)
        cells, limit = self.cells, self.cos_sep
        x, y, z = p
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for k in (cz - 1, cz, cz + 1):
                    for q in cells.get((i, j, k), ()):
                        if x * q[0] + y * q[1] + z * q[2] > limit:
                            return False
        return True

    def add(self, p: Point) -> None:
        """Mark the unit vector ``p`` as occupied."""
        self.cells[self._cell(p)].append(p)


def spiral_search(h: SphereHash, center: np.ndarray, start: int, spacing: float, batches: int, *,
                  normalize: bool = False) -> tuple[np.ndarray, int] | None:
    """The first free slot of the sunflower spiral around ``center``, from slot ``start`` on.

    Parameters
    ----------
    h : SphereHash
        Occupied directions of the shell; it is only read.
    center : ndarray, shape (3,)
        Unit direction the spiral turns around.
    start : int
        First slot to try (slots before it are taken or handed out already).
    spacing : float
        Spiral spacing (radians), see :func:`~orchestrator_gui.model.coords.spiral_points`.
    batches : int
        Try at most ``batches * BATCH`` slots, generated ``BATCH`` at a time.
    normalize : bool
        Rescale each slot to unit length before checking it, so rounding
        never lets stored points drift off the unit sphere.

    Returns
    -------
    (ndarray, int) or None
        The free direction and its slot index, or ``None`` when every slot
        tried is taken (the next untried slot is ``start + batches * BATCH``).
    """
    for b in range(batches):
        base = start + b * BATCH
        pts = spiral_points(center, base, BATCH, spacing)
        if normalize:
            pts /= np.linalg.norm(pts, axis=1, keepdims=True)
        for k, p in enumerate(pts.tolist()):
            if h.free(p):
                return pts[k], base + k
    return None


class ShellPlanner:
    """Plans ``(theta, phi, r)`` for new nodes of ``graph``, one after another.

    Parameters
    ----------
    graph : ThoughtGraph
        The graph the nodes will be added to; it is only read.
    adding : mapping of Layer to int, optional
        How many nodes will be added to each layer, so the separation suits
        the final density of the shell.

    Notes
    -----
    Positions handed out earlier by the same planner count as occupied, so
    the nodes of one transaction never collide; existing nodes never move.
    """

    def __init__(self, graph: ThoughtGraph, adding: Mapping[Layer, int] | None = None) -> None:
        self.graph = graph
        adding = adding or {}
        n = len(graph)
        dirs = graph.positions / graph.spherical[:, 2:3] if n else np.zeros((0, 3))
        self._hash: dict[Layer, SphereHash] = {}
        self._count: dict[Layer, int] = {}
        for layer in Layer:
            existing = dirs[graph.layer_index == LAYER_INDEX[layer.value]]
            h = SphereHash(min_separation(len(existing) + adding.get(layer, 0)))
            for p in map(tuple, existing.tolist()):
                h.add(p)
            self._hash[layer] = h
            self._count[layer] = len(existing)
        self._direction: dict[str, np.ndarray] = {}
        ea = graph.edge_arrays()
        is_parent = ea.type == _PARENT
        self._children_by_row = np.bincount(ea.src[is_parent], minlength=n) if n else np.zeros(0, int)
        # Parent edges sorted by parent row: the existing children of a row are one slice.
        by_src = np.argsort(ea.src[is_parent], kind="stable")
        self._parent_src = np.asarray(ea.src[is_parent])[by_src]
        self._parent_dst = np.asarray(ea.dst[is_parent])[by_src]
        self._dirs = dirs
        self._slots: dict[object, int] = defaultdict(int)  # spiral slots handed out around an anchor
        self._centres: dict[str, np.ndarray | None] = {}

    def direction(self, node_id: str) -> np.ndarray | None:
        """Unit direction of an existing or already planned node; ``None`` if unknown."""
        d = self._direction.get(node_id)
        if d is None and node_id in self.graph:
            row = self.graph.row_of(node_id)
            d = self.graph.positions[row] / self.graph.spherical[row, 2]
        return d

    def _section_centre(self, parent: str) -> np.ndarray | None:
        """Mean direction of an existing parent and its existing children; ``None`` without children.

        The layout gathers a section's items into a patch around its heading, and a new
        item belongs in the middle of that patch rather than on its rim.
        """
        if parent not in self._centres:
            centre = None
            if parent in self.graph:
                row = self.graph.row_of(parent)
                lo, hi = np.searchsorted(self._parent_src, [row, row + 1])
                if hi > lo:
                    total = self._dirs[self._parent_dst[lo:hi]].sum(axis=0) + self._dirs[row]
                    norm = float(np.linalg.norm(total))
                    centre = total / norm if norm > 1e-9 else None
            self._centres[parent] = centre
        return self._centres[parent]

    def _start(self, anchor_id: str, as_parent: bool) -> int:
        start = self._slots[anchor_id]
        if as_parent and start == 0 and anchor_id in self.graph:
            # Continue after the children the parent already has, like the model's Placer.
            start = int(self._children_by_row[self.graph.row_of(anchor_id)])
        return start

    def place(self, node_id: str, layer: Layer, *, parent: str | None = None,
              near: Iterable[str] = ()) -> tuple[float, float, float]:
        """Choose and remember the position of the new node ``node_id``.

        Parameters
        ----------
        node_id : str
        layer : Layer
            Its shell.
        parent : str, optional
            Its parent (existing or planned before it).  When the parent already has
            children in the graph the node takes the free spot nearest the centre of
            the parent and those children (inside the section's patch); otherwise it
            takes the next slot of the parent's spiral.
        near : iterable of str
            Nodes it links to, in order of preference, used when there is no parent.

        Returns
        -------
        tuple of float
            ``(theta, phi, r)``, validated, with ``r`` the layer's shell radius.
        """
        layer = Layer(layer)
        h = self._hash[layer]
        key: object = parent if parent is not None and self.direction(parent) is not None else None
        centre = self._section_centre(parent) if key is not None else None
        if key is None:
            key = next((i for i in near if self.direction(i) is not None), None)
        first: np.ndarray | None = None
        if centre is not None:
            # The parent has children already: the free spot nearest their centre, then outwards.
            key = ("centre", parent)
            anchor, start = centre, self._slots[key]
            first = centre if start == 0 else None
        elif key is not None:
            anchor = self.direction(str(key))
            start = self._start(str(key), as_parent=key == parent)
        else:
            anchor = sequence_direction(self._count[layer])
            start, first = 0, anchor
        point, slot = self._walk(h, anchor, start, first)
        if key is not None:
            self._slots[key] = slot + 1
        h.add(tuple(point.tolist()))
        self._count[layer] += 1
        self._direction[node_id] = point
        t, p, _ = to_spherical(point)
        out = (float(t), float(p), SHELL_RADII[layer])
        check_spherical(*out)  # the caller copies it into a Node without re-validation
        return out

    @staticmethod
    def _walk(h: SphereHash, anchor: np.ndarray, start: int, first: np.ndarray | None) -> tuple[np.ndarray, int]:
        """The first free spot (``first``, then spiral slots from ``start``) and its slot index."""
        if first is not None and h.free(tuple(first.tolist())):
            return first, start - 1
        # acos(cos(sep)), not h.sep: the spacing builds have always used; the two differ in
        # the last bits, and positions of built graphs must not change between versions.
        sep = math.acos(h.cos_sep)
        found = spiral_search(h, anchor, start, sep, MAX_BATCHES, normalize=True)
        if found is not None:
            return found
        # The shell is crowded around the anchor: accept the first slot rather than search forever.
        pts = spiral_points(anchor, start, BATCH, sep)  # a whole batch: the same rounding as the search
        pts /= np.linalg.norm(pts, axis=1, keepdims=True)
        return pts[0], start


# -- enforcing the separation after a layout moved everything -------------------------------------
def _chord(angle: float) -> float:
    return 2.0 * math.sin(min(angle, math.pi) / 2.0)


def _accumulate(n: int, rows: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Sum the rows of ``vec`` into ``n`` slots by ``rows`` (bincount: fast and in a fixed order)."""
    return np.column_stack([np.bincount(rows, weights=vec[:, c], minlength=n) for c in range(3)])


def separate(directions: np.ndarray, layer: np.ndarray, *, fixed: np.ndarray | None = None) -> np.ndarray:
    """Move free nodes as little as possible so no two nodes of a shell are closer than its separation.

    Parameters
    ----------
    directions : ndarray, shape (n, 3)
        Unit directions; only read.
    layer : ndarray of int, shape (n,)
    fixed : ndarray of bool, optional
        Nodes that never move (two fixed nodes may stay too close).

    Returns
    -------
    ndarray, shape (n, 3)
        Every free node at least ``min_separation(shell size)`` from every other
        node of its shell: pairs that are too close are first pushed apart
        (:data:`PUSH_ROUNDS` vectorised rounds), then the rest, in row order,
        take the nearest free spot of a spiral around where they were (or,
        where that region is packed, the nearest free point of a fine lattice).
    """
    u = np.array(directions, dtype=np.float64)
    n = len(u)
    if n == 0:
        return u
    layer = np.asarray(layer, dtype=np.int64)
    free = np.ones(n, dtype=bool) if fixed is None else ~np.asarray(fixed, dtype=bool)
    for code in range(int(layer.max()) + 1):
        rows = np.flatnonzero(layer == code)
        if len(rows) < 2:
            continue
        sep = min_separation(len(rows))
        # Aim a little beyond sep so rounding never leaves a pair just short of it.
        target = (_chord(sep * 1.02))
        last = None
        for _ in range(PUSH_ROUNDS):
            pairs = _kdtree(u[rows]).query_pairs(target, output_type="ndarray")
            if len(pairs) == 0 or (last is not None and len(pairs) > 0.9 * last):
                break  # done, or pushing no longer helps: the spiral fix-up below takes the rest
            last = len(pairs)
            a, b = rows[pairs[:, 0]], rows[pairs[:, 1]]
            fa, fb = free[a], free[b]
            diff = u[a] - u[b]
            d = np.maximum(np.linalg.norm(diff, axis=1), 1e-12)
            gap = (target - d) / d
            # Both ends move half the gap; one alone moves all of it when the other is fixed.
            share = np.where(fa & fb, 0.5, 1.0)
            push = diff * (gap * share)[:, None]
            move = _accumulate(n, a, push * fa[:, None]) - _accumulate(n, b, push * fb[:, None])
            u = u + move
            u /= np.linalg.norm(u, axis=1, keepdims=True)
        u[rows] = _resolve(u[rows], free[rows], sep)
    return u


def _resolve(u: np.ndarray, free: np.ndarray, sep: float) -> np.ndarray:
    """Give every free node still within ``sep`` of another the nearest free spiral spot (in row order)."""
    pairs = _kdtree(u).query_pairs((_chord(sep)) * (1 + 1e-9), output_type="ndarray")
    if len(pairs) == 0:
        return u
    a, b = pairs[:, 0], pairs[:, 1]
    close = np.einsum("ij,ij->i", u[a], u[b]) > math.cos(sep)
    moving = np.zeros(len(u), dtype=bool)
    moving[a[close]] = True
    moving[b[close]] = True
    moving &= free
    if not moving.any():
        return u
    h = SphereHash(sep)
    # Only nodes the spiral walks can reach need to be in the hash (it reaches about
    # sqrt(BATCH * RESOLVE_BATCHES) / 2 separations): cheap even on a shell of 100k nodes.
    reach = (_chord((0.5 * math.sqrt(BATCH * RESOLVE_BATCHES) + 2.0) * sep))
    tree = _kdtree(u)
    near = np.zeros(len(u), dtype=bool)
    for hits in tree.query_ball_point(u[moving], reach):
        near[hits] = True
    for p in map(tuple, u[near & ~moving].tolist()):
        h.add(p)
    out = u.copy()
    for i in np.flatnonzero(moving).tolist():
        p = tuple(out[i].tolist())
        if not h.free(p):
            found = spiral_search(h, out[i], 0, sep * 0.5, RESOLVE_BATCHES, normalize=True)
            out[i] = found[0] if found is not None else _open_spot(out, i, sep)
            p = tuple(out[i].tolist())
        h.add(p)
    return out


def _open_spot(u: np.ndarray, i: int, sep: float) -> np.ndarray:
    """The free point of a fine Fibonacci lattice nearest to ``u[i]``: the fallback for a packed region.

    The minimum separation leaves most of a shell empty (it is half the mean
    spacing at most), so a lattice four times denser than the shell always
    has free points.
    """
    others = np.delete(u, i, axis=0)
    grid = fibonacci_sphere(max(4 * len(u), 1024))
    dist, _ = _kdtree(others).query(grid, distance_upper_bound=(_chord(sep)) * 1.001)
    open_ = grid[np.isinf(dist)]
    if len(open_) == 0:  # pragma: no cover - cannot happen at the separations of min_separation
        return u[i]
    return open_[int(np.argmax(open_ @ u[i]))]


# -- a cheap layout for very large fresh builds ---------------------------------------------------
#: Bits per axis of the Hilbert curve that orders a lattice (2**16 cells a side: finer than any shell).
_HILBERT_BITS = 16


def _hilbert_index(x: np.ndarray, y: np.ndarray, bits: int = _HILBERT_BITS) -> np.ndarray:
    """Position along a Hilbert curve of the cells ``(x, y)`` (integers below ``2**bits``), vectorised."""
    n = 1 << bits
    x, y = x.astype(np.int64), y.astype(np.int64)
    d = np.zeros(len(x), dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        # Rotate the quadrant so that the curve inside it starts and ends where its neighbours join.
        flip = ~ry & rx
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s >>= 1
    return d


def patch_lattice(count: int) -> np.ndarray:
    """``count`` evenly spread unit directions, ordered so that consecutive ones are neighbours.

    The points of :func:`~orchestrator_gui.model.coords.fibonacci_sphere`,
    ordered along a Hilbert curve over an equal-area map of the sphere
    (longitude, ``z``): any run of consecutive points covers a compact patch.
    Giving nodes in file order consecutive points puts each section's
    items together, which is what the force-directed layout would do, in
    linear time (a fresh build of hundreds of thousands of nodes).
    The spacing is that of the lattice, about twice :func:`min_separation`.
    """
    pts = fibonacci_sphere(count)
    if count < 2:
        return pts
    cells = (1 << _HILBERT_BITS) - 1
    u = np.mod(np.arctan2(pts[:, 1], pts[:, 0]), 2.0 * math.pi) / (2.0 * math.pi)
    v = (1.0 - pts[:, 2]) / 2.0
    order = np.argsort(_hilbert_index(np.rint(u * cells), np.rint(v * cells)), kind="stable")
    return pts[order]
