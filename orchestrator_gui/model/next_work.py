"""What next: rank the open TODO items by what the thought graph says matters now, with reasons.

One score per open item, from signals the graph already carries plus a
little context the application layer reads from the files and run records
(:class:`NextContext`)::

    score = W_DUE * due + W_GOAL * goal + W_ACTIVATION * activation
          + W_ATTENTION * attention + W_UNBLOCKS * unblocks
          - W_FAILURES * failures - W_BLOCKED * blocked

* ``due`` -- 1 when a schedule that is due now reaches the item (its
  instructions' sections hold it, or name it), fading to 0 over
  :data:`DUE_SOON_S` for a schedule due soon;
* ``goal`` -- 1 when an *active* goal reaches it (a goal or schedule flagged
  ``ACTIVE`` or with activation at least ``active_threshold``, not paused; a
  due schedule counts as due instead);
* ``activation`` and ``attention`` -- the item's own values, scaled by the
  largest among the candidates (so they rank, they never dominate);
* ``unblocks`` -- open items that depend on it (``depends_on`` edges), up to 5;
* ``failures`` -- its consecutive failed runs (up to 3);
* ``blocked`` -- 1 while something it depends on is still open: it sinks
  below everything workable, and the reason names what it waits for.

"Reaches" follows ``parent`` and ``mentions`` edges outwards, and ``serves``
edges (work -> the goal it advances) backwards, at most :data:`REACH_DEPTH` hops. Escalated
(paused) and suppressed items are left out, as are items that are done,
cancelled or archived. Ties keep file order (the graph's row order, which
the migration builds in file order).

Everything is vectorised over the graph's arrays: one pass per signal, so a
100k-node graph ranks in a few milliseconds (``benchmarks/dynamics_bench.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from orchestrator_gui.model.nodes import (
    EDGE_TYPE_INDEX,
    KIND_INDEX,
    STATUS_INDEX,
    EdgeType,
    NodeFlag,
    NodeKind,
    NodeStatus,
)
from orchestrator_gui.model.queries import bfs_layers_rows

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

W_DUE = 3.0
W_GOAL = 2.0
W_ACTIVATION = 1.0
W_ATTENTION = 0.5
W_UNBLOCKS = 0.5
W_FAILURES = 1.0
W_BLOCKED = 10.0
#: A schedule due within this many seconds still lends its items part of ``due``.
DUE_SOON_S = 3600.0
#: Hops followed from a goal or a due schedule to the items it reaches.
REACH_DEPTH = 6
_OPEN = np.array([STATUS_INDEX[s.value] for s in (NodeStatus.OPEN, NodeStatus.ACTIVE, NodeStatus.BLOCKED)],
                 dtype=np.int8)
_DONE_LIKE = np.array([STATUS_INDEX[s.value] for s in (NodeStatus.DONE, NodeStatus.CANCELLED,
                                                        NodeStatus.ARCHIVED)], dtype=np.int8)
_GOAL_KINDS = np.array([KIND_INDEX[k.value] for k in (NodeKind.GOAL, NodeKind.SCHEDULE)], dtype=np.int8)
_DEPENDS = EDGE_TYPE_INDEX[EdgeType.DEPENDS_ON.value]


@dataclass(frozen=True)
class NextContext:
    """What the ranking needs besides the graph.

    Attributes
    ----------
    due_in_s : mapping of str to float
        Schedule node id -> seconds until it is due (0 or less: due now).
        Schedules not listed are not due.
    failures : mapping of str to int
        TODO node id -> consecutive failed runs.
    paused : frozenset of str
        Node ids escalated or paused: never proposed.
    mode : str or None
        Mode node id: only items that mode reaches (or items no mode reaches,
        when the mode reaches none) are ranked.
    active_threshold : float
        Activation from which a goal counts as active.
    """

    due_in_s: Mapping[str, float] = field(default_factory=dict)
    failures: Mapping[str, int] = field(default_factory=dict)
    paused: frozenset[str] = frozenset()
    mode: str | None = None
    active_threshold: float = 0.5


@dataclass(frozen=True)
class Ranked:
    """One ranked item: its id, score, the parts of the score and the reasons in words."""

    node_id: str
    title: str
    score: float
    parts: dict[str, float]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"id": self.node_id, "title": self.title, "score": round(self.score, 4),
                "parts": {k: round(v, 4) + 0.0 for k, v in self.parts.items()},  # + 0.0: no "-0.0"
                "reasons": list(self.reasons)}


_DOWN = [EdgeType.PARENT, EdgeType.MENTIONS]
#: ``serves`` points from the work to the goal it advances: followed backwards.
_SERVES = [t for t in EdgeType if t.value == "serves"]


def _below(graph: ThoughtGraph, rows: np.ndarray, types: list, direction: str) -> np.ndarray:
    levels = bfs_layers_rows(graph, rows, direction=direction, edge_types=types, depth=REACH_DEPTH)
    return np.concatenate(levels)


def _reach(graph: ThoughtGraph, source_rows: list[int]) -> list[np.ndarray]:
    """Per source row: the rows it reaches (itself excluded) within :data:`REACH_DEPTH` hops.

    Down its ``parent`` and ``mentions`` edges, and up the ``serves`` edges
    pointing at it together with what lies below the work that serves it.
    """
    out = []
    for row in source_rows:
        start = np.array([row], dtype=np.int64)
        parts = [_below(graph, start, _DOWN, "out")]
        if _SERVES:
            serving = _below(graph, start, _SERVES, "in")
            if len(serving) > 1:
                parts.append(_below(graph, serving, _DOWN, "out"))
        reach = np.unique(np.concatenate(parts))
        out.append(reach[reach != row])
    return out


def _scaled(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def rank_next(graph: ThoughtGraph, ctx: NextContext | None = None, *, limit: int = 6) -> list[Ranked]:
    """The open TODO items to work on now, best first (at most ``limit``), each with its reasons.

    Parameters
    ----------
    graph : ThoughtGraph
    ctx : NextContext, optional
    limit : int
        How many to return (1-1000).
    """
    ctx = ctx or NextContext()
    limit = int(min(max(limit, 1), 1000))
    n = len(graph)
    if n == 0:
        return []
    kind, status, flags = graph.kind_index, graph.status_index, graph.flags
    cand = (kind == KIND_INDEX[NodeKind.TODO.value]) & np.isin(status, _OPEN)
    cand &= (flags & np.uint32(NodeFlag.SUPPRESSED | NodeFlag.ESCALATED)) == 0
    paused = graph.rows_of([nid for nid in ctx.paused if nid in graph])
    cand[paused] = False
    if ctx.mode is not None and ctx.mode in graph:
        [reach] = _reach(graph, [graph.row_of(ctx.mode)])
        mine = np.zeros(n, dtype=bool)
        mine[reach] = True
        if (mine & cand).any():
            cand &= mine
    rows = np.flatnonzero(cand)
    if len(rows) == 0:
        return []

    due = np.zeros(n)
    due_by = np.full(n, -1, dtype=np.int64)  # row of the schedule that lends each row its ``due``
    sched = [(graph.row_of(s), s, float(t)) for s, t in ctx.due_in_s.items() if s in graph and t < DUE_SOON_S]
    for (srow, _sid, t), reach in zip(sched, _reach(graph, [r for r, _, _ in sched]), strict=True):
        w = 1.0 if t <= 0 else 1.0 - t / DUE_SOON_S
        due_by[reach[w > due[reach]]] = srow
        due[reach] = np.maximum(due[reach], w)

    goal = np.zeros(n)
    goal_by = np.full(n, -1, dtype=np.int64)  # row of the first active goal reaching each row
    active_goal = np.isin(kind, _GOAL_KINDS) & (((flags & np.uint32(NodeFlag.ACTIVE)) != 0)
                                                | (graph.activation >= ctx.active_threshold))
    for _srow, sid, _t in sched:
        active_goal[graph.row_of(sid)] = False  # a due schedule counts once, as due
    active_goal[paused] = False  # an escalated schedule pulls no work
    goals = np.flatnonzero(active_goal)
    for grow, reach in zip(goals.tolist(), _reach(graph, goals.tolist()), strict=True):
        goal_by[reach[goal[reach] == 0]] = grow
        goal[reach] = 1.0

    ea = graph.edge_arrays()
    dep = ea.type == _DEPENDS
    src, dst = ea.src[dep], ea.dst[dep]
    open_dst = ~np.isin(status[dst], _DONE_LIKE)
    blocked = np.zeros(n)
    blocked[src[open_dst]] = 1.0
    waits = (src[open_dst], dst[open_dst])
    unblocks = np.bincount(dst[np.isin(status[src], _OPEN)], minlength=n)[:n].astype(float)

    fails = np.zeros(n)
    for nid, k in ctx.failures.items():
        if nid in graph:
            fails[graph.row_of(nid)] = float(min(max(int(k), 0), 3))

    act = _scaled(np.clip(graph.activation[rows], 0.0, None))
    att = _scaled(np.clip(graph.attention[rows], 0.0, None))
    parts = {
        "due": W_DUE * due[rows],
        "goal": W_GOAL * goal[rows],
        "activation": W_ACTIVATION * act,
        "attention": W_ATTENTION * att,
        "unblocks": W_UNBLOCKS * np.minimum(unblocks[rows], 5) / 5,
        "failures": -W_FAILURES * fails[rows] / 3,
        "blocked": -W_BLOCKED * blocked[rows],
    }
    score = sum(parts.values())
    # Best score first; equal scores keep row (file) order.
    order = np.lexsort((rows, -score))[:limit]
    out = []
    for k in order.tolist():
        row = int(rows[k])
        node = graph.node(graph.id_of(row))
        reasons = _reasons(graph, row, {p: float(v[k]) for p, v in parts.items()}, due_by, goal_by, waits,
                           ctx, unblocks, fails)
        out.append(Ranked(node.id, node.title, float(score[k]), {p: float(v[k]) for p, v in parts.items()},
                          tuple(reasons)))
    return out


def _title(graph: ThoughtGraph, node_id: str) -> str:
    return graph.node(node_id).title or node_id


def _reasons(graph: ThoughtGraph, row: int, parts: dict[str, float], due_by: np.ndarray,
             goal_by: np.ndarray, waits: tuple[np.ndarray, np.ndarray], ctx: NextContext, unblocks: np.ndarray,
             fails: np.ndarray) -> list[str]:
    out = []
    if parts["blocked"] < 0:
        first = int(waits[1][np.flatnonzero(waits[0] == row)[0]])
        out.append(f"waits for “{_title(graph, graph.id_of(first))}” (still open)")
    if parts["due"] > 0 and due_by[row] >= 0:
        sid = graph.id_of(int(due_by[row]))
        t = float(ctx.due_in_s.get(sid, 0.0))
        when = "due now" if t <= 0 else f"due in {max(1, round(t / 60))} min"
        out.append(f"schedule “{_title(graph, sid)}” is {when}")
    if parts["goal"] > 0 and goal_by[row] >= 0:
        out.append(f"serves the active goal “{_title(graph, graph.id_of(int(goal_by[row])))}”")
    if parts["activation"] > 0:
        out.append(f"activation {graph.activation[row]:.2f}")
    if parts["attention"] > 0.25 * W_ATTENTION:
        out.append(f"attention {graph.attention[row]:.3g}")
    if parts["unblocks"] > 0:
        k = int(unblocks[row])
        out.append(f"{k} open item{'s' if k != 1 else ''} depend{'s' if k == 1 else ''} on it")
    if parts["failures"] < 0:
        k = int(fails[row])
        out.append(f"failed {k} time{'s' if k != 1 else ''} in a row")
    if not out:
        out.append("open, in file order")
    return out


__all__ = ["DUE_SOON_S", "REACH_DEPTH", "NextContext", "Ranked", "rank_next"]
