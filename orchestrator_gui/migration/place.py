"""Positions for the nodes a build or rebuild adds, without moving any existing node.

Why not the model's layout
--------------------------
:class:`orchestrator_gui.model.layout.Placer` needs a new node's parent to be
in the graph already, but a rebuild adds a new TODO heading and its new items
in one transaction. :func:`orchestrator_gui.model.layout.compute_layout`
(used by ``relayout``) walks its spiral one point per call when spots are
taken, which took minutes on a 2,000-item TODO list. :class:`ShellPlanner`
follows the same rules and keeps every placement cheap:

* every node sits on its layer's shell, at least ``sep`` radians from every
  other node of that shell (``sep`` from
  :func:`~orchestrator_gui.model.layout.min_separation` for the final number
  of nodes on the shell);
* a child takes the next slot of its parent's sunflower spiral
  (:func:`~orchestrator_gui.model.coords.spiral_points`), so siblings spread
  around the parent and a new sibling never needs the old ones to move;
* a node without a parent goes next to the first already-placed node it links
  to (a memory entry near its mode, a run near its TODO item), else to the next
  direction of the model's low-discrepancy sequence;
* a taken slot is skipped by walking further along the spiral, in batches,
  with an occupancy grid so each check looks at a few neighbours only.

Results depend only on the graph and on the order of :meth:`ShellPlanner.place`
calls, never on randomness.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping

import numpy as np

from orchestrator_gui.model.coords import check_spherical, sequence_direction, spiral_points, to_spherical
from orchestrator_gui.model.graph import ThoughtGraph
from orchestrator_gui.model.layout import min_separation
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, LAYER_INDEX, SHELL_RADII, EdgeType, Layer

_PARENT = EDGE_TYPE_INDEX[EdgeType.PARENT.value]
#: Spiral slots generated per batch, and the most batches tried before accepting a close spot.
BATCH = 64
MAX_BATCHES = 64


class _Grid:
    """Unit vectors bucketed in a 3-D grid of cell size ``sep``: "is anything within ``sep``?" in O(1)."""

    def __init__(self, sep: float) -> None:
        self.cos_sep = math.cos(sep)
        self.scale = 1.0 / sep
        self.cells: dict[tuple[int, int, int], list[tuple[float, float, float]]] = defaultdict(list)

    def _cell(self, p: tuple[float, float, float]) -> tuple[int, int, int]:
        s = self.scale
        return (math.floor(p[0] * s), math.floor(p[1] * s), math.floor(p[2] * s))

    def free(self, p: tuple[float, float, float]) -> bool:
        # Within angle sep means within chord < sep, so only the 27 surrounding cells can hold a neighbour.
        cx, cy, cz = self._cell(p)
        x, y, z = p
        cells, limit = self.cells, self.cos_sep
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for k in (cz - 1, cz, cz + 1):
                    for q in cells.get((i, j, k), ()):
                        if x * q[0] + y * q[1] + z * q[2] > limit:
                            return False
        return True

    def add(self, p: tuple[float, float, float]) -> None:
        self.cells[self._cell(p)].append(p)


class ShellPlanner:
    """Plans ``(theta, phi, r)`` for new nodes of ``graph``, one after another.

    Parameters
    ----------
    graph : ThoughtGraph
        The graph the nodes will be added to; it is only read.
    adding : mapping of Layer to int, optional
        How many nodes will be added to each layer, so the separation suits
        the final density of the shell.
    """

    def __init__(self, graph: ThoughtGraph, adding: Mapping[Layer, int] | None = None) -> None:
        self.graph = graph
        adding = adding or {}
        n = len(graph)
        dirs = graph.positions / graph.spherical[:, 2:3] if n else np.zeros((0, 3))
        self._grid: dict[Layer, _Grid] = {}
        self._count: dict[Layer, int] = {}
        for layer in Layer:
            existing = dirs[graph.layer_index == LAYER_INDEX[layer.value]]
            grid = _Grid(min_separation(len(existing) + adding.get(layer, 0)))
            for p in map(tuple, existing.tolist()):
                grid.add(p)
            self._grid[layer] = grid
            self._count[layer] = len(existing)
        self._direction: dict[str, np.ndarray] = {}
        ea = graph.edge_arrays()
        self._children_by_row = np.bincount(ea.src[ea.type == _PARENT], minlength=n) if n else np.zeros(0, int)
        self._slots: dict[str, int] = defaultdict(int)  # spiral slots handed out around a node

    def direction(self, node_id: str) -> np.ndarray | None:
        """Unit direction of an existing or already planned node; ``None`` if unknown."""
        d = self._direction.get(node_id)
        if d is None and node_id in self.graph:
            row = self.graph.row_of(node_id)
            d = self.graph.positions[row] / self.graph.spherical[row, 2]
        return d

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
            Its parent (existing or planned before it); it goes on the parent's spiral.
        near : iterable of str
            Nodes it links to, in order of preference, used when there is no parent.
        """
        layer = Layer(layer)
        grid = self._grid[layer]
        anchor_id = parent if parent is not None and self.direction(parent) is not None else None
        if anchor_id is None:
            anchor_id = next((i for i in near if self.direction(i) is not None), None)
        if anchor_id is not None:
            anchor = self.direction(anchor_id)
            start = self._start(anchor_id, as_parent=anchor_id == parent)
            first: np.ndarray | None = None
        else:
            anchor = sequence_direction(self._count[layer])
            start, first = 0, anchor
        choice = self._walk(grid, anchor, start, first)
        if anchor_id is not None:
            self._slots[anchor_id] = choice[1] + 1
        point = choice[0]
        grid.add(tuple(point.tolist()))
        self._count[layer] += 1
        self._direction[node_id] = point
        t, p, _ = to_spherical(point)
        out = (float(t), float(p), SHELL_RADII[layer])
        check_spherical(*out)  # the caller copies it into a Node without re-validation
        return out

    @staticmethod
    def _walk(grid: _Grid, anchor: np.ndarray, start: int, first: np.ndarray | None) -> tuple[np.ndarray, int]:
        """The first free spot (``first``, then spiral slots from ``start``) and its slot index."""
        if first is not None and grid.free(tuple(first.tolist())):
            return first, start - 1
        sep = math.acos(grid.cos_sep)
        fallback: tuple[np.ndarray, int] | None = None
        for b in range(MAX_BATCHES):
            base = start + b * BATCH
            pts = spiral_points(anchor, base, BATCH, sep)
            pts /= np.linalg.norm(pts, axis=1, keepdims=True)
            if fallback is None:
                fallback = (pts[0], base)
            for k, p in enumerate(pts.tolist()):
                if grid.free(tuple(p)):
                    return pts[k], base + k
        # The shell is crowded around the anchor: accept the first slot rather than search forever.
        assert fallback is not None
        return fallback
