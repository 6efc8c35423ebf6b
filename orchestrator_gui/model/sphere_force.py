"""Force-directed placement on the shells: connected nodes and sections together, shells evenly used.

Model
-----
Every node is a unit direction; its radius is its layer's shell and never
changes.  :func:`refine` moves all free nodes at once, per iteration, along
the sphere by the sum of

* **attraction along edges** (Fruchterman–Reingold, magnitude ``w d² / k``,
  no longer growing beyond ``SATURATION * k``): an edge between two shells
  pulls the two *directions* together, so a TODO item lines up with its
  section heading one shell further in and a run with the item it ran;
* **a group pull** towards the mean direction of the node's group
  (:func:`section_groups`: a section heading with its items, a schedule with
  its steps), so a section reads as a patch even where its items have no
  edges between them;
* **near repulsion** ``k² / d`` between nodes of the same shell closer than
  ``CUTOFF * k`` (pairs from a k-d tree, so O(n log n) per iteration, the
  grid variant of Fruchterman–Reingold), much harder inside ``CORE`` minimum
  separations;
* **far repulsion**, a softened ``k² d / (d² + eps²)`` from every node of the
  shell (summed per lattice cell on big shells), which spreads each shell over
  the whole sphere and keeps groups apart.

``k`` is a shell's ideal spacing, ``EDGE_LENGTH * sqrt(4 pi / n)`` for ``n``
nodes on it.  A move is the force over its stiffness (a Jacobi–Newton step,
so stiff nodes do not overshoot) plus momentum, capped by a temperature that
cools geometrically; iterations stop early once nothing moves.  All forces
come in equal and opposite pairs and derive from one energy, so the layout
settles rather than drifting; the result is turned back by the rotation that
best matches the start (the energy does not change under rotations), and a
relayout of a settled layout moves nothing.  :func:`~orchestrator_gui.model.shell_placement.separate` then enforces
:func:`~orchestrator_gui.model.shell_placement.min_separation` exactly.

Determinism: no randomness but a fixed-seed jitter of 1e-7 rad that keeps
coincident seeds apart; sums run in the order of the input rows, so callers
pass rows in a canonical order (ids, or the order of the workspace files).

Cost (one core): about 0.15 s for the demo (123 nodes, up to
:data:`MAX_ITERATIONS`), 2.5 s for 10k nodes and 50k edges (66 iterations);
the iteration count falls with size (:func:`iterations_for`), so 100k nodes
take about 4 s and 500k about 20 s with :data:`MIN_ITERATIONS`.  A settled
layout stops after one iteration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator_gui.model.coords import fibonacci_sphere
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, EDGE_TYPES, KIND_INDEX, EdgeType, NodeKind
from orchestrator_gui.model.shell_placement import min_separation, separate

#: Ideal spacing of a shell as a multiple of its mean lattice spacing ``sqrt(4 pi / n)`` ...
EDGE_LENGTH = 0.45
#: ... but at least this many minimum separations.
SEPARATION_ROOM = 1.6
#: Repulsion reaches this many ideal spacings (the Fruchterman–Reingold grid cut-off is 2).
CUTOFF = 2.5
#: Cells of the far-field repulsion: shells with more nodes are summed per cell of a lattice this size.
FAR_CELLS = 256
#: Strength of the far-field repulsion relative to the near one.
FAR_STRENGTH = 2.0
#: Softening of the far-field repulsion, in ideal spacings (or cell spacings, whichever is larger).
FAR_SOFTENING = 2.0
#: Where a shell has more than this many close pairs per node, only each node's nearest this many push it.
NEIGHBOURS = 16
#: Pairs of one shell closer than this many minimum separations repel much harder (a soft core).
CORE = 1.5
#: Inside the core the push grows by ``(core / d) ** (2 * CORE_POWER)`` on top of ``k² / d``.
CORE_POWER = 4
#: Attraction stops growing beyond this many ideal spacings.
SATURATION = 4.0
#: Graphs with more links per node than this get all edge weights scaled down to match.
MEAN_DEGREE = 4.0
#: Weight of the pull towards the group's mean direction, relative to one edge.
GROUP_PULL = 2.0
#: Largest move of the first iteration and of the last one, in ideal spacings.
START_STEP = 0.5
END_STEP = 0.1
#: Share of the previous move carried into the next (heavy-ball momentum: soft, sphere-wide modes settle sooner).
MOMENTUM = 0.85
#: Iterations stop once no node moves more than this many ideal spacings.
SETTLED = 1e-4
#: Iterations for small graphs; bigger ones get fewer, see :func:`iterations_for`.
MAX_ITERATIONS = 500
MIN_ITERATIONS = 10
#: Node + edge visits an automatic iteration count may spend in all.
WORK_BUDGET = 4_000_000
_JITTER = 1e-7
#: Attraction weight per edge type (others 1): structure pulls harder than a passing mention.
EDGE_WEIGHTS: dict[EdgeType, float] = {EdgeType.PARENT: 1.0, EdgeType.SCHEDULED_BY: 1.0, EdgeType.RAN_AS: 0.5,
                                       EdgeType.MENTIONS: 0.5, EdgeType.SIMILAR: 0.5}
#: Kinds that head a group when they have children: headings and plans, schedules, goals.
SECTION_KINDS = (NodeKind.GOAL, NodeKind.PLAN, NodeKind.SCHEDULE)
_PARENT = EDGE_TYPE_INDEX[EdgeType.PARENT.value]


def _kdtree(points: np.ndarray) -> Any:
    """scipy's cKDTree of ``points``, imported on first use: scipy.spatial costs ~16 MB and ~0.1 s
    at start-up, and most commands (and the app's first frame) never place a node."""
    from scipy.spatial import cKDTree

    return cKDTree(points)


@dataclass(frozen=True)
class Forces:
    """Edges and groups of the nodes being laid out (rows index the directions array).

    Attributes
    ----------
    src, dst : ndarray of int
        Edge ends; self-loops are ignored.
    weight : ndarray of float
        Attraction weight per edge.
    group : ndarray of int
        Group id per node (``-1``: none); see :func:`section_groups`.
    """

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    group: np.ndarray


def iterations_for(nodes: int, edges: int) -> int:
    """Most iterations of :func:`refine` for a graph of this size.

    :data:`MAX_ITERATIONS` for small graphs, fewer as the graph grows (so the
    work stays near :data:`WORK_BUDGET`), never below :data:`MIN_ITERATIONS`.
    """
    return int(min(MAX_ITERATIONS, max(MIN_ITERATIONS, WORK_BUDGET // max(nodes + edges, 1))))


def section_groups(parent: np.ndarray, is_section: np.ndarray) -> np.ndarray:
    """The group of every node: the row of its nearest section ancestor (itself included).

    Parameters
    ----------
    parent : ndarray of int, shape (n,)
        Row of each node's parent, ``-1`` for roots.
    is_section : ndarray of bool, shape (n,)
        Nodes that head a group (a TODO heading with items, a schedule with steps).

    Returns
    -------
    ndarray of int, shape (n,)
        ``-1`` where no ancestor is a section (or parents form a cycle without one).

    Notes
    -----
    Pointer jumping: each round doubles how far up every node looks, so deep
    trees cost O(n log depth) in numpy rather than a walk per node.
    """
    n = len(parent)
    parent = np.asarray(parent, dtype=np.int64)
    up = np.where(is_section, np.arange(n), parent)
    for _ in range(64):  # 2**64 levels: ends every chain; a cycle without a section keeps a non-section
        nxt = np.where(up >= 0, up[np.maximum(up, 0)], -1)
        done = (up < 0) | is_section[np.maximum(up, 0)]
        nxt = np.where(done, up, nxt)
        if np.array_equal(nxt, up):
            break
        up = nxt
    ok = (up >= 0) & is_section[np.maximum(up, 0)]
    return np.where(ok, up, -1)


def _tangent(f: np.ndarray, u: np.ndarray) -> np.ndarray:
    return f - np.einsum("ij,ij->i", f, u)[:, None] * u


def _accumulate(n: int, rows: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Sum the rows of ``vec`` into ``n`` slots by ``rows`` (bincount: fast and in a fixed order)."""
    return np.column_stack([np.bincount(rows, weights=vec[:, c], minlength=n) for c in range(3)])


def _chord(angle: np.ndarray | float) -> np.ndarray | float:
    return 2.0 * np.sin(np.minimum(angle, math.pi) / 2.0)


def _spacing(layer: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Ideal spacing ``k`` per node and the rows of every shell."""
    shells = [np.flatnonzero(layer == code) for code in range(int(layer.max()) + 1)] if len(layer) else []
    k = np.zeros(len(layer))
    for rows in shells:
        if len(rows):
            # Never below SEPARATION_ROOM separations: dense shells would otherwise be pulled
            # tighter than the minimum separation lets them be.
            lattice = math.sqrt(4.0 * math.pi / len(rows))
            k[rows] = max(EDGE_LENGTH * lattice, SEPARATION_ROOM * min_separation(len(rows)))
    return k, shells


def _repulsion(u: np.ndarray, k: np.ndarray, shells: list[np.ndarray], f: np.ndarray, stiff: np.ndarray) -> None:
    """Add ``k² / d`` (tapered to zero at ``CUTOFF * k``) between close nodes of one shell.

    Where a shell is crowded (more than :data:`NEIGHBOURS` close pairs per
    node) only each node's nearest :data:`NEIGHBOURS` count, so an iteration
    costs O(n log n) however dense a region gets.
    """
    n = len(u)
    for rows in shells:
        m = len(rows)
        if m < 2:
            continue
        ks = float(k[rows[0]])
        reach = float(_chord(CUTOFF * ks))
        tree = _kdtree(u[rows])
        pairs = tree.query_pairs(reach, output_type="ndarray")
        if len(pairs) > NEIGHBOURS * m:
            # Crowded: only the nearest neighbours of each node, so the cost stays bounded.
            _, nb = tree.query(u[rows], k=NEIGHBOURS + 1, distance_upper_bound=reach)
            nb = nb[:, 1:]  # the first neighbour is the node itself
            ok = nb < m
            i = np.repeat(np.arange(m), nb.shape[1])[ok.ravel()]
            j = nb[ok]
            key = np.unique(np.minimum(i, j) * m + np.maximum(i, j))
            pairs = np.column_stack((key // m, key % m))
        # Each pair pushes both ways: equal and opposite forces derive from an energy, so the
        # layout settles instead of circling.
        a, b = rows[pairs[:, 0]], rows[pairs[:, 1]]
        diff = u[a] - u[b]
        d2 = np.maximum(np.einsum("ij,ij->i", diff, diff), 1e-18)
        c = ks * ks * (1.0 - d2 / (reach * reach)) ** 2 / d2
        # A hard core well before the minimum separation: dense shells then need little fixing afterwards.
        core = float(_chord(CORE * min_separation(m))) ** 2
        c *= np.maximum(core / d2, 1.0) ** CORE_POWER
        push = diff * c[:, None]
        f += _accumulate(n, a, push) - _accumulate(n, b, push)
        stiff += np.bincount(a, weights=c, minlength=n) + np.bincount(b, weights=c, minlength=n)


def _far_field(u: np.ndarray, k: np.ndarray, shells: list[np.ndarray], lattice: Any, f: np.ndarray,
               stiff: np.ndarray) -> None:
    """Add a softened ``k² d / (d² + eps²)`` from every node of the shell, through :data:`FAR_CELLS` cells.

    The cut-off repulsion only keeps neighbours apart; this part spreads a
    shell's nodes over the whole sphere (without it a connected graph settles
    on one side, and groups would not keep their distance).  Small shells use
    every node as a source; bigger ones sum the nodes of each cell of a
    Fibonacci lattice at the cell's mean direction and give a node its cell's
    force: the softening is wider than a cell, so the field hardly changes
    across one.
    """
    for rows in shells:
        m = len(rows)
        if m < 2:
            continue
        x = u[rows]
        if m <= FAR_CELLS:
            cell, centre, weight = np.arange(m), x, np.ones(m)
        else:
            cell = lattice.query(x)[1]
            weight = np.bincount(cell, minlength=FAR_CELLS).astype(np.float64)
            centre = _accumulate(FAR_CELLS, cell, x) / np.maximum(weight, 1.0)[:, None]
        ks = float(k[rows[0]])
        eps = FAR_SOFTENING * max(ks, math.sqrt(4.0 * math.pi / FAR_CELLS))
        diff = centre[:, None, :] - centre[None, :, :]
        w = (FAR_STRENGTH * ks * ks) * weight[None, :] / (np.einsum("ijk,ijk->ij", diff, diff) + eps * eps)
        total = w.sum(axis=1)
        f[rows] += (total[:, None] * centre - w @ centre)[cell]
        stiff[rows] += total[cell] / (eps * eps)


def _attraction(u: np.ndarray, k: np.ndarray, forces: Forces, f: np.ndarray, stiff: np.ndarray) -> None:
    """Add ``w d² / k`` along every edge, and the same pull towards each group's mean direction."""
    n = len(u)
    if len(forces.src):
        s, t = forces.src, forces.dst
        diff = u[t] - u[s]
        # One magnitude for both ends (the geometric mean spacing of their shells): equal and
        # opposite forces exert no net torque, so the layout does not slowly spin.
        ke = np.sqrt(k[s] * k[t])
        d = np.maximum(np.sqrt(np.einsum("ij,ij->i", diff, diff)), 1e-9)
        # Magnitude w d² / k, no longer growing beyond SATURATION k: otherwise a graph with many
        # long links (a hairball) collapses into a ball far denser than the separation allows.
        reach = SATURATION * ke
        c = forces.weight * np.minimum(d, reach) ** 2 / (ke * d)  # force = c * diff
        pull = diff * c[:, None]
        f += _accumulate(n, s, pull) - _accumulate(n, t, pull)
        c = np.where(d < reach, 2.0 * c, c)  # d(magnitude)/dd: 2 w d / k, then flat
        stiff += np.bincount(s, weights=c, minlength=n) + np.bincount(t, weights=c, minlength=n)
    g = forces.group
    member = np.flatnonzero(g >= 0)
    if len(member):
        # A linear pull towards the plain (unnormalised) mean: the pulls of a group sum to zero, so
        # like the edges they exert no net torque, and the pull derives from an energy (no cycling).
        size = np.bincount(g[member], minlength=n)
        mean = _accumulate(n, g[member], u[member]) / np.maximum(size, 1)[:, None]
        f[member] += GROUP_PULL * (mean[g[member]] - u[member])
        stiff[member] += GROUP_PULL


def refine(directions: np.ndarray, layer: np.ndarray, forces: Forces, *, fixed: np.ndarray | None = None,
           iterations: int | None = None, seed: int = 0) -> np.ndarray:
    """Directions after ``iterations`` rounds of the forces of the module docstring.

    Parameters
    ----------
    directions : ndarray, shape (n, 3)
        Starting unit directions (the current layout); only read.
    layer : ndarray of int, shape (n,)
        Shell code per node: repulsion acts within a shell, spacings follow its size.
    forces : Forces
        Edges, weights and groups.
    fixed : ndarray of bool, optional
        Nodes that do not move (pinned); they still pull and push the others.
    iterations : int, optional
        Default :func:`iterations_for` the graph's size.
    seed : int
        Seed of the tiny jitter that separates coincident starting points.

    Returns
    -------
    ndarray, shape (n, 3)
        Unit directions; fixed nodes keep theirs exactly.

    Notes
    -----
    A move is ``force / stiffness`` (the force's derivative along the
    node's own move, summed over its terms) plus ``MOMENTUM`` times the last
    move: a Jacobi–Newton step, so a node between stiff springs does not
    overshoot, and momentum so that slow, sphere-wide modes settle within the
    iterations.  The cooling cap only bounds the early moves.
    """
    u = np.array(directions, dtype=np.float64)
    n = len(u)
    if n == 0:
        return u
    layer = np.asarray(layer, dtype=np.int64)
    free = np.ones(n, dtype=bool) if fixed is None else ~np.asarray(fixed, dtype=bool)
    if iterations is None:
        iterations = iterations_for(n, len(forces.src))
    keep = forces.src != forces.dst
    forces = Forces(forces.src[keep], forces.dst[keep], np.asarray(forces.weight, float)[keep], forces.group)
    k, shells = _spacing(layer)
    lattice = _kdtree(fibonacci_sphere(FAR_CELLS))
    start = u.copy()
    rng = np.random.default_rng(seed)
    u[free] += rng.normal(scale=_JITTER, size=(int(free.sum()), 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    cool = (END_STEP / START_STEP) ** (1.0 / max(iterations - 1, 1))
    step = START_STEP
    velocity = np.zeros_like(u)
    for done in range(iterations):
        f = np.zeros_like(u)
        stiff = np.zeros(n)
        _attraction(u, k, forces, f, stiff)
        _repulsion(u, k, shells, f, stiff)
        _far_field(u, k, shells, lattice, f, stiff)
        move = _tangent(f, u) / np.maximum(stiff, 1e-12)[:, None]
        move += MOMENTUM * _tangent(velocity, u)
        size = np.linalg.norm(move, axis=1)
        cap = step * k
        scale = np.where(size > cap, cap / np.maximum(size, 1e-300), 1.0)
        velocity = move * (scale * free)[:, None]
        if float(np.max(np.linalg.norm(velocity, axis=1) / k)) < SETTLED:
            if done == 0:
                return start  # already in balance: a relayout of a settled layout changes nothing
            break
        u = u + velocity
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        step *= cool
    if free.all():
        return _align(u, start)
    u[~free] = start[~free]
    return u


def _align(u: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``u`` turned by the rotation that brings it closest to ``start`` (Kabsch).

    The forces do not change under a rotation of the whole sphere, so where no
    node is pinned, turning the result back costs nothing and keeps the view
    the user knew.
    """
    a, _, bt = np.linalg.svd(start.T @ u)
    d = np.sign(np.linalg.det(a @ bt)) or 1.0
    rot = a @ np.diag([1.0, 1.0, d]) @ bt
    out = u @ rot.T
    return out / np.linalg.norm(out, axis=1, keepdims=True)


# -- from graph columns to forces ------------------------------------------------------------------
def graph_forces(kind: np.ndarray, src: np.ndarray, dst: np.ndarray, edge_type: np.ndarray) -> Forces:
    """Edge weights by type and section groups from the ``parent`` edges.

    Parameters
    ----------
    kind : ndarray of int, shape (n,)
        Kind code per node (:data:`~orchestrator_gui.model.nodes.KIND_INDEX`).
    src, dst, edge_type : ndarray of int, shape (m,)
        Edges as rows and type codes, in a canonical order: a node with
        several parents joins the group of the first.

    Returns
    -------
    Forces
    """
    n = len(kind)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    edge_type = np.asarray(edge_type, dtype=np.int64)
    weights = np.ones(len(EDGE_TYPES))
    for t, w in EDGE_WEIGHTS.items():
        weights[EDGE_TYPE_INDEX[t.value]] = w
    is_parent = (edge_type == _PARENT) & (src != dst)
    ps, pd = src[is_parent], dst[is_parent]
    parent = np.full(n, -1, dtype=np.int64)
    child, first = np.unique(pd, return_index=True)  # a node with several parents follows the first
    parent[child] = ps[first]
    has_children = np.bincount(ps, minlength=n) > 0
    is_section = np.isin(kind, [KIND_INDEX[k.value] for k in SECTION_KINDS]) & has_children
    # A densely linked graph pulls harder in all: past MEAN_DEGREE links per node every edge is
    # weakened alike, or the repulsion could not keep the nodes at the shell's minimum separation.
    mean_degree = 2.0 * np.count_nonzero(src != dst) / max(n, 1)
    damp = min(1.0, MEAN_DEGREE / mean_degree) if mean_degree > 0 else 1.0
    return Forces(src, dst, weights[edge_type] * damp, section_groups(parent, is_section))


def arrange(directions: np.ndarray, layer: np.ndarray, forces: Forces, *, fixed: np.ndarray | None = None,
            iterations: int | None = None) -> np.ndarray:
    """:func:`refine` then :func:`separate`: the directions a full layout gives (see the module docstring)."""
    return separate(refine(directions, layer, forces, fixed=fixed, iterations=iterations), layer, fixed=fixed)
