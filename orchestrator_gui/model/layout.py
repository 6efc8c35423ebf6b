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
  existing nodes.  :func:`relayout` recomputes everything and returns a
  transaction of one ``MoveNode`` edit, so it is explicit and undoable.  It
  places roots by a 3-D text embedding (top principal axes of hashed TF-IDF),
  gives each child a sunflower slot whose distance grows with the size of the
  sibling subtrees before it (so big subtrees get room), skips pinned nodes,
  and costs about 1 s at 10k nodes and 10 s at 100k.

Determinism: results depend only on the graph's content (ids, kinds, text,
edges and, for :class:`Placer`, existing positions), never on randomness or on
the order rows happen to be in.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

import numpy as np

from orchestrator_gui.model.coords import (
    GOLDEN_ANGLE,
    fibonacci_sphere,
    offset_directions,
    sequence_direction,
    spiral_points,
    to_spherical,
    unit,
)
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, LAYER_INDEX, LAYERS, SHELL_RADII, EdgeType, Layer, NodeFlag
from orchestrator_gui.model.shell_placement import (  # noqa: F401 - min_separation & co. are re-exported
    BATCH,
    DENSITY_FACTOR,
    MAX_SEPARATION,
    SphereHash,
    min_separation,
    spiral_search,
)
from orchestrator_gui.model.text import cosine_similarity, hashed_tfidf

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph
    from orchestrator_gui.model.transactions import Transaction

#: A parentless node joins its most similar neighbour when the cosine is at least this.
SIMILARITY_THRESHOLD = 0.3
_PARENT = EDGE_TYPE_INDEX[EdgeType.PARENT.value]
_MAX_TRIES = 100_000

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
        out_keys, _ = g._adj.incident(int(g._ns.cols["handle"][g.row_of(parent)]))
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


def _embedding(texts: list[str]) -> np.ndarray:
    """3-D directions from text: the top principal axes of hashed TF-IDF (zero rows where no text)."""
    n = len(texts)
    out = np.zeros((n, 3))
    if n < 4:
        return out
    vec = hashed_tfidf(texts, dim=64)
    has = np.linalg.norm(vec, axis=1) > 0
    if has.sum() < 4:
        return out
    x = vec[has] - vec[has].mean(axis=0)
    _, evecs = np.linalg.eigh(x.T @ x)
    axes = evecs[:, ::-1][:, :3]
    # Eigenvector signs are arbitrary; fix them so the result is reproducible.
    flip = np.sign(axes[np.argmax(np.abs(axes), axis=0), np.arange(3)])
    proj = x @ (axes * flip)
    out[has] = proj
    return out


def compute_layout(graph: ThoughtGraph) -> np.ndarray:
    """Fresh ``(theta, phi, r)`` for every row (pinned nodes keep theirs); see the module rules."""
    g = graph
    n = len(g)
    ids = g.ids
    order = sorted(range(n), key=ids.__getitem__)  # id order: independent of row history
    layer = g.layer_index
    sph = g.spherical.copy()
    pinned = (g.flags & np.uint32(NodeFlag.PINNED)) != 0
    ea = g.edge_arrays()
    is_parent = ea.type == _PARENT
    parent_of: dict[int, int] = {}
    for s, d in sorted(zip(ea.src[is_parent].tolist(), ea.dst[is_parent].tolist()), key=lambda e: ids[e[0]]):
        parent_of.setdefault(d, s)
    children: dict[int, list[int]] = defaultdict(list)
    for c in order:
        if c in parent_of:
            children[parent_of[c]].append(c)
    # Computed in id order so floating-point sums do not depend on row order.
    emb = np.zeros((n, 3))
    emb[order] = _embedding([f"{nd.title} {nd.content}" for nd in (g.node(ids[r]) for r in order)])
    slots: dict[int, np.ndarray] = {}
    counts = np.bincount(layer, minlength=len(LAYERS))
    hashes = [SphereHash(min_separation(int(c))) for c in counts]
    for r in np.flatnonzero(pinned).tolist():
        hashes[layer[r]].add(tuple(g.positions[r] / sph[r, 2]))
    direction = np.zeros((n, 3))
    visit, tree_parent = _forest(order, parent_of, children)
    size = np.ones(n)
    for node in reversed(visit):
        if tree_parent[node] >= 0:
            size[tree_parent[node]] += size[node]
    # Sphere area granted to each node: a subtree of s nodes gets a cap of area s * area.
    area = min(0.9 * 4.0 * math.pi / max(n, 1), 1.5 * MAX_SEPARATION**2)
    # Spiral index already searched around each anchor: spots there stay taken, so a later
    # node with the same anchor (identical text, say) resumes instead of rescanning.
    progress: dict[tuple, int] = {}
    fallback = 0
    for node in visit:
        p = tree_parent[node]
        if p < 0:
            e = emb[node]
            norm = float(np.linalg.norm(e))
            if norm > 1e-12:
                desired = e / norm
            else:
                desired = sequence_direction(fallback)
                fallback += 1
        else:
            desired = slots[node]
        if pinned[node]:
            direction[node] = g.positions[node] / sph[node, 2]
        else:
            spot = _settle(hashes[layer[node]], desired, (int(layer[node]), *desired.tolist()), progress)
            direction[node] = spot
            sph[node] = _spherical_on_shell(np.asarray(spot), LAYERS[layer[node]])
        kids = [c for c in children.get(node, ()) if tree_parent[c] == node]
        if kids:
            # Weighted sunflower: child i gets an annulus share proportional to its subtree,
            # so big subtrees get room around them instead of piling onto their parent.
            cum = 1.0 + np.concatenate(([0.0], np.cumsum(size[kids])[:-1]))
            mid = cum + size[kids] / 2.0
            polar = 2.0 * np.arcsin(np.minimum(1.0, np.sqrt(mid * area / (4.0 * math.pi))))
            pts = offset_directions(direction[node], polar, np.arange(len(kids)) * GOLDEN_ANGLE)
            for c, pt in zip(kids, pts, strict=True):
                slots[c] = pt
    return sph


def _forest(order: list[int], parent_of: dict[int, int], children: dict[int, list[int]]) -> tuple[list[int], dict]:
    """Breadth-first visit of the parent forest (roots in id order; nodes caught in parent
    cycles start trees of their own) and the tree parent of each node (-1 for a root)."""
    seen: set[int] = set()
    visit: list[int] = []
    tree_parent: dict[int, int] = {}
    for root in [r for r in order if r not in parent_of] + order:
        if root in seen:
            continue
        seen.add(root)
        tree_parent[root] = -1
        queue = deque([root])
        while queue:
            p = queue.popleft()
            visit.append(p)
            for c in children.get(p, ()):
                if c not in seen:
                    seen.add(c)
                    tree_parent[c] = p
                    queue.append(c)
    return visit, tree_parent


def _settle(h: SphereHash, desired: np.ndarray, key: tuple, progress: dict[tuple, int]) -> tuple:
    """The first free spot at or around ``desired`` (a sunflower spiral outwards); marks it taken."""
    spot: tuple | None = None
    i = progress.get(key, -1)
    if i < 0:
        i = 0
        if h.free(tuple(desired.tolist())):
            spot = tuple(desired.tolist())
    if spot is None and i < _MAX_TRIES:
        # Spiral slots at half the separation: the first free one lies closer to ``desired``.
        batches = -(-(_MAX_TRIES - i) // BATCH)
        found = spiral_search(h, desired, i, h.sep * 0.5, batches)
        if found is None:
            i += batches * BATCH
        else:
            spot, i = tuple(found[0].tolist()), found[1]
    if spot is None:  # pragma: no cover - the density factor leaves room on every shell
        spot = tuple(desired.tolist())
    progress[key] = i
    h.add(spot)
    return spot


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
        "relayout", edits, params={"nodes": len(rows)}, description=f"Relayout ({len(rows)} nodes)", actor=actor, now=now
    )
