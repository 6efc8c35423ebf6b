"""Hierarchical planning: goal -> navigation -> execution decomposition and progress roll-up.

Goals are the nodes of the kinds :data:`GOAL_KINDS` -- explicit goals and
schedules (whose instructions decompose into plans) -- and every node that
something ``serves``: a mode becomes a goal once it owns work, a heading once
an item names it as its goal (:func:`goal_rows`).  Two edge types feed a
node's progress:

* ``parent`` (parent -> child): decomposition.  Plans and thoughts sit on
  the navigation shell, TODO items and runs on the execution shell -- but the
  roll-up follows edges, not layers, so any depth and any mix works;
* ``serves`` (work -> goal): a plan, item or schedule that advances a goal
  (the migration derives them, see :mod:`orchestrator_gui.migration.goals`;
  users draw more).  The serving node counts as a *contributor* of the goal,
  like a child.

Progress
--------
For every node, in one bottom-up pass over the contributors (O(N + E),
vectorised per level)::

    progress(v) = 1                                     if v is done
                = sum(w_c * progress(c)) / sum(w_c)     over the counted contributors c
                = 0                                     without counted contributors

    w_c = weight of the edge                            for a ``parent`` child
        = weight of the edge * items(c)                 for a node that ``serves`` v

so the children of one plan are equal parts (the plain mean, as edges weigh
1 unless a user says otherwise), while the work linked to a goal counts by
its size: a goal served by a 15-item milestone and by one item weighs them
15 : 1.  Edge weights are clipped to ``[0, MAX_EDGE_WEIGHT]``; a weight 0
edge does not count.

``items(v)`` is the number of work items ``v`` stands for, and
``done_items(v)`` how many of them are done -- the "10 of 15 items" a goal
report shows::

    items(v)      = sum(items(c))       over the counted contributors, if any
                  = 0                   for an empty container (below)
                  = 1                   for any other node (a leaf item)
    done_items(v) = items(v)            if v is done
                  = sum(done_items(c))  otherwise

A contributor counts unless it is ``cancelled`` or ``archived`` (dropped
work neither helps nor hurts), a ``summary`` node (a compressed copy of
nodes that are counted themselves), or an *empty container*: a node of the
kinds :data:`CONTAINER_KINDS` (plans, headings, goals) that is not done and
has nothing counted below it -- an empty heading or a schedule's instruction
step is not work, so it no longer drags its parent towards 0.  A node that
contributes to several nodes counts for each, so an item a goal reaches along
two paths counts twice in it (the migration derives no such doubles: a node
whose TODO ancestor already serves a goal is not linked to it).  Nodes on a cycle cannot
be ordered; they get the weighted mean of the contributors processed so far
(0 if none) and are listed in ``Progress.cyclic``.

Public API
----------
``GOAL_KINDS``; ``CONTAINER_KINDS``; ``EXCLUDED_STATUSES``; ``MAX_EDGE_WEIGHT``
``Progress`` (arrays per row: ``progress``, ``counted``, ``children``,
``done_children``, ``items``, ``done_items``, ``cyclic``; ``of(graph, node_id)``)
``rollup_progress(graph) -> Progress`` (cached until the graph changes)
``progress_of(graph, node_id) -> float``
``goal_rows(graph) -> ndarray``
``rollup_edges(graph) -> (up, down, weight, serves)``
``closure_rows(graph, rows, *, counted_only=False) -> ndarray`` (rows plus everything that rolls up into them)
``counted_mask(graph) -> ndarray``
``Decomposition`` / ``decompose(graph, goal_id) -> Decomposition``
``descendant_rows(graph, rows) -> ndarray`` (rows plus everything below them along ``parent`` edges)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from orchestrator_gui.model.adjacency import gather_ranges
from orchestrator_gui.model.attention import graph_cache
from orchestrator_gui.model.nodes import (
    EDGE_TYPE_INDEX,
    KIND_INDEX,
    LAYERS,
    STATUS_INDEX,
    EdgeType,
    Layer,
    NodeKind,
    NodeStatus,
)
from orchestrator_gui.model.queries import bfs_layers_rows

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: Kinds that are always goals: the roots of the decomposition (see :func:`goal_rows` for the others).
GOAL_KINDS: tuple[NodeKind, ...] = (NodeKind.GOAL, NodeKind.SCHEDULE)
#: Kinds that stand for the work below them: with nothing counted below (and not done) they do not count.
CONTAINER_KINDS: tuple[NodeKind, ...] = (NodeKind.PLAN, NodeKind.GOAL, NodeKind.SCHEDULE, NodeKind.MODE)
#: Statuses whose nodes do not count towards their parent's progress.
EXCLUDED_STATUSES: tuple[NodeStatus, ...] = (NodeStatus.CANCELLED, NodeStatus.ARCHIVED)
#: Largest edge weight the roll-up uses (a typo such as 1e300 must not swamp every other part).
MAX_EDGE_WEIGHT = 1e6
_PARENT = EDGE_TYPE_INDEX[EdgeType.PARENT.value]
_SERVES = EDGE_TYPE_INDEX[EdgeType.SERVES.value]
_DONE = STATUS_INDEX[NodeStatus.DONE.value]


def _kind_codes(kinds: tuple[NodeKind, ...]) -> np.ndarray:
    return np.array([KIND_INDEX[k.value] for k in kinds], dtype=np.int8)


def goal_rows(graph: ThoughtGraph) -> np.ndarray:
    """Rows of the goals, ascending: the nodes of the kinds in :data:`GOAL_KINDS` and every node that
    something ``serves`` (a mode with no work of its own is no goal: 25 idle modes are not 25 open goals)."""
    mask = np.isin(graph.kind_index, _kind_codes(GOAL_KINDS))
    ea = graph.edge_arrays()
    mask[ea.dst[ea.type == _SERVES]] = True
    return np.flatnonzero(mask)


def parent_edges(graph: ThoughtGraph) -> tuple[np.ndarray, np.ndarray]:
    """``(parent_rows, child_rows)`` of every ``parent`` edge."""
    ea = graph.edge_arrays()
    sel = ea.type == _PARENT
    return ea.src[sel], ea.dst[sel]


def rollup_edges(graph: ThoughtGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The contributions of the roll-up: ``(up, down, weight, serves)``, one entry per edge.

    ``down`` contributes to ``up``: the child of a ``parent`` edge to the
    parent, the source of a ``serves`` edge to its goal.  ``weight`` is the
    edge weight clipped to ``[0, MAX_EDGE_WEIGHT]``; ``serves`` tells the
    two kinds apart.
    """
    ea = graph.edge_arrays()
    par = np.flatnonzero(ea.type == _PARENT)
    srv = np.flatnonzero(ea.type == _SERVES)
    up = np.concatenate((ea.src[par], ea.dst[srv]))
    down = np.concatenate((ea.dst[par], ea.src[srv]))
    weight = np.clip(np.concatenate((ea.weight[par], ea.weight[srv])), 0.0, MAX_EDGE_WEIGHT)
    serves = np.zeros(len(up), dtype=bool)
    serves[len(par):] = True
    return up, down, weight, serves


@dataclass(frozen=True)
class Progress:
    """Result of :func:`rollup_progress`; every array is indexed by row.

    Attributes
    ----------
    progress : ndarray of float
        In [0, 1].
    counted : ndarray of bool
        Whether the node counts towards what it contributes to.
    children : ndarray of int
        Number of counted contributors (children and serving nodes).
    done_children : ndarray of int
        Number of counted contributors that are done.
    items : ndarray of int
        Work items the node stands for (see the module docstring).
    done_items : ndarray of int
        How many of them are done.
    cyclic : ndarray of int
        Rows on (or only reachable through) a cycle of contributions.
    """

    progress: np.ndarray
    counted: np.ndarray
    children: np.ndarray
    done_children: np.ndarray
    items: np.ndarray
    done_items: np.ndarray
    cyclic: np.ndarray

    def of(self, graph: ThoughtGraph, node_id: str) -> float:
        """Progress of one node."""
        return float(self.progress[graph.row_of(node_id)])


def _counted_mask(graph: ThoughtGraph) -> np.ndarray:
    """Nodes that may count at all (the empty-container rule is applied during the pass)."""
    excluded = np.array([STATUS_INDEX[s.value] for s in EXCLUDED_STATUSES], dtype=np.int8)
    return ~np.isin(graph.status_index, excluded) & (graph.kind_index != KIND_INDEX[NodeKind.SUMMARY.value])



def _rollup(graph: ThoughtGraph) -> Progress:
    n = len(graph)
    up, down, weight, serves = rollup_edges(graph)
    may_count = _counted_mask(graph)
    keep = may_count[down] & (weight > 0)
    up, down, weight, serves = up[keep], down[keep], weight[keep], serves[keep]
    done = graph.status_index == _DONE
    container = np.isin(graph.kind_index, _kind_codes(CONTAINER_KINDS))
    # Contributions grouped by the contributing row, so a level's outgoing ones are one gather.
    order = np.argsort(down, kind="stable")
    by_up, by_weight, by_serves = up[order], weight[order], serves[order]
    down_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(down, minlength=n), out=down_ptr[1:])
    positions = np.arange(len(order), dtype=np.int64)
    pending = np.bincount(up, minlength=n)
    wsum, total = np.zeros(n), np.zeros(n)
    acc_items, acc_done = np.zeros(n), np.zeros(n)
    children, done_children = np.zeros(n), np.zeros(n)
    progress = np.zeros(n)
    items = np.zeros(n, dtype=np.int64)
    done_items = np.zeros(n, dtype=np.int64)
    finished = np.zeros(n, dtype=bool)

    def settle(rows: np.ndarray) -> None:
        # Every contributor of ``rows`` is final (or, for cycles, as final as it gets).
        w = wsum[rows]
        progress[rows] = np.where(done[rows], 1.0, np.divide(total[rows], w, out=np.zeros(len(rows)), where=w > 0))
        acc = acc_items[rows].astype(np.int64)
        own = np.where(container[rows] & ~done[rows], 0, 1)  # an empty container stands for no work
        items[rows] = np.where(acc > 0, acc, own)
        done_items[rows] = np.where(done[rows], items[rows], acc_done[rows].astype(np.int64))

    frontier = np.flatnonzero(pending == 0)
    while len(frontier):
        settle(frontier)
        finished[frontier] = True
        pos = gather_ranges(down_ptr, positions, frontier)
        if not len(pos):
            break
        lens = down_ptr[frontier + 1] - down_ptr[frontier]
        ew, sv = by_weight[pos], by_serves[pos]
        # Sums per receiving row over this level only (bincount over the level, not over all n rows).
        cand, inv = np.unique(by_up[pos], return_inverse=True)
        k = len(cand)
        f_items = np.repeat(items[frontier], lens)
        omega = np.where(sv, ew * f_items, ew) * (f_items > 0)
        live = (omega > 0).astype(np.float64)
        total[cand] += np.bincount(inv, weights=omega * np.repeat(progress[frontier], lens), minlength=k)
        wsum[cand] += np.bincount(inv, weights=omega, minlength=k)
        acc_items[cand] += np.bincount(inv, weights=live * f_items, minlength=k)
        acc_done[cand] += np.bincount(inv, weights=live * np.repeat(done_items[frontier], lens), minlength=k)
        children[cand] += np.bincount(inv, weights=live, minlength=k)
        done_children[cand] += np.bincount(inv, weights=live * np.repeat(done[frontier], lens), minlength=k)
        pending[cand] -= np.bincount(inv, minlength=k)
        frontier = cand[(pending[cand] == 0) & ~finished[cand]]
    cyclic = np.flatnonzero(~finished)
    if len(cyclic):
        settle(cyclic)
    return Progress(progress=progress, counted=may_count & (items > 0), children=children.astype(np.int64),
                    done_children=done_children.astype(np.int64), items=items, done_items=done_items,
                    cyclic=cyclic)


def rollup_progress(graph: ThoughtGraph) -> Progress:
    """Progress of every node, rolled up the ``parent`` hierarchy and ``serves`` links (see the module docstring).

    Cached until the graph changes (its ``revision``); treat the arrays as read-only.
    """
    key = (graph.revision, graph.structure_revision, len(graph))
    return graph_cache(graph, "progress", key, lambda: _rollup(graph))


def progress_of(graph: ThoughtGraph, node_id: str) -> float:
    """Rolled-up progress of one node, in [0, 1]."""
    return rollup_progress(graph).of(graph, node_id)


def descendant_rows(graph: ThoughtGraph, rows: np.ndarray) -> np.ndarray:
    """``rows`` and every node below them along ``parent`` edges, in BFS order."""
    levels = bfs_layers_rows(graph, np.asarray(rows, dtype=np.int64), direction="out", edge_types=[EdgeType.PARENT])
    return np.concatenate(levels) if len(levels) > 1 else levels[0]


@dataclass(frozen=True)
class _Contributors:
    """CSR of the roll-up: ``down[ptr[r]:ptr[r + 1]]`` contribute to row ``r``."""

    ptr: np.ndarray
    down: np.ndarray


def _contributors(graph: ThoughtGraph) -> _Contributors:
    def build() -> _Contributors:
        n = len(graph)
        up, down, _, _ = rollup_edges(graph)
        order = np.argsort(up, kind="stable")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(up, minlength=n), out=ptr[1:])
        return _Contributors(ptr=ptr, down=down[order])

    return graph_cache(graph, "contributors", (graph.structure_revision, len(graph)), build)


def counted_mask(graph: ThoughtGraph) -> np.ndarray:
    """Rows that may count towards what they contribute to (not cancelled, archived or a summary); cached."""
    key = (graph.revision, graph.structure_revision, len(graph))
    return graph_cache(graph, "may_count", key, lambda: _counted_mask(graph))


def closure_rows(graph: ThoughtGraph, rows: np.ndarray, *, counted_only: bool = False) -> np.ndarray:
    """``rows`` and every node that rolls up into them (children, serving nodes, theirs...), in BFS order.

    This is what a goal's progress and confidence are made of; each row once.
    With ``counted_only`` the walk does not enter cancelled, archived or
    summary nodes (the ``rows`` themselves are always included).
    """
    c = _contributors(graph)
    start = np.unique(np.asarray(rows, dtype=np.int64))
    seen = ~counted_mask(graph) if counted_only else np.zeros(len(graph), dtype=bool)
    seen[start] = True
    slot = np.empty(len(graph), dtype=np.int64)  # scratch: de-duplicates a level without sorting it
    levels = [start]
    frontier = start
    while len(frontier):
        nxt = gather_ranges(c.ptr, c.down, frontier)
        nxt = nxt[~seen[nxt]]
        if not len(nxt):
            break
        at = np.arange(len(nxt))
        slot[nxt] = at
        nxt = nxt[slot[nxt] == at]  # the last occurrence of each row survives
        seen[nxt] = True
        levels.append(nxt)
        frontier = nxt
    return np.concatenate(levels)


@dataclass(frozen=True)
class Decomposition:
    """A goal and the nodes that roll up into it, grouped by shell (each list in BFS order)."""

    goal: str
    navigation: tuple[str, ...]
    execution: tuple[str, ...]
    other_goals: tuple[str, ...]
    progress: float


def decompose(graph: ThoughtGraph, goal_id: str) -> Decomposition:
    """The goal -> navigation -> execution decomposition of ``goal_id``: its ``parent`` subtree and the work
    that ``serves`` it (any node may serve as the top)."""
    root = graph.row_of(goal_id)
    rows = closure_rows(graph, np.array([root]))[1:]
    layer = graph.layer_index[rows]
    by = {name: rows[layer == i] for i, name in enumerate(LAYERS)}
    return Decomposition(
        goal=goal_id,
        navigation=tuple(graph.ids_of(by[Layer.NAVIGATION])),
        execution=tuple(graph.ids_of(by[Layer.EXECUTION])),
        other_goals=tuple(graph.ids_of(by[Layer.GOAL])),
        progress=float(rollup_progress(graph).progress[root]),
    )
