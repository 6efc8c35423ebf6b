"""Deterministic placement of nodes on their layer's shell.

Rules
-----
* Every node sits on the shell of its layer (:data:`~orchestrator_gui.model.nodes.SHELL_RADII`).
* A child goes near its parent's direction; siblings take successive slots of
  an open-ended sunflower spiral around it, so they spread out and a new
  sibling never needs the old ones to move.
* A node without a parent goes next to the most similar node of its layer
  (hashed TF-IDF cosine of title + content); failing that, to the next
  direction of a low-discrepancy sequence.
* No two nodes of a shell are closer than :func:`min_separation`; a taken spot
  is resolved by walking further along the spiral (deterministically), with
  the spatial hash and spiral walk of :mod:`orchestrator_gui.model.shell_placement`
  (which also holds :class:`~orchestrator_gui.model.shell_placement.ShellPlanner`,
  the placer for workspace builds).
* :class:`Placer` only computes positions for new nodes: adding never moves
  existing nodes.
* :func:`relayout` (through :func:`compute_layout`) moves every unpinned node
  at once and returns a transaction of one ``MoveNode`` edit, so it is
  explicit and undoable.  It is the force-directed layout of
  :mod:`orchestrator_gui.model.sphere_force`, seeded from the current
  positions: connected nodes (also across shells) and sections come together
  and each shell is used evenly; unlinked nodes are tied to their most
  similar unlinked nodes by text.  A fresh workspace build uses the same
  layout (:func:`arrange_directions`).  A relayout of a settled layout moves
  nothing; otherwise it costs about 0.2 s for the demo, 2.5 s at 10k nodes,
  4 s at 100k and 20 s at 500k (iterations capped as graphs grow).
* :func:`neighbour_ratio` measures the result: how much closer connected
  nodes sit than random nodes of the same shell.

Determinism: results depend only on the graph's content (ids, kinds, text,
edges and existing positions), never on randomness or on the order rows
happen to be in.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.model.coords import fibonacci_sphere, sequence_direction, spiral_points, to_spherical, unit
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, LAYER_INDEX, LAYERS, SHELL_RADII, EdgeType, Layer, NodeFlag
from orchestrator_gui.model.shell_placement import (  # noqa: F401 - min_separation & co. are re-exported
    BATCH,
    DENSITY_FACTOR,
    MAX_SEPARATION,
    SphereHash,
    min_separation,
    spiral_search,
)
from orchestrator_gui.model.sphere_force import arrange, graph_forces
from orchestrator_gui.model.text import cosine_similarity, hashed_tfidf

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph
    from orchestrator_gui.model.transactions import Transaction

#: A parentless node joins its most similar neighbour when the cosine is at least this.
SIMILARITY_THRESHOLD = 0.3
#: Unlinked nodes get springs to this many most similar unlinked nodes in :func:`compute_layout` ...
TEXT_NEIGHBOURS = 2
#: ... unless there are more of them than this (a dense similarity matrix would cost more than the layout).
TEXT_LIMIT = 4000
_PARENT = EDGE_TYPE_INDEX[EdgeType.PARENT.value]

def initial_positions(layer_codes: np.ndarray) -> np.ndarray:
    """Evenly spread ``(theta, phi, r)`` for bulk-built nodes: a Fibonacci lattice per shell, in row order."""
    layer_codes = np.asarray(layer_codes)
    out = np.zeros((len(layer_codes), 3))
    for code, layer in enumerate(LAYERS):
        rows = np.flatnonzero(layer_codes == code)
        if len(rows):
            sph = to_spherical(fibonacci_sphere(len(rows)))
            sph[:, 2] = SHELL_RADII[layer]
            out[rows] = sph
    return out


def _spherical_on_shell(direction: np.ndarray, layer: Layer) -> tuple[float, float, float]:
    t, p, _ = to_spherical(direction)
    return (float(t), float(p), SHELL_RADII[layer])


def _free_candidate(candidates: np.ndarray, occupied: np.ndarray, sep: float) -> int:
    """Index of the first candidate at least ``sep`` from all ``occupied``; else the roomiest one."""
    if len(occupied) == 0:
        return 0
    dots = occupied @ candidates.T  # (n_occupied, n_candidates)
    closest = dots.max(axis=0)
    free = np.flatnonzero(closest <= math.cos(sep))
    return int(free[0]) if len(free) else int(np.argmin(closest))


class Placer:
    """Computes positions for nodes about to be added, one after another, without moving any node.

    Parameters
    ----------
    graph : ThoughtGraph
        The graph the nodes will be added to.
    similarity_limit : int
        At most this many of the most recently created nodes of a layer are
        compared by text when placing a parentless node (keeps a placement at
        100k nodes in the low milliseconds).

    Notes
    -----
    Positions handed out earlier by the same placer count as occupied, so
    several nodes created in one transaction do not collide.
    """

    CANDIDATES = 256

    def __init__(self, graph: ThoughtGraph, *, similarity_limit: int = 2000) -> None:
        self.graph = graph
        self.similarity_limit = similarity_limit
        self._pending: dict[Layer, list[np.ndarray]] = defaultdict(list)
        self._pending_children: dict[str, int] = defaultdict(int)
        self._pending_text: dict[Layer, list[tuple[str, np.ndarray]]] = defaultdict(list)

    def _shell(self, layer: Layer) -> tuple[np.ndarray, np.ndarray]:
        g = self.graph
        rows = np.flatnonzero(g.layer_index == LAYER_INDEX[layer.value])
        dirs = g.positions[rows] / g.spherical[rows, 2:3]
        if self._pending[layer]:
            dirs = np.vstack([dirs, *self._pending[layer]])
        return rows, dirs

    def _child_count(self, parent: str) -> int:
        g = self.graph
        out_keys, _ = g.incident_keys(parent)
        return int(np.count_nonzero((out_keys & 0xFF) == _PARENT)) + self._pending_children[parent]

    def _most_similar(self, layer: Layer, rows: np.ndarray, text: str) -> np.ndarray | None:
        g = self.graph
        if not text.strip():
            return None
        if len(rows) > self.similarity_limit:
            created = g.created[rows]
            rows = rows[np.lexsort((rows, created))[-self.similarity_limit :]]
        nodes = [g.node(i) for i in g.ids_of(rows)]
        texts = [f"{n.title} {n.content}" for n in nodes] + [t for t, _ in self._pending_text[layer]]
        dirs = list(g.positions[rows] / g.spherical[rows, 2:3]) + [d for _, d in self._pending_text[layer]]
        if not texts:
            return None
        sims = cosine_similarity(text, texts)
        best = int(np.argmax(sims))
        return dirs[best] if sims[best] >= SIMILARITY_THRESHOLD else None

    def place(self, layer: Layer | str, *, parent: str | None = None, text: str = "") -> tuple[float, float, float]:
        """``(theta, phi, r)`` for a new node of ``layer``.

        Parameters
        ----------
        layer : Layer or str
        parent : str, optional
            Id of the parent node; the new node goes near it.
        text : str
            Title and content, used to find a similar node when there is no parent.
        """
        layer = Layer(layer)
        rows, occupied = self._shell(layer)
        sep = min_separation(len(occupied) + 1)
        if parent is not None:
            g = self.graph
            anchor = unit(g.positions[g.row_of(parent)])
            start = self._child_count(parent)
            candidates = spiral_points(anchor, start, self.CANDIDATES, sep)
        else:
            anchor = self._most_similar(layer, rows, text)
            if anchor is None:
                anchor = sequence_direction(len(occupied))
            candidates = np.vstack([anchor[np.newaxis, :], spiral_points(anchor, 0, self.CANDIDATES - 1, sep)])
        reach = math.acos(float(np.clip(candidates @ anchor, -1, 1).min())) + sep
        if len(occupied):
            near = occupied[occupied @ anchor >= math.cos(min(reach, math.pi))]
        else:
            near = occupied
        choice = unit(candidates[_free_candidate(candidates, near, sep)])
        self._pending[layer].append(choice[np.newaxis, :])
        if parent is not None:
            self._pending_children[parent] += 1
        elif text.strip():
            self._pending_text[layer].append((text, choice))
        return _spherical_on_shell(choice, layer)


def _text_springs(n: int, src: np.ndarray, dst: np.ndarray,
                  texts: Callable[[np.ndarray], list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Springs between nodes without any edge and their most similar such nodes (cosine >= threshold).

    Without them an unlinked thought would only feel repulsion; with them
    similar unlinked thoughts stay together (:data:`TEXT_NEIGHBOURS` each;
    ties go to the earlier row).  Skipped above :data:`TEXT_LIMIT` such
    nodes, where the dense similarity matrix would cost more than the layout.
    """
    linked = np.zeros(n, dtype=bool)
    linked[src] = True
    linked[dst] = True
    lone = np.flatnonzero(~linked)
    if len(lone) < 2 or len(lone) > TEXT_LIMIT:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    vec = hashed_tfidf(texts(lone), dim=256)
    sims = vec @ vec.T
    np.fill_diagonal(sims, -1.0)
    best = np.argsort(-sims, axis=1, kind="stable")[:, :TEXT_NEIGHBOURS]
    a = np.repeat(np.arange(len(lone)), best.shape[1])
    b = best.ravel()
    ok = sims[a, b] >= SIMILARITY_THRESHOLD
    # A mutual best match is one spring, not two.
    key = np.unique(np.minimum(a, b)[ok] * len(lone) + np.maximum(a, b)[ok])
    return lone[key // len(lone)], lone[key % len(lone)]


def arrange_directions(directions: np.ndarray, layer: np.ndarray, kind: np.ndarray, src: np.ndarray,
                       dst: np.ndarray, edge_type: np.ndarray, *, texts: Callable[[np.ndarray], list[str]],
                       fixed: np.ndarray | None = None, iterations: int | None = None) -> np.ndarray:
    """The force-directed layout of nodes given as arrays (fresh builds and :func:`compute_layout` share it).

    Parameters
    ----------
    directions : ndarray, shape (n, 3)
        Current unit directions: the seed.
    layer, kind : ndarray of int, shape (n,)
        Layer and kind codes.
    src, dst, edge_type : ndarray of int, shape (m,)
        Edges (rows and type codes).
    texts : callable
        ``texts(rows)`` gives ``"title content"`` of those rows (only asked for unlinked nodes).
    fixed : ndarray of bool, optional
        Nodes that keep their direction (pinned).
    iterations : int, optional
        See :func:`~orchestrator_gui.model.sphere_force.refine`.

    Returns
    -------
    ndarray, shape (n, 3)
        Unit directions.

    Notes
    -----
    Rows and edges must come in a canonical order (ids, or the order of the
    workspace files): floating-point sums follow it, so only a canonical
    order makes the result reproducible to the last bit.
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    edge_type = np.asarray(edge_type, dtype=np.int64)
    ts, td = _text_springs(len(directions), src, dst, texts)
    forces = graph_forces(np.asarray(kind), np.concatenate((src, ts)), np.concatenate((dst, td)),
                          np.concatenate((edge_type, np.full(len(ts), EDGE_TYPE_INDEX[EdgeType.SIMILAR.value]))))
    return arrange(directions, np.asarray(layer, dtype=np.int64), forces, fixed=fixed, iterations=iterations)


def compute_layout(graph: ThoughtGraph, *, iterations: int | None = None) -> np.ndarray:
    """New ``(theta, phi, r)`` for every row, seeded from the current positions; see the module rules.

    Parameters
    ----------
    graph : ThoughtGraph
        Only read.
    iterations : int, optional
        Force iterations (default: :func:`~orchestrator_gui.model.sphere_force.iterations_for` the size).

    Returns
    -------
    ndarray, shape (n, 3)
        Rows as in the graph.  Pinned nodes keep their position exactly.
    """
    g = graph
    n = len(g)
    sph = g.spherical.copy()
    if n == 0:
        return sph
    # Work in id order, so floating-point sums (and so the result) do not depend on row history.
    order = np.argsort(np.asarray(g.ids, dtype=object), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    ea = g.edge_arrays()
    src, dst, etype = rank[ea.src], rank[ea.dst], np.asarray(ea.type, dtype=np.int64)
    canon = np.lexsort((etype, dst, src))

    def texts(rows: np.ndarray) -> list[str]:
        return [f"{nd.title} {nd.content}" for nd in (g.node(i) for i in g.ids_of(order[rows]))]

    layer = np.asarray(g.layer_index, dtype=np.int64)[order]
    pinned = ((g.flags & np.uint32(NodeFlag.PINNED)) != 0)[order]
    start = g.positions[order] / sph[order, 2:3]
    u = arrange_directions(start, layer, np.asarray(g.kind_index)[order], src[canon], dst[canon], etype[canon],
                           texts=texts, fixed=pinned, iterations=iterations)
    out = to_spherical(u)
    out[:, 2] = np.asarray([SHELL_RADII[lay] for lay in LAYERS])[layer]
    # Nodes that did not move keep their stored numbers (a round trip through xyz may change the
    # last bit), so a relayout of a settled layout is an empty transaction.
    keep = pinned | np.all(u == start, axis=1)
    out[keep] = sph[order][keep]
    sph[order] = out
    return sph


def relayout(graph: ThoughtGraph, *, actor: str = "user", now: float | None = None) -> Transaction:
    """A transaction moving every node to its :func:`compute_layout` position (apply it to take effect).

    Only nodes whose position changes are listed; pinned nodes stay.
    """
    from orchestrator_gui.model.transactions import MoveNode, Transaction

    new = compute_layout(graph)
    old = graph.spherical
    rows = np.flatnonzero(np.any(new != old, axis=1))
    edits: list[Any] = []
    if len(rows):
        edits.append(
            MoveNode(
                node_ids=tuple(graph.ids_of(rows)),
                new=tuple(map(tuple, new[rows].tolist())),
                old=tuple(map(tuple, old[rows].tolist())),
            )
        )
    return Transaction.create(
        "relayout", edits, params={"nodes": len(rows)}, description=f"Relayout ({len(rows)} nodes)", actor=actor,
        now=now,
    )


# -- layout quality ------------------------------------------------------------------------------
#: Random partners drawn per edge source (fewer per edge on big graphs, see :data:`MAX_SAMPLES`).
SAMPLES_PER_EDGE = 64
#: Upper bound on random pairs drawn in all, so the figure stays cheap at 500k edges.
MAX_SAMPLES = 1 << 20


def _angles(u: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle angles between the unit rows ``u[a]`` and ``u[b]`` (atan2 form: exact near 0)."""
    ua, ub = u[a], u[b]
    cross = np.linalg.norm(np.cross(ua, ub), axis=1)
    return np.arctan2(cross, np.einsum("ij,ij->i", ua, ub))


def neighbour_ratio(graph: ThoughtGraph, seed: int = 0) -> float:
    """Mean angle between connected nodes over the mean angle between random nodes of one shell.

    Parameters
    ----------
    graph : ThoughtGraph
        Only read.
    seed : int
        Seed of the random pairing, so the figure is reproducible.

    Returns
    -------
    float
        ``mean(angle(src, dst) over edges) / mean(angle(src, x))`` where ``x``
        is a random other node on the shell of ``src`` (up to
        :data:`SAMPLES_PER_EDGE` partners per edge, :data:`MAX_SAMPLES` in
        all).  Angles are between unit directions, so edges between shells
        count by how well their ends line up.  About 1 for a layout that
        ignores edges, near 0 when connected nodes sit together.  ``nan``
        when there are no edges or no shell holds two nodes.

    Notes
    -----
    The denominator samples partners of the *edge sources* rather than
    uniform pairs so that both means weigh the shells and the parts of the
    sphere the edges come from alike.
    """
    ea = graph.edge_arrays()
    n = len(graph)
    src, dst = np.asarray(ea.src, dtype=np.int64), np.asarray(ea.dst, dtype=np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if n < 2 or len(src) == 0:
        return float("nan")
    u = graph.positions / graph.spherical[:, 2:3]
    layer = np.asarray(graph.layer_index, dtype=np.int64)
    # Rows grouped by shell: partner k of a shell is order[start[shell] + k].
    order = np.argsort(layer, kind="stable")
    counts = np.bincount(layer, minlength=int(layer.max()) + 1)
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - start[layer[order]]
    rng = np.random.default_rng(seed)
    per_edge = max(1, min(SAMPLES_PER_EDGE, MAX_SAMPLES // len(src)))
    if len(src) <= MAX_SAMPLES:
        pick = np.repeat(np.arange(len(src)), per_edge)
    else:
        pick = rng.integers(0, len(src), MAX_SAMPLES)
    a = src[pick]
    a = a[counts[layer[a]] >= 2]
    if len(a) == 0:
        return float("nan")
    # A uniform other node of the same shell: draw among count - 1 and skip the source itself.
    k = rng.integers(0, counts[layer[a]] - 1)
    k += k >= rank[a]
    b = order[start[layer[a]] + k]
    return float(_angles(u, src, dst).mean() / _angles(u, a, b).mean())
