"""Hierarchical planning: goal -> navigation -> execution decomposition and progress roll-up.

The hierarchy is the ``parent`` edges (parent -> child).  Goals sit on the
goal shell (kinds :data:`GOAL_KINDS`: explicit goals, and schedules, whose
instructions decompose into plans), plans and thoughts on the navigation
shell, TODO items and runs on the execution shell -- but the roll-up itself
follows edges, not layers, so any depth and any mix works.

Progress
--------
For every node, in one bottom-up pass (O(N + E), vectorised per level)::

    progress(v) = 1                             if v is done
                = mean(progress(c) for c in C)  if v has counted children C
                = 0                             otherwise

A child counts unless it is ``cancelled`` or ``archived`` (dropped work
neither helps nor hurts) or a ``summary`` node (a compressed copy of
nodes that are counted themselves).  A node with several parents counts for
each.  Nodes on a ``parent`` cycle cannot be ordered; they get the mean of
the children processed so far (0 if none) and are listed in
``Progress.cyclic``.

Public API
----------
``GOAL_KINDS``; ``EXCLUDED_STATUSES``
``Progress`` (arrays per row: ``progress``, ``counted``, ``children``,
``done_children``, ``cyclic``; ``of(graph, node_id)``)
``rollup_progress(graph) -> Progress`` (cached until the graph changes)
``progress_of(graph, node_id) -> float``
``goal_rows(graph) -> ndarray``
``Decomposition`` / ``decompose(graph, goal_id) -> Decomposition``
``descendant_rows(graph, rows) -> ndarray`` (rows plus everything below them)
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

#: Kinds that are goals: the roots of the decomposition.
GOAL_KINDS: tuple[NodeKind, ...] = (NodeKind.GOAL, NodeKind.SCHEDULE)
#: Statuses whose nodes do not count towards their parent's progress.
EXCLUDED_STATUSES: tuple[NodeStatus, ...] = (NodeStatus.CANCELLED, NodeStatus.ARCHIVED)
_PARENT = EDGE_TYPE_INDEX[EdgeType.PARENT.value]
_DONE = STATUS_INDEX[NodeStatus.DONE.value]


def goal_rows(graph: ThoughtGraph) -> np.ndarray:
    """Rows of the goal nodes (kinds in :data:`GOAL_KINDS`), ascending."""
    codes = np.array([KIND_INDEX[k.value] for k in GOAL_KINDS], dtype=np.int8)
    return np.flatnonzero(np.isin(graph.kind_index, codes))


def parent_edges(graph: ThoughtGraph) -> tuple[np.ndarray, np.ndarray]:
    """``(parent_rows, child_rows)`` of every ``parent`` edge."""
    ea = graph.edge_arrays()
    sel = ea.type == _PARENT
    return ea.src[sel], ea.dst[sel]


@dataclass(frozen=True)
class Progress:
    """Result of :func:`rollup_progress`; every array is indexed by row.

    Attributes
    ----------
    progress : ndarray of float
        In [0, 1].
    counted : ndarray of bool
        Whether the node counts towards its parents.
    children : ndarray of int
        Number of counted children.
    done_children : ndarray of int
        Number of counted children that are done.
    cyclic : ndarray of int
        Rows on (or only reachable through) a ``parent`` cycle.
    """

    progress: np.ndarray
    counted: np.ndarray
    children: np.ndarray
    done_children: np.ndarray
    cyclic: np.ndarray

    def of(self, graph: ThoughtGraph, node_id: str) -> float:
        """Progress of one node."""
        return float(self.progress[graph.row_of(node_id)])


def _counted_mask(graph: ThoughtGraph) -> np.ndarray:
    excluded = np.array([STATUS_INDEX[s.value] for s in EXCLUDED_STATUSES], dtype=np.int8)
    return ~np.isin(graph.status_index, excluded) & (graph.kind_index != KIND_INDEX[NodeKind.SUMMARY.value])


def _rollup(graph: ThoughtGraph) -> Progress:
    n = len(graph)
    par, chi = parent_edges(graph)
    counted = _counted_mask(graph)
    keep = counted[chi]
    par, chi = par[keep], chi[keep]
    done = graph.status_index == _DONE
    # Edges grouped by child, so a level's outgoing contributions are one gather.
    order = np.argsort(chi, kind="stable")
    by_child_par = par[order]
    child_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(chi, minlength=n), out=child_ptr[1:])
    pending = np.bincount(par, minlength=n)
    n_children = pending.copy()
    total = np.zeros(n)
    n_done = np.zeros(n, dtype=np.int64)
    progress = np.zeros(n)
    finished = np.zeros(n, dtype=bool)
    frontier = np.flatnonzero(pending == 0)
    while len(frontier):
        # Every child of the frontier is final, so its value is.
        c = n_children[frontier]
        value = np.where(done[frontier], 1.0, np.divide(total[frontier], c, out=np.zeros(len(frontier)), where=c > 0))
        progress[frontier] = value
        finished[frontier] = True
        lens = child_ptr[frontier + 1] - child_ptr[frontier]
        parents = gather_ranges(child_ptr, by_child_par, frontier)
        if not len(parents):
            break
        total += np.bincount(parents, weights=np.repeat(value, lens), minlength=n)
        n_done += np.bincount(parents, weights=np.repeat(done[frontier], lens), minlength=n).astype(np.int64)
        pending -= np.bincount(parents, minlength=n)
        cand = np.unique(parents)
        frontier = cand[(pending[cand] == 0) & ~finished[cand]]
    cyclic = np.flatnonzero(~finished)
    if len(cyclic):
        c = n_children[cyclic]
        progress[cyclic] = np.where(
            done[cyclic], 1.0, np.divide(total[cyclic], c, out=np.zeros(len(cyclic)), where=c > 0)
        )
    return Progress(progress=progress, counted=counted, children=n_children, done_children=n_done, cyclic=cyclic)


def rollup_progress(graph: ThoughtGraph) -> Progress:
    """Progress of every node, rolled up the ``parent`` hierarchy (see the module docstring).

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
class Decomposition:
    """A goal and the nodes below it, grouped by shell (each list in BFS order)."""

    goal: str
    navigation: tuple[str, ...]
    execution: tuple[str, ...]
    other_goals: tuple[str, ...]
    progress: float


def decompose(graph: ThoughtGraph, goal_id: str) -> Decomposition:
    """The goal -> navigation -> execution decomposition below ``goal_id`` (any node may serve as the top)."""
    root = graph.row_of(goal_id)
    rows = descendant_rows(graph, np.array([root]))[1:]
    layer = graph.layer_index[rows]
    by = {name: rows[layer == i] for i, name in enumerate(LAYERS)}
    return Decomposition(
        goal=goal_id,
        navigation=tuple(graph.ids_of(by[Layer.NAVIGATION])),
        execution=tuple(graph.ids_of(by[Layer.EXECUTION])),
        other_goals=tuple(graph.ids_of(by[Layer.GOAL])),
        progress=float(rollup_progress(graph).progress[root]),
    )
