"""Temporal activation: what the orchestrator is thinking about *now*, as a pure vectorised function of time.

Temporal vector
---------------
Every node has, per row (:class:`Temporal`, extracted once per graph change):

* ``last_activity``: ``max(updated, last_activated)`` (Unix seconds);
* ``frequency``: ``access_count`` (kept as ``log1p``);
* ``priority`` in [0, 1] from ``metadata["priority"]`` (:func:`priority_value`);
* for schedules, ``next_run`` and ``period``: when the schedule runs next and
  how often (see *Schedule metadata* below); ``time_to_next_run`` derives
  the time until the next run for any ``now``;
* masks: run nodes, runs in progress, the epistemic boost
  (:mod:`orchestrator_gui.model.epistemic`) and blocked nodes (pruned or
  folded, :mod:`orchestrator_gui.model.pruning`).

Activation
----------
:func:`compute_activation` is a pure function of those arrays, ``now`` and
:class:`ActivationParams` -- no Python loop over nodes::

    age       = max(now - last_activity, 0)
    recency   = 2 ** (-age / half_life_s)                       # exactly halves per half-life
    intrinsic = recency * (1 + frequency_gain * log1p(frequency)) * (1 + priority_gain * priority)
    due       = due_boost * f(time to next run)                 # f = 1 from due_window_s late up to
                                                                #  the run, falling linearly to 0
                                                                #  due_window_s before it
    run       = run_boost * 2 ** (-age / run_half_life_s)       # run nodes; age 0 while in progress
    epistemic = epistemic_boost                                 # unsupported goals, open questions
    raw       = (intrinsic + due + run + epistemic) * open      # open = not pruned or folded
    a(0) = raw;  a(k+1) = (raw + spread_damping * S @ a(k)) * open     for spread_steps steps

``S`` spreads each node's activation over its neighbours in proportion to the
edge weights (``S[j, i] = W[i, j] / sum_j W[i, j]``, ``W`` the summed edge
weights, symmetrised unless ``spread_directed``).  A node is *active* when
``a >= active_threshold`` and *suppressed* when ``a < suppress_threshold`` or
it is blocked.  A node nobody touches fades: its intrinsic term halves every
``half_life_s`` and it ends up suppressed.

:func:`update_activation` runs it on a graph and writes the ``activation``
mirror and the ``ACTIVE``/``SUPPRESSED`` flag bits (no other bit is touched).

Schedule metadata
-----------------
For a ``schedule`` node (``metadata["active"]`` not false, status not
archived/cancelled/done) the next run is, by preference:

1. ``metadata["next_run"]``: Unix seconds, or an ISO 8601 string such as
   ``nextExecutionTime`` in ``schedules.json``;
2. otherwise computed with :func:`orchestrator_gui.formats.nextrun.next_execution_ms`
   from ``metadata["interval"]`` and ``metadata["unit"]`` (what the migration
   stores), plus ``start_minute`` and ``last_run`` (ISO) when present, at the
   time of extraction in time zone ``tz``;
3. otherwise none (no due boost).

``period`` is ``interval * unit`` (0 when unknown); a run more than
``due_window_s`` overdue is assumed to have happened and the next one is
``next_run + k * period`` (day-of-week filters are not re-applied there).

Public API
----------
``ActivationParams`` (frozen dataclass of the constants above); ``DEFAULT_PARAMS``
``Temporal`` / ``temporal_vectors(graph, *, now=None, tz=None) -> Temporal`` (kept up to date as
transactions commit), ``priority_value(value) -> float``, ``schedule_timing(node, now, tz) ->
(next_run, period)``: defined in :mod:`orchestrator_gui.model.activation_temporal`, re-exported here
``time_to_next_run(temporal, now, params) -> ndarray`` (per schedule row, see ``Temporal.schedule_rows``)
``spreading_matrix(graph, params=None) -> scipy.sparse.csr_array`` (cached per structure)
``compute_activation(temporal, now, params=None, spread=None) -> ActivationResult`` (pure)
``ActivationResult`` (arrays per row; ``reasons(row)``; ``active_rows()``)
``update_activation(graph, now=None, params=None, *, tz=None) -> ActivationResult``
``active_report(graph, result, limit=None) -> list[dict]`` (for ``graph active``)
``touch(graph, node_ids, *, now=None, actor="user") -> Transaction`` (record an access)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from orchestrator_gui.model.activation_temporal import (
    NEXT_RUN_KEY,
    PRIORITY_NAMES,
    Temporal,
    priority_value,
    schedule_timing,
    temporal_vectors,
)
from orchestrator_gui.model.attention import graph_cache, link_matrix
from orchestrator_gui.model.nodes import NodeFlag
from orchestrator_gui.model.transactions import Transaction, UpdateNode

if TYPE_CHECKING:
    from orchestrator_gui.model.graph import ThoughtGraph

__all__ = [
    "DEFAULT_PARAMS", "NEXT_RUN_KEY", "PRIORITY_NAMES", "ActivationParams", "ActivationResult", "Temporal",
    "active_report", "compute_activation", "priority_value", "schedule_timing", "spreading_matrix",
    "temporal_vectors", "time_to_next_run", "touch", "update_activation",
]


@dataclass(frozen=True)
class ActivationParams:
    """Constants of the activation function (see the module docstring for the formula)."""

    half_life_s: float = 86_400.0
    frequency_gain: float = 0.25
    priority_gain: float = 1.0
    due_boost: float = 1.0
    due_window_s: float = 900.0
    run_boost: float = 1.0
    run_half_life_s: float = 3_600.0
    epistemic_boost: float = 0.5
    spread_steps: int = 2
    spread_damping: float = 0.5
    spread_directed: bool = False
    #: ``((edge_type, factor), ...)`` multiplying edge weights for spreading.
    type_weights: tuple[tuple[str, float], ...] = ()
    active_threshold: float = 0.5
    suppress_threshold: float = 0.05

    def __post_init__(self) -> None:
        for name in ("half_life_s", "run_half_life_s", "due_window_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if not 0 <= self.spread_damping < 1:
            raise ValueError("spread_damping must lie in [0, 1)")
        if self.spread_steps < 0:
            raise ValueError("spread_steps must be >= 0")
        if self.suppress_threshold > self.active_threshold:
            raise ValueError("suppress_threshold must not exceed active_threshold")


DEFAULT_PARAMS = ActivationParams()


def time_to_next_run(t: Temporal, now: float, params: ActivationParams = DEFAULT_PARAMS) -> np.ndarray:
    """Seconds until the next run of each schedule in ``t.schedule_rows`` (negative: overdue, within the window)."""
    dt = t.next_run - now
    late = (dt < -params.due_window_s) & (t.period > 0)
    if np.any(late):
        dt = dt.copy()
        dt[late] += np.ceil(-dt[late] / t.period[late]) * t.period[late]
    return dt


def _spread_operator(graph: ThoughtGraph, params: ActivationParams) -> sp.csr_array:
    a = link_matrix(graph, type_weights=dict(params.type_weights))
    a.data = np.maximum(a.data, 0.0)  # spreading is a flow of activation: negative weights carry none
    w = a if params.spread_directed else (a + a.T).tocsr()
    out = np.asarray(w.sum(axis=1)).ravel()
    inv = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
    s = w.T.tocsr()
    s.data = s.data * inv[s.indices]
    return s


def spreading_matrix(graph: ThoughtGraph, params: ActivationParams | None = None) -> sp.csr_array:
    """``S`` of the module docstring (``S @ a`` spreads ``a`` one step); cached until the structure changes."""
    params = params or DEFAULT_PARAMS
    key = (graph.structure_revision, len(graph), graph.number_of_edges(), params.spread_directed, params.type_weights)
    return graph_cache(graph, f"spread:{params.spread_directed}:{params.type_weights}", key,
                       lambda: _spread_operator(graph, params))


@dataclass(frozen=True)
class ActivationResult:
    """Activation and its parts per row (all arrays length N; read-only by convention)."""

    now: float
    params: ActivationParams
    activation: np.ndarray
    intrinsic: np.ndarray
    due: np.ndarray
    run: np.ndarray
    epistemic: np.ndarray
    spread: np.ndarray
    age: np.ndarray
    until_run: np.ndarray
    active: np.ndarray
    suppressed: np.ndarray
    blocked: np.ndarray = field(repr=False)

    def active_rows(self) -> np.ndarray:
        """Active rows, most active first (ties by row)."""
        rows = np.flatnonzero(self.active)
        return rows[np.lexsort((rows, -self.activation[rows]))]

    def reasons(self, row: int) -> list[str]:
        """Why row ``row`` has its activation, as short human-readable parts."""
        if self.blocked[row]:
            return ["pruned or folded: suppressed"]
        out = []
        if self.intrinsic[row] > 0:
            out.append(f"last activity {_duration(self.age[row])} ago: {self.intrinsic[row]:.2f}")
        if self.due[row] > 0:
            dt = self.until_run[row]
            when = "now" if dt <= 0 else f"in {_duration(dt)}"
            out.append(f"schedule due {when}: +{self.due[row]:.2f}")
        if self.run[row] > 0:
            out.append(f"recent run ({_duration(self.age[row])} ago): +{self.run[row]:.2f}")
        if self.epistemic[row] > 0:
            out.append(f"unknown to resolve (unsupported goal or open question): +{self.epistemic[row]:.2f}")
        if self.spread[row] > 0:
            out.append(f"spread from linked nodes: +{self.spread[row]:.2f}")
        return out


def _duration(seconds: float) -> str:
    s = max(float(seconds), 0.0)
    if not math.isfinite(s):
        return "ever"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if s >= size:
            return f"{s / size:.1f} {unit}"
    return f"{s:.0f} s"


def compute_activation(
    t: Temporal, now: float, params: ActivationParams | None = None, spread: Any = None
) -> ActivationResult:
    """Activation of every row at time ``now`` (pure; see the module docstring for the formula).

    ``spread`` is the matrix from :func:`spreading_matrix` (``None``: no spreading).
    """
    p = params or DEFAULT_PARAMS
    n = t.n
    age = np.maximum(now - t.last_activity, 0.0)
    intrinsic = np.exp2(-age / p.half_life_s)
    if p.frequency_gain:
        intrinsic *= 1.0 + p.frequency_gain * t.log_frequency
    if p.priority_gain:
        intrinsic *= 1.0 + p.priority_gain * t.priority
    until = np.full(n, np.nan)
    due = np.zeros(n)
    if len(t.schedule_rows):
        dt = time_to_next_run(t, now, p)
        until[t.schedule_rows] = dt
        f = np.where(dt <= 0, 1.0, 1.0 - dt / p.due_window_s)
        due[t.schedule_rows] = p.due_boost * np.where(dt >= -p.due_window_s, np.clip(f, 0.0, 1.0), 0.0)
    run = np.zeros(n)
    if len(t.run_rows):
        run_age = np.where(t.run_active, 0.0, age[t.run_rows])
        run[t.run_rows] = p.run_boost * np.exp2(-run_age / p.run_half_life_s)
    epistemic = t.epistemic * p.epistemic_boost
    raw = intrinsic + due + run + epistemic
    blocked = t.blocked
    any_blocked = bool(blocked.any())
    if any_blocked:
        # Blocked nodes neither hold nor pass on activation.
        open_ = ~blocked
        for part in (raw, intrinsic, due, run, epistemic):
            part *= open_
    a = raw
    if spread is not None and p.spread_steps and p.spread_damping:
        for _ in range(p.spread_steps):
            a = spread @ a
            a *= p.spread_damping
            a += raw
            if any_blocked:
                a *= open_
    return ActivationResult(
        now=float(now), params=p, activation=a, intrinsic=intrinsic, due=due, run=run, epistemic=epistemic,
        spread=a - raw, age=age, until_run=until,
        active=a >= p.active_threshold, suppressed=(a < p.suppress_threshold) | blocked, blocked=blocked,
    )


def update_activation(
    graph: ThoughtGraph, now: float | None = None, params: ActivationParams | None = None, *, tz: tzinfo | None = None
) -> ActivationResult:
    """Compute activation at ``now`` (default: the clock) and write the mirror and the ACTIVE/SUPPRESSED flags.

    Emits one batched burst of events.  Per call it costs a few vector
    operations and ``spread_steps`` sparse products; the temporal vectors and
    the spreading matrix are rebuilt only after the graph changed.
    """
    p = params or DEFAULT_PARAMS
    stamp = time.time() if now is None else float(now)
    t = temporal_vectors(graph, now=stamp, tz=tz)
    result = compute_activation(t, stamp, p, spreading_matrix(graph, p) if p.spread_steps else None)
    with graph.batch():
        graph.set_activation(result.activation)
        flags = graph.flags
        for bit, want in ((NodeFlag.ACTIVE, result.active), (NodeFlag.SUPPRESSED, result.suppressed)):
            has = (flags & np.uint32(bit)) != 0
            # Only the rows whose bit flips: usually a handful per tick.
            graph.set_flags(np.flatnonzero(want & ~has), bit, on=True)
            graph.set_flags(np.flatnonzero(has & ~want), bit, on=False)
    return result


def active_report(graph: ThoughtGraph, result: ActivationResult, limit: int | None = None) -> list[dict]:
    """The active nodes, most active first: ``{"id", "title", "kind", "activation", "reasons"}`` each."""
    rows = result.active_rows()
    if limit is not None:
        rows = rows[:limit]
    out = []
    for row in rows.tolist():
        node = graph.node(graph.id_of(row))
        out.append({"id": node.id, "title": node.title, "kind": node.kind.value,
                    "activation": float(result.activation[row]), "reasons": result.reasons(row)})
    return out


def touch(graph: ThoughtGraph, node_ids: str | list[str], *, now: float | None = None,
          actor: str = "user") -> Transaction:
    """A transaction recording that the nodes were just used: ``access_count + 1`` and ``last_activated = now``."""
    ids = [node_ids] if isinstance(node_ids, str) else list(dict.fromkeys(node_ids))
    if not ids:
        raise ValueError("nothing to touch")
    stamp = time.time() if now is None else float(now)
    edits = []
    for nid in ids:
        node = graph.node(nid)
        edits.append(UpdateNode(node_id=nid, field="access_count", old=node.access_count, new=node.access_count + 1))
        if node.last_activated != stamp:
            edits.append(UpdateNode(node_id=nid, field="last_activated", old=node.last_activated, new=stamp))
    return Transaction.create("touch", edits, params={"node_ids": ids}, description=f"Touch {len(ids)} node(s)",
                              actor=actor, now=stamp)
