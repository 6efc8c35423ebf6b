"""Automatic suppression and re-activation: nodes that stay idle fade out of the loop, and come back when used.

Pure decisions on a graph at a time ``now`` (no clock is read here: every
function takes ``now``), turned into ordinary transactions so the journal
records them and undo reverses them.

The mark
--------
A suppressed node carries the prune mark of :mod:`~orchestrator_gui.model.pruning`
(``metadata["pruned"]``) with ``"by": "suppression"``::

    {"root": <its own id>, "time": <when>, "by": "suppression", "activation": <its activation then>}

so everything that already treats a pruned node as out of play does so for a
suppressed one: the activation update gives it zero activation and the
``SUPPRESSED`` flag (the view dims it), ``next`` skips it, a rebuild from the
files keeps the mark, and ``graph transform expand ID`` re-opens it like the
automatic re-activation does. A mark without ``"by": "suppression"`` is the
user's prune and is never touched here.

Suppression
-----------
A node is suppressed when its activation stayed below ``below`` for
``after_s`` seconds: below it now and at ``samples - 1`` earlier times evenly
spaced back to ``now - after_s``, all computed from the graph as it is now
(:func:`~orchestrator_gui.model.activation.compute_activation`). Activation
only decays between two uses of a node, so a node below the threshold at
``now - after_s`` has been below it ever since, unless a schedule's due
window or a neighbour's run lit it in between: the samples catch most of
those, and a due schedule or a run re-activates what it reaches anyway.
A node used (touched, edited) within the last ``after_s`` seconds has its
activity in the samples and is not suppressed. Goals, ``PINNED`` and
``ESCALATED`` nodes, and nodes pruned or folded by the user, are never
suppressed; the ones with the lowest activation go first, at most ``batch``
per transaction.

Re-activation
-------------
A suppressed node is re-activated (its mark removed) when

* its activation, computed as if it were not suppressed, is back at or
  above ``below``: it was touched (``last_activated``), its source line was
  edited (``updated``, bumped by the file sync), or linked nodes lend it
  enough;
* a schedule that reaches it is due (the schedule's due window of the
  activation, or ``due_ids`` from the application layer), following
  ``parent`` and ``mentions`` edges as ``next`` does;
* a run of it started within ``after_s`` (a ``run`` node's ``scheduled_by``
  edge), or the application layer names it in ``run_ids``.

The last two also touch the node (``access_count + 1``, ``last_activated =
now``), so it is not suppressed again at the next tick.

Public API
----------
``SUPPRESSED_BY``, ``SuppressionParams``, ``SuppressionPlan``
``suppressed_mask(graph) -> ndarray`` (rows carrying the automatic mark)
``plan_suppression(graph, now, params=None, *, ...) -> SuppressionPlan`` (pure)
``suppress_transaction(graph, plan, *, actor="engine") -> Transaction | None``
``reactivate_transaction(graph, plan, *, actor="engine") -> Transaction | None``
``suppressed_report(graph) -> list[dict]``
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from typing import TYPE_CHECKING

import numpy as np

from orchestrator_gui.model.activation import (
    DEFAULT_PARAMS,
    ActivationParams,
    compute_activation,
    spreading_matrix,
    temporal_vectors,
)
from orchestrator_gui.model.attention import graph_cache
from orchestrator_gui.model.nodes import EDGE_TYPE_INDEX, KIND_INDEX, EdgeType, NodeFlag, NodeKind
from orchestrator_gui.model.pruning import PRUNED_KEY, blocked_mask
from orchestrator_gui.model.queries import bfs_layers_rows
from orchestrator_gui.model.transactions import Transaction, UpdateNode

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

#: ``by`` of the prune mark this module sets (a user's prune has none).
SUPPRESSED_BY = "suppression"
#: Hops a due schedule reaches along ``parent``/``mentions`` (the same as ``next``).
REACH_DEPTH = 6
_GOAL = KIND_INDEX[NodeKind.GOAL.value]
_SCHEDULED_BY = EDGE_TYPE_INDEX[EdgeType.SCHEDULED_BY.value]
_KEEP_FLAGS = np.uint32(NodeFlag.PINNED | NodeFlag.ESCALATED)


@dataclass(frozen=True)
class SuppressionParams:
    """When a node is suppressed (see the module docstring).

    Attributes
    ----------
    below : float
        Activation below which a node is idle, in [0, 1]; 0 suppresses nothing.
    after_s : float
        Seconds a node must stay idle (> 0).
    batch : int
        Most nodes suppressed per transaction (>= 1).
    samples : int
        Times at which the activation is checked over the last ``after_s`` (2-64).
    """

    below: float = 0.05
    after_s: float = 600.0
    batch: int = 1000
    samples: int = 5

    def __post_init__(self) -> None:
        if not (math.isfinite(self.below) and 0.0 <= self.below <= 1.0):
            raise ValueError("below must lie in [0, 1]")
        if not (math.isfinite(self.after_s) and self.after_s > 0):
            raise ValueError("after_s must be positive")
        if not 1 <= self.batch <= 1_000_000:
            raise ValueError("batch must lie in [1, 1000000]")
        if not 2 <= self.samples <= 64:
            raise ValueError("samples must lie in [2, 64]")


@dataclass(frozen=True)
class SuppressionPlan:
    """What one tick would do: rows to suppress, rows to re-activate (with why), rows to touch.

    Attributes
    ----------
    now : float
    suppress : ndarray of int64
        Rows to mark, lowest activation first (at most ``batch``).
    reactivate : dict of int to str
        Marked row -> why it comes back ("touched", "edited", "schedule … is due", "run").
    touch : ndarray of int64
        Re-activated rows that get a touch with it (due schedule, run).
    activation : ndarray
        Activation per row at ``now``, computed as if nothing were automatically suppressed.
    waiting : int
        Idle rows left for the next ticks (beyond ``batch``).
    """

    now: float
    suppress: np.ndarray
    reactivate: dict[int, str]
    touch: np.ndarray
    activation: np.ndarray = field(repr=False)
    waiting: int = 0

    @property
    def empty(self) -> bool:
        """Nothing to do."""
        return len(self.suppress) == 0 and not self.reactivate


def _is_auto(mark: object) -> bool:
    return isinstance(mark, dict) and mark.get("by") == SUPPRESSED_BY


def suppressed_mask(graph: ThoughtGraph) -> np.ndarray:
    """Per-row bool: the node carries the automatic suppression mark (cached until the graph changes)."""

    def build() -> np.ndarray:
        mask = np.zeros(len(graph), dtype=bool)
        for row, node in enumerate(graph.nodes()):
            if PRUNED_KEY in node.metadata and _is_auto(node.metadata[PRUNED_KEY]):
                mask[row] = True
        return mask

    return graph_cache(graph, "suppressed_mask", (graph.revision, graph.structure_revision, len(graph)), build)


def _due_reach(graph: ThoughtGraph, schedule_rows: np.ndarray) -> np.ndarray:
    if len(schedule_rows) == 0:
        return schedule_rows
    levels = bfs_layers_rows(graph, schedule_rows, REACH_DEPTH, direction="out",
                             edge_types=[EdgeType.PARENT, EdgeType.MENTIONS])
    return np.concatenate(levels)


def _run_subjects(graph: ThoughtGraph, run_rows: np.ndarray) -> np.ndarray:
    if len(run_rows) == 0:
        return run_rows
    ea = graph.edge_arrays()
    mine = np.zeros(len(graph), dtype=bool)
    mine[run_rows] = True
    sel = (ea.type == _SCHEDULED_BY) & mine[ea.src]
    return np.concatenate([run_rows, ea.dst[sel]])


def _why_back(graph: ThoughtGraph, row: int) -> str:
    node = graph.node(graph.id_of(row))
    since = node.metadata[PRUNED_KEY].get("time")
    since = float(since) if isinstance(since, int | float) else -math.inf
    if node.last_activated is not None and node.last_activated > since and node.last_activated >= node.updated:
        return "touched"
    if node.updated > since:
        return "edited"
    return "linked nodes are active"


def plan_suppression(
    graph: ThoughtGraph,
    now: float,
    params: SuppressionParams | None = None,
    *,
    activation_params: ActivationParams | None = None,
    due_ids: Iterable[str] = (),
    run_ids: Iterable[str] = (),
    hold_ids: Iterable[str] = (),
    tz: tzinfo | None = None,
) -> SuppressionPlan:
    """Decide what to suppress and what to re-activate at ``now`` (pure: reads the graph, changes nothing).

    Parameters
    ----------
    graph : ThoughtGraph
    now : float
        Unix seconds: the controllable clock.
    params : SuppressionParams, optional
    activation_params : ActivationParams, optional
        The activation function's constants (default: the defaults).
    due_ids, run_ids : iterable of str
        Schedules the application layer knows to be due now, and nodes with a
        run starting now (unknown ids are ignored).
    hold_ids : iterable of str
        Nodes left alone this tick (the application layer holds a node whose
        suppression or re-activation was just undone).
    tz : tzinfo, optional
        For schedules whose next run is computed from their interval.
    """
    p = params or SuppressionParams()
    ap = activation_params or DEFAULT_PARAMS
    n = len(graph)
    now = float(now)
    empty = np.zeros(0, dtype=np.int64)
    if n == 0:
        return SuppressionPlan(now, empty, {}, empty, np.zeros(0))
    auto = suppressed_mask(graph)
    t = temporal_vectors(graph, now=now, tz=tz)
    # As if nothing were automatically suppressed: a suppressed node's own
    # activity (a touch, an edit) must show for it to come back.
    t = replace(t, blocked=t.blocked & ~auto)
    spread = spreading_matrix(graph, ap) if ap.spread_steps else None
    result = compute_activation(t, now, ap, spread)
    a_now = result.activation

    triggered: dict[int, str] = {}
    due_rows = [r for r in t.schedule_rows[result.due[t.schedule_rows] > 0].tolist()]
    due_rows += [graph.row_of(i) for i in due_ids if i in graph]
    for srow in sorted(set(due_rows)):
        title = graph.node(graph.id_of(srow)).title or graph.id_of(srow)
        for r in _due_reach(graph, np.array([srow], dtype=np.int64)).tolist():
            triggered.setdefault(int(r), f"schedule “{title}” is due")
    recent = t.run_rows[t.run_active | (now - t.last_activity[t.run_rows] < p.after_s)]
    named = graph.rows_of([i for i in run_ids if i in graph])
    for r in _run_subjects(graph, np.concatenate([recent, np.asarray(named, dtype=np.int64)])).tolist():
        triggered.setdefault(int(r), "run")

    held = np.zeros(n, dtype=bool)
    held[graph.rows_of([i for i in hold_ids if i in graph])] = True

    reactivate: dict[int, str] = {}
    touch: list[int] = []
    back = auto & ~held & ((a_now >= p.below) if p.below > 0 else True)
    for r in np.flatnonzero(auto & ~held).tolist():
        if r in triggered:
            reactivate[r] = triggered[r]
            touch.append(r)
        elif back[r]:
            reactivate[r] = _why_back(graph, r) if p.below > 0 else "suppression turned off"

    if p.below <= 0:
        return SuppressionPlan(now, empty, reactivate, np.array(touch, dtype=np.int64), a_now)
    idle = (a_now < p.below) & ~auto & ~held & ~blocked_mask(graph)
    idle &= graph.kind_index != _GOAL
    idle &= (graph.flags & _KEEP_FLAGS) == 0
    if triggered:
        idle[np.fromiter(triggered, dtype=np.int64)] = False
    for k in range(1, p.samples):
        if not idle.any():
            break
        past = compute_activation(t, now - p.after_s * k / (p.samples - 1), ap, spread).activation
        idle &= past < p.below
    rows = np.flatnonzero(idle)
    rows = rows[np.lexsort((rows, a_now[rows]))]
    return SuppressionPlan(now, rows[: p.batch].astype(np.int64), reactivate, np.array(touch, dtype=np.int64),
                           a_now, waiting=max(len(rows) - p.batch, 0))


def suppress_transaction(graph: ThoughtGraph, plan: SuppressionPlan, *, actor: str = "engine") -> Transaction | None:
    """The transaction marking ``plan.suppress`` (None when there is nothing to suppress)."""
    if len(plan.suppress) == 0:
        return None
    edits = []
    ids = graph.ids_of(plan.suppress)
    for nid, row in zip(ids, plan.suppress.tolist(), strict=True):
        node = graph.node(nid)
        mark = {"root": nid, "time": plan.now, "by": SUPPRESSED_BY,
                "activation": round(float(plan.activation[row]), 6)}
        edits.append(UpdateNode(node_id=nid, field="metadata", old=dict(node.metadata),
                                new={**node.metadata, PRUNED_KEY: mark}))
    what = repr(graph.node(ids[0]).title or ids[0]) if len(ids) == 1 else f"{len(ids)} idle nodes"
    return Transaction.create("suppress", edits, params={"node_ids": ids, "suppressed": len(ids)},
                              description=f"Suppress {what}", actor=actor, now=plan.now)


def reactivate_transaction(graph: ThoughtGraph, plan: SuppressionPlan, *, actor: str = "engine",
                           ) -> Transaction | None:
    """The transaction removing the marks of ``plan.reactivate`` (and touching ``plan.touch``); None if none."""
    if not plan.reactivate:
        return None
    touch = set(plan.touch.tolist())
    edits: list[UpdateNode] = []
    ids: list[str] = []
    reasons: dict[str, str] = {}
    for row, why in sorted(plan.reactivate.items()):
        nid = graph.id_of(row)
        node = graph.node(nid)
        ids.append(nid)
        reasons[nid] = why
        edits.append(UpdateNode(node_id=nid, field="metadata", old=dict(node.metadata),
                                new={k: v for k, v in node.metadata.items() if k != PRUNED_KEY}))
        if row in touch:
            edits.append(UpdateNode(node_id=nid, field="access_count", old=node.access_count,
                                    new=node.access_count + 1))
            if node.last_activated != plan.now:
                edits.append(UpdateNode(node_id=nid, field="last_activated", old=node.last_activated, new=plan.now))
    # Name the node that was used, not one it merely lit up.
    main = next((i for i in ids if reasons[i] != "linked nodes are active"), ids[0])
    first = f"{graph.node(main).title or main!r} ({reasons[main]})"
    what = first if len(ids) == 1 else f"{len(ids)} nodes: {first}, …"
    return Transaction.create("reactivate", edits, params={"node_ids": ids, "reasons": reasons},
                              description=f"Re-activate {what}", actor=actor, now=plan.now)


def suppressed_report(graph: ThoughtGraph) -> list[dict]:
    """The automatically suppressed nodes, longest suppressed first.

    Each: ``{"id", "title", "kind", "since", "activation"}`` (``since`` in Unix
    seconds, ``activation`` the value when it was suppressed).
    """
    out = []
    for nid in graph.ids_of(np.flatnonzero(suppressed_mask(graph))):
        node = graph.node(nid)
        mark = node.metadata[PRUNED_KEY]
        since = mark.get("time")
        out.append({"id": nid, "title": node.title, "kind": node.kind.value,
                    "since": float(since) if isinstance(since, int | float) else None,
                    "activation": mark.get("activation")})
    out.sort(key=lambda r: (r["since"] is None, r["since"] or 0.0, r["id"]))
    return out


__all__ = [
    "REACH_DEPTH", "SUPPRESSED_BY", "SuppressionParams", "SuppressionPlan", "plan_suppression",
    "reactivate_transaction", "suppress_transaction", "suppressed_mask", "suppressed_report",
]
